// SPDX-License-Identifier: Apache-2.0
// The shared Adj-RIB-Out of an export class (src/rib/class-out.ts): whatever the order in which
// routes change, peers read, ask for a route refresh, change class or restart, every peer ends
// up holding exactly what export says it should have — computed per peer by explainExport, the
// same code `tern explain` uses — and the work of a change is done once per class.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Rib, type RibPeerConfig } from '../../src/rib/rib.ts';
import { encodeBatch } from '../../src/rib/packer.ts';
import { ACCEPT_ALL, compilePolicy } from '../../src/policy/compile.ts';
import { decodeUpdate, encodeUpdate } from '../../src/bgp/messages/update.ts';
import { parsePrefix, prefixToString } from '../../src/bgp/messages/nlri.ts';
import { attributesForAnnounce, routeAttributes, type RouteAttributes } from '../../src/bgp/messages/route-view.ts';
import type { DecodedUpdate, Family } from '../../src/bgp/messages/types.ts';
import type { PeerRef } from '../../src/rib/types.ts';
import { bytesToIp, ipv4ToBytes, dottedToU32 } from '../../src/util/ip.ts';
import { ASN, CTX, ROUTER_ID, SELF, client } from './rr-fixtures.ts';

const FAMILY: Family = 'ipv4-unicast';
const PREFIXES = ['10.128.0.0/26', '10.128.0.64/26', '10.1.0.0/24', '10.2.0.0/24', '10.128.1.0/26'];
const PEERS = 4;
const NO_24 = compilePolicy('no-24', [{ match: { prefixLength: [{ min: 24, max: 24 }] }, action: 'reject' }, { action: 'accept' }] as never);


function attrs(nextHop: string, originatorId?: number): RouteAttributes {
  return { origin: 0, asPath: [], nextHop: ipv4ToBytes(nextHop), localPref: 100, atomicAggregate: false, communities: [], largeCommunities: [], extendedCommunities: [], clusterList: originatorId === undefined ? [] : [dottedToU32('10.9.9.9')!], ...(originatorId === undefined ? {} : { originatorId }), unknown: [] };
}

function update(announce: string[], a: RouteAttributes, withdraw: string[] = []): DecodedUpdate {
  const nlri = announce.map((p) => parsePrefix(p)!);
  const withdrawn = withdraw.map((p) => parsePrefix(p)!);
  return decodeUpdate(encodeUpdate({ type: 'update', withdrawn, attributes: nlri.length ? attributesForAnnounce(a, FAMILY, nlri, CTX) : [], nlri }, CTX).subarray(19), CTX);
}

/** A peer as the far end sees it: what it holds, built only from the UPDATEs it was sent. */
type Held = Map<string, string>;

function describeAttrs(a: RouteAttributes): string {
  return `${a.nextHop ? bytesToIp(a.nextHop) : '-'} orig=${a.originatorId ?? '-'} cl=${a.clusterList.join(',')}`;
}

function receive(rib: Rib, ref: PeerRef, held: Held, limit: number, rounds: number): void {
  for (let i = 0; i < rounds; i++) {
    const batch = rib.takeOutput(ref.id, limit);
    if (!batch) return;
    for (const frame of encodeBatch(batch, CTX, rib.encodeCache(ref.id))) {
      const { message } = decodeUpdate(frame.subarray(19), CTX);
      for (const n of message.withdrawn) held.delete(prefixToString(n));
      if (message.nlri.length) {
        const a = describeAttrs(routeAttributes(message, FAMILY, CTX));
        for (const n of message.nlri) held.set(prefixToString(n), a);
      }
    }
  }
}

/** What export says the peer should hold now, per route (explainExport: the per-peer code path). */
function expected(rib: Rib, ref: PeerRef): Held {
  const want: Held = new Map();
  for (const dest of rib.loc.values()) {
    const best = dest.decision.best;
    if (!best) continue;
    const verdict = rib.explainExport(ref.id, best, dest.family);
    if (verdict.sent && verdict.attrs) want.set(prefixToString(dest.nlri), describeAttrs(verdict.attrs));
  }
  return want;
}

type Op =
  | { kind: 'announce'; from: number; prefix: number; nextHop: number; originator: number }
  | { kind: 'withdraw'; from: number; prefix: number }
  | { kind: 'read'; peer: number; limit: number }
  | { kind: 'refresh'; peer: number }
  | { kind: 'policy'; peer: number; strict: boolean }
  | { kind: 'restart'; peer: number };

