// SPDX-License-Identifier: Apache-2.0
// Compiles a term's modifications into closures over the evaluation state. The first write copies
// the attributes (copy on write), so the input is never touched and terms that only match cost
// no allocation. Order within a term is fixed: remove, then add, communities; large communities
// likewise; LOCAL_PREF; MED; prepend; next hop. Prepending itself is the exporter's job: the
// verdict only counts it.
import type { RouteAttributes } from '../bgp/messages/route-view.ts';
import { cloneAttributes } from '../rib/attrs.ts';
import { ipToBytes } from '../util/ip.ts';
import { sameLarge, type EvalState } from './match.ts';
import { communityValue, largeCommunityValue, type PolicyTerm } from './spec.ts';

export type Modification = (s: EvalState) => void;

/** The attributes, made private to this evaluation on first use. */
export function writable(s: EvalState): RouteAttributes {
  if (!s.copied) {
    s.attrs = cloneAttributes(s.attrs as RouteAttributes);
    s.copied = true;
  }
  return s.attrs as RouteAttributes;
}

export function compileModifications(t: PolicyTerm): Modification[] {
  const out: Modification[] = [];
  if (t.removeCommunities) out.push(removeCommunities(t.removeCommunities.map((c) => communityValue(c)!)));
  if (t.addCommunities) out.push(addCommunities(t.addCommunities.map((c) => communityValue(c)!)));
  if (t.removeLargeCommunities) out.push(removeLarge(t.removeLargeCommunities.map((c) => largeCommunityValue(c)!)));
  if (t.addLargeCommunities) out.push(addLarge(t.addLargeCommunities.map((c) => largeCommunityValue(c)!)));
  if (t.localPref !== undefined) {
    const v = t.localPref;
    out.push((s) => void (writable(s).localPref = v));
  }
  if (t.med !== undefined) {
    const v = t.med;
    out.push((s) => void (writable(s).med = v));
  }
  if (t.prepend !== undefined) {
    const n = t.prepend;
    out.push((s) => void (s.prepend += n));
  }
  if (t.prependAsPath !== undefined) out.push(prependAsPath(t.prependAsPath));
  if (t.nextHop !== undefined) out.push(setNextHop(t.nextHop));
  if (t.metric !== undefined) {
    const v = t.metric;
    out.push((s) => void (s.metric = v));
  }
  if (t.tunnel !== undefined) {
    const v = t.tunnel;
    out.push((s) => void (s.tunnel = v));
  }
  return out;
}

function removeCommunities(values: number[]): Modification {
  const gone = new Set(values);
  return (s) => {
    if (!s.attrs.communities.some((c) => gone.has(c))) return;
    const a = writable(s);
    a.communities = a.communities.filter((c) => !gone.has(c));
  };
}

/** Adds each value once (as BIRD's clist `add`: a community already present is not repeated). */
function addCommunities(values: number[]): Modification {
  return (s) => {
    const missing = values.filter((v, i) => !s.attrs.communities.includes(v) && values.indexOf(v) === i);
    if (missing.length > 0) writable(s).communities.push(...missing);
  };
}

function removeLarge(values: [number, number, number][]): Modification {
  return (s) => {
    const keep = (c: [number, number, number]) => !values.some((v) => sameLarge(c, v));
    if (s.attrs.largeCommunities.every(keep)) return;
    const a = writable(s);
    a.largeCommunities = a.largeCommunities.filter(keep);
  };
}

function addLarge(values: [number, number, number][]): Modification {
  return (s) => {
    for (const v of values) {
      if (s.attrs.largeCommunities.some((c) => sameLarge(c, v))) continue;
      writable(s).largeCommunities.push([v[0], v[1], v[2]]);
    }
  };
}

/** `self` / `keep` are requests for the exporter; an address also becomes the route's NEXT_HOP. */
function setNextHop(text: string): Modification {
  if (text === 'self' || text === 'keep') return (s) => void (s.nextHop = text);
  const bytes = ipToBytes(text);
  if (!bytes) throw new Error(`not a next hop: ${text}`);
  return (s) => {
    s.nextHop = bytes.slice();
    writable(s).nextHop = bytes.slice();
  };
}

const MAX_SEGMENT_ASNS = 255; // RFC 4271 §4.3: the segment length is one octet
const AS_SEQUENCE = 2;

/**
 * The path afterwards starts with `asns` in the order given, as BIRD's `bgp_path.prepend` called
 * for each from the last to the first: into the leading AS_SEQUENCE while it has room (RFC 4271
 * §5.1.2: a new segment past 255), or a new AS_SEQUENCE in front of an AS_SET or an empty path.
 */
function prependAsPath(asns: readonly number[]): Modification {
  return (s) => {
    const a = writable(s);
    const path = a.asPath.map((seg) => ({ type: seg.type, asns: [...seg.asns] }));
    for (let i = asns.length - 1; i >= 0; i--) {
      const first = path[0];
      if (first && first.type === AS_SEQUENCE && first.asns.length < MAX_SEGMENT_ASNS) first.asns.unshift(asns[i]!);
      else path.unshift({ type: AS_SEQUENCE, asns: [asns[i]!] });
    }
    a.asPath = path;
  };
}
