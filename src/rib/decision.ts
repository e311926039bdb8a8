// SPDX-License-Identifier: Apache-2.0
// The BGP decision process, Phase 2 (RFC 4271 §9.1.2): for one destination, the best path, the
// ECMP (multipath) set, and for every other candidate the step and rule at which it lost.
// docs/decision-process.md has the long form: "What the RFC says" and "What Tern does".
//
// It does not compute the degree of preference (import policy does, and stores it in
// LOCAL_PREF: RFC 4271 §9.1.1), resolve next hops or detect AS loops (the RIB flags such paths
// `ineligible`), install routes or announce them (Loc-RIB, kernel sync and Adj-RIB-Out do).
//
// The chain, as elimination over the whole candidate set. RFC 4271 §9.1.2.2 describes every
// step as "Remove from consideration ..." applied to all routes still under consideration, and
// "BGP implementations MAY use any algorithm that produces the same results". Doing exactly that
// (rather than folding a pairwise better() over the list) makes the result independent of the
// order of the candidates, which pairwise MED comparison is not (the A/B/C MED cycle).
//
//   Eligibility  RFC 4271 §9.1.2: a path whose NEXT_HOP is unresolvable "MUST be excluded from
//                the Phase 2 decision function"; an AS loop likewise (§9.1.2, §9.3). The RIB
//                sets `ineligible`; such a path never wins. Stale paths (RFC 4724) stay eligible.
//   0.  Tern     locally sourced routes (originated, kernel, connected) over BGP-learned ones
//                (a deviation, like BIRD's protocol preference and FRR's local weight).
//   1.  RFC 4271 §9.1.1 / §9.1.2 (a): highest degree of preference = LOCAL_PREF (missing: 100).
//   2.  RFC 4271 §9.1.2.2 (a): fewest ASes in AS_PATH (AS_SET = 1; RFC 5065 §5.3: confed = 0).
//   3.  RFC 4271 §9.1.2.2 (b): lowest ORIGIN (IGP < EGP < INCOMPLETE; missing: INCOMPLETE).
//   4.  RFC 4271 §9.1.2.2 (c): lowest MED among paths from the same neighbor AS (missing: 0).
//   5.  RFC 4271 §9.1.2.2 (d): if any path is eBGP-learned, drop the iBGP-learned ones.
//   6.  RFC 4271 §9.1.2.2 (e): lowest interior cost to NEXT_HOP. Tern has no IGP metric, so all
//                costs are equal ("consider all routes to have equal costs").
//       → the paths still standing are the multipath (ECMP) set.
//   7.  RFC 4271 §9.1.2.2 (f) + RFC 4456 §9: lowest BGP Identifier, ORIGINATOR_ID standing in.
//   8.  RFC 4456 §9: shortest CLUSTER_LIST.
//   9.  RFC 4271 §9.1.2.2 (g): lowest peer address.
//   10. Tern     lowest ADD-PATH path id (RFC 7911: several paths from one peer), then a stable
//                key (source, interface, peer id, attributes) — a total order, prefix-independent.
import { Origin } from '../bgp/messages/iana.ts';
import { u32ToDotted } from '../util/ip.ts';
import { asPathLength, neighborAs } from './as-path-length.ts';
import type { Decision, DecisionContext, Path } from './types.ts';

export { asPathLength, neighborAs } from './as-path-length.ts';

/** LOCAL_PREF of a path that has none: 100, the default of BIRD, FRR, GoBGP and Cisco. */
export const DEFAULT_LOCAL_PREF = 100;

// ===== Steps =====

/** One tie-break step over a total preorder: paths that compare > 0 to the best are removed. */
interface Step {
  /** < 0 when a is preferred, > 0 when b is, 0 when this step cannot tell them apart. */
  compare(a: Path, b: Path, ctx: DecisionContext): number;
  /** Why `loser` was removed in favour of `best`. Must read the same for any of the tied bests. */
  reason(loser: Path, best: Path, ctx: DecisionContext): string;
}

const localPref = (p: Path): number => p.attrs.localPref ?? DEFAULT_LOCAL_PREF;
const origin = (p: Path): number => p.attrs.origin ?? Origin.Incomplete;
const isBgp = (p: Path): number => (p.source === 'bgp' ? 1 : 0);
const isIbgp = (p: Path): number => (p.peer?.type === 'ibgp' ? 1 : 0);
/** RFC 4456 §9: "the ORIGINATOR_ID SHOULD be treated as the BGP Identifier"; ours for local routes. */
const bgpIdentifier = (p: Path, ctx: DecisionContext): number => (p.attrs.originatorId ?? p.peer?.routerId ?? ctx.routerId) >>> 0;
const pathId = (p: Path): number => p.nlri.pathId ?? 0;
const ORIGIN_NAMES = ['IGP', 'EGP', 'INCOMPLETE'];
const originName = (o: number): string => ORIGIN_NAMES[o] ?? String(o);

