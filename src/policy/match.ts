// SPDX-License-Identifier: Apache-2.0
// Compiles a term's `match` (PolicyMatch) into one closure over the evaluation state. Every
// constant is prepared here (prefix sets, community numbers, glob regexps); per route the
// closures only compare numbers and bytes. Conditions read the *current* attributes, so a
// modification by an earlier term is visible to later matches (as in BIRD filters).
import { AsPathSegmentType } from '../bgp/messages/iana.ts';
import type { AsPathSegment, LargeCommunity } from '../bgp/messages/types.ts';
import type { RouteAttributes } from '../bgp/messages/route-view.ts';
import { asPathLength } from '../rib/as-path-length.ts';
import { PrefixSet, familyWidth } from './prefix-set.ts';
import { communityValue, largeCommunityValue, type LengthRange, type PolicyMatch } from './spec.ts';
import type { PolicyContext, PolicyInput } from './types.ts';

/** What match and action closures see while one route is evaluated. */
export interface EvalState {
  readonly input: PolicyInput;
  readonly ctx: PolicyContext;
  /** The current attributes: input.attrs until an action first writes, then a private copy. */
  attrs: Readonly<RouteAttributes>;
  copied: boolean;
  prepend: number;
  nextHop?: 'self' | 'keep' | Uint8Array;
  metric?: number;
  tunnel?: 'always' | 'crossSubnet' | 'never';
}

export type Condition = (s: EvalState) => boolean;

const ALWAYS: Condition = () => true;

/** All conditions of `m` must hold; an absent or empty match always holds. */
export function compileMatch(m: PolicyMatch | undefined): Condition {
  if (!m) return ALWAYS;
  const conditions: Condition[] = [];
  if (m.family) conditions.push(familyIs(m.family));
  if (m.prefix) conditions.push(prefixExact(PrefixSet.of(m.prefix)));
  if (m.prefixWithin) conditions.push(prefixWithin(PrefixSet.of(m.prefixWithin)));
  if (m.prefixLength) conditions.push(prefixLengthIn(m.prefixLength));
  if (m.source) conditions.push(sourceIs(m.source));
  if (m.peerType) conditions.push(peerTypeIs(m.peerType));
  if (m.interface) conditions.push(interfaceMatches(m.interface));
  if (m.nextHop) conditions.push(nextHopWithin(PrefixSet.of(m.nextHop)));
  if (m.community) conditions.push(hasCommunity(m.community));
  if (m.largeCommunity) conditions.push(hasLargeCommunity(m.largeCommunity));
  if (m.asPathContains) conditions.push(asPathContains(m.asPathContains));
  if (m.neighborAs) conditions.push(neighborAsIs(m.neighborAs));
  if (m.originAs) conditions.push(originAsIs(m.originAs));
  if (m.asPathLength) conditions.push(asPathLengthIn(m.asPathLength));
  if (m.localPref) conditions.push(localPrefIn(m.localPref));
  if (m.asPathPrefix) conditions.push(asPathStartsWith(m.asPathPrefix));
  if (m.not) {
    const inner = compileMatch(m.not);
    conditions.push((s) => !inner(s));
  }
  if (conditions.length === 0) return ALWAYS;
  if (conditions.length === 1) return conditions[0]!;
  return (s) => {
    for (const c of conditions) if (!c(s)) return false;
    return true;
  };
}

function familyIs(families: readonly string[]): Condition {
  return (s) => families.includes(s.input.family);
}

function prefixExact(set: PrefixSet): Condition {
  return (s) => set.hasExact(s.input.nlri.address, s.input.nlri.length, familyWidth(s.input.family));
}

/** BIRD's `net ~ P`: "the route's prefix lies inside the pool prefix, equal included". */
function prefixWithin(set: PrefixSet): Condition {
  return (s) => set.covers(s.input.nlri.address, s.input.nlri.length, familyWidth(s.input.family));
}

function inRanges(ranges: readonly LengthRange[], value: number): boolean {
  for (const r of ranges) if (value >= r.min && value <= r.max) return true;
  return false;
}

function prefixLengthIn(ranges: readonly LengthRange[]): Condition {
  return (s) => inRanges(ranges, s.input.nlri.length);
}

function sourceIs(sources: readonly string[]): Condition {
  return (s) => sources.includes(s.input.source);
}

function peerTypeIs(types: readonly string[]): Condition {
  return (s) => types.includes(s.ctx.peer.type);
}

