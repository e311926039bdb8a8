// SPDX-License-Identifier: Apache-2.0
// The RIB end to end without sockets: UPDATEs in, decision, reflection and full-mesh rules,
// policies, and what lands in each peer's Adj-RIB-Out (and how it packs into UPDATEs).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Rib, type RibPeerConfig } from '../../src/rib/rib.ts';
import { KeyNlri } from '../../src/rib/prefix-key.ts';
import { encodeBatch } from '../../src/rib/packer.ts';
import { ACCEPT_ALL, REJECT_ALL, compilePolicy } from '../../src/policy/compile.ts';
import { decodeUpdate, encodeUpdate } from '../../src/bgp/messages/update.ts';
import { parsePrefix, prefixToString } from '../../src/bgp/messages/nlri.ts';
import { attributesForAnnounce, routeAttributes, type RouteAttributes } from '../../src/bgp/messages/route-view.ts';
import type { CodecContext, DecodedUpdate, Family, Nlri } from '../../src/bgp/messages/types.ts';
import type { PeerRef } from '../../src/rib/types.ts';
import { ipv4ToBytes, u32ToDotted, dottedToU32 } from '../../src/util/ip.ts';

const LOCAL_ASN = 65000;
const ROUTER_ID = dottedToU32('10.0.0.1')!;
const CLUSTER_ID = dottedToU32('10.0.0.1')!;

function ctx(peerType: 'ibgp' | 'ebgp', addPath = false): CodecContext {
  return {
    as4: true,
    maxMessageSize: 4096,
    addPathReceive: new Set<Family>(addPath ? ['ipv4-unicast'] : []),
    addPathSend: new Set<Family>(addPath ? ['ipv4-unicast'] : []),
    extendedNextHopIpv4: false,
    peerType,
    families: new Set<Family>(['ipv4-unicast']),
  };
}

let nextId = 0;
function peer(name: string, asn: number, opts: { rrClient?: boolean; routerId?: string } = {}): PeerRef {
  const address = `10.0.1.${nextId + 2}`;
  return {
    id: nextId++,
    name,
    asn,
    type: asn === LOCAL_ASN ? 'ibgp' : 'ebgp',
    address: ipv4ToBytes(address)!,
    addressText: address,
    rrClient: opts.rrClient ?? false,
    routerId: dottedToU32(opts.routerId ?? address)!,
  };
}

function peerConfig(ref: PeerRef, over: Partial<RibPeerConfig> = {}): RibPeerConfig {
  return { ref, importPolicy: ACCEPT_ALL, exportPolicy: ACCEPT_ALL, nextHopMode: 'auto', allowOwnAs: 0, ...over };
}

function attrs(over: Partial<RouteAttributes> = {}): RouteAttributes {
  return { origin: 0, asPath: [], nextHop: ipv4ToBytes('10.9.9.9'), localPref: 100, atomicAggregate: false, communities: [], largeCommunities: [], extendedCommunities: [], clusterList: [], unknown: [], ...over };
}

/** An UPDATE as the peer would send it, through the real encoder and decoder. */
function update(from: PeerRef, prefixes: string[], a: RouteAttributes, withdrawn: string[] = [], pathId?: number): DecodedUpdate {
  const c = ctx(from.type, pathId !== undefined);
  const nlri = prefixes.map((p) => ({ ...parsePrefix(p)!, ...(pathId !== undefined ? { pathId } : {}) }));
  const w = withdrawn.map((p) => ({ ...parsePrefix(p)!, ...(pathId !== undefined ? { pathId } : {}) }));
  const attributes = nlri.length ? attributesForAnnounce(a, 'ipv4-unicast', nlri, c) : [];
  const bytes = encodeUpdate({ type: 'update', withdrawn: w, attributes, nlri }, c);
  return decodeUpdate(bytes.subarray(19), c);
}

const SELF = { ipv4: ipv4ToBytes('10.0.0.1') };

function setup(...refs: [PeerRef, Partial<RibPeerConfig>?][]): Rib {
  const rib = new Rib({ localAsn: LOCAL_ASN, routerId: ROUTER_ID, clusterId: CLUSTER_ID });
  for (const [ref, over] of refs) rib.setPeer(peerConfig(ref, over));
  return rib;
}

function up(rib: Rib, ref: PeerRef, addPath = false): void {
  rib.peerUp(ref.id, { families: ['ipv4-unicast'], addPathTx: new Set<Family>(addPath ? ['ipv4-unicast'] : []), self: SELF });
}

