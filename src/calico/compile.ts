// SPDX-License-Identifier: Apache-2.0
// compileNode: a Calico snapshot + calico-node environment → the Tern config for that node
// (a plain tree that parseConfig accepts) and the public render output (`tern calico render`),
// with confd's semantics (master): router id, listen, mesh/global/node/local-workload peers for
// IPv4 and IPv6 in one process, Calico's filters as policies, originated blocks / service routes /
// reachableBy routes, kernel programming. Pure: no I/O. Warnings list what could not be carried
// over exactly.
import { createHash } from 'node:crypto';
import { isMulticast, parseAddress } from '../config/addr.ts';
import { birdPeers, type BirdPeer } from './bird-peers.ts';
import { Cluster, str } from './model.ts';
import type { IpFamily } from './net.ts';
import { PeeringBuilder, type Peering } from './peerings.ts';
import { blocks, PolicyBuilder } from './policies.ts';
import type { CalicoEnv, CalicoSnapshot } from './resources.ts';
import type { CompileResult, RenderOriginate, RenderOutput, RenderPeer } from './render-types.ts';
import { serviceRoutes, type ServiceRoutes } from './services.ts';

/** BIRD 1.6's defaults that Calico relies on (hold 240 s; connect retry overridden to 5 s). */
const BIRD_HOLD_TIME = 240;
const CALICO_CONNECT_RETRY = 5;
const TERN_MAX_RESTART_TIME = 4095; // RFC 4724 §3: 12-bit field
const TERN_MAX_ALLOW_OWN_AS = 10;

/** CALICO_ROUTER_ID=hash: the first 4 bytes of SHA-256(node name), first byte above 223 lowered by 32. */
export function hashRouterId(nodeName: string): string {
  const h = createHash('sha256').update(nodeName).digest();
  const first = h[0]! > 223 ? h[0]! - 32 : h[0]!;
  return `${first}.${h[1]}.${h[2]}.${h[3]}`;
}

export function routerIdFor(c: Cluster): string {
  const env = c.env.CALICO_ROUTER_ID ?? '';
  if (env === 'hash') return hashRouterId(c.env.NODENAME);
  if (env !== '') return env;
  if (c.me.ipv4 !== '') return c.me.ipv4; // used for bird6 too: router ids are 4 octets
  c.warnings.push('node has no IPv4 address and CALICO_ROUTER_ID is unset; using CALICO_ROUTER_ID=hash');
  return hashRouterId(c.env.NODENAME);
}

export function compileNode(snapshot: CalicoSnapshot, env: CalicoEnv): CompileResult {
  const c = new Cluster(snapshot, env);
  const peerings: Peering[] = new PeeringBuilder(c).build();
  const svc = serviceRoutes(c);
  const byFamily = ([4, 6] as const).map((f) => birdPeers(c, peerings, f));
  const allPeers = [...byFamily[0]!, ...byFamily[1]!];
  const render = renderOutput(c, allPeers, peerings, svc);
  const config = configTree(c, allPeers, render, svc);
  return { config, render, warnings: [...new Set(c.warnings)] };
}

function listenOf(c: Cluster): { addresses: string[]; port: number | null } {
  const addresses: string[] = [];
  if (str(c.global.bindMode) === 'NodeIP') {
    if (c.me.ipv4) addresses.push(c.me.ipv4);
    if (c.me.ipv6) addresses.push(c.me.ipv6);
  }
  const port = Number(c.perNode?.listenPort ?? 0) || c.globalListenPort;
  return { addresses, port: port === 0 ? null : port };
}

function renderOutput(c: Cluster, peers: BirdPeer[], peerings: Peering[], svc: ServiceRoutes): RenderOutput {
  const listen = listenOf(c);
  return {
    routerId: routerIdFor(c),
    asn: c.myAsn,
    listen: { address: listen.addresses[0] ?? null, port: listen.port },
    peers: peers.map(renderPeer),
    originate: originated(c, peerings, svc),
  };
}

function renderPeer(p: BirdPeer): RenderPeer {
  return {
    name: p.name,
    address: p.ip,
    port: p.port > 0 ? p.port : null,
    asn: p.asn,
    localAsn: p.localAsn > 0 ? p.localAsn : null,
    sourceAddress: p.sourceAddr || null,
    passive: p.passive,
    routeReflectorClient: p.rrClient,
    clusterId: p.rrClient ? p.rrClusterId : null,
    password: p.password ?? null,
    ttlSecurity: p.ttlSecurity > 0 ? p.ttlSecurity : null,
    gracefulRestartTime: p.gracefulRestart ?? null,
    keepaliveTime: p.keepalive ?? null,
    nextHop: p.nextHop,
    allowLocalAs: p.allowLocalAs > 0 ? p.allowLocalAs : null,
    addPaths: 'both', // bgp_template: `add paths on` (rx and tx)
    families: [p.family === 4 ? 'ipv4-unicast' : 'ipv6-unicast'],
  };
}

/** bird_aggr.cfg's static protocol, both families: local blocks, service routes, reachableBy. */
function originated(c: Cluster, peerings: Peering[], svc: ServiceRoutes): RenderOriginate[] {
  const out: RenderOriginate[] = [];
  for (const b of blocks(c)) {
    const hostLen = b.family === 4 ? 32 : 128;
    if (!b.cidr.endsWith(`/${hostLen}`)) out.push({ prefix: b.cidr, blackhole: true });
  }
  for (const r of svc.staticRoutes) out.push({ prefix: r, blackhole: true });
  for (const scope of ['global', 'node'] as const) {
    for (const p of peerings) {
      if (p.scope !== scope || !p.peer.reachableBy) continue;
      const len = p.peer.ip.includes(':') ? 128 : 32;
      out.push({ prefix: `${p.peer.ip}/${len}`, via: p.peer.reachableBy });
    }
  }
  const seen = new Set<string>();
  return out.filter((o) => !seen.has(o.prefix) && seen.add(o.prefix));
}