const peerIndex = fc.integer({ min: 0, max: PEERS - 1 });
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('announce' as const), from: peerIndex, prefix: fc.integer({ min: 0, max: PREFIXES.length - 1 }), nextHop: fc.integer({ min: 0, max: PEERS }), originator: fc.integer({ min: -3, max: PEERS - 1 }) }),
  fc.record({ kind: fc.constant('withdraw' as const), from: peerIndex, prefix: fc.integer({ min: 0, max: PREFIXES.length - 1 }) }),
  fc.record({ kind: fc.constant('read' as const), peer: peerIndex, limit: fc.integer({ min: 1, max: 3 }) }),
  fc.record({ kind: fc.constant('refresh' as const), peer: peerIndex }),
  fc.record({ kind: fc.constant('policy' as const), peer: peerIndex, strict: fc.boolean() }),
  fc.record({ kind: fc.constant('restart' as const), peer: peerIndex }),
);

function config(ref: PeerRef, strict: boolean): RibPeerConfig {
  return { ref, importPolicy: ACCEPT_ALL, exportPolicy: strict ? NO_24 : ACCEPT_ALL, nextHopMode: 'auto', allowOwnAs: 0 };
}

function run(ops: Op[], checkCounts = false): { rib: Rib; peers: PeerRef[]; held: Held[] } {
  const rib = new Rib({ localAsn: ASN, routerId: ROUTER_ID, clusterId: ROUTER_ID });
  const peers = Array.from({ length: PEERS }, (_, i) => client(i + 2));
  const held: Held[] = peers.map(() => new Map());
  const info = { families: [FAMILY], addPathTx: new Set<Family>(), self: SELF };
  for (const ref of peers) rib.setPeer(config(ref, false));
  for (const ref of peers) rib.peerUp(ref.id, info);
  for (const o of ops) {
    switch (o.kind) {
      case 'announce': {
        // Next hop: one of the peers' own addresses (RFC 4271 §5.1.3) or a third party; the
        // ORIGINATOR_ID may name a peer (RFC 4456 §8).
        const nextHop = o.nextHop < PEERS ? peers[o.nextHop]!.addressText : '10.0.9.9';
        const originator = o.originator >= 0 ? peers[o.originator]!.routerId : undefined;
        rib.applyUpdate(peers[o.from]!.id, update([PREFIXES[o.prefix]!], attrs(nextHop, originator)), CTX, 0);
        break;
      }
      case 'withdraw':
        rib.applyUpdate(peers[o.from]!.id, update([], attrs('10.0.9.9'), [PREFIXES[o.prefix]!]), CTX, 0);
        break;
      case 'read':
        receive(rib, peers[o.peer]!, held[o.peer]!, o.limit, 1);
        break;
      case 'refresh':
        rib.refreshOut(peers[o.peer]!.id, FAMILY);
        break;
      case 'policy':
        rib.setPeer(config(peers[o.peer]!, o.strict));
        rib.reexport(peers[o.peer]!.id);
        break;
      case 'restart': {
        const ref = peers[o.peer]!;
        rib.peerDown(ref.id);
        rib.withdrawAll(ref.id);
        held[o.peer] = new Map();
        rib.peerUp(ref.id, info);
        break;
      }
    }
    // `show peers` routesSent at any moment: what the peer has once it has read what is queued.
    if (checkCounts) for (const ref of peers) assert.equal(rib.sentCount(ref.id, FAMILY), expected(rib, ref).size, `${ref.name} after ${o.kind}`);
  }
  peers.forEach((ref, i) => receive(rib, ref, held[i]!, 2, 1000));
  return { rib, peers, held };
}

