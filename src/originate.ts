// SPDX-License-Identifier: Apache-2.0
// The routes this speaker announces (config `originate[]`), encoded for one established
// session: attributes per RFC 4271 §5.1 (ORIGIN IGP; AS_PATH empty to iBGP, our AS to eBGP;
// LOCAL_PREF to iBGP only), next hop from the config or the session's own address, then
// End-of-RIB per family (RFC 4724 §2). No policy yet: every peer gets every originated route.
import { networkInterfaces } from 'node:os';
import { attributesForAnnounce, type RouteAttributes } from './bgp/messages/route-view.ts';
import { buildUpdates, endOfRib } from './bgp/messages/update.ts';
import { parsePrefix } from './bgp/messages/nlri.ts';
import { AsPathSegmentType, Origin } from './bgp/messages/iana.ts';
import type { CodecContext, Family, Nlri } from './bgp/messages/types.ts';
import { ipToBytes, ipv4ToBytes, ipv6ToBytes } from './util/ip.ts';
import type { OriginateConfig } from './config/types.ts';

export const DEFAULT_LOCAL_PREF = 100; // RFC 4271 §5.1.5 leaves it to us; 100 as BIRD, GoBGP and FRR

export interface OriginateSession {
  localAsn: number;
  ctx: CodecContext;
  families: Family[];
  /** The session's local TCP address (next hop self). */
  localAddress: string;
  /** Follow each family with End-of-RIB (the initial table); not for route-refresh answers. */
  endOfRib?: boolean;
}

export interface EncodedAnnouncement {
  frames: Uint8Array[];
  routes: number;
}

export function encodeOriginated(originate: OriginateConfig[], session: OriginateSession): EncodedAnnouncement {
  const frames: Uint8Array[] = [];
  let routes = 0;
  for (const family of session.families) {
    for (const [nextHopText, prefixes] of groupByNextHop(originate, family)) {
      const nextHop = nextHopText ? ipToBytes(nextHopText) : selfNextHop(family, session);
      if (!nextHop) continue; // no address of that family to offer as next hop on this session
      const nlri = prefixes.map((p) => withPathId(parsePrefix(p)!, family, session.ctx));
      const attributes = attributesForAnnounce(baseAttributes(session, nextHop), family, nlri, session.ctx);
      // buildUpdates places each prefix in the NLRI field or in the MP_REACH_NLRI template.
      frames.push(...buildUpdates({ withdrawn: [], attributes, nlri }, session.ctx));
      routes += nlri.length;
    }
    if (session.endOfRib !== false) frames.push(endOfRib(family, session.ctx));
  }
  return { frames, routes };
}

function baseAttributes(session: OriginateSession, nextHop: Uint8Array): RouteAttributes {
  const ebgp = session.ctx.peerType === 'ebgp';
  return {
    origin: Origin.Igp,
    // RFC 4271 §5.1.2: to an external peer the speaker prepends its own AS; to an internal peer
    // an originated route has an empty AS_PATH.
    asPath: ebgp ? [{ type: AsPathSegmentType.AsSequence, asns: [session.localAsn] }] : [],
    nextHop,
    localPref: ebgp ? undefined : DEFAULT_LOCAL_PREF,
    atomicAggregate: false,
    communities: [],
    largeCommunities: [],
    extendedCommunities: [],
    clusterList: [],
    unknown: [],
  };
}

function groupByNextHop(originate: OriginateConfig[], family: Family): Map<string, string[]> {
  const groups = new Map<string, string[]>();
  for (const o of originate) {
    if (o.family !== family) continue;
    const key = o.nextHop ?? '';
    groups.set(key, [...(groups.get(key) ?? []), o.prefix]);
  }
  return groups;
}

function withPathId(n: Nlri, family: Family, ctx: CodecContext): Nlri {
  // RFC 7911 §3: once ADD-PATH send is negotiated every NLRI carries a path id; ours is 1.
  return ctx.addPathSend.has(family) ? { ...n, pathId: 1 } : n;
}

/**
 * Next hop self: the session's local address when its family matches, else an address of the
 * other family on the same interface (a dual-stack session over IPv4 carries IPv6 routes with
 * the interface's global IPv6 address, as BIRD does). IPv4 routes may use an IPv6 next hop only
 * when RFC 8950 extended next hop was negotiated.
 */
export function selfNextHop(family: Family, session: OriginateSession): Uint8Array | undefined {
  const local = session.localAddress.replace(/^::ffff:/, '');
  const want = family === 'ipv4-unicast' ? 'IPv4' : 'IPv6';
  const direct = want === 'IPv4' ? ipv4ToBytes(local) : ipv6ToBytes(local);
  if (direct) return direct;
  const sibling = siblingAddress(local, want);
  if (sibling) return ipToBytes(sibling);
  if (family === 'ipv4-unicast' && session.ctx.extendedNextHopIpv4) return ipv6ToBytes(local);
  return undefined;
}

function siblingAddress(local: string, want: 'IPv4' | 'IPv6'): string | undefined {
  for (const addrs of Object.values(networkInterfaces())) {
    if (!addrs?.some((a) => a.address === local)) continue;
    const candidates = addrs.filter((a) => a.family === want && !a.internal);
    // Prefer a global address to a link-local one.
    const global = candidates.find((a) => !a.address.startsWith('fe80:'));
    return (global ?? candidates[0])?.address;
  }
  return undefined;
}
