// SPDX-License-Identifier: Apache-2.0
// The decision process (src/rib/decision.ts): a table in decision order in the style of
// OpenBGPD's regress/usr.sbin/bgpd/unittests/rde_decide_test.c (one base path, each row differs
// in exactly one tie-breaker), the RFC 4271 §9.1.2.2 (c) MED cycle, and properties: every
// insertion order gives the same best, multipath and reasons; comparePaths agrees with decide.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { AsPathSegmentType, Origin } from '../../src/bgp/messages/iana.ts';
import type { AsPathSegment } from '../../src/bgp/messages/types.ts';
import type { RouteAttributes } from '../../src/bgp/messages/route-view.ts';
import { AttrsTable } from '../../src/rib/attrs.ts';
import { asPathLength, comparePaths, decide, neighborAs } from '../../src/rib/decision.ts';
import type { DecisionContext, Path, PeerRef, RouteSource } from '../../src/rib/types.ts';

// ===== Building paths =====

const CTX: DecisionContext = { localAsn: 65001, routerId: 0x0a000001 };
const table = new AttrsTable();
const SEQ = AsPathSegmentType.AsSequence;

function peer(id: number, over: Partial<PeerRef> = {}): PeerRef {
  const address = over.address ?? Uint8Array.of(192, 0, 2, id);
  return {
    id,
    name: `peer${id}`,
    asn: 65002,
    type: 'ebgp',
    address,
    addressText: address.join('.'),
    rrClient: false,
    routerId: 0x01010100 + id,
    ...over,
  };
}

const BASE_ROUTE: RouteAttributes = {
  origin: Origin.Igp,
  asPath: [{ type: SEQ, asns: [65002, 65010] }],
  nextHop: Uint8Array.of(192, 0, 2, 1),
  med: 10,
  localPref: 100,
  atomicAggregate: false,
  communities: [],
  largeCommunities: [],
  extendedCommunities: [],
  clusterList: [],
  unknown: [],
};

interface PathSpec {
  source?: RouteSource;
  peer?: PeerRef | undefined;
  attrs?: Partial<RouteAttributes>;
  pathId?: number;
  ineligible?: string;
  interface?: string;
}

const PEER1 = peer(1);

/** A path to 10.0.0.0/24; by default the base path: eBGP from PEER1 with BASE_ROUTE. */
function path(spec: PathSpec = {}): Path {
  const source = spec.source ?? 'bgp';
  const p: Path = {
    destKey: 'dest',
    nlri: { family: 'ipv4-unicast', length: 24, address: Uint8Array.of(10, 0, 0), ...(spec.pathId !== undefined ? { pathId: spec.pathId } : {}) },
    source,
    attrs: table.intern({ ...BASE_ROUTE, ...spec.attrs }),
    stale: false,
    receivedAt: 0,
    ...('peer' in spec ? (spec.peer ? { peer: spec.peer } : {}) : source === 'bgp' ? { peer: PEER1 } : {}),
    ...(spec.ineligible !== undefined ? { ineligible: spec.ineligible } : {}),
    ...(spec.interface !== undefined ? { interface: spec.interface } : {}),
  };
  return p;
}

// ===== The decision table =====

interface Row {
  what: string;
  /** Decision step the row exercises (-1: eligibility). */
  step: number;
  variant: PathSpec;
  /** Which of the two wins. */
  winner: 'base' | 'variant';
  /** The exact reason recorded for the loser. */
  reason: string;
  /** Both stay in the ECMP set (they tie up to the IGP-cost step). */
  multipath: boolean;
  /** The base for this row, when it differs from the default base path. */
  base?: PathSpec;
}