/** Everything staged for a peer, decoded back from the UPDATEs the packer makes. */
function drain(rib: Rib, ref: PeerRef, addPath = false): { announced: Map<string, RouteAttributes & { pathId?: number }>; withdrawn: string[]; updates: number } {
  const c = ctx(ref.type, addPath);
  const announced = new Map<string, RouteAttributes & { pathId?: number }>();
  const withdrawn: string[] = [];
  let updates = 0;
  for (let batch = rib.takeOutput(ref.id, 10_000); batch; batch = rib.takeOutput(ref.id, 10_000)) {
    for (const frame of encodeBatch(batch, c)) {
      updates++;
      const d = decodeUpdate(frame.subarray(19), c);
      for (const n of d.message.withdrawn) withdrawn.push(key(n));
      for (const n of d.message.nlri) announced.set(key(n), { ...routeAttributes(d.message, 'ipv4-unicast', c), ...(n.pathId !== undefined ? { pathId: n.pathId } : {}) });
    }
  }
  return { announced, withdrawn, updates };
}

function key(n: Nlri): string {
  return n.pathId === undefined ? prefixToString(n) : `${prefixToString(n)}#${n.pathId}`;
}

describe('RIB: full mesh (no route-reflector clients)', () => {
  it('iBGP-learned routes go to eBGP peers (prepended, next hop self) but not to other iBGP peers', () => {
    const a = peer('a', LOCAL_ASN);
    const b = peer('b', LOCAL_ASN);
    const e = peer('e', 65100);
    const rib = setup([a], [b], [e]);
    for (const p of [a, b, e]) up(rib, p);
    rib.applyUpdate(a.id, update(a, ['10.1.0.0/24'], attrs()), ctx('ibgp'), 0);
    assert.equal(drain(rib, b).announced.size, 0, 'RFC 4271 §9.2: not to another internal peer');
    assert.equal(drain(rib, a).announced.size, 0, 'never back to the source');
    const toE = drain(rib, e).announced.get('10.1.0.0/24')!;
    assert.deepEqual(toE.asPath, [{ type: 2, asns: [LOCAL_ASN] }]);
    assert.deepEqual(toE.nextHop, SELF.ipv4);
    assert.equal(toE.localPref, undefined, 'no LOCAL_PREF to eBGP');
  });

  it('eBGP-learned routes go to every iBGP peer with their next hop and LOCAL_PREF', () => {
    const a = peer('a', LOCAL_ASN);
    const e = peer('e', 65100);
    const rib = setup([a], [e]);
    up(rib, a);
    up(rib, e);
    rib.applyUpdate(e.id, update(e, ['10.2.0.0/24'], attrs({ asPath: [{ type: 2, asns: [65100] }], localPref: undefined, nextHop: e.address })), ctx('ebgp'), 0);
    const got = drain(rib, a).announced.get('10.2.0.0/24')!;
    assert.deepEqual(got.nextHop, e.address, 'iBGP keeps the next hop');
    assert.equal(got.localPref, 100);
    assert.deepEqual(got.asPath, [{ type: 2, asns: [65100] }], 'AS_PATH untouched to iBGP');
  });
});

describe('RIB: route reflection (RFC 4456)', () => {
  it('a client route is reflected to clients and non-clients with ORIGINATOR_ID and CLUSTER_LIST', () => {
    const c1 = peer('c1', LOCAL_ASN, { rrClient: true, routerId: '1.1.1.1' });
    const c2 = peer('c2', LOCAL_ASN, { rrClient: true });
    const n1 = peer('n1', LOCAL_ASN);
    const rib = setup([c1], [c2], [n1]);
    for (const p of [c1, c2, n1]) up(rib, p);
    rib.applyUpdate(c1.id, update(c1, ['10.3.0.0/24'], attrs()), ctx('ibgp'), 0);
    for (const to of [c2, n1]) {
      const got = drain(rib, to).announced.get('10.3.0.0/24')!;
      assert.equal(u32ToDotted(got.originatorId!), '1.1.1.1', `${to.name}: ORIGINATOR_ID = the client's router id`);
      assert.deepEqual(got.clusterList.map(u32ToDotted), ['10.0.0.1'], `${to.name}: CLUSTER_LIST = our cluster id`);
      assert.deepEqual(got.nextHop, ipv4ToBytes('10.9.9.9'), 'reflection keeps the next hop');
    }
  });

  it('a non-client route is reflected to clients only', () => {
    const c1 = peer('c1', LOCAL_ASN, { rrClient: true });
    const n1 = peer('n1', LOCAL_ASN);
    const n2 = peer('n2', LOCAL_ASN);
    const rib = setup([c1], [n1], [n2]);
    for (const p of [c1, n1, n2]) up(rib, p);
    rib.applyUpdate(n1.id, update(n1, ['10.4.0.0/24'], attrs()), ctx('ibgp'), 0);
    assert.equal(drain(rib, c1).announced.size, 1);
    assert.equal(drain(rib, n2).announced.size, 0);
  });

  it('a route carrying our cluster id is rejected at import with the reason, and never reaches the Loc-RIB', () => {
    const c1 = peer('c1', LOCAL_ASN, { rrClient: true });
    const rib = setup([c1]);
    rib.applyUpdate(c1.id, update(c1, ['10.5.0.0/24'], attrs({ originatorId: 0x01010101, clusterList: [CLUSTER_ID] })), ctx('ibgp'), 0);
    const [entry] = [...rib.adjIn(c1.id)];
    assert.match(entry!.rejected!, /CLUSTER_LIST/);
    assert.equal(rib.loc.size, 0);
  });
});