describe('class Adj-RIB-Out (update groups, second half)', () => {
  it('every peer ends up holding exactly what export says, whatever the interleaving', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const { rib, peers, held } = run(ops, true);
        peers.forEach((ref, i) => {
          const want = expected(rib, ref);
          assert.deepEqual(new Map([...held[i]!].sort()), new Map([...want].sort()), `${ref.name}`);
          assert.equal(rib.sentCount(ref.id, FAMILY), want.size, `${ref.name}: routes sent`);
          assert.equal(rib.hasPending(ref.id), false);
          assert.deepEqual([...rib.adjOut(ref.id)].map((r) => prefixToString(r.nlri)).sort(), [...want.keys()].sort(), `${ref.name}: show routes adj-out`);
        });
      }),
      {
        numRuns: 400,
        // Found by a random run: c2 reads c3's route, moves to another class (it keeps the route),
        // then sends a better path for the prefix itself; c3's route must be withdrawn from it.
        examples: [[[
          { kind: 'announce', from: 1, prefix: 4, nextHop: 1, originator: -1 },
          { kind: 'read', peer: 0, limit: 1 },
          { kind: 'policy', peer: 0, strict: true },
          { kind: 'announce', from: 0, prefix: 4, nextHop: 0, originator: 0 },
        ]]],
      },
    );
  });

  it('a route from a member is neither sent back to it nor withdrawn from it (split horizon)', () => {
    const { rib, peers, held } = run([{ kind: 'announce', from: 0, prefix: 0, nextHop: 4, originator: -1 }]);
    assert.deepEqual([...held[0]!.keys()], []);
    assert.deepEqual([...held[1]!.keys()], ['10.128.0.0/26']);
    // Then the route goes: members that have it get a withdrawal; the source has nothing to get.
    rib.applyUpdate(peers[0]!.id, update([], attrs('10.0.9.9'), ['10.128.0.0/26']), CTX, 0);
    assert.equal(rib.takeOutput(peers[0]!.id, 100)?.withdrawals.length ?? 0, 0, 'no withdrawal of what it never had');
    assert.equal(rib.takeOutput(peers[1]!.id, 100)?.withdrawals.length, 1);
  });

  it('one change is recorded once for the class, however many members read it', () => {
    const rib = new Rib({ localAsn: ASN, routerId: ROUTER_ID, clusterId: ROUTER_ID });
    const peers = Array.from({ length: 200 }, (_, i) => client(i + 2));
    for (const ref of peers) rib.setPeer(config(ref, false));
    for (const ref of peers) rib.peerUp(ref.id, { families: [FAMILY], addPathTx: new Set<Family>(), self: SELF });
    assert.deepEqual(rib.exportClassSizes(), [200]);
    rib.applyUpdate(peers[0]!.id, update(['10.128.0.0/26'], attrs(peers[0]!.addressText)), CTX, 0);
    assert.equal(rib.pending(peers[1]!.id), 1, 'one node in the shared table');
    const first = rib.takeOutput(peers[1]!.id, 10)!;
    const second = rib.takeOutput(peers[2]!.id, 10)!;
    assert.equal(first.singles[0], second.singles[0], 'the same node: one table, not a copy per peer');
    const [a] = encodeBatch(first, CTX, rib.encodeCache(peers[1]!.id));
    const [b] = encodeBatch(second, CTX, rib.encodeCache(peers[2]!.id));
    assert.equal(a, b, 'one encoding for the class');
  });

  it('a prefix alone with its attribute set is an UPDATE of its own; prefixes that share one are packed together', () => {
    const rib = new Rib({ localAsn: ASN, routerId: ROUTER_ID, clusterId: ROUTER_ID });
    const [src, other, reader] = [client(2), client(3), client(4)];
    for (const ref of [src, other, reader]) rib.setPeer(config(ref, false));
    for (const ref of [src, other, reader]) rib.peerUp(ref.id, { families: [FAMILY], addPathTx: new Set<Family>(), self: SELF });
    rib.applyUpdate(src.id, update(['10.128.0.0/26'], attrs(src.addressText)), CTX, 0);
    let batch = rib.takeOutput(reader.id, 100)!;
    assert.deepEqual([batch.singles.length, batch.announcements.length, batch.prefixes], [1, 0, 1]);
    // Two more prefixes with the same attributes: the class answer is no longer alone, so the two
    // the reader has not had are grouped. (A route from `other` would differ: its ORIGINATOR_ID.)
    rib.applyUpdate(other.id, update(['10.2.0.0/24'], attrs(other.addressText)), CTX, 0);
    rib.applyUpdate(src.id, update(['10.128.0.64/26', '10.128.1.0/26'], attrs(src.addressText)), CTX, 0);
    batch = rib.takeOutput(reader.id, 100)!;
    assert.deepEqual(batch.singles.map((n) => prefixToString(n.nlri)), ['10.2.0.0/24']);
    assert.deepEqual(batch.announcements.map((g) => g.nlri.map(prefixToString)), [['10.128.0.64/26', '10.128.1.0/26']]);
    const frames = encodeBatch(batch, CTX, rib.encodeCache(reader.id));
    assert.equal(frames.length, 2, 'one UPDATE for the grouped two, one for the other');
  });

  it('a prefix alone with an attribute set too large for the peer is withdrawn (RFC 8654 §4)', () => {
    const rib = new Rib({ localAsn: ASN, routerId: ROUTER_ID, clusterId: ROUTER_ID });
    const [src, reader] = [client(2), client(3)];
    for (const ref of [src, reader]) rib.setPeer(config(ref, false));
    for (const ref of [src, reader]) rib.peerUp(ref.id, { families: [FAMILY], addPathTx: new Set<Family>(), self: SELF });
    const big: RouteAttributes = { ...attrs(src.addressText), communities: Array.from({ length: 1100 }, (_, i) => 0xfde80000 + i) };
    const extended = { ...CTX, maxMessageSize: 65535 };
    rib.applyUpdate(src.id, decodeUpdate(encodeUpdate({ type: 'update', withdrawn: [], attributes: attributesForAnnounce(big, FAMILY, [parsePrefix('10.128.0.0/26')!], extended), nlri: [parsePrefix('10.128.0.0/26')!] }, extended).subarray(19), extended), extended, 0);
    const batch = rib.takeOutput(reader.id, 100)!;
    assert.equal(batch.singles.length, 1);
    const frames = encodeBatch(batch, CTX, rib.encodeCache(reader.id));
    const { message } = decodeUpdate(frames[0]!.subarray(19), CTX);
    assert.deepEqual([message.withdrawn.map(prefixToString), message.nlri.length], [['10.128.0.0/26'], 0]);
  });

  it('tombstones go once every member has read them, and a lagging member still gets its withdrawals', () => {
    const rib = new Rib({ localAsn: ASN, routerId: ROUTER_ID, clusterId: ROUTER_ID });
    const [src, fast, slow] = [client(2), client(3), client(4)];
    for (const ref of [src, fast, slow]) rib.setPeer(config(ref, false));
    for (const ref of [src, fast, slow]) rib.peerUp(ref.id, { families: [FAMILY], addPathTx: new Set<Family>(), self: SELF });
    const held = { fast: new Map() as Held, slow: new Map() as Held };
    const many = Array.from({ length: 1200 }, (_, i) => `10.${(i >> 8) + 10}.${i & 255}.0/24`);
    for (let i = 0; i < many.length; i += 400) rib.applyUpdate(src.id, update(many.slice(i, i + 400), attrs('10.0.9.9')), CTX, 0);
    receive(rib, fast, held.fast, 5000, 10);
    receive(rib, slow, held.slow, 5000, 10);
    for (let i = 0; i < 1000; i += 500) rib.applyUpdate(src.id, update([], attrs('10.0.9.9'), many.slice(i, i + 500)), CTX, 0);
    receive(rib, fast, held.fast, 5000, 10);
    receive(rib, src, new Map(), 5000, 10);
    assert.equal(held.fast.size, 200);
    // slow has not read the withdrawals yet: the tombstones must still be there for it.
    receive(rib, slow, held.slow, 7, 1000);
    assert.equal(held.slow.size, 200);
    assert.equal(rib.sentCount(slow.id, FAMILY), 200);
    // Every member is past the withdrawals: the next take frees them (before, a table waited for
    // twice as many new tombstones, so a mass withdrawal stayed in memory until the next churn).
    rib.takeOutput(fast.id, 10);
    const classes = (rib as unknown as { classes: Map<string, { out: { size: number } }> }).classes;
    assert.equal([...classes.values()][0]!.out.size, 200, 'only the live nodes are left');
  });
});