// In decision order. Every variant differs from its base in exactly one tie-breaker.
const ROWS: Row[] = [
  /* Eligibility: unreachable NEXT_HOP or AS loop, flagged by the RIB. */
  {
    what: 'ineligible path never wins',
    step: -1,
    variant: { attrs: { localPref: 500 }, ineligible: 'NEXT_HOP 192.0.2.99 unreachable — RFC 4271 §9.1.2' },
    winner: 'base',
    reason: 'NEXT_HOP 192.0.2.99 unreachable — RFC 4271 §9.1.2',
    multipath: false,
  },
  /* 0. locally sourced over BGP-learned (Tern deviation). */
  {
    what: 'originated route over a BGP-learned one',
    step: 0,
    variant: { source: 'originated' },
    winner: 'variant',
    reason: 'BGP-learned, and a locally sourced route (originated, kernel or connected) exists — Tern step 0 (local routes first)',
    multipath: false,
  },
  /* 1. LOCAL_PREF, bigger is better. */
  {
    what: 'local preference',
    step: 1,
    variant: { attrs: { localPref: 90 } },
    winner: 'base',
    reason: 'lower LOCAL_PREF (90 < 100) — RFC 4271 §9.1.1 (degree of preference)',
    multipath: false,
  },
  {
    what: 'missing LOCAL_PREF counts as 100',
    step: 1,
    base: { attrs: { localPref: undefined } },
    variant: { attrs: { localPref: 99 } },
    winner: 'base',
    reason: 'lower LOCAL_PREF (99 < 100) — RFC 4271 §9.1.1 (degree of preference)',
    multipath: false,
  },
  /* 2. AS_PATH length, shorter is better. */
  {
    what: 'AS_PATH length',
    step: 2,
    variant: { attrs: { asPath: [{ type: SEQ, asns: [65002, 65010, 65020] }] } },
    winner: 'base',
    reason: 'longer AS_PATH (3 > 2) — RFC 4271 §9.1.2.2 (a)',
    multipath: false,
  },
  {
    what: 'AS_SET counts 1',
    step: 2,
    variant: { attrs: { asPath: [{ type: SEQ, asns: [65002, 65010] }, { type: AsPathSegmentType.AsSet, asns: [65020, 65021, 65022] }] } },
    winner: 'base',
    reason: 'longer AS_PATH (3 > 2) — RFC 4271 §9.1.2.2 (a)',
    multipath: false,
  },
  /* 3. ORIGIN, lower is better. */
  {
    what: 'origin',
    step: 3,
    variant: { attrs: { origin: Origin.Egp } },
    winner: 'base',
    reason: 'higher ORIGIN (EGP > IGP) — RFC 4271 §9.1.2.2 (b)',
    multipath: false,
  },
  {
    what: 'missing ORIGIN counts as INCOMPLETE',
    step: 3,
    base: { attrs: { origin: Origin.Egp } },
    variant: { attrs: { origin: undefined } },
    winner: 'base',
    reason: 'higher ORIGIN (INCOMPLETE > EGP) — RFC 4271 §9.1.2.2 (b)',
    multipath: false,
  },
  /* 4. MED, lower is better, same neighbor AS only. */
  {
    what: 'MED from the same neighbor AS',
    step: 4,
    variant: { peer: peer(2), attrs: { med: 20 } },
    winner: 'base',
    reason: 'higher MED (20 > 10) from the same neighbor AS 65002 — RFC 4271 §9.1.2.2 (c)',
    multipath: false,
  },
  {
    what: 'missing MED is the lowest (0)',
    step: 4,
    base: { attrs: { med: undefined } },
    variant: { peer: peer(2), attrs: { med: 1 } },
    winner: 'base',
    reason: 'higher MED (1 > 0) from the same neighbor AS 65002 — RFC 4271 §9.1.2.2 (c)',
    multipath: false,
  },
  {
    what: 'MED is not compared across neighbor ASes (the router id decides)',
    step: 7,
    variant: { peer: peer(2, { asn: 65003 }), attrs: { med: 5, asPath: [{ type: SEQ, asns: [65003, 65010] }] } },
    winner: 'base',
    reason: 'higher BGP Identifier (1.1.1.2 > 1.1.1.1) — RFC 4271 §9.1.2.2 (f), ORIGINATOR_ID in its place per RFC 4456 §9',
    multipath: true,
  },
  /* 5. eBGP over iBGP. */
  {
    what: 'eBGP over iBGP',
    step: 5,
    variant: { peer: peer(1, { type: 'ibgp' }) },
    winner: 'base',
    reason: 'iBGP-learned, and an eBGP-learned path exists — RFC 4271 §9.1.2.2 (d)',
    multipath: false,
  },
  /* 6. IGP cost to the NEXT_HOP: not implemented (no IGP; all costs equal). */
  // { what: 'nexthop cost', variant: { igpCost: 20 }, winner: 'base', reason: 'higher IGP cost ...' },
  /* 7. BGP Identifier (ORIGINATOR_ID in its place), lower is better. */
  {
    what: 'BGP identifier',
    step: 7,
    variant: { peer: peer(1, { routerId: 0x02020202 }) },
    winner: 'base',
    reason: 'higher BGP Identifier (2.2.2.2 > 1.1.1.1) — RFC 4271 §9.1.2.2 (f), ORIGINATOR_ID in its place per RFC 4456 §9',
    multipath: true,
  },
  {
    what: 'ORIGINATOR_ID stands in for the BGP identifier',
    step: 7,
    variant: { attrs: { originatorId: 0x03030303 } },
    winner: 'base',
    reason: 'higher BGP Identifier (3.3.3.3 > 1.1.1.1) — RFC 4271 §9.1.2.2 (f), ORIGINATOR_ID in its place per RFC 4456 §9',
    multipath: true,
  },
  /* 8. CLUSTER_LIST length, shorter is better. */
  {
    what: 'cluster list length',
    step: 8,
    variant: { attrs: { clusterList: [0x0a000009] } },
    winner: 'base',
    reason: 'longer CLUSTER_LIST (1 > 0) — RFC 4456 §9',
    multipath: true,
  },
  /* 9. peer address, lower is better. */
  {
    what: 'peer address',
    step: 9,
    variant: { peer: peer(1, { address: Uint8Array.of(192, 0, 2, 200) }) },
    winner: 'base',
    reason: 'higher peer address (192.0.2.200 > 192.0.2.1) — RFC 4271 §9.1.2.2 (g)',
    multipath: true,
  },
  /* 10. ADD-PATH path id, lower is better (Tern). */
  {
    what: 'path id',
    step: 10,
    base: { pathId: 1 },
    variant: { pathId: 2 },
    winner: 'base',
    reason: 'higher ADD-PATH path id (2 > 1) from the same peer — Tern step 10 (RFC 7911 paths)',
    multipath: true,
  },
  /* 10. then the stable key for local routes (connected, originated, kernel; interface). */
  {
    what: 'stable key: connected before kernel',
    step: 10,
    base: { source: 'connected', interface: 'eth0' },
    variant: { source: 'kernel', interface: 'eth0' },
    winner: 'base',
    reason: "after connected on eth0 in Tern's stable order (source, interface, peer, attributes) — Tern step 10",
    multipath: true,
  },
  /* Route age is not a tie-breaker in Tern (OpenBGPD's "route-age evaluate" mode): no row. */
];

