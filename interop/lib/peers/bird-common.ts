// SPDX-License-Identifier: Apache-2.0
// What BIRD 1.6 and BIRD 2 share in the lab: protocol names, the `birdc` query wrapper, and the
// parsers for `show protocols all NAME` and `show route all protocol NAME`. Config writing is
// per version (bird2.ts, bird1.ts) because the grammars differ (channels vs. one table).
import { readFileSync } from 'node:fs';
import { run } from '../proc.ts';
import { GR_RESTART_TIME, type AddPaths, type Family, type RouteDetail, type RouteInfo, type SessionSpec, type SessionStatus } from '../types.ts';

/** BIRD symbols are [A-Za-z0-9_]; lab names use '-'. */
export function birdSymbol(name: string): string {
  return name.replace(/[^A-Za-z0-9_]/g, '_');
}

export async function birdc(birdcPath: string, socket: string, command: string[]): Promise<string> {
  const r = await run(birdcPath, ['-s', socket, ...command], { timeoutMs: 5_000 });
  return r.stdout;
}

/** Parses `show protocols all NAME` (same layout in 1.6 and 2.0). */
export function parseBirdProtocol(output: string, protocol: string): SessionStatus {
  const lines = output.split('\n');
  const head = lines.find((l) => l.startsWith(protocol + ' '));
  if (head === undefined) throw new Error(`birdc: no protocol ${protocol} in: ${output.trim().slice(0, 300)}`);
  const bgpState = /^\s+BGP state:\s+(\S+)/m.exec(output)?.[1];
  // Head line: name proto table state since info...; "since" may be "22:17:00.704" or a date.
  const info = head.trim().split(/\s+/).slice(5).join(' ');
  const state = bgpState ?? (info.split(/\s+/)[0] || 'down');
  const lastError = /^\s+Last error:\s+(.*)$/m.exec(output)?.[1]?.trim() ?? '';
  return { established: state === 'Established', state, lastError };
}

const ROUTE_START = /^([0-9a-fA-F:.]+\/\d+)\s/;
/** A further route for the same prefix: "   unicast [p 12:00:00] ..." (2.x) or "   via ... [p ...]" (1.6). */
const ALT_ROUTE_START = /^\s+\S.*\s\[\w+ [^\]]*\]/;

/** Parses `show route all [protocol NAME]` output of BIRD 1.6 or 2.0. */
export function parseBirdRoutes(output: string): RouteInfo[] {
  const routes: RouteInfo[] = [];
  let prefix: string | undefined;
  let current: RouteInfo | undefined;
  for (const line of output.split('\n')) {
    const start = ROUTE_START.exec(line);
    if (start) {
      prefix = start[1]!;
      current = { prefix, nextHop: '', asPath: [] };
      routes.push(current);
      continue;
    }
    if (prefix !== undefined && ALT_ROUTE_START.test(line) && !/^\s+(BGP|Type)\b/.test(line)) {
      current = { prefix, nextHop: '', asPath: [] };
      routes.push(current);
      continue;
    }
    if (current === undefined) continue;
    const asPath = /^\s+BGP\.as_path:\s*(.*)$/.exec(line);
    if (asPath) current.asPath = (asPath[1]!.match(/\d+/g) ?? []).map(Number);
    const nextHop = /^\s+BGP\.next_hop:\s*(\S+)/.exec(line);
    if (nextHop) current.nextHop = nextHop[1]!;
  }
  return routes;
}

/** A path from `show route all` with the protocol (session) it came from. */
export interface BirdRouteDetail extends Omit<RouteDetail, 'from'> {
  protocol: string;
}

/**
 * Parses `show route all` (every protocol) of BIRD 1.6 or 2.0 into paths with RFC 4456
 * details: `BGP.originator_id: A.B.C.D`, `BGP.cluster_list: A.B.C.D ...`. BIRD 2.0 does not
 * mark a path kept across a neighbor's graceful restart in `show route`; it says so per session
 * (`Neighbor graceful restart active` in `show protocols all`), so `stale` is always false here.
 * Non-BGP paths (static) are left out.
 */
