// SPDX-License-Identifier: Apache-2.0
// The JSON shapes of `tern show peers --json` and `tern show routes --json`. These field names
// are a public interface (tests outside this repo read them): extend, never rename.
import type { AsPathSegment, Family, Nlri } from '../bgp/messages/types.ts';
import { asPathToString, type RouteAttributes } from '../bgp/messages/route-view.ts';
import { parsePrefix, prefixToString } from '../bgp/messages/nlri.ts';
import { isPeerDisabled } from './peer-ops.ts';
import { prefixCovers } from './explain.ts';
import { capabilityToString } from '../bgp/messages/capabilities.ts';
import { bytesToIp, u32ToDotted } from '../util/ip.ts';
import type { Daemon, PeerEntry } from '../daemon.ts';
import type { Path } from '../rib/types.ts';

export interface PeerView {
  name: string;
  address: string;
  asn: number;
  /** RFC 4271 §8 state: Idle, Connect, Active, OpenSent, OpenConfirm, Established. */
  state: string;
  uptimeSeconds: number;
  /** Negotiated families when Established, else the configured ones. */
  families: Family[];
  /** Routes in the peer's Adj-RIB-In (received, before import policy). */
  routesReceived: number;
  /** Routes in the peer's Adj-RIB-Out (advertised to it). */
  routesSent: number;
  lastError: string | null;
  // Extensions
  routesAccepted: number;
  routesStale: number;
  description?: string;
  localAddress: string | null;
  remoteRouterId: string | null;
  holdTime: number | null;
  keepaliveTime: number | null;
  passive: boolean;
  peerType: 'ibgp' | 'ebgp';
  routeReflectorClient: boolean;
  capabilities: string[];
  messagesReceived: Record<string, number>;
  messagesSent: Record<string, number>;
  /** `tern peer disable`: stopped by the operator until `tern peer enable` (state Idle). */
  disabled: boolean;
}

export const ROUTE_TABLES = ['loc', 'adj-in', 'adj-out'] as const;
export type RouteTable = (typeof ROUTE_TABLES)[number];

export interface RouteView {
  prefix: string;
  nextHop: string | null;
  /** ASNs of the path in order; AS_SET members appear in place (see asPathText for the exact form). */
  asPath: number[];
  origin: 'igp' | 'egp' | 'incomplete' | null;
  localPref: number | null;
  med: number | null;
  /** "65000:100" */
  communities: string[];
  /** "65000:1:2" */
  largeCommunities: string[];
  /** Loc-RIB and adj-in: the peer the route came from (null for local routes); adj-out: the peer it goes to. */
  peer: string | null;
  /** Loc-RIB: the decision process chose it; adj-in: it is the Loc-RIB's best; adj-out: always true. */
  best: boolean;
  /** Why it is not best, or why import rejected it; null for the best path. */
  reason: string | null;
  /** RFC 4724 / RFC 7313: kept from a restarting or refreshing peer. */
  stale: boolean;
  /** RFC 7911 path id (as received, or as sent in adj-out). */
  pathId: number | null;
  originatorId: string | null;
  clusterList: string[];
  // Extensions
  family: Family;
  table: RouteTable;
  source: string;
  /** Loc-RIB: part of the ECMP set. */
  multipath: boolean;
  asPathText: string;
  linkLocalNextHop: string | null;
  extendedCommunities: string[];
  atomicAggregate: boolean;
  aggregator: string | null;
}

const ORIGINS = ['igp', 'egp', 'incomplete'] as const;

export function peerView(daemon: Daemon, entry: PeerEntry): PeerView {
  const { config, session, ref } = entry;
  const info = session.info;
  const n = info.negotiated;
  const established = session.state === 'Established';
  let received = 0;
  let stale = 0;
  for (const n of daemon.rib.adjInCounts(ref.id).values()) {
    received += n.received;
    stale += n.stale;
  }
  return {
    name: config.name,
    address: config.address,
    asn: config.asn,
    state: session.state,
    uptimeSeconds: established && info.uptimeSince ? Math.floor((Date.now() - info.uptimeSince) / 1000) : 0,
    families: established && n ? n.families : config.families,
    routesReceived: received,
    routesSent: daemon.rib.sentCount(ref.id),
    lastError: info.lastError ?? null,
    routesAccepted: daemon.rib.acceptedCount(ref.id),
    routesStale: stale,
    description: config.description,
    localAddress: session.localAddress ?? null,
    remoteRouterId: info.remoteOpen ? u32ToDotted(info.remoteOpen.bgpId) : null,
    holdTime: established && n ? n.holdTime : null,
    keepaliveTime: established && n ? n.keepaliveTime : null,
    passive: config.passive,
    peerType: ref.type,
    routeReflectorClient: ref.rrClient,
    capabilities: info.remoteOpen ? info.remoteOpen.capabilities.map(capabilityToString) : [],
    messagesReceived: { ...info.messagesIn },
    messagesSent: { ...info.messagesOut },
    disabled: isPeerDisabled(entry),
  };
}