for (const row of ROWS) {
  test(`decision table: ${row.what}`, () => {
    const base = path(row.base);
    const variant = path({ ...row.base, ...row.variant, attrs: { ...row.base?.attrs, ...row.variant.attrs } });
    const winner = row.winner === 'base' ? base : variant;
    const loser = winner === base ? variant : base;
    for (const order of [[base, variant], [variant, base]]) {
      const d = decide(order, CTX);
      assert.equal(d.best, winner);
      assert.equal(d.reasons.get(loser), row.reason);
      assert.equal(d.reasons.has(winner), false, 'the best path has no reason');
      assert.deepEqual(new Set(d.multipath), new Set(row.multipath ? [base, variant] : [winner]));
    }
    assert.deepEqual(comparePaths(base, variant, CTX), { winner, reason: row.reason });
    assert.deepEqual(comparePaths(variant, base, CTX), { winner, reason: row.reason });
  });
}

// OpenBGPD's table also checks precedence: of two variants worse than the base at different
// steps, the one worse at the later step wins (it survived the earlier step).
test('decision table: an earlier step outranks every later one', () => {
  const single = ROWS.filter((r) => r.winner === 'base' && !r.base && !r.what.startsWith('MED is not compared'));
  assert.ok(single.length >= 10);
  for (const early of single) {
    for (const late of single) {
      if (late.step <= early.step) continue;
      const e = path(early.variant);
      const l = path(late.variant);
      for (const order of [[e, l], [l, e]]) assert.equal(decide(order, CTX).best, l, `${late.what} beats ${early.what}`);
    }
  }
});

// ===== MED: the cycle that pairwise comparison gets wrong =====

// Pairwise, A > B (different AS: router id), B > C (router id), C > A (same AS 65100: MED).
// RFC 4271 §9.1.2.2 (c) removes A over the whole set first, then (f) picks B — in every order.
const MED_A = path({ peer: peer(1, { routerId: 0x01010101 }), attrs: { asPath: [{ type: SEQ, asns: [65100, 65200] }], med: 20 } });
const MED_B = path({ peer: peer(2, { routerId: 0x02020202 }), attrs: { asPath: [{ type: SEQ, asns: [65300, 65200] }], med: 10 } });
const MED_C = path({ peer: peer(3, { routerId: 0x03030303 }), attrs: { asPath: [{ type: SEQ, asns: [65100, 65200] }], med: 10 } });

