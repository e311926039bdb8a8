// SPDX-License-Identifier: Apache-2.0
// A peer's Adj-RIB-In (src/rib/adj-rib-in.ts) against a model. Accepted routes live only in the
// Loc-RIB and are found there; rejected ones are kept apart. Random UPDATEs from two
// route-reflector clients (one with ADD-PATH), each route accepted or rejected by the
// CLUSTER_LIST loop check, withdrawals, session ends and re-imports must leave every view of the
// Adj-RIB-In — its entries, their count, the entries of one destination, and the Loc-RIB's paths —
// as the plain model says: the last word of the peer on each (prefix, path id). Graceful restart
// marks and sweeps stale routes; the per-family counts must follow without a walk of the routes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Rib } from '../../src/rib/rib.ts';
import { ACCEPT_ALL } from '../../src/policy/compile.ts';
import { decodeUpdate, encodeUpdate } from '../../src/bgp/messages/update.ts';
import { parsePrefix, prefixToString } from '../../src/bgp/messages/nlri.ts';
import { attributesForAnnounce, type RouteAttributes } from '../../src/bgp/messages/route-view.ts';
import type { CodecContext, DecodedUpdate, Family, Nlri } from '../../src/bgp/messages/types.ts';
import { prefixKey } from '../../src/rib/prefix-key.ts';
import type { PeerRef } from '../../src/rib/types.ts';
import { ipv4ToBytes, dottedToU32 } from '../../src/util/ip.ts';

const LOCAL_ASN = 65000;
const CLUSTER_ID = dottedToU32('10.0.0.1')!;
const PREFIXES = ['10.1.0.0/24', '10.2.0.0/24', '10.3.0.0/26'];

function ctx(addPath: boolean): CodecContext {
  const families = new Set<Family>(addPath ? ['ipv4-unicast'] : []);
  return { as4: true, maxMessageSize: 4096, addPathReceive: families, addPathSend: families, extendedNextHopIpv4: false, peerType: 'ibgp', families: new Set<Family>(['ipv4-unicast']) };
}

function client(id: number): PeerRef {
  const address = `10.0.1.${id + 2}`;
  return { id, name: `c${id}`, asn: LOCAL_ASN, type: 'ibgp', address: ipv4ToBytes(address)!, addressText: address, rrClient: true, routerId: dottedToU32(address)! };
}

/** Rejected at import: our cluster id in CLUSTER_LIST (RFC 4456 §8). */
function attrs(med: number, rejected: boolean): RouteAttributes {
  return {
    origin: 0, asPath: [], nextHop: ipv4ToBytes('10.9.9.9'), med, localPref: 100, atomicAggregate: false, communities: [], largeCommunities: [], extendedCommunities: [], unknown: [],
    originatorId: 0x01010101, clusterList: rejected ? [CLUSTER_ID] : [],
  };
}

function nlri(prefix: string, pathId: number | undefined): Nlri {
  return { ...parsePrefix(prefix)!, ...(pathId !== undefined ? { pathId } : {}) };
}

/** An UPDATE through the real encoder and decoder. */
function update(c: CodecContext, announce: Nlri[], a: RouteAttributes | undefined, withdraw: Nlri[]): DecodedUpdate {
  const attributes = announce.length ? attributesForAnnounce(a!, 'ipv4-unicast', announce, c) : [];
  return decodeUpdate(encodeUpdate({ type: 'update', withdrawn: withdraw, attributes, nlri: announce }, c).subarray(19), c);
}

type Op =
  | { kind: 'announce'; peer: number; prefix: number; pathId: number; med: number; rejected: boolean }
  | { kind: 'withdraw'; peer: number; prefix: number; pathId: number }
  | { kind: 'down'; peer: number }
  | { kind: 'reimport'; peer: number }
  | { kind: 'stale'; peer: number }
  | { kind: 'sweep'; peer: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant('announce' as const), peer: fc.nat(1), prefix: fc.nat(2), pathId: fc.integer({ min: 1, max: 2 }), med: fc.nat(2), rejected: fc.boolean() }), weight: 6 },
  { arbitrary: fc.record({ kind: fc.constant('withdraw' as const), peer: fc.nat(1), prefix: fc.nat(2), pathId: fc.integer({ min: 1, max: 2 }) }), weight: 3 },
  { arbitrary: fc.record({ kind: fc.constant('down' as const), peer: fc.nat(1) }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant('reimport' as const), peer: fc.nat(1) }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant('stale' as const), peer: fc.nat(1) }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant('sweep' as const), peer: fc.nat(1) }), weight: 1 },
);