/** `tern show routes` filters on the prefix and communities (applied to every table). */
export interface RouteFilters {
  /** Exactly this prefix, or with `longer` this prefix and every more specific one. */
  prefix?: Nlri;
  longer?: boolean;
  /** RFC 1997 community value (32 bits). */
  community?: number;
  /** RFC 8092 large community. */
  largeCommunity?: [number, number, number];
}

export function routeRows(daemon: Daemon, table: RouteTable, filter: { family?: Family; peer?: PeerEntry } & RouteFilters): RouteView[] {
  const rows = allRouteRows(daemon, table, filter);
  return filter.prefix || filter.community !== undefined || filter.largeCommunity ? rows.filter((r) => matchesRouteFilters(r, filter)) : rows;
}

function matchesRouteFilters(r: RouteView, f: RouteFilters): boolean {
  if (f.prefix) {
    const n = parsePrefix(r.prefix);
    if (!n || !(f.longer ? prefixCovers(f.prefix, n) : n.length === f.prefix.length && prefixCovers(f.prefix, n))) return false;
  }
  if (f.community !== undefined) {
    const c = f.community;
    if (!r.communities.includes(`${c >>> 16}:${c & 0xffff}`)) return false;
  }
  if (f.largeCommunity && !r.largeCommunities.includes(f.largeCommunity.join(':'))) return false;
  return true;
}

function allRouteRows(daemon: Daemon, table: RouteTable, filter: { family?: Family; peer?: PeerEntry }): RouteView[] {
  const rows: RouteView[] = [];
  const { family, peer } = filter;
  if (table === 'loc') {
    for (const dest of daemon.rib.loc.values()) {
      if (family && dest.family !== family) continue;
      for (const path of dest.paths) {
        if (peer && path.peer?.id !== peer.ref.id) continue;
        const best = dest.decision.best === path;
        rows.push(row(path.nlri, path.attrs, {
          table, peer: path.peer?.name ?? null, best, reason: best ? null : (dest.decision.reasons.get(path) ?? null), stale: path.stale,
          source: path.source, multipath: dest.decision.multipath.includes(path),
        }));
      }
    }
  } else if (table === 'adj-in') {
    for (const e of daemon.rib.adjIn(peer!.ref.id)) {
      if (family && e.family !== family) continue;
      const dest = e.path ? daemon.rib.loc.get(e.path.destKey) : undefined;
      const best = !!e.path && dest?.decision.best === e.path;
      const reason = e.rejected ?? (best || !e.path ? null : (dest?.decision.reasons.get(e.path) ?? null));
      rows.push(row(e.nlri, e.raw, { table, peer: peer!.config.name, best, reason, stale: e.stale, source: 'bgp', multipath: !!e.path && !!dest?.decision.multipath.includes(e.path) }));
    }
  } else {
    for (const s of daemon.rib.adjOut(peer!.ref.id, family)) {
      rows.push(row(s.nlri, s.attrs, { table, peer: peer!.config.name, best: true, reason: null, stale: false, source: 'bgp', multipath: false }));
    }
  }
  return rows.sort(byPrefix);
}

interface RowMeta {
  table: RouteTable;
  peer: string | null;
  best: boolean;
  reason: string | null;
  stale: boolean;
  source: string;
  multipath: boolean;
}

function row(nlri: Nlri, a: Readonly<RouteAttributes>, meta: RowMeta): RouteView {
  return {
    // The path id has its own field; the prefix is the bare CIDR.
    prefix: prefixToString(nlri.pathId === undefined ? nlri : { family: nlri.family, length: nlri.length, address: nlri.address }),
    nextHop: a.nextHop ? bytesToIp(a.nextHop) : null,
    asPath: flattenAsPath(a.asPath),
    origin: a.origin === undefined ? null : (ORIGINS[a.origin] ?? null),
    localPref: a.localPref ?? null,
    med: a.med ?? null,
    communities: a.communities.map((c) => `${c >>> 16}:${c & 0xffff}`),
    largeCommunities: a.largeCommunities.map(([g, l1, l2]) => `${g}:${l1}:${l2}`),
    peer: meta.peer,
    best: meta.best,
    reason: meta.reason,
    stale: meta.stale,
    pathId: nlri.pathId ?? null,
    originatorId: a.originatorId === undefined ? null : u32ToDotted(a.originatorId),
    clusterList: a.clusterList.map(u32ToDotted),
    family: nlri.family,
    table: meta.table,
    source: meta.source,
    multipath: meta.multipath,
    asPathText: asPathToString(a.asPath),
    linkLocalNextHop: a.linkLocalNextHop ? bytesToIp(a.linkLocalNextHop) : null,
    extendedCommunities: a.extendedCommunities.map(hex),
    atomicAggregate: a.atomicAggregate,
    aggregator: a.aggregator ? `${a.aggregator.asn} ${bytesToIp(a.aggregator.address)}` : null,
  };
}

function byPrefix(a: RouteView, b: RouteView): number {
  return a.prefix.localeCompare(b.prefix, 'en', { numeric: true }) || (a.peer ?? '').localeCompare(b.peer ?? '') || (a.pathId ?? 0) - (b.pathId ?? 0);
}

function flattenAsPath(segments: readonly AsPathSegment[]): number[] {
  const out: number[] = [];
  for (const s of segments) out.push(...s.asns);
  return out;
}

function hex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

export type { Path };
