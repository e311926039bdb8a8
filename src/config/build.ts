// SPDX-License-Identifier: Apache-2.0
// Turns the schema-checked tree into a TernConfig: derived defaults (peer names, families,
// listen), and the rules that relate several keys (CROSS_FIELD_RULES in schema.ts). Problems go
// to the sink; the caller throws if there are any. No YAML, no I/O.
import type { Family } from '../bgp/messages/types.ts';
import { dottedToU32 } from '../util/ip.ts';
import type { PolicySpec } from '../policy/spec.ts';
import { familyName, parseAddress, parsePrefix } from './addr.ts';
import { buildPolicies, buildPolicyRef } from './build-policy.ts';
import { INVALID, formatPath, isMapping, type ProblemSink } from './check.ts';
import { BFD_FIELDS, DEFAULT_BMP_PORT, DEFAULT_CONTROL_SOCKET, DEFAULT_DEFERRAL_TIME, DEFAULT_LISTEN_ADDRESSES, DEFAULT_MAX_PREFIX_RESTART_DELAY, DEFAULT_RESTART_TIME } from './schema.ts';
import type { AddPathMode, BmpConfig, KernelConfig, LogLevel, MaxPrefixes, NextHopMode, OriginateConfig, PeerConfig, TernConfig } from './types.ts';

/** What a peer's build needs to know about the rest of the config. */
interface PeerScope {
  localAsn: number;
  policies: Record<string, PolicySpec>;
  /** Every name under `policies`, including policies with problems of their own. */
  policyNames: string[];
}

type Tree = Record<string, unknown>;

export function buildConfig(root: Tree, source: string, sink: ProblemSink): TernConfig {
  const routerId = typeof root.routerId === 'string' ? root.routerId : '0.0.0.0';
  const routerIdNum = dottedToU32(routerId) ?? 0;
  const asn = typeof root.asn === 'number' ? root.asn : 0;
  const policies = buildPolicies(root.policies, sink);
  return {
    routerId,
    routerIdNum,
    asn,
    listen: buildListen(root.listen),
    control: { socket: isMapping(root.control) && typeof root.control.socket === 'string' ? root.control.socket : DEFAULT_CONTROL_SOCKET },
    peers: buildPeers(items(root.peers), { localAsn: asn, policies, policyNames: isMapping(root.policies) ? Object.keys(root.policies) : [] }, sink),
    originate: buildOriginate(items(root.originate), sink),
    logLevel: (root.logLevel as LogLevel | undefined) ?? 'info',
    routeReflector: { clusterId: clusterIdOf(root.routeReflector, routerIdNum) },
    gracefulRestart: {
      deferralTime: isMapping(root.gracefulRestart) && typeof root.gracefulRestart.deferralTime === 'number' ? root.gracefulRestart.deferralTime : DEFAULT_DEFERRAL_TIME,
    },
    policies,
    ...(isMapping(root.metrics) && typeof root.metrics.listen === 'string' ? { metrics: { listen: root.metrics.listen } } : {}),
    ...(Array.isArray(root.bmp) && root.bmp.length > 0 ? { bmp: buildBmp(items(root.bmp)) } : {}),
    ...(isMapping(root.birdSockets) ? { birdSockets: buildBirdSockets(root.birdSockets) } : {}),
    ...(isMapping(root.kernel) ? { kernel: buildKernel(root.kernel, policies, isMapping(root.policies) ? Object.keys(root.policies) : [], sink) } : {}),
    source,
  };
}

const MAIN_TABLE = 254;

function buildBirdSockets(b: Tree): { ipv4?: string; ipv6?: string } {
  return { ...(typeof b.ipv4 === 'string' ? { ipv4: b.ipv4 } : {}), ...(typeof b.ipv6 === 'string' ? { ipv6: b.ipv6 } : {}) };
}

function buildKernel(k: Tree, policies: Record<string, PolicySpec>, names: string[], sink: ProblemSink): KernelConfig {
  const tunnel = isMapping(k.tunnel) ? k.tunnel : {};
  return {
    learn: k.learn === true,
    program: k.program === true,
    protocol: typeof k.protocol === 'number' ? k.protocol : 12,
    table: typeof k.table === 'number' ? k.table : MAIN_TABLE,
    export: k.export === undefined ? { kind: 'all' } : buildPolicyRef(k.export, true, policies, names, ['kernel', 'export'], sink),
    ignoreInterfaces: Array.isArray(k.ignoreInterfaces) ? k.ignoreInterfaces.filter((x): x is string => typeof x === 'string') : [],
    tunnel: {
      device: typeof tunnel.device === 'string' ? tunnel.device : 'tunl0',
      mode: tunnel.mode === 'always' || tunnel.mode === 'crossSubnet' ? tunnel.mode : 'never',
    },
    persist: k.persist !== false,
    metric: typeof k.metric === 'number' ? k.metric : 0,
  };
}

