// SPDX-License-Identifier: Apache-2.0
// BGPPeer resources → the peerings that apply to this node, with confd's rules
// (confd/pkg/backends/calico/client.go updatePeersV1): global peers (no node/nodeSelector)
// first, then node-specific ones (dropped where a global peering to the same IP:port exists),
// then automatic reverse peerings (reversePeering: Auto); the first peering emitted for a key
// wins, so an explicit forward peering beats an implied reverse one. BGPPeers are processed in
// name order (confd iterates a Go map; the goldens never depend on that order).
// The per-family BIRD peer blocks are built from these in bird-peers.ts.
import { canonicalIp, ipFamily } from './net.ts';
import { Cluster, durationSeconds, parseAsn, specOf, str, type NodeInfo, type Spec } from './model.ts';
import type { KObj } from './resources.ts';

/** One v1 peering (confd's backends.BGPPeer). */
export interface PeerData {
  ip: string;
  port: number;
  asn: number;
  localAsn: number;
  sourceAddr: string;
  keepNextHop: boolean;
  nextHopMode: string;
  calicoNode: boolean;
  ttlSecurity: number;
  filters: string[];
  numAllowLocalAs: number;
  reachableBy: string;
  rrClusterId: string;
  password: string | undefined;
  restartTime: number | undefined;
  keepaliveTime: number | undefined;
  passive: boolean;
  localWorkload: boolean;
  /** The BGPPeer it came from (for warnings). */
  from: string;
}

export interface Peering {
  scope: 'global' | 'node';
  peer: PeerData;
}

function blankPeer(from: string, ip: string): PeerData {
  return {
    ip, port: 0, asn: 0, localAsn: 0, sourceAddr: '', keepNextHop: false, nextHopMode: '', calicoNode: false,
    ttlSecurity: 0, filters: [], numAllowLocalAs: 0, reachableBy: '', rrClusterId: '', password: undefined,
    restartTime: undefined, keepaliveTime: undefined, passive: false, localWorkload: false, from,
  };
}

/** `ip`, `ip:port` or `[v6]:port` (Go's net.SplitHostPort; a bare v6 address has no port). */
export function parseIpPort(text: string): { host: string; port: number } {
  const bracket = /^\[([^\]]+)\]:(\d+)$/.exec(text);
  if (bracket) return { host: bracket[1]!, port: Number(bracket[2]) };
  const v4 = /^([^:]+):(\d+)$/.exec(text);
  if (v4) return { host: v4[1]!, port: Number(v4[2]) };
  return { host: text, port: 0 };
}

function nextHopFields(spec: Spec): { keepNextHop: boolean; nextHopMode: string } {
  // nextHopMode, when set, overrides the deprecated keepOriginalNextHop.
  if (spec.nextHopMode !== undefined && spec.nextHopMode !== null) return { keepNextHop: false, nextHopMode: str(spec.nextHopMode) };
  return { keepNextHop: spec.keepOriginalNextHop === true, nextHopMode: '' };
}

export class PeeringBuilder {
  private readonly emitted = new Map<string, PeerData>();
  private readonly order: Peering[] = [];

  private readonly c: Cluster;

  constructor(c: Cluster) {
    this.c = c;
  }

  build(): Peering[] {
    const peers = [...this.c.snap.bgpPeers].sort((a, b) => ((a.metadata?.name ?? '') < (b.metadata?.name ?? '') ? -1 : 1));
    for (const globalPass of [true, false]) {
      for (const p of peers) {
        const spec = specOf(p);
        const isGlobal = !str(spec.nodeSelector) && !str(spec.node);
        if (isGlobal !== globalPass) continue;
        this.forward(p, spec, globalPass);
      }
    }
    for (const p of peers) this.reverse(p, specOf(p));
    return this.order;
  }

