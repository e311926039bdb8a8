// SPDX-License-Identifier: Apache-2.0
// The policy language as the config module hands it over: plain, validated, canonical data
// (prefixes in canonical CIDR text, every any-of condition as a list). compile.ts turns it into
// closures; nothing here evaluates anything. The YAML form is documented in docs/policy.md.
import type { Family } from '../bgp/messages/types.ts';
import type { RouteSource } from '../rib/types.ts';

/** A policy: terms tried in order; falling off the end rejects. */
export type PolicySpec = PolicyTerm[];

/** Inclusive range, e.g. prefixLength "26-32" → {min: 26, max: 32}. */
export interface LengthRange {
  min: number;
  max: number;
}

/**
 * One term. When `match` holds (all conditions; a missing match always holds), the
 * modifications apply in the order listed here, then `action` (if any) ends the policy.
 * A term without `action` lets evaluation continue with the next term.
 */
export interface PolicyTerm {
  /** Shown in decidedBy ("calico-export term 2 (local-block): accept"). */
  name?: string;
  match?: PolicyMatch;
  removeCommunities?: string[];
  addCommunities?: string[];
  removeLargeCommunities?: string[];
  addLargeCommunities?: string[];
  localPref?: number;
  med?: number;
  /** Extra copies of the local AS to prepend on export, 1..10. */
  prepend?: number;
  /** ASNs the AS path must start with afterwards, in this order (BIRD's bgp_path.prepend). */
  prependAsPath?: number[];
  /** Kernel export: the metric to install the route with. */
  metric?: number;
  /** Kernel export: tunnel choice for this route, overriding kernel.tunnel.mode. */
  tunnel?: 'always' | 'crossSubnet' | 'never';
  /** 'self', 'keep', or a canonical address. */
  nextHop?: string;
  action?: 'accept' | 'reject';
}

/** Every listed condition must hold; a list value holds when any of its items does. */
export interface PolicyMatch {
  /** Exactly this prefix (canonical CIDR). */
  prefix?: string[];
  /** This prefix or a more specific one inside it (BIRD's `net ~ P`). */
  prefixWithin?: string[];
  prefixLength?: LengthRange[];
  family?: Family[];
  /** "65000:100" or a well-known name (no-export, no-advertise, no-export-subconfed). */
  community?: string[];
  /** "1:2:3". */
  largeCommunity?: string[];
  asPathContains?: number[];
  neighborAs?: number[];
  originAs?: number[];
  asPathLength?: LengthRange[];
  /** Each item is a sequence of ASNs the AS path must start with. */
  asPathPrefix?: number[][];
  source?: RouteSource[];
  /** Interface name globs: `*` any run of characters, `?` one character. */
  interface?: string[];
  /** Next hop inside any of these prefixes (an address is a /32 or /128). */
  nextHop?: string[];
  peerType?: ('ibgp' | 'ebgp')[];
  /** LOCAL_PREF in any of these ranges; never holds for a route without one (Calico's BGPFilter `priority`). */
  localPref?: LengthRange[];
  /** Holds when the nested match does not (all of its conditions holding makes `not` fail). */
  not?: PolicyMatch;
}

/** What a peer's `import` / `export` key says. */
export type PolicyRef =
  | { kind: 'all' }
  | { kind: 'none' }
  | { kind: 'named'; name: string }
  | { kind: 'inline'; spec: PolicySpec };

/** RFC 1997 well-known communities, by the names the config accepts. */
export const WELL_KNOWN_COMMUNITIES: Readonly<Record<string, number>> = {
  'no-export': 0xffffff01, // RFC 1997 NO_EXPORT
  'no-advertise': 0xffffff02, // RFC 1997 NO_ADVERTISE
  'no-export-subconfed': 0xffffff03, // RFC 1997 NO_EXPORT_SUBCONFED
};

/** "65000:100" or a well-known name → the 32-bit community value; undefined if malformed. */
export function communityValue(text: string): number | undefined {
  const named = WELL_KNOWN_COMMUNITIES[text.toLowerCase()];
  if (named !== undefined) return named;
  const m = /^(\d{1,5}):(\d{1,5})$/.exec(text);
  if (!m) return undefined;
  const high = Number(m[1]);
  const low = Number(m[2]);
  if (high > 0xffff || low > 0xffff) return undefined;
  return ((high << 16) | low) >>> 0;
}

/** "1:2:3" → [1, 2, 3] (RFC 8092: three 32-bit parts); undefined if malformed. */
export function largeCommunityValue(text: string): [number, number, number] | undefined {
  const m = /^(\d{1,10}):(\d{1,10}):(\d{1,10})$/.exec(text);
  if (!m) return undefined;
  const parts = [Number(m[1]), Number(m[2]), Number(m[3])] as [number, number, number];
  return parts.every((p) => p <= 0xffffffff) ? parts : undefined;
}