const LOCAL_SOURCE_FIRST: Step = {
  compare: (a, b) => isBgp(a) - isBgp(b),
  reason: () => 'BGP-learned, and a locally sourced route (originated, kernel or connected) exists — Tern step 0 (local routes first)',
};

const HIGHEST_LOCAL_PREF: Step = {
  compare: (a, b) => localPref(b) - localPref(a),
  reason: (l, b) => `lower LOCAL_PREF (${localPref(l)} < ${localPref(b)}) — RFC 4271 §9.1.1 (degree of preference)`,
};

const SHORTEST_AS_PATH: Step = {
  compare: (a, b) => asPathLength(a.attrs.asPath) - asPathLength(b.attrs.asPath),
  reason: (l, b) => `longer AS_PATH (${asPathLength(l.attrs.asPath)} > ${asPathLength(b.attrs.asPath)}) — RFC 4271 §9.1.2.2 (a)`,
};

const LOWEST_ORIGIN: Step = {
  compare: (a, b) => origin(a) - origin(b),
  reason: (l, b) => `higher ORIGIN (${originName(origin(l))} > ${originName(origin(b))}) — RFC 4271 §9.1.2.2 (b)`,
};

const EBGP_OVER_IBGP: Step = {
  compare: (a, b) => isIbgp(a) - isIbgp(b),
  reason: () => 'iBGP-learned, and an eBGP-learned path exists — RFC 4271 §9.1.2.2 (d)',
};

const LOWEST_BGP_IDENTIFIER: Step = {
  compare: (a, b, ctx) => bgpIdentifier(a, ctx) - bgpIdentifier(b, ctx),
  reason: (l, b, ctx) =>
    `higher BGP Identifier (${u32ToDotted(bgpIdentifier(l, ctx))} > ${u32ToDotted(bgpIdentifier(b, ctx))}) — RFC 4271 §9.1.2.2 (f), ORIGINATOR_ID in its place per RFC 4456 §9`,
};

const SHORTEST_CLUSTER_LIST: Step = {
  compare: (a, b) => a.attrs.clusterList.length - b.attrs.clusterList.length,
  reason: (l, b) => `longer CLUSTER_LIST (${l.attrs.clusterList.length} > ${b.attrs.clusterList.length}) — RFC 4456 §9`,
};

const LOWEST_PEER_ADDRESS: Step = {
  compare: (a, b) => comparePeerAddress(a, b),
  reason: (l, b) => `higher peer address (${l.peer?.addressText ?? 'local'} > ${b.peer?.addressText ?? 'local'}) — RFC 4271 §9.1.2.2 (g)`,
};

const LOWEST_PATH_ID: Step = {
  compare: (a, b) => pathId(a) - pathId(b),
  reason: (l, b) => `higher ADD-PATH path id (${pathId(l)} > ${pathId(b)}) from the same peer — Tern step 10 (RFC 7911 paths)`,
};

const STABLE_KEY: Step = {
  compare: (a, b) => compareStableKey(a, b),
  reason: (l, b) => `after ${b.source}${b.interface ? ` on ${b.interface}` : ''} in Tern's stable order (source, interface, peer, attributes) — Tern step 10`,
};

/** No peer (a local route) sorts first; IPv4 (4 bytes) before IPv6 (16); then bytewise. */
function comparePeerAddress(a: Path, b: Path): number {
  const x = a.peer?.address;
  const y = b.peer?.address;
  if (!x || !y) return (x ? 1 : 0) - (y ? 1 : 0);
  if (x.length !== y.length) return x.length - y.length;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
  return 0;
}

/** Source rank for the final key, in BIRD's protocol-preference order: direct, static, kernel, BGP. */
const SOURCE_RANK: Record<Path['source'], number> = { connected: 0, originated: 1, kernel: 2, bgp: 3 };

function compareStableKey(a: Path, b: Path): number {
  const bySource = SOURCE_RANK[a.source] - SOURCE_RANK[b.source];
  if (bySource !== 0) return bySource;
  const byInterface = compareText(a.interface ?? '', b.interface ?? '');
  if (byInterface !== 0) return byInterface;
  const byPeer = (a.peer?.id ?? -1) - (b.peer?.id ?? -1);
  if (byPeer !== 0) return byPeer;
  return compareText(a.attrs.key, b.attrs.key);
}

/** Code-unit order: locale-independent, so every Tern sorts alike. */
function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

// ===== Elimination =====

