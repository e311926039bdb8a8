// SPDX-License-Identifier: Apache-2.0
// The RIB's shared shapes: where a path came from, the interned attributes it carries, the
// destination (one prefix) with its candidate paths, and what the decision process concluded.
// Pure data; the modules that act on it are decision.ts (best path), attrs.ts (interning),
// loc-rib.ts, adj-rib-in.ts, class-out.ts, and policy/ and reflector/.
import type { Family, Nlri } from '../bgp/messages/types.ts';
import type { RouteAttributes } from '../bgp/messages/route-view.ts';

/** Where a route entered Tern (policy can match on it). */
export type RouteSource = 'bgp' | 'originated' | 'kernel' | 'connected';

/** What the RIB knows about a peer, for decisions, reflection and policy. */
export interface PeerRef {
  /** Small integer, unique per configured peer for the daemon's lifetime. */
  readonly id: number;
  readonly name: string;
  /** The peer's AS. */
  readonly asn: number;
  readonly type: 'ibgp' | 'ebgp';
  /** Peer address as bytes (4 or 16), for the final tie-break (RFC 4271 §9.1.2.2 (g)). */
  readonly address: Uint8Array;
  readonly addressText: string;
  /** RFC 4456: this iBGP peer is a route-reflector client of ours. */
  readonly rrClient: boolean;
  /** The peer's BGP Identifier from its OPEN (0 until one arrives). */
  routerId: number;
}

/** Interned route attributes: equal attribute sets share one frozen object, with its key. */
export interface Attrs extends Readonly<RouteAttributes> {
  /** Canonical key: equal keys ⇔ equal attributes. */
  readonly key: string;
}

/** One path to a destination, after import policy. */
export interface Path {
  /** Destination key (prefixKey of the NLRI without path id). */
  readonly destKey: string;
  /** The NLRI as received; pathId present when it came over ADD-PATH. */
  readonly nlri: Nlri;
  readonly source: RouteSource;
  /** The peer it came from (source 'bgp'). */
  readonly peer?: PeerRef;
  /** Interface of a kernel or connected route. */
  readonly interface?: string;
  /** An originated route also to be installed as a kernel blackhole (Calico's local blocks). */
  readonly blackhole?: boolean;
  readonly attrs: Attrs;
  /** RFC 4724: kept from a restarting peer until refreshed or timed out. */
  stale: boolean;
  /** ms since epoch. */
  readonly receivedAt: number;
  /** Why this path can never be best (AS loop, unreachable next hop); undefined if eligible. */
  readonly ineligible?: string;
}

/** The decision process's verdict on one destination. */
export interface Decision {
  best?: Path;
  /** The paths equal to the best up to and including the IGP-cost step: an ECMP set
   *  (BIRD's `merge paths`). Includes best; empty when there is no best. */
  multipath: readonly Path[];
  /** For every path that is not best: the step at which it lost, e.g. "higher MED (RFC 4271 §9.1.2.2 (c))". */
  reasons: Map<Path, string>;
}

/** What the decision process needs to know about us. */
export interface DecisionContext {
  localAsn: number;
  routerId: number;
}

export interface Destination {
  readonly key: string;
  readonly family: Family;
  /** The prefix, without path id. */
  readonly nlri: Nlri;
  /** Candidate paths, in no particular order (the decision never depends on it). Never changed
   *  in place, and may be made at each read (a Loc-RIB destination of one path keeps no array):
   *  count them with `pathCount`. */
  readonly paths: readonly Path[];
  readonly pathCount: number;
  /** The decision process's verdict now (the Loc-RIB's destination object is its own decision:
   *  read it, do not keep it to compare with a later one). */
  readonly decision: Decision;
}