describe('RIB: policies', () => {
  it('import policy rejections keep the route in Adj-RIB-In with a reason; re-import after a policy change accepts it', () => {
    const e = peer('e', 65100);
    const rib = setup([e, { importPolicy: REJECT_ALL }]);
    rib.applyUpdate(e.id, update(e, ['10.6.0.0/24'], attrs({ asPath: [{ type: 2, asns: [65100] }] })), ctx('ebgp'), 0);
    assert.match([...rib.adjIn(e.id)][0]!.rejected!, /import policy/);
    assert.equal(rib.loc.size, 0);
    rib.setPeer(peerConfig(e, { importPolicy: ACCEPT_ALL }));
    rib.reimport(e.id);
    assert.equal([...rib.adjIn(e.id)][0]!.rejected, undefined);
    assert.equal(rib.loc.size, 1);
  });

  it('export policy actions reach the wire: communities added, others rejected', () => {
    const a = peer('a', LOCAL_ASN);
    const e = peer('e', 65100);
    const policy = compilePolicy('out', [
      { match: { prefixWithin: ['10.7.0.0/16'] }, addCommunities: ['65000:7'], action: 'accept' },
      { action: 'reject' },
    ]);
    const rib = setup([a], [e, { exportPolicy: policy }]);
    up(rib, e);
    rib.applyUpdate(a.id, update(a, ['10.7.1.0/24', '10.8.0.0/24'], attrs()), ctx('ibgp'), 0);
    const out = drain(rib, e).announced;
    assert.deepEqual([...out.keys()], ['10.7.1.0/24']);
    assert.deepEqual(out.get('10.7.1.0/24')!.communities, [65000 * 65536 + 7]);
  });
});

