// SPDX-License-Identifier: Apache-2.0
// The export attribute rewrite (BIRD bgp_update_attrs): what a path's attributes become on the
// way to one peer, after export policy. RFC 4271 §5.1.2 (AS_PATH prepend to eBGP), §5.1.3
// (NEXT_HOP), §5.1.4 (MED not passed between neighbouring ASes), §5.1.5 (LOCAL_PREF only to
// iBGP), RFC 4456 §8 (ORIGINATOR_ID / CLUSTER_LIST when reflecting, never to eBGP).
// Pure: returns a new RouteAttributes and never touches the input. Not here: whether the path
// may go to the peer at all (rules.ts mayExport), wire encoding and the choice of NEXT_HOP vs
// MP_REACH (bgp/messages/route-view.ts attributesForAnnounce), policy actions (policy/).
import type { RouteAttributes } from '../bgp/messages/route-view.ts';
import { AsPathSegmentType } from '../bgp/messages/iana.ts';
import type { AsPathSegment, Family } from '../bgp/messages/types.ts';
import { cloneAttributes } from '../rib/attrs.ts';
import type { Path, PeerRef } from '../rib/types.ts';
import type { ReflectorConfig } from './rules.ts';

export interface ExportRewriteOptions {
  cfg: ReflectorConfig;
  /** Configured next-hop mode for `to`. auto = eBGP self, iBGP keep (local routes: self, unless originated with a next hop). */
  nextHopMode: 'self' | 'keep' | 'auto';
  /** Our address(es) on the session to `to`: what "self" means for each family. Give
   *  ipv6LinkLocal only when `to` shares our link (RFC 2545 §3); it is sent whenever given. */
  self: { ipv4?: Uint8Array; ipv6?: Uint8Array; ipv6LinkLocal?: Uint8Array };
  family: Family;
  /** From the export policy verdict; overrides nextHopMode. An address that does not fit the
   *  family (an IPv4 address on an IPv6 route) is ignored and nextHopMode applies. */
  policyNextHop?: 'self' | 'keep' | Uint8Array;
  /** Extra prepends of our AS from the export policy verdict (eBGP only). */
  prepend?: number;
  /** RFC 8950 negotiated with `to` for IPv4 unicast: an IPv6 next hop may carry IPv4 routes. */
  extendedNextHopIpv4?: boolean;
}

/** LOCAL_PREF sent to internal peers when the route has none (BIRD, FRR, Cisco default). */
export const DEFAULT_LOCAL_PREF = 100;
const MAX_SEGMENT_ASNS = 255; // RFC 4271 §4.3: the segment length is one octet
const IPV4_LENGTH = 4;
const IPV6_LENGTH = 16;

/**
 * The attributes to send for `path` to `to`, given `attrs` (the path's attributes after export
 * policy). Returns undefined when no usable next hop exists for the family, or the only one is
 * `to`'s own address: the route must not be sent (withdraw it if it was).
 */
export function rewriteForExport(attrs: Readonly<RouteAttributes>, path: Path, to: PeerRef, opts: ExportRewriteOptions): RouteAttributes | undefined {
  const hop = chooseNextHop(attrs, path, to, opts);
  if (hop === undefined) return undefined;
  const out = copyOf(attrs);
  out.nextHop = hop.nextHop;
  if (hop.linkLocal !== undefined) out.linkLocalNextHop = hop.linkLocal;
  else delete out.linkLocalNextHop;
  const toExternal = to.type === 'ebgp';
  if (toExternal) out.asPath = prependOwnAs(withoutConfederation(out.asPath), opts.cfg.localAsn, 1 + wholeCount(opts.prepend));
  // RFC 4271 §5.1.2: "a) When a given BGP speaker advertises the route to an internal peer, the
  // advertising speaker SHALL NOT modify the AS_PATH attribute associated with the route."
  // Policy prepends are therefore not applied to iBGP: our AS in the path would also make every
  // internal peer reject the route as an AS loop.
  applyMed(out, path, toExternal);
  applyLocalPref(out, toExternal);
  applyReflectionAttributes(out, path, toExternal, opts.cfg);
  return out;
}

/** A mutable deep copy without the interning key (the input may be an interned Attrs). */
function copyOf(attrs: Readonly<RouteAttributes>): RouteAttributes {
  const out = cloneAttributes(attrs as RouteAttributes);
  delete (out as { key?: string }).key;
  return out;
}

// ===== AS_PATH =====

/** Times a policy asked to prepend, as a whole non-negative number. */
function wholeCount(n: number | undefined): number {
  return n === undefined || !Number.isFinite(n) || n < 0 ? 0 : Math.floor(n);
}