test('MED cycle: every order picks B; A loses on MED, C on router id', () => {
  for (const order of permutations([MED_A, MED_B, MED_C])) {
    const d = decide(order, CTX);
    assert.equal(d.best, MED_B);
    assert.equal(d.reasons.get(MED_A), 'higher MED (20 > 10) from the same neighbor AS 65100 — RFC 4271 §9.1.2.2 (c)');
    assert.equal(d.reasons.get(MED_C), 'higher BGP Identifier (3.3.3.3 > 2.2.2.2) — RFC 4271 §9.1.2.2 (f), ORIGINATOR_ID in its place per RFC 4456 §9');
    assert.deepEqual(new Set(d.multipath), new Set([MED_B, MED_C]));
  }
});

test('MED cycle: a pairwise fold would depend on the order (why decide eliminates over the set)', () => {
  const fold = (order: Path[]) => order.reduce((best, p) => comparePaths(best, p, CTX).winner);
  const winners = new Set(permutations([MED_A, MED_B, MED_C]).map(fold));
  assert.ok(winners.size > 1, 'the pairwise relation is a cycle');
  assert.equal(comparePaths(MED_A, MED_B, CTX).winner, MED_A);
  assert.equal(comparePaths(MED_B, MED_C, CTX).winner, MED_B);
  assert.equal(comparePaths(MED_C, MED_A, CTX).winner, MED_C);
});

test('MED of iBGP-originated routes (empty AS_PATH) is compared under the local AS', () => {
  const ibgp = (id: number, med: number) => path({ peer: peer(id, { type: 'ibgp', asn: 65001 }), attrs: { asPath: [], med } });
  const low = ibgp(5, 5);
  const high = ibgp(2, 50);
  const d = decide([high, low], CTX);
  assert.equal(d.best, low);
  assert.equal(d.reasons.get(high), 'higher MED (50 > 5) from the same neighbor AS 65001 — RFC 4271 §9.1.2.2 (c)');
});

// ===== AS_PATH helpers =====

test('asPathLength: AS_SET counts 1, confederation segments 0 (RFC 4271 §9.1.2.2 (a), RFC 5065 §5.3)', () => {
  const seg = (type: number, ...asns: number[]): AsPathSegment => ({ type, asns });
  assert.equal(asPathLength([]), 0);
  assert.equal(asPathLength([seg(SEQ, 1, 2, 3)]), 3);
  assert.equal(asPathLength([seg(SEQ, 1, 1, 1, 2)]), 4, 'prepends count');
  assert.equal(asPathLength([seg(SEQ, 1), seg(AsPathSegmentType.AsSet, 7, 8, 9)]), 2);
  assert.equal(asPathLength([seg(AsPathSegmentType.AsConfedSequence, 64512, 64513), seg(AsPathSegmentType.AsConfedSet, 64514), seg(SEQ, 1, 2)]), 2);
});

test('neighborAs: first AS of the leading AS_SEQUENCE, after confed segments; undefined otherwise', () => {
  const withPath = (asPath: AsPathSegment[], source: RouteSource = 'bgp') => path({ source, attrs: { asPath } });
  assert.equal(neighborAs(withPath([{ type: SEQ, asns: [65002, 65010] }])), 65002);
  assert.equal(neighborAs(withPath([{ type: AsPathSegmentType.AsConfedSequence, asns: [64512] }, { type: SEQ, asns: [65003] }])), 65003);
  assert.equal(neighborAs(withPath([])), undefined);
  assert.equal(neighborAs(withPath([{ type: AsPathSegmentType.AsSet, asns: [65002] }, { type: SEQ, asns: [65003] }])), undefined, 'aggregate: AS_SET first');
  assert.equal(neighborAs(withPath([{ type: SEQ, asns: [65002] }], 'originated')), undefined);
});

test('no candidates, or only ineligible ones: no best, empty multipath, every path has its reason', () => {
  assert.deepEqual(decide([], CTX), { multipath: [], reasons: new Map() });
  const bad = path({ ineligible: 'AS loop (65001 in AS_PATH) — RFC 4271 §9.1.2' });
  const d = decide([bad], CTX);
  assert.equal(d.best, undefined);
  assert.deepEqual(d.multipath, []);
  assert.equal(d.reasons.get(bad), 'AS loop (65001 in AS_PATH) — RFC 4271 §9.1.2');
});

test('stale paths (RFC 4724) stay eligible', () => {
  const stale = path({ attrs: { localPref: 200 } });
  stale.stale = true;
  assert.equal(decide([path(), stale], CTX).best, stale);
});

