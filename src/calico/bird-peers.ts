// SPDX-License-Identifier: Apache-2.0
// The BIRD `protocol bgp` blocks confd would render for one address family
// (confd/pkg/backends/calico/bgp_processor.go): the node-to-node mesh, then global, node-specific
// and local-workload peerings, with Calico's names, passive rules, RR client rule, next-hop modes.
// Sorted by name, as confd sorts them. Policies and the Tern peer entries are built elsewhere.
import { durationSeconds } from './model.ts';
import type { Cluster } from './model.ts';
import { ipFamily, ipStringGreater, nameSuffix, type IpFamily } from './net.ts';
import type { Peering, PeerData } from './peerings.ts';
import type { NextHopMode } from './render-types.ts';

export interface BirdPeer {
  name: string;
  type: 'mesh' | 'global' | 'node' | 'local_workload';
  family: IpFamily;
  ip: string;
  /** 0 = not given (BIRD's default 179). */
  port: number;
  asn: number;
  /** Per-peer `local as`; 0 = the node's AS. */
  localAsn: number;
  sourceAddr: string;
  /** GTSM hop count; 0 = `ttl security off; multihop`. */
  ttlSecurity: number;
  password: string | undefined;
  gracefulRestart: number | undefined;
  keepalive: number | undefined;
  passive: boolean;
  rrClient: boolean;
  rrClusterId: string;
  nextHop: NextHopMode;
  allowLocalAs: number;
  /** BGPFilter names, in order. */
  filters: string[];
  /** BIRD's internal_peer / is_same_as: peer AS == effective local AS. */
  sameAs: boolean;
}

export function nodeIpFor(c: Cluster, family: IpFamily): string {
  return family === 4 ? c.me.ipv4 : c.me.ipv6;
}

export function birdPeers(c: Cluster, peerings: Peering[], family: IpFamily): BirdPeer[] {
  const own = nodeIpFor(c, family);
  if (own === '') return []; // "# IPv4 disabled on this node." / "# IPv6 disabled on this node."
  const out = [...meshPeers(c, family, own)];
  // confd processes remote peers before local-workload ones, global before node-specific.
  for (const scope of ['global', 'node'] as const) {
    for (const local of [false, true]) {
      for (const p of peerings) {
        if (p.scope !== scope || p.peer.localWorkload !== local || ipFamily(p.peer.ip) !== family) continue;
        const prefix = local ? 'Local_Workload' : scope === 'global' ? 'Global' : 'Node';
        const built = fromPeerData(c, p.peer, prefix, family, own);
        if (built) out.push(built);
      }
    }
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function meshPeers(c: Cluster, family: IpFamily, own: string): BirdPeer[] {
  // RR nodes never take part in the mesh, and the mesh is on unless switched off.
  if (c.me.rrClusterId !== '' || c.global.nodeToNodeMeshEnabled === false) return [];
  const password = c.global.nodeMeshPassword ? c.secret(c.global.nodeMeshPassword, 'nodeMeshPassword') : undefined;
  const restart = durationSeconds(c.global.nodeMeshMaxRestartTime);
  const out: BirdPeer[] = [];
  for (const n of c.nodes) {
    const ip = family === 4 ? n.ipv4 : n.ipv6;
    if (ip === '' || ip === own || n.rrClusterId !== '') continue;
    // A node without its own AS is assumed to share ours (confd uses config.ASNumber here).
    const asn = n.asn ?? c.myAsn;
    out.push({
      name: `Mesh_${nameSuffix(ip)}`, // mesh names never carry the port
      type: 'mesh',
      family,
      ip,
      port: c.listenPortOf(n.name),
      asn,
      localAsn: 0,
      sourceAddr: own,
      ttlSecurity: 0,
      password: password || undefined,
      gracefulRestart: restart,
      keepalive: undefined,
      // The mesh is made unidirectional: the side with the greater IP *string* waits.
      passive: ipStringGreater(ip, own),
      rrClient: false,
      rrClusterId: '',
      nextHop: 'auto',
      allowLocalAs: 0,
      filters: [],
      sameAs: asn === c.myAsn,
    });
  }
  return out;
}

function fromPeerData(c: Cluster, p: PeerData, prefix: string, family: IpFamily, own: string): BirdPeer | undefined {
  if (p.ip === own) return undefined; // never peer with ourselves
  let name = `${prefix}_${nameSuffix(p.ip)}`;
  if (p.port > 0) name += `_port_${p.port}`;
  const effectiveLocalAsn = p.localAsn !== 0 ? p.localAsn : c.myAsn;
  const sameAs = p.asn === effectiveLocalAsn;
  let nextHop: NextHopMode = p.nextHopMode === 'Self' ? 'self' : p.nextHopMode === 'Keep' ? 'keep' : 'auto';
  // The deprecated keepOriginalNextHop only applies to eBGP peers.
  if (p.keepNextHop && !sameAs) nextHop = 'keep';
  const nodeRr = c.me.rrClusterId;
  // RR client rule: we are an RR, the peer is iBGP, and it is not an RR of our cluster.
  const rrClient = sameAs && nodeRr !== '' && (p.rrClusterId === '' || p.rrClusterId !== nodeRr);
  let passive = p.passive;
  const type = prefix.toLowerCase() as BirdPeer['type'];
  if ((type === 'global' || type === 'local_workload') && !passive && p.calicoNode && ipStringGreater(p.ip, own)) passive = true;
  return {
    name,
    type,
    family,
    ip: p.ip,
    port: p.port,
    asn: p.asn,
    localAsn: p.localAsn,
    sourceAddr: p.sourceAddr === 'UseNodeIP' ? own : '',
    ttlSecurity: p.ttlSecurity,
    password: p.password || undefined,
    gracefulRestart: p.restartTime,
    keepalive: p.keepaliveTime,
    passive,
    rrClient,
    rrClusterId: rrClient ? nodeRr : '',
    nextHop,
    allowLocalAs: p.numAllowLocalAs,
    filters: p.filters,
    sameAs,
  };
}