/** Shell-style globs, as BIRD's `ifname ~ "cali*"`: `*` any run, `?` one character. */
export function globToRegExp(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`);
}

function interfaceMatches(globs: readonly string[]): Condition {
  const patterns = globs.map(globToRegExp);
  // Only kernel and connected routes have an interface; BGP routes never match.
  return (s) => {
    const name = s.input.interface;
    if (name === undefined) return false;
    for (const p of patterns) if (p.test(name)) return true;
    return false;
  };
}

function nextHopWithin(set: PrefixSet): Condition {
  return (s) => {
    const nh = s.attrs.nextHop;
    return nh !== undefined && set.covers(nh, nh.length * 8, nh.length);
  };
}

function hasCommunity(texts: readonly string[]): Condition {
  const wanted = new Set(texts.map((t) => communityValue(t)!));
  return (s) => {
    for (const c of s.attrs.communities) if (wanted.has(c)) return true;
    return false;
  };
}

export function sameLarge(a: LargeCommunity, b: LargeCommunity): boolean {
  return a[0] === b[0] && a[1] === b[1] && a[2] === b[2];
}

function hasLargeCommunity(texts: readonly string[]): Condition {
  const wanted = texts.map((t) => largeCommunityValue(t)!);
  return (s) => {
    for (const c of s.attrs.largeCommunities) for (const w of wanted) if (sameLarge(c, w)) return true;
    return false;
  };
}

function asPathContains(asns: readonly number[]): Condition {
  const wanted = new Set(asns);
  return (s) => {
    for (const seg of s.attrs.asPath) for (const asn of seg.asns) if (wanted.has(asn)) return true;
    return false;
  };
}

const isConfed = (seg: AsPathSegment) => seg.type === AsPathSegmentType.AsConfedSequence || seg.type === AsPathSegmentType.AsConfedSet;

/** RFC 4271 §9.1.2.2 (c): the first AS of the leading AS_SEQUENCE (confederation segments skipped). */
export function firstAs(path: readonly AsPathSegment[]): number | undefined {
  for (const seg of path) {
    if (isConfed(seg)) continue;
    return seg.type === AsPathSegmentType.AsSequence ? seg.asns[0] : undefined;
  }
  return undefined;
}

/** The originating AS: last AS of the path if it ends in an AS_SEQUENCE (an AS_SET names no single origin). */
export function lastAs(path: readonly AsPathSegment[]): number | undefined {
  for (let i = path.length - 1; i >= 0; i--) {
    const seg = path[i]!;
    if (isConfed(seg)) continue;
    return seg.type === AsPathSegmentType.AsSequence ? seg.asns[seg.asns.length - 1] : undefined;
  }
  return undefined;
}

function neighborAsIs(asns: readonly number[]): Condition {
  return (s) => {
    const first = firstAs(s.attrs.asPath);
    return first !== undefined && asns.includes(first);
  };
}

function originAsIs(asns: readonly number[]): Condition {
  return (s) => {
    const last = lastAs(s.attrs.asPath);
    return last !== undefined && asns.includes(last);
  };
}

function localPrefIn(ranges: readonly LengthRange[]): Condition {
  return (s) => s.attrs.localPref !== undefined && inRanges(ranges, s.attrs.localPref);
}

function asPathLengthIn(ranges: readonly LengthRange[]): Condition {
  return (s) => inRanges(ranges, asPathLength(s.attrs.asPath));
}

/** The path's leading run of sequenced ASNs (confederation segments skipped, stops at an AS_SET). */
function leadingSequence(path: readonly AsPathSegment[], want: number): number[] {
  const out: number[] = [];
  for (const seg of path) {
    if (isConfed(seg)) continue;
    if (seg.type !== AsPathSegmentType.AsSequence) break;
    for (const asn of seg.asns) {
      out.push(asn);
      if (out.length >= want) return out;
    }
  }
  return out;
}

/** Calico's asPathPrefix, BIRD's `bgp_path ~ [= 65000 65001 * =]`. */
function asPathStartsWith(prefixes: readonly number[][]): Condition {
  const longest = Math.max(...prefixes.map((p) => p.length));
  return (s) => {
    const lead = leadingSequence(s.attrs.asPath, longest);
    return prefixes.some((p) => p.length <= lead.length && p.every((asn, i) => lead[i] === asn));
  };
}