function buildBmp(list: [Tree, number][]): BmpConfig[] {
  return list.map(([b]) => {
    const address = typeof b.address === 'string' ? b.address : '';
    const port = typeof b.port === 'number' ? b.port : DEFAULT_BMP_PORT;
    return {
      name: typeof b.name === 'string' ? b.name : `${address}:${port}`,
      address,
      port,
      statisticsInterval: typeof b.statisticsInterval === 'number' ? b.statisticsInterval : 0,
    };
  });
}

/** RFC 4456 §7: CLUSTER_ID, "a 4-byte" value; ours defaults to the BGP Identifier. */
function clusterIdOf(rr: unknown, routerIdNum: number): number {
  const id = isMapping(rr) ? rr.clusterId : undefined;
  if (typeof id === 'number') return id;
  if (typeof id === 'string') return dottedToU32(id) ?? routerIdNum;
  return routerIdNum;
}

/** The usable items of a checked list of mappings, with their positions in the file. */
function items(list: unknown): [Tree, number][] {
  if (!Array.isArray(list)) return [];
  return list.flatMap((item: unknown, i): [Tree, number][] => (item !== INVALID && isMapping(item) ? [[item, i]] : []));
}

function buildListen(listen: unknown): TernConfig['listen'] {
  if (listen === false) return { addresses: [...DEFAULT_LISTEN_ADDRESSES], port: 179, enabled: false };
  const l = isMapping(listen) ? listen : {};
  const addresses = Array.isArray(l.address) ? (l.address as string[]) : [...DEFAULT_LISTEN_ADDRESSES];
  const port = typeof l.port === 'number' ? l.port : 179;
  return { addresses, port, enabled: port !== 0 };
}

/** Like Calico's "Mesh_10_0_0_2": `peer_` + address with separators as `_`, plus `_port_<n>` off 179. */
export function defaultPeerName(address: string, port: number): string {
  const base = `peer_${address.replace(/[.:%]/g, '_')}`;
  return port === 179 ? base : `${base}_port_${port}`;
}

function buildPeers(peers: [Tree, number][], scope: PeerScope, sink: ProblemSink): PeerConfig[] {
  const built: [PeerConfig, number, boolean][] = [];
  for (const [p, i] of peers) {
    const peer = buildPeer(p, i, scope, sink);
    if (peer) built.push([peer, i, typeof p.name === 'string']);
  }
  const byEndpoint = new Map<string, number>();
  const byName = new Map<string, number>();
  for (const [peer, i, named] of built) {
    const endpoint = `${peer.address} port ${peer.port}`;
    const sameEndpoint = byEndpoint.get(endpoint);
    if (sameEndpoint !== undefined) sink.add(['peers', i, 'address'], `duplicate peer ${endpoint} (also ${formatPath(['peers', sameEndpoint])})`);
    else byEndpoint.set(endpoint, i);
    const sameName = byName.get(peer.name);
    // A derived name repeats exactly when the endpoint does; that problem is already reported.
    if (sameName !== undefined && (named || sameEndpoint === undefined)) {
      sink.add(['peers', i, 'name'], `duplicate peer name "${peer.name}" (also ${formatPath(['peers', sameName])})`);
    } else if (sameName === undefined) byName.set(peer.name, i);
  }
  return built.map(([peer]) => peer);
}

/** `bfd: true`: the defaults of the BFD_FIELDS table. */
const DEFAULT_BFD = Object.fromEntries(BFD_FIELDS.map((f) => [f.key, f.default as number])) as { minRx: number; minTx: number; multiplier: number };