  private emit(scope: 'global' | 'node', nodeName: string, peer: PeerData): void {
    if (scope === 'node' && nodeName !== this.c.me.name) return; // other nodes' peerings don't affect us
    const key = scope === 'global' ? `g|${peer.ip}|${peer.port}` : `n|${peer.ip}|${peer.port}`;
    if (this.emitted.has(key)) return;
    // A node-specific peering is dropped where a global one to the same IP:port exists.
    if (scope === 'node' && this.emitted.has(`g|${peer.ip}|${peer.port}`)) return;
    this.emitted.set(key, peer);
    this.order.push({ scope, peer });
  }

  private localNodeNames(spec: Spec): string[] {
    if (str(spec.nodeSelector)) return this.c.nodesMatching(str(spec.nodeSelector)).map((n) => n.name);
    if (str(spec.node)) return [str(spec.node)];
    return [];
  }

  private forward(p: KObj, spec: Spec, globalPass: boolean): void {
    const name = p.metadata?.name ?? '';
    const locals = this.localNodeNames(spec);
    let peers: PeerData[];
    if (str(spec.localWorkloadSelector)) {
      peers = this.localWorkloadPeers(name, spec);
    } else if (str(spec.peerSelector)) {
      peers = this.c.nodesMatching(str(spec.peerSelector)).flatMap((n) => this.nodeAsPeers(n, true, true, spec, name));
      this.setV3Fields(peers, spec, name);
    } else {
      const one = this.ipPeer(spec, name);
      if (!one) return;
      peers = [one];
      this.setV3Fields(peers, spec, name);
    }
    for (const peer of peers) {
      if (globalPass) this.emit('global', '', peer);
      else for (const local of locals) this.emit('node', local, peer);
    }
  }

  private ipPeer(spec: Spec, name: string): PeerData | undefined {
    const { host, port: given } = parseIpPort(str(spec.peerIP));
    const ip = canonicalIp(host);
    if (!ip) {
      this.c.warnings.push(`BGPPeer ${name}: peerIP "${str(spec.peerIP)}" is missing or malformed`);
      return undefined;
    }
    const asn = parseAsn(spec.asNumber) ?? 0;
    let port = given;
    if (port === 0) {
      // No port given: if the IP (and AS) is a Calico node's, peer on that node's listen port.
      const nodes = this.nodesWithIpPortAndAs(ip, asn, 0);
      if (nodes.length > 0) port = this.c.nodeListenPorts.get(nodes[0]!.name) ?? this.c.globalListenPort;
    }
    let reachableBy = '';
    if (str(spec.reachableBy)) {
      const via = canonicalIp(str(spec.reachableBy));
      if (!via || ipFamily(via) !== ipFamily(ip)) {
        this.c.warnings.push(`BGPPeer ${name}: reachableBy "${str(spec.reachableBy)}" is malformed or not the family of peerIP; peer skipped`);
        return undefined;
      }
      reachableBy = str(spec.reachableBy);
    }
    const peer = blankPeer(name, ip);
    Object.assign(peer, nextHopFields(spec), {
      port,
      asn,
      localAsn: parseAsn(spec.localASNumber) ?? 0,
      sourceAddr: str(spec.sourceAddress),
      calicoNode: this.c.nodes.some((n) => n.ipv4 === ip || n.ipv6 === ip),
      ttlSecurity: Number(spec.ttlSecurity ?? 0) || 0,
      filters: (spec.filters as string[] | undefined) ?? [],
      numAllowLocalAs: Number(spec.numAllowedLocalASNumbers ?? 0) || 0,
      reachableBy,
    });
    return peer;
  }

  /** confd's nodesWithIPPortAndAS, including its port check quirk. */
  private nodesWithIpPortAndAs(ip: string, asn: number, port: number): NodeInfo[] {
    const want = asn === 0 ? this.c.globalAsn : asn;
    return this.c.nodes.filter((n) => {
      if (n.ipv4 !== ip && n.ipv6 !== ip) return false;
      if ((n.asn ?? this.c.globalAsn) !== want) return false;
      if (port !== 0) {
        const nodePort = this.c.nodeListenPorts.get(n.name);
        if (nodePort !== undefined && port !== nodePort) return false;
        else if (this.c.globalListenPort !== 0 && this.c.globalListenPort !== port) return false;
      }
      return true;
    });
  }