/**
 * RFC 4271 §5.1.2 b): "1) if the first path segment of the AS_PATH is of type AS_SEQUENCE, the
 * local system prepends its own AS number as the last element of the sequence ... If the act of
 * prepending will cause an overflow in the AS_PATH segment (i.e., more than 255 ASes), it
 * SHOULD prepend a new segment of type AS_SEQUENCE and prepend its own AS number to this new
 * segment. 2) if the first path segment of the AS_PATH is of type AS_SET, the local system
 * prepends a new path segment of type AS_SEQUENCE to the AS_PATH, including its own AS number
 * in that segment. 3) if the AS_PATH is empty, the local system creates a path segment of type
 * AS_SEQUENCE, places its own AS into that segment". "Whenever the modification of the AS_PATH
 * attribute calls for including or prepending the AS number of the local system, the local
 * system MAY include/prepend more than one instance of its own AS number".
 */
export function prependOwnAs(segments: readonly AsPathSegment[], asn: number, count: number): AsPathSegment[] {
  const out = segments.map((s) => ({ type: s.type, asns: [...s.asns] }));
  let remaining = count;
  const first = out[0];
  if (first !== undefined && first.type === AsPathSegmentType.AsSequence) {
    const fits = Math.min(remaining, MAX_SEGMENT_ASNS - first.asns.length);
    if (fits > 0) {
      first.asns = [...new Array<number>(fits).fill(asn), ...first.asns];
      remaining -= fits;
    }
  }
  while (remaining > 0) {
    const n = Math.min(remaining, MAX_SEGMENT_ASNS);
    out.unshift({ type: AsPathSegmentType.AsSequence, asns: new Array<number>(n).fill(asn) });
    remaining -= n;
  }
  return out;
}

/** RFC 5065 §4.1: confederation segments are removed before a route leaves the confederation.
 *  Tern runs no confederation, so every eBGP peer is outside one. */
function withoutConfederation(segments: AsPathSegment[]): AsPathSegment[] {
  return segments.filter((s) => s.type === AsPathSegmentType.AsSequence || s.type === AsPathSegmentType.AsSet);
}

// ===== NEXT_HOP =====

interface NextHopChoice {
  nextHop: Uint8Array;
  linkLocal?: Uint8Array;
}

function chooseNextHop(attrs: Readonly<RouteAttributes>, path: Path, to: PeerRef, opts: ExportRewriteOptions): NextHopChoice | undefined {
  const explicit = opts.policyNextHop instanceof Uint8Array && fitsFamily(opts.policyNextHop, opts) ? opts.policyNextHop : undefined;
  let choice: NextHopChoice | undefined;
  if (explicit !== undefined) choice = { nextHop: explicit };
  else if (effectiveMode(path, to, opts) === 'keep') choice = keptNextHop(attrs, opts) ?? selfNextHop(opts);
  else choice = selfNextHop(opts);
  // RFC 4271 §5.1.3: "A route originated by a BGP speaker SHALL NOT be advertised to a peer
  // using an address of that peer as NEXT_HOP." A kept third-party next hop naming `to` itself
  // is the same loop: the route leads back to the peer, which would drop it (§6.3).
  if (choice !== undefined && sameBytes(choice.nextHop, to.address)) return undefined;
  return choice;
}

/** The policy's 'self'/'keep' wins over the configured mode; 'auto' is decided per peer type. */
function effectiveMode(path: Path, to: PeerRef, opts: ExportRewriteOptions): 'self' | 'keep' {
  const requested = typeof opts.policyNextHop === 'string' ? opts.policyNextHop : opts.nextHopMode;
  if (requested !== 'auto') return requested;
  // RFC 4271 §5.1.3, 2)/3) eBGP: "By default ... the BGP speaker SHOULD use the IP address of the
  // interface that the speaker uses to establish the BGP connection to peer X".
  if (to.type === 'ebgp') return 'self';
  // RFC 4271 §5.1.3, 1) iBGP: "if the route is not locally originated, the BGP speaker SHOULD NOT
  // modify the NEXT_HOP attribute unless it has been explicitly configured to announce its own
  // IP address as the NEXT_HOP. When announcing a locally-originated route to an internal peer,
  // the BGP speaker SHOULD use the interface address of the router through which the announced
  // network is reachable for the speaker". An originated route configured with its own next hop
  // (`originate[].nextHop`) keeps that one: the operator named the address to use.
  return path.source === 'bgp' || (path.source === 'originated' && path.attrs.nextHop !== undefined) ? 'keep' : 'self';
}