describe('RIB: decision and Adj-RIB-Out', () => {
  it('the better path replaces the queued one; a withdrawal falls back to the other path', () => {
    const a = peer('a', LOCAL_ASN);
    const b = peer('b', LOCAL_ASN);
    const e = peer('e', 65100);
    const rib = setup([a], [b], [e]);
    up(rib, e);
    rib.applyUpdate(a.id, update(a, ['10.10.0.0/24'], attrs({ localPref: 100 })), ctx('ibgp'), 0);
    rib.applyUpdate(b.id, update(b, ['10.10.0.0/24'], attrs({ localPref: 200, nextHop: ipv4ToBytes('10.9.9.8') })), ctx('ibgp'), 0);
    assert.equal(rib.pending(e.id), 1, 'one queued change for the prefix, not two');
    drain(rib, e);
    const dest = [...rib.loc.values()][0]!;
    assert.equal(dest.decision.best?.peer?.name, 'b');
    assert.match(dest.decision.reasons.get(dest.paths.find((p) => p.peer?.name === 'a')!)!, /LOCAL_PREF/);
    rib.applyUpdate(b.id, update(b, [], attrs(), ['10.10.0.0/24']), ctx('ibgp'), 0);
    // a's path becomes best, but to eBGP both look the same (self, our AS, no LOCAL_PREF): nothing to send.
    assert.equal(rib.pending(e.id), 0, 'an unchanged advertisement is not re-sent');
    rib.applyUpdate(a.id, update(a, [], attrs(), ['10.10.0.0/24']), ctx('ibgp'), 0);
    assert.deepEqual(drain(rib, e).withdrawn, ['10.10.0.0/24']);
  });

  it('prefixes sharing attributes travel in one UPDATE', () => {
    const a = peer('a', LOCAL_ASN);
    const e = peer('e', 65100);
    const rib = setup([a], [e]);
    up(rib, e);
    const prefixes = Array.from({ length: 300 }, (_, i) => `10.${20 + (i >> 8)}.${i & 0xff}.0/24`);
    rib.applyUpdate(a.id, update(a, prefixes, attrs()), ctx('ibgp'), 0);
    const got = drain(rib, e);
    assert.equal(got.announced.size, 300);
    assert.equal(got.updates, 1, '300 /24s with one attribute set fit one 4096-byte UPDATE');
  });

  it('ADD-PATH tx sends every path of the ECMP set with its own path id', () => {
    const c1 = peer('c1', LOCAL_ASN, { rrClient: true, routerId: '1.1.1.1' });
    const c2 = peer('c2', LOCAL_ASN, { rrClient: true, routerId: '2.2.2.2' });
    const c3 = peer('c3', LOCAL_ASN, { rrClient: true, routerId: '3.3.3.3' });
    const rib = setup([c1], [c2], [c3]);
    up(rib, c3, true);
    rib.applyUpdate(c1.id, update(c1, ['10.30.0.0/24'], attrs({ nextHop: ipv4ToBytes('10.9.0.1') })), ctx('ibgp'), 0);
    rib.applyUpdate(c2.id, update(c2, ['10.30.0.0/24'], attrs({ nextHop: ipv4ToBytes('10.9.0.2') })), ctx('ibgp'), 0);
    const got = drain(rib, c3, true).announced;
    assert.equal(got.size, 2);
    const hops = [...got.values()].map((a) => [...a.nextHop!].join('.')).sort();
    assert.deepEqual(hops, ['10.9.0.1', '10.9.0.2']);
    assert.notEqual([...got.values()][0]!.pathId, [...got.values()][1]!.pathId);
  });

  it('graceful restart: stale routes stay until swept, fresh ones replace them', () => {
    const a = peer('a', LOCAL_ASN);
    const rib = setup([a]);
    rib.applyUpdate(a.id, update(a, ['10.40.0.0/24', '10.41.0.0/24'], attrs()), ctx('ibgp'), 0);
    assert.equal(rib.markStale(a.id, ['ipv4-unicast']), 2);
    assert.equal([...rib.loc.values()].every((d) => d.decision.best?.stale), true, 'stale paths stay usable');
    rib.applyUpdate(a.id, update(a, ['10.40.0.0/24'], attrs()), ctx('ibgp'), 0);
    assert.equal(rib.staleCount(a.id), 1);
    assert.equal(rib.sweepStale(a.id, 'ipv4-unicast'), 1);
    assert.deepEqual([...rib.loc.values()].map((d) => prefixToString(d.nlri)), ['10.40.0.0/24']);
  });

  it('locally originated routes go to every peer with next hop self and End-of-RIB-ready staging', () => {
    const a = peer('a', LOCAL_ASN);
    const e = peer('e', 65100);
    const rib = setup([a], [e]);
    rib.setLocalRoutes('originated', [{ nlri: parsePrefix('10.244.1.0/26')!, family: 'ipv4-unicast', source: 'originated' }], 0);
    up(rib, a);
    up(rib, e);
    assert.deepEqual(drain(rib, a).announced.get('10.244.1.0/26')!.nextHop, SELF.ipv4);
    assert.deepEqual(drain(rib, e).announced.get('10.244.1.0/26')!.asPath, [{ type: 2, asns: [LOCAL_ASN] }]);
    rib.setLocalRoutes('originated', [], 0);
    assert.deepEqual(drain(rib, a).withdrawn, ['10.244.1.0/26']);
  });
});

describe('RIB: a received prefix is kept as its key (one small object, not the decoded NLRI)', () => {
  it('the Adj-RIB-In entry, its path and the Loc-RIB destination share one KeyNlri; under ADD-PATH the destination has none of the path id', () => {
    const a = peer('a', LOCAL_ASN, { rrClient: true });
    const b = peer('b', LOCAL_ASN, { rrClient: true });
    const rib = setup([a], [b]);
    up(rib, a);
    up(rib, b, true);
    rib.applyUpdate(a.id, update(a, ['10.7.0.0/26'], attrs()), ctx('ibgp'), 0);
    rib.applyUpdate(b.id, update(b, ['10.8.0.0/24'], attrs()), ctx('ibgp', true), 0);
    rib.applyUpdate(b.id, update(b, ['10.8.0.0/24'], attrs({ localPref: 50 }), [], 7), ctx('ibgp', true), 0);
    const [entry] = [...rib.adjIn(a.id)];
    assert.ok(entry?.nlri instanceof KeyNlri);
    assert.equal(entry.path?.nlri, entry.nlri);
    const dest = rib.loc.get(entry.nlri.key)!;
    assert.equal(dest.nlri, entry.nlri);
    assert.equal(prefixToString(dest.nlri), '10.7.0.0/26');
    const withIds = [...rib.adjIn(b.id)];
    assert.deepEqual(withIds.map((e) => prefixToString(e.nlri)).sort(), ['10.8.0.0/24', '10.8.0.0/24 (path 7)']);
    const multi = rib.loc.get(KeyNlri.of(withIds[0]!.nlri).destKey)!;
    assert.equal(multi.paths.length, 2);
    assert.equal(multi.nlri.pathId, undefined);
    assert.equal(prefixToString(multi.nlri), '10.8.0.0/24');
    // a is sent the best of b's two paths, its prefix written from the kept key.
    assert.deepEqual([...drain(rib, a).announced.keys()].sort(), ['10.8.0.0/24']);
  });
});