test('an IPv4 peer address sorts before an IPv6 one at step (g)', () => {
  const v6 = path({ peer: peer(1, { address: Uint8Array.of(0x20, 0x01, 0x0d, 0xb8, ...new Array<number>(12).fill(0)), addressText: '2001:db8::' }) });
  const d = decide([v6, path()], CTX);
  assert.equal(d.best?.peer?.addressText, '192.0.2.1');
  assert.equal(d.reasons.get(v6), 'higher peer address (2001:db8:: > 192.0.2.1) — RFC 4271 §9.1.2.2 (g)');
});

// ===== Properties =====

const PEERS: PeerRef[] = [
  peer(1, { routerId: 0x01010101 }),
  peer(2, { routerId: 0x01010101, asn: 65003 }),
  peer(3, { routerId: 0x02020202, type: 'ibgp', asn: 65001 }),
  peer(4, { routerId: 0x01010101, type: 'ibgp', asn: 65001 }),
];

// Small domains, skewed to ties, so every step of the chain is reached.
const arbSegments = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(65002, 65003).map((asn) => [{ type: SEQ, asns: [asn, 65010] }]) },
  {
    weight: 1,
    arbitrary: fc.array(
      fc.record({ type: fc.constantFrom(SEQ, AsPathSegmentType.AsSet, AsPathSegmentType.AsConfedSequence), asns: fc.array(fc.constantFrom(65002, 65003, 65004), { minLength: 1, maxLength: 3 }) }),
      { maxLength: 2 },
    ),
  },
);

const arbPathSpec: fc.Arbitrary<PathSpec & { uniq: string }> = fc
  .record({
    local: fc.oneof({ weight: 12, arbitrary: fc.constant(undefined) }, fc.constantFrom('originated', 'kernel', 'connected')) as fc.Arbitrary<RouteSource | undefined>,
    peer: fc.constantFrom(...PEERS),
    pathId: fc.constantFrom(undefined, 1, 2),
    interface: fc.constantFrom('eth0', 'eth1'),
    ineligible: fc.oneof({ weight: 8, arbitrary: fc.constant(undefined) }, fc.constant('unreachable')),
    localPref: fc.constantFrom(undefined, 100, 100, 90),
    asPath: arbSegments,
    origin: fc.constantFrom(0, 0, 0, 1, undefined),
    med: fc.constantFrom(undefined, 0, 10, 20),
    originatorId: fc.constantFrom(undefined, undefined, 0x01010101, 0x02020202),
    clusterList: fc.array(fc.constant(7), { maxLength: 2 }),
  })
  .map((r) => {
    const attrs = { localPref: r.localPref, asPath: r.asPath, origin: r.origin, med: r.med, originatorId: r.originatorId, clusterList: r.clusterList };
    const common = { attrs, ...(r.ineligible ? { ineligible: r.ineligible } : {}) };
    // The RIB holds one path per (peer, path id), and one local route per (source, interface).
    if (r.local) return { ...common, source: r.local, peer: undefined, interface: r.interface, uniq: `${r.local}/${r.interface}` };
    return { ...common, peer: r.peer, ...(r.pathId !== undefined ? { pathId: r.pathId } : {}), uniq: `${r.peer.id}/${r.pathId ?? 0}` };
  });

const arbCandidates = fc.uniqueArray(arbPathSpec, { minLength: 1, maxLength: 7, selector: (s) => s.uniq }).map((specs) => specs.map((s) => path(s)));

test('property: every insertion order gives the same best, multipath and reasons', () => {
  fc.assert(
    fc.property(arbCandidates, (paths) => {
      const first = decide(paths, CTX);
      for (const order of permutations(paths)) {
        const d = decide(order, CTX);
        assert.equal(d.best, first.best);
        assert.deepEqual(new Set(d.multipath), new Set(first.multipath));
        assert.deepEqual(d.reasons, first.reasons);
      }
    }),
    { numRuns: 60 },
  );
});

test('property: best is eligible when any path is, multipath holds it, every other path has a reason', () => {
  fc.assert(
    fc.property(arbCandidates, (paths) => {
      const d = decide(paths, CTX);
      const eligible = paths.filter((p) => p.ineligible === undefined);
      if (eligible.length === 0) {
        assert.equal(d.best, undefined);
        assert.deepEqual(d.multipath, []);
      } else {
        assert.ok(d.best && d.best.ineligible === undefined);
        assert.ok(d.multipath.includes(d.best));
        assert.ok(d.multipath.every((p) => p.ineligible === undefined));
      }
      for (const p of paths) assert.equal(d.reasons.has(p), p !== d.best);
    }),
    { numRuns: 300 },
  );
});