export function parseBirdRouteDetails(output: string): BirdRouteDetail[] {
  const routes: BirdRouteDetail[] = [];
  let prefix: string | undefined;
  let current: BirdRouteDetail | undefined;
  const startPath = (line: string): void => {
    const protocol = /\[(\S+)\s/.exec(line)?.[1] ?? '';
    current = { protocol, prefix: prefix!, nextHop: '', asPath: [], originatorId: undefined, clusterList: [], stale: false };
    routes.push(current);
  };
  for (const line of output.split('\n')) {
    const start = ROUTE_START.exec(line);
    if (start) {
      prefix = start[1]!;
      startPath(line);
      continue;
    }
    if (prefix !== undefined && ALT_ROUTE_START.test(line) && !/^\s+(BGP|Type)\b/.test(line)) {
      startPath(line);
      continue;
    }
    if (current === undefined) continue;
    const attr = /^\s+BGP\.(\w+):\s*(.*)$/.exec(line);
    if (attr === null) continue;
    const [, name, value] = attr as unknown as [string, string, string];
    if (name === 'as_path') current.asPath = (value.match(/\d+/g) ?? []).map(Number);
    if (name === 'next_hop') current.nextHop = value.split(/\s+/)[0] ?? '';
    if (name === 'originator_id') current.originatorId = value.trim();
    if (name === 'cluster_list') current.clusterList = value.trim().split(/\s+/).filter(Boolean);
  }
  return routes.filter((r) => r.nextHop !== '');
}

/** Maps BIRD paths to RouteDetail, naming the neighbor by the session's remote address. */
export function birdDetailsByAddress(routes: BirdRouteDetail[], sessions: readonly SessionSpec[]): RouteDetail[] {
  return routes.flatMap(({ protocol, ...r }) => {
    const s = sessions.find((x) => birdSymbol(x.label) === protocol);
    return s === undefined ? [] : [{ ...r, from: s.remoteAddress }];
  });
}

export function familyOfPrefix(prefix: string): Family {
  return prefix.includes(':') ? 'ipv6-unicast' : 'ipv4-unicast';
}

export interface BirdSessionConfig {
  protocol: string;
  localAddress: string;
  remoteAddress: string;
  localAsn: number;
  remoteAsn: number;
  families: Family[];
  /** IPv6 next hop to send when IPv6 routes ride an IPv4 transport. */
  nextHop6?: string;
  // Scenario options; absent = the session lab's config.
  rrClient?: boolean;
  /** `rr cluster id` (written on every session of a reflector). */
  clusterId?: string;
  addPaths?: AddPaths;
  gracefulRestart?: boolean;
  keepNextHop?: boolean;
  // Security and fault-test options (interop/security.test.ts, faults.test.ts, bfd.test.ts).
  /** RFC 2385 TCP MD5 key (`password "..."`). */
  password?: string;
  /** RFC 5082 GTSM: `ttl security on` with the peer this many hops away (`multihop N` when > 1). */
  ttlSecurity?: number;
  /** `bfd on` (BIRD 2 only; the timers are the `protocol bfd` ones, see birdBfdProtocol). */
  bfd?: boolean;
  /** Hold time, seconds (keepalive a third of it); default the lab's 9 s. */
  holdTime?: number;
}

/** RFC 2385 / RFC 5082 / hold-time options of one session, for BIRD 1.6 and 2 alike. */
export function birdSecurityOptions(s: Pick<BirdSessionConfig, 'password' | 'ttlSecurity' | 'holdTime'>): string {
  const out: string[] = [];
  if (s.password !== undefined) out.push(`password "${s.password.replace(/["\\]/g, '\\$&')}";`);
  if (s.ttlSecurity !== undefined && s.ttlSecurity > 0) {
    out.push('ttl security on;');
    if (s.ttlSecurity > 1) out.push(`multihop ${s.ttlSecurity};`);
  }
  if (s.holdTime !== undefined) out.push(`hold time ${s.holdTime}; keepalive time ${Math.max(1, Math.floor(s.holdTime / 3))};`);
  return out.length === 0 ? '' : `  ${out.join(' ')}`;
}

/** BIRD's words for RFC 7911 directions (`add paths on` = both). */
export function birdAddPaths(a: AddPaths | undefined): string {
  return a === undefined ? '' : ` add paths ${a === 'both' ? 'on' : a};`;
}

/** Protocol-level RFC 4456 / RFC 4724 options, shared by BIRD 1.6 and 2. */
export function birdProtocolOptions(s: { rrClient?: boolean; clusterId?: string; gracefulRestart?: boolean }): string {
  const out: string[] = [];
  if (s.rrClient === true) out.push('rr client;');
  if (s.clusterId !== undefined) out.push(`rr cluster id ${s.clusterId};`);
  if (s.gracefulRestart === true) out.push(`graceful restart on; graceful restart time ${GR_RESTART_TIME};`);
  return out.length === 0 ? '' : `  ${out.join(' ')}`;
}

/**
 * Global option when any session does graceful restart: during recovery (`bird -R`) BIRD waits
 * for End-of-RIB from its peers before it exports; bound that wait so a silent peer costs 20 s.
 */
export const BIRD_GR_WAIT = 'graceful restart wait 20;';

/** Timers shared by both versions: quick reconnects so restarts converge in seconds. */
export const BIRD_FAST_TIMERS = 'connect retry time 2; error wait time 1,5; hold time 9; keepalive time 3;';

/**
 * The last "Received: ..." BIRD logged for a protocol (a NOTIFICATION from the peer), or
 * undefined. `show protocols` keeps only the last error, which the next reconnect attempt
 * (e.g. "Connection refused" once the peer is gone) overwrites within a second; the log keeps it.
 */
export function lastReceivedInLog(logFile: string, protocol: string): string | undefined {
  let text: string;
  try {
    text = readFileSync(logFile, 'utf8');
  } catch {
    return undefined;
  }
  const marker = ` ${protocol}: Received: `;
  const at = text.lastIndexOf(marker);
  if (at < 0) return undefined;
  const end = text.indexOf('\n', at);
  return text.slice(at + marker.length - 'Received: '.length, end < 0 ? undefined : end).trim();
}
