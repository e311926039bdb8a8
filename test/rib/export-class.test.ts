// SPDX-License-Identifier: Apache-2.0
// Export classes (update groups, src/rib/export-class.ts): peers with the same export inputs
// share export answers and encoded UPDATEs, while what names one peer itself — split horizon,
// RFC 4456 §8 ORIGINATOR_ID, RFC 4271 §5.1.3 next hop = the peer's address — stays per peer
// whatever order the peers are served in.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Rib, type RibPeerConfig } from '../../src/rib/rib.ts';
import { encodeBatch } from '../../src/rib/packer.ts';
import { EncodeCache } from '../../src/rib/export-class.ts';
import { KeyNlri } from '../../src/rib/prefix-key.ts';
import { ACCEPT_ALL, compilePolicy } from '../../src/policy/compile.ts';
import { decodeUpdate, encodeUpdate } from '../../src/bgp/messages/update.ts';
import { parsePrefix, prefixToString } from '../../src/bgp/messages/nlri.ts';
import { attributesForAnnounce, type RouteAttributes } from '../../src/bgp/messages/route-view.ts';
import type { DecodedUpdate, Family } from '../../src/bgp/messages/types.ts';
import type { PeerRef } from '../../src/rib/types.ts';
import { ipv4ToBytes, dottedToU32 } from '../../src/util/ip.ts';
import { ASN, CTX, ROUTER_ID, SELF, client } from './rr-fixtures.ts';



function attrs(nextHop: string, over: Partial<RouteAttributes> = {}): RouteAttributes {
  return { origin: 0, asPath: [], nextHop: ipv4ToBytes(nextHop), localPref: 100, atomicAggregate: false, communities: [], largeCommunities: [], extendedCommunities: [], clusterList: [], unknown: [], ...over };
}

function update(prefixes: string[], a: RouteAttributes): DecodedUpdate {
  const nlri = prefixes.map((p) => parsePrefix(p)!);
  return decodeUpdate(encodeUpdate({ type: 'update', withdrawn: [], attributes: attributesForAnnounce(a, 'ipv4-unicast', nlri, CTX), nlri }, CTX).subarray(19), CTX);
}

function lab(n: number, over: (ref: PeerRef) => Partial<RibPeerConfig> = () => ({})): { rib: Rib; peers: PeerRef[] } {
  const rib = new Rib({ localAsn: ASN, routerId: ROUTER_ID, clusterId: ROUTER_ID });
  const peers = Array.from({ length: n }, (_, i) => client(i + 2));
  for (const ref of peers) rib.setPeer({ ref, importPolicy: ACCEPT_ALL, exportPolicy: ACCEPT_ALL, nextHopMode: 'auto', allowOwnAs: 0, ...over(ref) });
  for (const ref of peers) rib.peerUp(ref.id, { families: ['ipv4-unicast'], addPathTx: new Set(), self: SELF });
  return { rib, peers };
}

/** The frames the speaker would send to `ref` now (through the class's shared encodings). */
function frames(rib: Rib, ref: PeerRef): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let b = rib.takeOutput(ref.id, 10_000); b; b = rib.takeOutput(ref.id, 10_000)) out.push(...encodeBatch(b, CTX, rib.encodeCache(ref.id)));
  return out;
}

function prefixes(fs: Uint8Array[]): string[] {
  return fs.flatMap((f) => decodeUpdate(f.subarray(19), CTX).message.nlri.map(prefixToString)).sort();
}

