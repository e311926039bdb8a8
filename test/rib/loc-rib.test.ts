// SPDX-License-Identifier: Apache-2.0
// The Loc-RIB (src/rib/loc-rib.ts) against a model: a destination of one eligible path keeps the
// path itself and no verdict, so its best, ECMP set, reasons and "changed" answers are computed a
// different way than for several paths. Random sequences of adds, replacements, removals and
// refreshes must give what the plain rule gives: the paths as a list, decide() over them, and
// "changed" when the best or the ECMP set differs. Paths are plain objects or routes as the RIB
// receives them (AcceptedRoute), which stand alone as their destination while they are its only
// path.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Origin } from '../../src/bgp/messages/iana.ts';
import type { Nlri } from '../../src/bgp/messages/types.ts';
import { AttrsTable } from '../../src/rib/attrs.ts';
import { decide } from '../../src/rib/decision.ts';
import { LocRib } from '../../src/rib/loc-rib.ts';
import { KeyNlri, prefixKey } from '../../src/rib/prefix-key.ts';
import { AcceptedRoute } from '../../src/rib/adj-rib-in.ts';
import type { DecisionContext, Path, PeerRef } from '../../src/rib/types.ts';

const CTX: DecisionContext = { localAsn: 65001, routerId: 0x0a000001 };
const attrsTable = new AttrsTable();
const PREFIXES: Nlri[] = [0, 1].map((i) => ({ family: 'ipv4-unicast', length: 24, address: Uint8Array.of(10, 0, i) }));

function peer(id: number): PeerRef {
  const address = Uint8Array.of(192, 0, 2, id);
  return { id, name: `p${id}`, asn: 65002, type: 'ebgp', address, addressText: address.join('.'), rrClient: false, routerId: 0x01010100 + id };
}
const PEERS = [1, 2, 3].map(peer);

/** A path from peer `from` with a MED (two MEDs tie, so ECMP sets of several happen): a received
 *  route (`accepted`, when eligible) or a plain path object. */
function path(prefix: Nlri, from: number, med: number, ineligible: boolean, accepted = false): Path {
  const attrs = attrsTable.intern({
    origin: Origin.Igp, asPath: [{ type: 2, asns: [65002] }], nextHop: Uint8Array.of(192, 0, 2, from + 1), med, localPref: 100, atomicAggregate: false,
    communities: [], largeCommunities: [], extendedCommunities: [], clusterList: [], unknown: [],
  });
  if (accepted && !ineligible) return new AcceptedRoute(KeyNlri.of(prefix), attrs, false, { at: 0, raw: attrs, peer: PEERS[from]! });
  return {
    destKey: prefixKey(prefix), nlri: KeyNlri.of(prefix), source: 'bgp', peer: PEERS[from]!, attrs, stale: false, receivedAt: 0,
    ...(ineligible ? { ineligible: 'AS loop (test)' } : {}),
  };
}

type Op = { kind: 'put'; prefix: number; from: number; med: number; ineligible: boolean; accepted: boolean } | { kind: 'drop'; prefix: number; from: number } | { kind: 'refresh'; prefix: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('put' as const), prefix: fc.nat(1), from: fc.nat(2), med: fc.constantFrom(0, 10), ineligible: fc.boolean(), accepted: fc.boolean() }),
  fc.record({ kind: fc.constant('drop' as const), prefix: fc.nat(1), from: fc.nat(2) }),
  fc.record({ kind: fc.constant('refresh' as const), prefix: fc.nat(1) }),
);

const sameSet = (a: readonly Path[], b: readonly Path[]): boolean => a.length === b.length && a.every((p) => b.includes(p));