/** An entry as the model and the views both describe it. */
const show = (n: Nlri, rejected: boolean, med: number | undefined, stale: boolean): string => `${prefixToString(n)}${rejected ? ' rejected' : ` med ${String(med)}`}${stale ? ' stale' : ''}`;

test('Adj-RIB-In: entries, counts, per-destination entries and Loc-RIB paths follow what each peer sent last', () => {
  const peers = [client(0), client(1)];
  // Peer 1 negotiated ADD-PATH receive: its routes carry path ids.
  const addPath = [false, true];
  fc.assert(
    fc.property(fc.array(op, { maxLength: 30 }), (ops) => {
      const rib = new Rib({ localAsn: LOCAL_ASN, routerId: CLUSTER_ID, clusterId: CLUSTER_ID });
      for (const ref of peers) rib.setPeer({ ref, importPolicy: ACCEPT_ALL, exportPolicy: ACCEPT_ALL, nextHopMode: 'auto', allowOwnAs: 0 });
      const model = peers.map(() => new Map<string, { n: Nlri; rejected: boolean; med: number; stale: boolean }>());
      for (const o of ops) {
        const c = ctx(addPath[o.peer]!);
        const held = model[o.peer]!;
        if (o.kind === 'announce' || o.kind === 'withdraw') {
          const n = nlri(PREFIXES[o.prefix]!, addPath[o.peer] ? o.pathId : undefined);
          if (o.kind === 'announce') {
            rib.applyUpdate(o.peer, update(c, [n], attrs(o.med, o.rejected), []), c, 0);
            held.set(prefixKey(n), { n, rejected: o.rejected, med: o.med, stale: false });
          } else {
            rib.applyUpdate(o.peer, update(c, [], undefined, [n]), c, 0);
            held.delete(prefixKey(n));
          }
        } else if (o.kind === 'down') {
          assert.equal(rib.withdrawAll(o.peer), held.size);
          held.clear();
        } else if (o.kind === 'stale') {
          // RFC 4724 §4.2: the session went down with graceful restart.
          assert.equal(rib.markStale(o.peer, ['ipv4-unicast']), held.size);
          for (const e of held.values()) e.stale = true;
        } else if (o.kind === 'sweep') {
          const stale = [...held].filter(([, e]) => e.stale);
          assert.equal(rib.sweepStale(o.peer), stale.length);
          for (const [k] of stale) held.delete(k);
        } else rib.reimport(o.peer);
        for (const [id, m] of model.entries()) {
          const all = [...m.values()];
          const want = all.map((e) => show(e.n, e.rejected, e.med, e.stale)).sort();
          const entries = [...rib.adjIn(id)];
          assert.deepEqual(entries.map((e) => show(e.nlri, e.rejected !== undefined, e.path?.attrs.med, e.stale)).sort(), want, `peer ${id}: entries`);
          assert.equal(rib.acceptedCount(id), all.filter((e) => !e.rejected).length, `peer ${id}: accepted`);
          const counts = rib.adjInCounts(id).get('ipv4-unicast') ?? { received: 0, accepted: 0, rejected: 0, stale: 0 };
          const wantCounts = { received: all.length, accepted: all.filter((e) => !e.rejected).length, rejected: all.filter((e) => e.rejected).length, stale: all.filter((e) => e.stale).length };
          assert.deepEqual({ ...counts }, wantCounts, `peer ${id}: counts`);
          for (const prefix of PREFIXES) {
            const destKey = prefixKey(parsePrefix(prefix)!);
            const forDest = rib.adjInFor(id, destKey).map((e) => show(e.nlri, e.rejected !== undefined, e.path?.attrs.med, e.stale)).sort();
            assert.deepEqual(forDest, all.filter((e) => prefixKey({ ...e.n, pathId: undefined }) === destKey).map((e) => show(e.n, e.rejected, e.med, e.stale)).sort(), `peer ${id} ${prefix}: entries of the destination`);
            const inLoc = (rib.loc.get(destKey)?.paths ?? []).filter((p) => p.peer?.id === id).map((p) => show(p.nlri, false, p.attrs.med, p.stale)).sort();
            assert.deepEqual(inLoc, forDest.filter((s) => !s.includes('rejected')), `peer ${id} ${prefix}: Loc-RIB paths`);
          }
        }
      }
    }),
    { numRuns: 300 },
  );
});