/**
 * Remove from `cand`, in place, every path this step ranks below the best, recording why.
 * Keeps all paths tied with the best, so the survivors are a set: the order never matters.
 */
function eliminate(cand: Path[], reasons: Map<Path, string>, ctx: DecisionContext, step: Step): void {
  if (cand.length < 2) return;
  let best = cand[0]!;
  for (let i = 1; i < cand.length; i++) if (step.compare(cand[i]!, best, ctx) < 0) best = cand[i]!;
  let kept = 0;
  for (let i = 0; i < cand.length; i++) {
    const p = cand[i]!;
    if (step.compare(p, best, ctx) > 0) reasons.set(p, step.reason(p, best, ctx));
    else cand[kept++] = p;
  }
  cand.length = kept;
}

// Scratch for the MED step, reused across calls (decide() is synchronous and not re-entered).
const scratchNeighborAs: number[] = [];
const scratchMed: number[] = [];

/**
 * RFC 4271 §9.1.2.2 (c), as its pseudo-code has it:
 *   for m = all routes still under consideration
 *     for n = all routes still under consideration
 *       if (neighborAS(m) == neighborAS(n)) and (MED(n) < MED(m)) remove route m
 * "If route n has no MULTI_EXIT_DISC attribute, the function returns the lowest possible
 * MULTI_EXIT_DISC value (i.e., 0)." MED is not a total preorder across neighbor ASes, so this
 * step cannot be a Step: each path is compared with the lowest MED of its own AS group.
 */
function eliminateByMed(cand: Path[], reasons: Map<Path, string>, ctx: DecisionContext): void {
  const n = cand.length;
  if (n < 2) return;
  for (let i = 0; i < n; i++) {
    const p = cand[i]!;
    // §9.1.2.2 (c): for a route the iBGP peer originated (empty AS_PATH) or aggregated (AS_SET
    // first), the neighbor AS "is the local AS".
    scratchNeighborAs[i] = neighborAs(p) ?? ctx.localAsn;
    scratchMed[i] = p.attrs.med ?? 0;
  }
  let kept = 0;
  for (let i = 0; i < n; i++) {
    const asn = scratchNeighborAs[i]!;
    let lowest = scratchMed[i]!;
    for (let j = 0; j < n; j++) if (scratchNeighborAs[j] === asn && scratchMed[j]! < lowest) lowest = scratchMed[j]!;
    const p = cand[i]!;
    if (scratchMed[i]! > lowest) reasons.set(p, `higher MED (${scratchMed[i]} > ${lowest}) from the same neighbor AS ${asn} — RFC 4271 §9.1.2.2 (c)`);
    else cand[kept++] = p;
  }
  cand.length = kept;
}

// ===== The chain =====

/**
 * Runs the tie-break chain over eligible candidates. Leaves in `cand` the paths no step could
 * separate (normally one: the best) and returns the multipath set.
 */