/**
 * The path's own next hop, if it can be sent in this family. The link-local half is dropped:
 * RFC 2545 §3 includes it only when the speaker shares a subnet with both the next hop and the
 * receiving peer, which holds for the session it came in on, not for another one. Without a
 * usable next hop (an originated route has none) 'keep' falls back to self.
 */
function keptNextHop(attrs: Readonly<RouteAttributes>, opts: ExportRewriteOptions): NextHopChoice | undefined {
  const hop = attrs.nextHop;
  return hop !== undefined && fitsFamily(hop, opts) ? { nextHop: hop } : undefined;
}

function selfNextHop(opts: ExportRewriteOptions): NextHopChoice | undefined {
  const { ipv4, ipv6, ipv6LinkLocal } = opts.self;
  if (opts.family === 'ipv4-unicast') {
    if (ipv4 !== undefined) return { nextHop: ipv4 };
    // RFC 8950: with the extended next hop capability an IPv4 route may carry an IPv6 next hop.
    return opts.extendedNextHopIpv4 && ipv6 !== undefined ? { nextHop: ipv6 } : undefined;
  }
  // RFC 2545 §3: the global address, followed by the link-local one when the peer shares our link.
  if (ipv6 !== undefined) return ipv6LinkLocal !== undefined ? { nextHop: ipv6, linkLocal: ipv6LinkLocal } : { nextHop: ipv6 };
  // A link-local-only session (BGP unnumbered): the link-local address is the only next hop we have.
  return ipv6LinkLocal !== undefined ? { nextHop: ipv6LinkLocal } : undefined;
}

function fitsFamily(hop: Uint8Array, opts: ExportRewriteOptions): boolean {
  if (opts.family === 'ipv6-unicast') return hop.length === IPV6_LENGTH;
  return hop.length === IPV4_LENGTH || (hop.length === IPV6_LENGTH && opts.extendedNextHopIpv4 === true);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

// ===== MED, LOCAL_PREF, ORIGINATOR_ID, CLUSTER_LIST =====

/**
 * RFC 4271 §5.1.4: "If received over EBGP, the MULTI_EXIT_DISC attribute MAY be propagated over
 * IBGP to other BGP speakers within the same AS. The MULTI_EXIT_DISC attribute received from a
 * neighboring AS MUST NOT be propagated to other neighboring ASes." So to eBGP a learned path
 * keeps its MED only when our export policy changed it (BIRD keeps only a MED "set in export
 * filter"); an originated route's MED was set by us and stays. A policy that sets the MED to the
 * value it already had cannot be told apart and loses it.
 */
function applyMed(out: RouteAttributes, path: Path, toExternal: boolean): void {
  if (!toExternal || out.med === undefined || path.source !== 'bgp') return;
  if (out.med === path.attrs.med) delete out.med;
}

/**
 * RFC 4271 §5.1.5: "LOCAL_PREF is a well-known attribute that SHALL be included in all UPDATE
 * messages that a given BGP speaker sends to other internal peers." "A BGP speaker MUST NOT
 * include this attribute in UPDATE messages it sends to external peers".
 */
function applyLocalPref(out: RouteAttributes, toExternal: boolean): void {
  if (toExternal) delete out.localPref;
  else out.localPref ??= DEFAULT_LOCAL_PREF;
}

/**
 * RFC 4456 §8, when a path learned over iBGP goes to an iBGP peer (reflection): ORIGINATOR_ID
 * "will carry the BGP Identifier of the originator of the route in the local AS. A BGP speaker
 * SHOULD NOT create an ORIGINATOR_ID attribute if one already exists." "When an RR reflects a
 * route, it MUST prepend the local CLUSTER_ID to the CLUSTER_LIST. If the CLUSTER_LIST is empty,
 * it MUST create a new one." Both are optional non-transitive and describe the inside of our AS:
 * never sent to eBGP, and dropped from a route that did not come from inside (eBGP-learned or
 * originated) since any value it carries could not be ours.
 * RFC 4456 §10: "when a RR reflects a route, it SHOULD NOT modify the following path attributes:
 * NEXT_HOP, AS_PATH, LOCAL_PREF, and MED" — nothing else here touches them for iBGP→iBGP.
 */
function applyReflectionAttributes(out: RouteAttributes, path: Path, toExternal: boolean, cfg: ReflectorConfig): void {
  const source = path.peer;
  const reflecting = !toExternal && path.source === 'bgp' && source !== undefined && source.type === 'ibgp';
  if (!reflecting) {
    delete out.originatorId;
    out.clusterList = [];
    return;
  }
  out.originatorId ??= source.routerId;
  out.clusterList = [cfg.clusterId, ...out.clusterList];
}
