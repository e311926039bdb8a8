// SPDX-License-Identifier: Apache-2.0
// The JSON shapes of `tern show peers --json` and `tern show routes --json`. These field names
// are a public interface (tests outside this repo read them): extend, never rename.
import type { AsPathSegment, Family } from '../bgp/messages/types.ts';
import { asPathToString, type RouteAttributes } from '../bgp/messages/route-view.ts';
import { prefixToString } from '../bgp/messages/nlri.ts';
import { bytesToIp, u32ToDotted } from '../util/ip.ts';
import type { StoredRoute } from '../rib/received-routes.ts';

export interface PeerView {
  name: string;
  address: string;
  asn: number;
  /** RFC 4271 §8 state: Idle, Connect, Active, OpenSent, OpenConfirm, Established. */
  state: string;
  uptimeSeconds: number;
  /** Negotiated families when Established, else the configured ones. */
  families: Family[];
  routesReceived: number;
  routesSent: number;
  lastError: string | null;
  // Extensions
  description?: string;
  localAddress: string | null;
  remoteRouterId: string | null;
  holdTime: number | null;
  keepaliveTime: number | null;
  passive: boolean;
  peerType: 'ibgp' | 'ebgp';
  capabilities: string[];
  messagesReceived: Record<string, number>;
  messagesSent: Record<string, number>;
}

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
  peer: string;
  // Extensions
  family: Family;
  pathId: number | null;
  asPathText: string;
  linkLocalNextHop: string | null;
  extendedCommunities: string[];
  originatorId: string | null;
  clusterList: string[];
  atomicAggregate: boolean;
  aggregator: string | null;
}

const ORIGINS = ['igp', 'egp', 'incomplete'] as const;

export function routeView(route: StoredRoute): RouteView {
  const a: RouteAttributes = route.attributes;
  return {
    prefix: prefixToString(route.nlri),
    nextHop: a.nextHop ? bytesToIp(a.nextHop) : null,
    asPath: flattenAsPath(a.asPath),
    origin: a.origin === undefined ? null : (ORIGINS[a.origin] ?? null),
    localPref: a.localPref ?? null,
    med: a.med ?? null,
    communities: a.communities.map((c) => `${c >>> 16}:${c & 0xffff}`),
    largeCommunities: a.largeCommunities.map(([g, l1, l2]) => `${g}:${l1}:${l2}`),
    peer: route.peer,
    family: route.nlri.family,
    pathId: route.nlri.pathId ?? null,
    asPathText: asPathToString(a.asPath),
    linkLocalNextHop: a.linkLocalNextHop ? bytesToIp(a.linkLocalNextHop) : null,
    extendedCommunities: a.extendedCommunities.map(hex),
    originatorId: a.originatorId === undefined ? null : u32ToDotted(a.originatorId),
    clusterList: a.clusterList.map(u32ToDotted),
    atomicAggregate: a.atomicAggregate,
    aggregator: a.aggregator ? `${a.aggregator.asn} ${bytesToIp(a.aggregator.address)}` : null,
  };
}

function flattenAsPath(segments: AsPathSegment[]): number[] {
  const out: number[] = [];
  for (const s of segments) out.push(...s.asns);
  return out;
}

function hex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}