describe('class Adj-RIB-Out: members that come and go', () => {
  it('a route withheld from a flapping peer keeps one entry for it, not one per session', () => {
    const rib = new Rib({ localAsn: ASN, routerId: ROUTER_ID, clusterId: ROUTER_ID });
    const [src, flapper] = [client(2), client(3)];
    const info = { families: [FAMILY], addPathTx: new Set<Family>(), self: SELF };
    for (const ref of [src, flapper]) rib.setPeer(config(ref, false));
    for (const ref of [src, flapper]) rib.peerUp(ref.id, info);
    // Next hop = the flapper's own address (RFC 4271 §5.1.3): withheld from it, sent to nobody else.
    rib.applyUpdate(src.id, update(['10.128.0.0/26'], attrs(flapper.addressText)), CTX, 0);
    for (let i = 0; i < 5; i++) {
      rib.peerDown(flapper.id);
      rib.peerUp(flapper.id, info);
      const held: Held = new Map();
      receive(rib, flapper, held, 100, 10);
      assert.equal(held.size, 0, `session ${i}: never sent the route`);
    }
    const classes = (rib as unknown as { classes: Map<string, { out: { get(key: string): { withheld: unknown } | undefined } }> }).classes;
    const node = [...classes.values()][0]!.out.get([...rib.loc.values()][0]!.key)!;
    assert.ok(!Array.isArray(node.withheld), 'one reader, the current one');
  });
});