test('property: decide matches a literal transcription of RFC 4271 §9.1.2.2 for the best path', () => {
  fc.assert(
    fc.property(arbCandidates, (paths) => {
      assert.equal(decide(paths, CTX).best, referenceBest(paths));
    }),
    { numRuns: 300 },
  );
});

test('property: comparePaths agrees with decide for two paths', () => {
  fc.assert(
    fc.property(arbPathSpec, arbPathSpec, (x, y) => {
      // The same route twice (same source and path id) is a state the RIB never holds, and the
      // two functions may then pick either copy.
      fc.pre(x.uniq !== y.uniq);
      const a = path(x);
      const b = path(y);
      const { winner, reason } = comparePaths(a, b, CTX);
      const d = decide([a, b], CTX);
      if (d.best) {
        assert.equal(winner, d.best);
        assert.equal(reason, d.reasons.get(winner === a ? b : a));
      }
      assert.equal(comparePaths(b, a, CTX).winner, winner, 'symmetric');
    }),
    { numRuns: 500 },
  );
});

test('property: decide never throws, even on odd AS_PATHs and attributes', () => {
  const arbOdd = fc.record({
    asPath: fc.array(fc.record({ type: fc.integer({ min: 0, max: 9 }), asns: fc.array(fc.integer({ min: 0, max: 0xffffffff }), { maxLength: 4 }) }), { maxLength: 3 }),
    med: fc.option(fc.integer({ min: 0, max: 0xffffffff }), { nil: undefined }),
    localPref: fc.option(fc.integer({ min: 0, max: 0xffffffff }), { nil: undefined }),
    origin: fc.option(fc.integer({ min: 0, max: 255 }), { nil: undefined }),
    originatorId: fc.option(fc.integer({ min: 0, max: 0xffffffff }), { nil: undefined }),
  });
  fc.assert(
    fc.property(fc.array(fc.tuple(arbOdd, fc.constantFrom(...PEERS)), { maxLength: 7 }), (specs) => {
      const paths = specs.map(([attrs, p]) => path({ attrs, peer: p }));
      const d = decide(paths, CTX);
      if (paths.length > 0) assert.ok(d.best);
    }),
    { numRuns: 300 },
  );
});

// ===== Test utilities =====

function permutations<T>(items: readonly T[]): T[][] {
  if (items.length <= 1) return [items.slice()];
  const out: T[][] = [];
  items.forEach((item, i) => {
    for (const rest of permutations([...items.slice(0, i), ...items.slice(i + 1)])) out.push([item, ...rest]);
  });
  return out;
}

/** The RFC's steps written out naively, as an independent oracle (filter after filter). */
function referenceBest(paths: readonly Path[]): Path | undefined {
  let c = paths.filter((p) => p.ineligible === undefined);
  const keepMin = (f: (p: Path) => number) => {
    const m = Math.min(...c.map(f));
    c = c.filter((p) => f(p) === m);
  };
  keepMin((p) => (p.source === 'bgp' ? 1 : 0));
  keepMin((p) => -(p.attrs.localPref ?? 100));
  keepMin((p) => asPathLength(p.attrs.asPath));
  keepMin((p) => p.attrs.origin ?? 2);
  const nas = (p: Path) => neighborAs(p) ?? CTX.localAsn;
  const med = (p: Path) => p.attrs.med ?? 0;
  c = c.filter((m) => !c.some((n) => nas(m) === nas(n) && med(n) < med(m)));
  if (c.some((p) => p.peer?.type === 'ebgp')) c = c.filter((p) => p.peer?.type !== 'ibgp');
  keepMin((p) => p.attrs.originatorId ?? p.peer?.routerId ?? CTX.routerId);
  keepMin((p) => p.attrs.clusterList.length);
  keepMin((p) => p.peer?.address[3] ?? -1); // every test peer is 192.0.2.<id>
  keepMin((p) => p.nlri.pathId ?? 0);
  keepMin((p) => ({ connected: 0, originated: 1, kernel: 2, bgp: 3 })[p.source] * 10 + (p.interface === 'eth1' ? 1 : 0));
  // The generator keeps (peer, path id) and (source, interface) unique, so one path is left.
  assert.ok(c.length <= 1, 'reference left a tie');
  return c[0];
}