function buildPeer(p: Tree, i: number, scope: PeerScope, sink: ProblemSink): PeerConfig | undefined {
  if (typeof p.address !== 'string' || typeof p.asn !== 'number') return undefined;
  const addr = parseAddress(p.address);
  if (typeof addr === 'string') return undefined;
  const holdTime = p.holdTime as number;
  const port = p.port as number;
  const localAsn = typeof p.localAsn === 'number' ? p.localAsn : scope.localAsn;
  const ibgp = p.asn === localAsn;
  const peer: PeerConfig = {
    name: typeof p.name === 'string' ? p.name : defaultPeerName(p.address, port),
    address: p.address,
    asn: p.asn,
    passive: p.passive as boolean,
    holdTime,
    connectRetry: p.connectRetry as number,
    families: Array.isArray(p.families) ? (p.families as Family[]) : [addr.family],
    port,
    ttlSecurity: typeof p.ttlSecurity === 'number' ? p.ttlSecurity : 0,
    routeReflectorClient: p.routeReflectorClient === true,
    nextHop: (p.nextHop as NextHopMode | undefined) ?? 'auto',
    import: buildPolicyRef(p.import, ibgp, scope.policies, scope.policyNames, ['peers', i, 'import'], sink),
    export: buildPolicyRef(p.export, ibgp, scope.policies, scope.policyNames, ['peers', i, 'export'], sink),
    advertisementInterval: typeof p.advertisementInterval === 'number' ? p.advertisementInterval : 0,
    allowOwnAs: typeof p.allowOwnAs === 'number' ? p.allowOwnAs : 0,
  };
  if (peer.routeReflectorClient && !ibgp) {
    // RFC 4456 reflects routes among IBGP peers only; an eBGP peer cannot be a client.
    sink.add(['peers', i, 'routeReflectorClient'], `only iBGP peers can be route-reflector clients (peer asn ${p.asn} is not our asn ${scope.localAsn})`);
    peer.routeReflectorClient = false;
  }
  const maxPrefixes = maxPrefixesOf(p.maxPrefixes);
  if (maxPrefixes) peer.maxPrefixes = maxPrefixes;
  if (typeof p.keepalive === 'number') {
    // RFC 4271 §10: "suggested value for the KeepaliveTime is 1/3 of the HoldTime".
    if (holdTime > 0 && p.keepalive * 3 > holdTime) {
      sink.add(['peers', i, 'keepalive'], `must be at most holdTime / 3 = ${Math.floor(holdTime / 3)} for holdTime ${holdTime} (got ${p.keepalive})`);
    }
    peer.keepalive = p.keepalive;
  }
  if (typeof p.password === 'string' && p.password.length) peer.password = p.password;
  if (typeof p.localAsn === 'number' && p.localAsn !== scope.localAsn) peer.localAsn = p.localAsn;
  if (typeof p.localAddress === 'string') {
    const local = parseAddress(p.localAddress);
    if (typeof local !== 'string' && local.family !== addr.family) {
      sink.add(['peers', i, 'localAddress'], `must be an ${familyName(addr.family)} address like address ${p.address} (got ${p.localAddress})`);
    }
    peer.localAddress = p.localAddress;
  }
  if (typeof p.description === 'string') peer.description = p.description;
  if (typeof p.addPaths === 'string' && p.addPaths !== 'off') peer.addPaths = p.addPaths as AddPathMode;
  if (p.gracefulRestart === true) peer.gracefulRestart = { restartTime: DEFAULT_RESTART_TIME };
  if (isMapping(p.gracefulRestart)) peer.gracefulRestart = { restartTime: p.gracefulRestart.restartTime as number };
  if (p.bfd === true) peer.bfd = { minRx: DEFAULT_BFD.minRx, minTx: DEFAULT_BFD.minTx, multiplier: DEFAULT_BFD.multiplier };
  if (isMapping(p.bfd)) peer.bfd = { minRx: p.bfd.minRx as number, minTx: p.bfd.minTx as number, multiplier: p.bfd.multiplier as number };
  if (typeof p.sendHoldTime === 'number') peer.sendHoldTime = p.sendHoldTime;
  return peer;
}

/** A bare number means "restart" with the default delay, as BIRD's `import limit N action restart`. */
function maxPrefixesOf(raw: unknown): MaxPrefixes | undefined {
  if (typeof raw === 'number') return { limit: raw, action: 'restart', restartDelay: DEFAULT_MAX_PREFIX_RESTART_DELAY };
  if (!isMapping(raw) || typeof raw.limit !== 'number') return undefined;
  return {
    limit: raw.limit,
    action: raw.action === 'warn' ? 'warn' : 'restart',
    restartDelay: typeof raw.restartDelay === 'number' ? raw.restartDelay : DEFAULT_MAX_PREFIX_RESTART_DELAY,
  };
}

function buildOriginate(list: [Tree, number][], sink: ProblemSink): OriginateConfig[] {
  const out: OriginateConfig[] = [];
  const seen = new Map<string, number>();
  for (const [o, i] of list) {
    if (typeof o.prefix !== 'string') continue;
    const prefix = parsePrefix(o.prefix);
    if (typeof prefix === 'string') continue;
    const first = seen.get(prefix.canonical);
    if (first !== undefined) sink.add(['originate', i, 'prefix'], `duplicate prefix ${prefix.canonical} (also ${formatPath(['originate', first])})`);
    else seen.set(prefix.canonical, i);
    const entry: OriginateConfig = { prefix: prefix.canonical, family: prefix.family };
    if (typeof o.nextHop === 'string') {
      const nh = parseAddress(o.nextHop);
      if (typeof nh !== 'string' && nh.family !== prefix.family) {
        sink.add(['originate', i, 'nextHop'], `must be an ${familyName(prefix.family)} address like prefix ${prefix.canonical} (got ${o.nextHop})`);
      }
      entry.nextHop = o.nextHop;
    }
    if (o.blackhole === true) entry.blackhole = true;
    out.push(entry);
  }
  return out;
}
