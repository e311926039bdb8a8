// SPDX-License-Identifier: Apache-2.0
// Two details of BIRD 1.6's `show route` that need code of their own:
//  - the order networks are listed in: BIRD walks its FIB hash table (nest/rt-fib.c), whose
//    order is the 16-bit hash of the network address (lib/ipv4.h ipv4_hash, lib/ipv6.h
//    ipv6_hash); a bucket's chain is kept sorted by that hash, so the walk is sorted by it;
//  - the `BGP.*` attribute lines of `show route all` (proto/bgp/attrs.c), in attribute-code order.
import type { Family } from '../../bgp/messages/types.ts';
import type { RouteAttributes } from '../../bgp/messages/route-view.ts';
import { bytesToIp, u32ToDotted } from '../../util/ip.ts';
import { AsPathSegmentType } from '../../bgp/messages/iana.ts';

function u32(b: Uint8Array, offset: number): number {
  return (((b[offset] ?? 0) << 24) | ((b[offset + 1] ?? 0) << 16) | ((b[offset + 2] ?? 0) << 8) | (b[offset + 3] ?? 0)) >>> 0;
}

/** BIRD's FIB hash of a network address (missing trailing bytes are zero). */
export function birdFibHash(address: Uint8Array, family: Family): number {
  if (family === 'ipv4-unicast') {
    // ipv4_hash: a ^= a >> 16; a ^= a << 10; return a & 0xffff;
    let a = u32(address, 0);
    a = (a ^ (a >>> 16)) >>> 0;
    a = (a ^ (a << 10)) >>> 0;
    return a & 0xffff;
  }
  // ipv6_hash: x = the four words XORed; return (x ^ (x >> 16) ^ (x >> 8)) & 0xffff;
  const x = (u32(address, 0) ^ u32(address, 4) ^ u32(address, 8) ^ u32(address, 12)) >>> 0;
  return ((x ^ (x >>> 16) ^ (x >>> 8)) >>> 0) & 0xffff;
}

const ORIGIN_NAMES = ['IGP', 'EGP', 'Incomplete'];

function asPathText(a: Readonly<RouteAttributes>): string {
  // as_path_format: sequences as space-separated ASNs, sets in braces.
  return a.asPath.map((s) => (s.type === AsPathSegmentType.AsSet || s.type === AsPathSegmentType.AsConfedSet ? `{${s.asns.join(' ')}}` : s.asns.join(' '))).join(' ');
}

/** ec_set_format for the common kinds; anything else as BIRD's generic form. */
function extendedCommunityText(c: Uint8Array): string {
  const hi = u32(c, 0);
  const lo = u32(c, 4);
  const type = c[0] ?? 0;
  const sub = c[1] ?? 0;
  const kind = sub === 0x02 ? 'rt' : sub === 0x03 ? 'ro' : undefined;
  const local16 = ((c[6] ?? 0) << 8) | (c[7] ?? 0);
  if (kind && type === 0x00) return `(${kind}, ${((c[2] ?? 0) << 8) | (c[3] ?? 0)}, ${lo})`;
  if (kind && type === 0x01) return `(${kind}, ${bytesToIp(c.subarray(2, 6))}, ${local16})`;
  if (kind && type === 0x02) return `(${kind}, ${u32(c, 2)}, ${local16})`;
  return `(generic, 0x${hi.toString(16)}, 0x${lo.toString(16)})`;
}

export function bgpAttributeLines(a: Readonly<RouteAttributes>): string[] {
  const out: string[] = [];
  if (a.origin !== undefined) out.push(`BGP.origin: ${ORIGIN_NAMES[a.origin] ?? String(a.origin)}`);
  out.push(`BGP.as_path: ${asPathText(a)}`);
  if (a.nextHop) out.push(`BGP.next_hop: ${bytesToIp(a.nextHop)}${a.linkLocalNextHop ? ` ${bytesToIp(a.linkLocalNextHop)}` : ''}`);
  if (a.med !== undefined) out.push(`BGP.med: ${a.med}`);
  if (a.localPref !== undefined) out.push(`BGP.local_pref: ${a.localPref}`);
  if (a.atomicAggregate) out.push('BGP.atomic_aggr: ');
  if (a.aggregator) out.push(`BGP.aggregator: ${bytesToIp(a.aggregator.address)} AS${a.aggregator.asn}`);
  if (a.communities.length) out.push(`BGP.community: ${a.communities.map((c) => `(${c >>> 16},${c & 0xffff})`).join(' ')}`);
  if (a.originatorId !== undefined) out.push(`BGP.originator_id: ${u32ToDotted(a.originatorId)}`);
  if (a.clusterList.length) out.push(`BGP.cluster_list: ${a.clusterList.map(u32ToDotted).join(' ')}`);
  if (a.extendedCommunities.length) out.push(`BGP.ext_community: ${a.extendedCommunities.map(extendedCommunityText).join(' ')}`);
  if (a.largeCommunities.length) out.push(`BGP.large_community: ${a.largeCommunities.map(([g, l1, l2]) => `(${g}, ${l1}, ${l2})`).join(' ')}`);
  return out;
}