  /** A Calico node as peers (confd's nodeAsBGPPeers): its v4 and/or v6 address, AS, port, RR id. */
  private nodeAsPeers(n: NodeInfo, v4: boolean, v6: boolean, spec: Spec, from: string): PeerData[] {
    const out: PeerData[] = [];
    for (const ip of [v4 ? n.ipv4 : '', v6 ? n.ipv6 : '']) {
      if (!ip) continue;
      const peer = blankPeer(from, ip);
      Object.assign(peer, nextHopFields(spec), {
        ttlSecurity: Number(spec.ttlSecurity ?? 0) || 0,
        filters: (spec.filters as string[] | undefined) ?? [],
        reachableBy: str(spec.reachableBy),
        port: this.c.listenPortOf(n.name),
        asn: n.asn ?? this.c.globalAsn,
        rrClusterId: n.rrClusterId,
      });
      out.push(peer);
    }
    return out;
  }

  private localWorkloadPeers(name: string, spec: Spec): PeerData[] {
    const out: PeerData[] = [];
    for (const st of this.c.snap.endpointStatuses ?? []) {
      if (st.bgpPeerName !== name) continue;
      for (const nets of [st.ipv4Nets, st.ipv6Nets]) {
        const ip = nets?.[0] ? canonicalIp(nets[0].split('/')[0]!) : undefined;
        if (!ip) continue;
        const peer = blankPeer(name, ip);
        Object.assign(peer, {
          localAsn: parseAsn(spec.localASNumber) ?? 0,
          filters: (spec.filters as string[] | undefined) ?? [],
          asn: parseAsn(spec.asNumber) ?? 0,
          sourceAddr: 'None',
          passive: true,
          localWorkload: true,
        });
        out.push(peer);
      }
    }
    return out;
  }

  /** confd's setPeerConfigFieldsFromV3Resource: password, sourceAddress default, timers. */
  private setV3Fields(peers: PeerData[], spec: Spec, name: string): void {
    const password = spec.password ? this.c.secret(spec.password, `BGPPeer ${name}`) : undefined;
    for (const p of peers) {
      p.password = password;
      p.sourceAddr = str(spec.sourceAddress) || 'UseNodeIP';
      p.restartTime = durationSeconds(spec.maxRestartTime);
      p.keepaliveTime = durationSeconds(spec.keepaliveTime);
    }
  }

  private reverse(p: KObj, spec: Spec): void {
    if (str(spec.reversePeering) === 'Manual' || str(spec.localWorkloadSelector)) return;
    let locals: NodeInfo[];
    let v4 = false;
    let v6 = false;
    if (str(spec.peerSelector)) {
      locals = this.c.nodesMatching(str(spec.peerSelector));
      v4 = v6 = true;
    } else {
      const { host, port } = parseIpPort(str(spec.peerIP));
      const ip = canonicalIp(host) ?? host;
      locals = this.nodesWithIpPortAndAs(ip, parseAsn(spec.asNumber) ?? 0, port);
      if (ip.includes(':')) v6 = true;
      else v4 = true;
    }
    if (locals.length === 0) return;
    let remotes: NodeInfo[];
    if (str(spec.nodeSelector)) remotes = this.c.nodesMatching(str(spec.nodeSelector));
    else if (str(spec.node)) remotes = this.c.nodes.filter((n) => n.name === str(spec.node));
    else remotes = this.c.nodes;
    const name = p.metadata?.name ?? '';
    const peers = remotes.flatMap((n) => this.nodeAsPeers(n, v4, v6, spec, name));
    if (peers.length === 0) return;
    this.setV3Fields(peers, spec, name);
    for (const peer of peers) for (const local of locals) this.emit('node', local.name, peer);
  }
}