test('Loc-RIB: any sequence of changes gives what decide() over the paths gives, and says when the best or ECMP set changed', () => {
  fc.assert(
    fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
      const loc = new LocRib(CTX);
      // The model: per prefix, the path each peer sent.
      const model = PREFIXES.map(() => new Map<number, Path>());
      for (const o of ops) {
        const prefix = PREFIXES[o.prefix]!;
        const held = model[o.prefix]!;
        const before = decide([...held.values()], CTX);
        let answer;
        if (o.kind === 'put') {
          const p = path(prefix, o.from, o.med, o.ineligible, o.accepted);
          answer = loc.upsert(p, prefix, held.get(o.from));
          held.set(o.from, p);
        } else if (o.kind === 'drop') {
          const p = held.get(o.from);
          if (!p) continue;
          answer = loc.remove(p);
          held.delete(o.from);
        } else answer = loc.refresh(prefixKey(prefix));
        const after = decide([...held.values()], CTX);
        const changed = before.best !== after.best || !sameSet(before.multipath, after.multipath);
        assert.equal(answer !== undefined, changed, `${o.kind}: changed`);
        if (answer !== undefined) {
          // What the listeners are given reads as the destination is now.
          assert.equal(answer.key, prefixKey(prefix));
          assert.equal(answer.decision.best, after.best);
          assert.ok(sameSet(answer.decision.multipath, after.multipath));
        }
        const dest = loc.get(prefixKey(prefix));
        if (held.size === 0) {
          assert.equal(dest, undefined);
          continue;
        }
        assert.ok(dest);
        assert.equal(dest.key, prefixKey(prefix));
        assert.equal(dest.pathCount, held.size);
        assert.ok(sameSet(dest.paths, [...held.values()]));
        assert.equal(dest.decision.best, after.best);
        assert.ok(sameSet(dest.decision.multipath, after.multipath));
        assert.deepEqual(new Map([...dest.decision.reasons].sort()), new Map([...after.reasons].sort()));
      }
      assert.equal(loc.size, model.filter((m) => m.size > 0).length);
    }),
    { numRuns: 500 },
  );
});

test('Loc-RIB: a destination of one eligible path reads as a list of one, best, and its ECMP set', () => {
  const loc = new LocRib(CTX);
  const prefix = PREFIXES[0]!;
  const p = path(prefix, 0, 0, false);
  const dest = loc.upsert(p, p.nlri);
  assert.ok(dest);
  assert.deepEqual([...dest.paths], [p]);
  assert.equal(dest.pathCount, 1);
  assert.equal(dest.decision.best, p);
  assert.deepEqual([...dest.decision.multipath], [p]);
  assert.equal(dest.decision.reasons.size, 0);
  assert.equal(dest.nlri, p.nlri, 'the path’s KeyNlri is the destination’s');
  // Removing its path takes it away, and the destination object reads as empty.
  assert.equal(loc.remove(p), dest);
  assert.equal(loc.size, 0);
  assert.equal(dest.pathCount, 0);
  assert.equal(dest.decision.best, undefined);
});

test('Loc-RIB: a received route alone at its prefix is its own destination, until a second path comes', () => {
  const loc = new LocRib(CTX);
  const prefix = PREFIXES[0]!;
  const a = path(prefix, 0, 0, false, true);
  assert.equal(loc.upsert(a, a.nlri), a, 'the route is the destination');
  assert.equal(loc.get(prefixKey(prefix)), a);
  assert.equal(loc.pathFrom(prefixKey(prefix), PEERS[0]!.id, prefixKey(prefix)), a);
  assert.equal(loc.refresh(prefixKey(prefix)), undefined);
  // A second path: a destination object holds both; the first still wins on its lower MED.
  const b = path(prefix, 1, 10, false, true);
  assert.equal(loc.upsert(b, b.nlri), undefined, 'the best did not change');
  const dest = loc.get(prefixKey(prefix))!;
  assert.notEqual(dest, a);
  assert.equal(dest.pathCount, 2);
  assert.equal(dest.decision.best, a);
  // Its last route gone, the listeners get a destination that reads as empty.
  const alone = path(PREFIXES[1]!, 2, 0, false, true);
  loc.upsert(alone, alone.nlri);
  const gone = loc.remove(alone);
  assert.ok(gone);
  assert.equal(gone.key, prefixKey(PREFIXES[1]!));
  assert.equal(gone.pathCount, 0);
  assert.equal(gone.decision.best, undefined);
  assert.equal(loc.get(prefixKey(PREFIXES[1]!)), undefined);
});