function tieBreak(cand: Path[], reasons: Map<Path, string>, ctx: DecisionContext): readonly Path[] {
  // Tern step 0 (deviation) — routes we source ourselves beat what peers tell us about the same
  // prefix, as BIRD's protocol preference (direct 240, static 200 > BGP 100) and FRR's weight
  // 32768 for local routes do. Calico relies on it: a node's own block must win over a peer's.
  eliminate(cand, reasons, ctx, LOCAL_SOURCE_FIRST);

  // RFC 4271 §9.1.2 — the route with "the highest degree of preference"; §9.1.1: for a route
  // from an internal peer "the value of the LOCAL_PREF attribute is taken as the degree of
  // preference"; for an external one import policy computes it (and stores it in LOCAL_PREF).
  eliminate(cand, reasons, ctx, HIGHEST_LOCAL_PREF);

  // RFC 4271 §9.1.2.2 (a) — "Remove from consideration all routes that are not tied for having
  // the smallest number of AS numbers present in their AS_PATH attributes. Note that when
  // counting this number, an AS_SET counts as 1". RFC 5065 §5.3: confed segments count 0.
  eliminate(cand, reasons, ctx, SHORTEST_AS_PATH);

  // RFC 4271 §9.1.2.2 (b) — "Remove from consideration all routes that are not tied for having
  // the lowest Origin number in their Origin attribute."
  eliminate(cand, reasons, ctx, LOWEST_ORIGIN);

  // RFC 4271 §9.1.2.2 (c) — "Remove from consideration routes with less-preferred
  // MULTI_EXIT_DISC attributes. MULTI_EXIT_DISC is only comparable between routes learned from
  // the same neighboring AS". Tern never strips MED before iBGP re-advertisement, so the
  // comparison over all candidates (eBGP- and iBGP-learned) is the one the RFC requires.
  eliminateByMed(cand, reasons, ctx);

  // RFC 4271 §9.1.2.2 (d) — "If at least one of the candidate routes was received via EBGP,
  // remove from consideration all routes that were received via IBGP."
  eliminate(cand, reasons, ctx, EBGP_OVER_IBGP);

  // RFC 4271 §9.1.2.2 (e) — "Remove from consideration any routes with less-preferred interior
  // cost." Tern has no IGP: "If the NEXT_HOP hop for a route is reachable, but no cost can be
  // determined, then this step should be skipped (equivalently, consider all routes to have
  // equal costs)." Nothing to do.

  // The paths still standing are equally good for forwarding: the ECMP set (BIRD `merge paths`).
  const multipath = cand.slice();

  // RFC 4271 §9.1.2.2 (f) — "Remove from consideration all routes other than the route that was
  // advertised by the BGP speaker with the lowest BGP Identifier value." RFC 4456 §9: "If a
  // route carries the ORIGINATOR_ID attribute, then in Step f) the ORIGINATOR_ID SHOULD be
  // treated as the BGP Identifier of the BGP speaker that has advertised the route."
  eliminate(cand, reasons, ctx, LOWEST_BGP_IDENTIFIER);

  // RFC 4456 §9 — "the following rule SHOULD be inserted between Steps f) and g): a BGP Speaker
  // SHOULD prefer a route with the shorter CLUSTER_LIST length. The CLUSTER_LIST length is zero
  // if a route does not carry the CLUSTER_LIST attribute."
  eliminate(cand, reasons, ctx, SHORTEST_CLUSTER_LIST);

  // RFC 4271 §9.1.2.2 (g) — "Prefer the route received from the lowest peer address."
  eliminate(cand, reasons, ctx, LOWEST_PEER_ADDRESS);

  // Tern step 10 — beyond the RFC, so the order is total: with ADD-PATH (RFC 7911) one peer
  // sends several paths, which (f)-(g) cannot separate; lowest path id wins. Local routes
  // (which have no peer) are ordered by a key that does not depend on the prefix.
  eliminate(cand, reasons, ctx, LOWEST_PATH_ID);
  eliminate(cand, reasons, ctx, STABLE_KEY);
  return multipath;
}

// ===== Entry points =====

/** The reasons of a single-path decision: always empty, shared, never written to. */
const NO_REASONS = new Map<Path, string>() as ReadonlyMap<Path, string> as Map<Path, string>;

/**
 * The decision for one destination: best path, multipath (ECMP) set including the best, and a
 * reason for every path that is not best. The result never depends on the order of `paths`.
 */
export function decide(paths: readonly Path[], ctx: DecisionContext): Decision {
  // One eligible path (every prefix of a full table from one feeder, every Calico block): it is
  // best with nothing to explain; skip the per-destination Map (docs/performance.md).
  // The multipath set is `paths` itself: the Loc-RIB replaces the array, never changes it.
  if (paths.length === 1 && paths[0]!.ineligible === undefined) return { best: paths[0], multipath: paths, reasons: NO_REASONS };
  const reasons = new Map<Path, string>();
  const cand: Path[] = [];
  for (const p of paths) {
    if (p.ineligible !== undefined) reasons.set(p, p.ineligible);
    else cand.push(p);
  }
  if (cand.length === 0) return { multipath: [], reasons };
  const multipath = tieBreak(cand, reasons, ctx);
  // Paths that agree on every step are the same route twice (the RIB keeps one path per peer
  // and path id, so this does not happen): the first stays best, the others still get a reason.
  for (let i = 1; i < cand.length; i++) reasons.set(cand[i]!, 'identical to the best path at every step — Tern step 10');
  return { best: cand[0], multipath, reasons };
}

/**
 * The chain between two paths, for `tern explain`: the winner and why the other lost. Agrees
 * with decide([a, b]). When both are ineligible the chain still ranks them, and says so.
 */
export function comparePaths(a: Path, b: Path, ctx: DecisionContext): { winner: Path; reason: string } {
  if (a === b) return { winner: a, reason: 'same path' };
  if (a.ineligible !== undefined && b.ineligible === undefined) return { winner: b, reason: a.ineligible };
  if (b.ineligible !== undefined && a.ineligible === undefined) return { winner: a, reason: b.ineligible };
  const reasons = new Map<Path, string>();
  const cand = [a, b];
  tieBreak(cand, reasons, ctx);
  const winner = cand[0]!;
  const loser = winner === a ? b : a;
  const chain = reasons.get(loser) ?? 'identical to the other path at every step — Tern step 10';
  return { winner, reason: loser.ineligible !== undefined ? `${loser.ineligible} (both ineligible; ranked anyway: ${chain})` : chain };
}