describe('export classes (update groups)', () => {
  it('identically configured clients form one class and get the very same encoded UPDATE', () => {
    const { rib, peers } = lab(4);
    assert.deepEqual(rib.exportClassSizes(), [4]);
    const [a, b, c, d] = peers as [PeerRef, PeerRef, PeerRef, PeerRef];
    rib.applyUpdate(a.id, update(['10.128.0.0/26'], attrs('10.0.1.2')), CTX, 0);
    const toB = frames(rib, b);
    const toC = frames(rib, c);
    const toD = frames(rib, d);
    assert.equal(toB.length, 1);
    assert.equal(toC[0], toB[0], 'encoded once for the class: the same bytes object');
    assert.equal(toD[0], toB[0]);
    assert.deepEqual(prefixes(toB), ['10.128.0.0/26']);
    assert.deepEqual(frames(rib, a), [], 'split horizon: not back to the client it came from');
  });

  it('a next hop that is a member\'s own address is kept from that member only, in either order (RFC 4271 §5.1.3)', () => {
    for (const order of ['target last', 'target first'] as const) {
      const { rib, peers } = lab(3);
      const [a, b, c] = peers as [PeerRef, PeerRef, PeerRef];
      // From a, with c's address as next hop (third-party next hop, kept on iBGP).
      rib.applyUpdate(a.id, update(['10.128.0.64/26'], attrs('10.0.1.4')), CTX, 0);
      const serve = order === 'target last' ? [b, c] : [c, b];
      const got = new Map(serve.map((p) => [p.id, prefixes(frames(rib, p))]));
      assert.deepEqual(got.get(b.id), ['10.128.0.64/26'], order);
      assert.deepEqual(got.get(c.id), [], `${order}: never to the peer its next hop names`);
    }
  });

  it('a route whose ORIGINATOR_ID is a member\'s router id is kept from that member only (RFC 4456 §8)', () => {
    const { rib, peers } = lab(3);
    const [a, b, c] = peers as [PeerRef, PeerRef, PeerRef];
    rib.applyUpdate(a.id, update(['10.128.0.128/26'], attrs('10.0.1.2', { originatorId: c.routerId, clusterList: [dottedToU32('10.9.9.9')!] })), CTX, 0);
    assert.deepEqual(prefixes(frames(rib, b)), ['10.128.0.128/26']);
    assert.deepEqual(prefixes(frames(rib, c)), []);
    const { rib: rib2, peers: p2 } = lab(3);
    rib2.applyUpdate(p2[0]!.id, update(['10.128.0.128/26'], attrs('10.0.1.2', { originatorId: p2[2]!.routerId, clusterList: [dottedToU32('10.9.9.9')!] })), CTX, 0);
    assert.deepEqual(prefixes(frames(rib2, p2[2]!)), [], 'served first, still excluded');
    assert.deepEqual(prefixes(frames(rib2, p2[1]!)), ['10.128.0.128/26'], 'and the others still get it');
  });

  it('peers with another export policy or next-hop mode are in other classes', () => {
    const reject24 = compilePolicy('no-24', [{ match: { prefixLength: [{ min: 24, max: 24 }] }, action: 'reject' }, { action: 'accept' }] as never);
    const { rib, peers } = lab(4, (ref) => (ref.id === 4 ? { exportPolicy: reject24 } : ref.id === 5 ? { nextHopMode: 'self' } : {}));
    assert.deepEqual(rib.exportClassSizes().sort(), [1, 1, 2]);
    const [a, b, c, d] = peers as [PeerRef, PeerRef, PeerRef, PeerRef];
    rib.applyUpdate(a.id, update(['10.1.0.0/24', '10.2.0.0/25'], attrs('10.0.1.2')), CTX, 0);
    const toB = frames(rib, b);
    assert.deepEqual(prefixes(toB), ['10.1.0.0/24', '10.2.0.0/25']);
    assert.deepEqual(prefixes(frames(rib, c)), ['10.2.0.0/25'], 'its own policy applies');
    const toD = frames(rib, d);
    const hop = decodeUpdate(toD[0]!.subarray(19), CTX).message.attributes.find((x) => x.kind === 'next-hop');
    assert.deepEqual(hop?.kind === 'next-hop' ? hop.nextHop : undefined, SELF.ipv4, 'next hop self');
    assert.notEqual(toD[0], toB[0], 'not the frames of another class');
    rib.peerDown(d.id);
    assert.deepEqual(rib.exportClassSizes().sort(), [1, 2], 'a class goes with its last member');
  });

  it('encodings are kept until every member has read past their batch, then forgotten', () => {
    const { rib, peers } = lab(3);
    const [a, b, c] = peers as [PeerRef, PeerRef, PeerRef];
    const blocks = Array.from({ length: 300 }, (_, i) => `10.${128 + (i >> 8)}.${i & 255}.0/26`);
    rib.applyUpdate(a.id, update(blocks, attrs('10.0.1.2')), CTX, 0);
    const cache = rib.encodeCache(b.id)!;
    assert.equal(rib.encodeCache(c.id), cache, 'one cache for the class');
    const toB = frames(rib, b);
    for (let i = 0; i < 6; i++) rib.takeOutput(b.id, 10_000); // looks on schedule: c and a have not read
    assert.ok(cache.size > 0, 'kept while a member has yet to read the batch');
    const toC = frames(rib, c);
    assert.ok(toB.length > 0 && toC.length === toB.length && toC.every((f, i) => f === toB[i]), 'the other member is sent the very frames encoded for the first');
    assert.deepEqual(frames(rib, a), [], 'split horizon');
    for (let i = 0; i < 3; i++) rib.takeOutput(a.id, 10_000); // the next look (once per 3 takes)
    assert.equal(cache.size, 0, 'every member read past them: nothing kept');
    // Withdrawals alike, and a member that leaves holds nothing back.
    const withdrawn = blocks.map((p) => parsePrefix(p)!);
    rib.applyUpdate(a.id, decodeUpdate(encodeUpdate({ type: 'update', withdrawn, attributes: [], nlri: [] }, CTX).subarray(19), CTX), CTX, 0);
    const gone = frames(rib, b).flatMap((f) => decodeUpdate(f.subarray(19), CTX).message.withdrawn.map(prefixToString));
    assert.deepEqual(gone.sort(), [...blocks].sort());
    assert.ok(cache.size > 0, 'the withdrawals, encoded and kept for c');
    rib.peerDown(c.id);
    frames(rib, a);
    for (let i = 0; i < 3; i++) rib.takeOutput(b.id, 10_000);
    assert.equal(cache.size, 0, 'c left: nothing is kept for it');
  });

  it('an encode cache forgets its entries in the order they were made, each once every member is past it', () => {
    const cache = new EncodeCache();
    const list = (...keys: string[]): KeyNlri[] => keys.map((k) => new KeyNlri(k));
    const [x, y, z] = [list('x1', 'x2'), list('y1'), list('z1')];
    const frame = (n: number): Uint8Array[] => [new Uint8Array([n])];
    cache.set(null, 'ipv4-unicast', x, CTX, frame(1), 5);
    cache.set(null, 'ipv4-unicast', y, CTX, frame(2), 3); // a slow member's, made later for an earlier version
    cache.set(null, 'ipv4-unicast', z, CTX, frame(3), 8);
    cache.forget(4);
    assert.equal(cache.size, 3, 'the first made is still needed: nothing behind it goes yet');
    cache.forget(5);
    assert.deepEqual([cache.get(null, 'ipv4-unicast', x, CTX), cache.get(null, 'ipv4-unicast', y, CTX)], [undefined, undefined]);
    assert.deepEqual(cache.get(null, 'ipv4-unicast', z, CTX)?.[0], new Uint8Array([3]));
    // Encoded again for the same first NLRI (new settings or a new pass): the newer entry stays
    // when the older one's turn comes.
    const w = list('w1');
    cache.set(null, 'ipv4-unicast', w, CTX, frame(4), 9);
    cache.set(null, 'ipv4-unicast', w, CTX, frame(5), 12);
    cache.forget(10);
    assert.deepEqual(cache.get(null, 'ipv4-unicast', w, CTX)?.[0], new Uint8Array([5]));
    assert.equal(cache.size, 1);
    cache.forget(12);
    assert.equal(cache.size, 0);
  });

  it('an encode cache keeps at most its bound of entries, the oldest going first, whatever the members have read', () => {
    const cache = new EncodeCache(3);
    const lists = Array.from({ length: 5 }, (_, i) => [new KeyNlri(`k${i}`)]);
    lists.forEach((l, i) => cache.set(null, 'ipv4-unicast', l, CTX, [new Uint8Array([i])], i));
    assert.equal(cache.size, 3);
    assert.deepEqual(lists.map((l) => cache.get(null, 'ipv4-unicast', l, CTX)?.[0]?.[0]), [undefined, undefined, 2, 3, 4]);
    // The same first NLRI encoded again and again (a slow member never reading): still bounded.
    for (let i = 0; i < 20; i++) cache.set(null, 'ipv4-unicast', lists[4]!, CTX, [new Uint8Array([100 + i])], 10 + i);
    assert.ok(cache.size <= 3);
    assert.equal(cache.get(null, 'ipv4-unicast', lists[4]!, CTX)?.[0]?.[0], 119, 'the newest encoding is the one kept');
    const made = (cache as unknown as { made: unknown[]; madeHead: number });
    assert.ok(made.made.length - made.madeHead <= 6, `${made.made.length - made.madeHead} encodings held for 3 kept`);
  });
});