function configTree(c: Cluster, peers: BirdPeer[], render: RenderOutput, svc: ServiceRoutes): Record<string, unknown> {
  const pb = new PolicyBuilder(c, svc, c.warnings);
  const listen = listenOf(c);
  const tree: Record<string, unknown> = {
    routerId: render.routerId,
    asn: render.asn,
    listen: { ...(listen.addresses.length > 0 ? { address: listen.addresses } : {}), port: listen.port ?? 179 },
    peers: ternPeers(c, peers, pb),
    originate: render.originate.flatMap((o): Record<string, unknown>[] => {
      if (!('via' in o)) return [{ prefix: o.prefix, blackhole: true }];
      if (isUnicast(o.via)) return [{ prefix: o.prefix, nextHop: o.via }];
      c.warnings.push(`reachableBy route ${o.prefix} via ${o.via}: not a unicast next hop; left out of the Tern config`);
      return [];
    }),
    gracefulRestart: { deferralTime: 240 },
  };
  if (c.me.rrClusterId !== '') tree.routeReflector = { clusterId: c.me.rrClusterId };
  const ignored = Array.isArray(c.global.ignoredInterfaces) ? (c.global.ignoredInterfaces as unknown[]).map(str).filter(Boolean) : [];
  tree.kernel = {
    learn: true,
    program: true,
    protocol: 12,
    persist: true,
    export: pb.kernelPolicy(),
    ignoreInterfaces: ignored,
    tunnel: { device: 'tunl0', mode: 'never' },
  };
  tree.policies = pb.policies;
  return tree;
}

function isUnicast(ip: string): boolean {
  const a = parseAddress(ip);
  return typeof a !== 'string' && !isMulticast(a);
}

function ternPeers(c: Cluster, peers: BirdPeer[], pb: PolicyBuilder): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  const seen = new Set<string>();
  for (const p of peers) {
    const key = `${p.ip}|${p.port || 179}`;
    if (seen.has(key)) {
      c.warnings.push(`peer ${p.name}: a session to ${p.ip} port ${p.port || 179} already exists; left out of the Tern config`);
      continue;
    }
    seen.add(key);
    if (!isUnicast(p.ip)) {
      c.warnings.push(`peer ${p.name}: ${p.ip} is not a unicast address, which Tern cannot peer with; left out of the Tern config`);
      continue;
    }
    out.push(ternPeer(c, p, pb));
  }
  return out;
}

function ternPeer(c: Cluster, p: BirdPeer, pb: PolicyBuilder): Record<string, unknown> {
  const family: IpFamily = p.family;
  const localAsn = p.localAsn || c.myAsn;
  const peer: Record<string, unknown> = {
    name: p.name,
    address: p.ip,
    asn: p.asn,
    families: [family === 4 ? 'ipv4-unicast' : 'ipv6-unicast'],
    passive: p.passive,
    holdTime: BIRD_HOLD_TIME,
    connectRetry: CALICO_CONNECT_RETRY,
    addPaths: 'both',
    nextHop: p.nextHop,
    import: pb.importPolicy(p.filters, family, localAsn, p.sameAs),
    export: pb.exportPolicy(p.filters, family, localAsn, p.sameAs),
  };
  if (p.port > 0) peer.port = p.port;
  if (p.localAsn && p.localAsn !== c.myAsn) peer.localAsn = p.localAsn;
  if (p.sourceAddr) peer.localAddress = p.sourceAddr;
  if (p.rrClient) peer.routeReflectorClient = true;
  if (p.keepalive !== undefined) {
    peer.keepalive = Math.max(1, Math.min(p.keepalive, 21845));
    if (p.keepalive * 3 > BIRD_HOLD_TIME) peer.holdTime = Math.min(65535, p.keepalive * 3);
  }
  peer.gracefulRestart = p.gracefulRestart !== undefined ? { restartTime: Math.min(p.gracefulRestart, TERN_MAX_RESTART_TIME) } : true;
  if (p.gracefulRestart !== undefined && p.gracefulRestart > TERN_MAX_RESTART_TIME) c.warnings.push(`peer ${p.name}: graceful restart time ${p.gracefulRestart} capped at ${TERN_MAX_RESTART_TIME}`);
  if (p.allowLocalAs > 0) {
    peer.allowOwnAs = Math.min(p.allowLocalAs, TERN_MAX_ALLOW_OWN_AS);
    if (p.allowLocalAs > TERN_MAX_ALLOW_OWN_AS) c.warnings.push(`peer ${p.name}: allow local as ${p.allowLocalAs} capped at ${TERN_MAX_ALLOW_OWN_AS}`);
  }
  if (p.password !== undefined) {
    if (p.password.length <= 80) peer.password = p.password;
    else c.warnings.push(`peer ${p.name}: password longer than 80 characters left out (Calico documents such passwords as failing)`);
  }
  if (p.ttlSecurity > 0) peer.ttlSecurity = Math.min(p.ttlSecurity, 254);
  return peer;
}
