// SPDX-License-Identifier: Apache-2.0
// Attribute semantics: the RFC 6793 AS4 merge, AS_PATH text, routeAttributes() and
// attributesForAnnounce() (what Tern sends to OLD/NEW, iBGP/eBGP peers).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { asPathFromNumbers, asPathToString, attributesForAnnounce, routeAttributes } from '../../src/bgp/messages/route-view.ts';
import type { RouteAttributes } from '../../src/bgp/messages/route-view.ts';
import { mergeAs4Path } from '../../src/bgp/messages/attributes/as-path.ts';
import { decodeUpdate, encodeUpdate } from '../../src/bgp/messages/update.ts';
import { parsePrefix } from '../../src/bgp/messages/nlri.ts';
import type { CodecContext, PathAttribute, UpdateMessage } from '../../src/bgp/messages/types.ts';
import { EBGP, EBGP_OLD, IBGP } from '../fixtures/messages/update/build.ts';

const SEQ = 2;
const SET = 1;

describe('AS_PATH text (BIRD style)', () => {
  it('sequence, set and confederation segments', () => {
    assert.equal(
      asPathToString([
        { type: 3, asns: [65010, 65011] },
        { type: 4, asns: [65012] },
        { type: SEQ, asns: [65001, 65002] },
        { type: SET, asns: [65003, 65004] },
      ]),
      '(65010 65011) [65012] 65001 65002 {65003 65004}',
    );
    assert.equal(asPathToString([]), '');
    assert.deepEqual(asPathFromNumbers([1, 2]), [{ type: SEQ, asns: [1, 2] }]);
    assert.deepEqual(asPathFromNumbers([]), []);
  });
});

describe('RFC 6793 §4.2.3 AS4_PATH reconstruction', () => {
  it('prepends the leading ASNs AS_PATH has beyond AS4_PATH', () => {
    const asPath = [{ type: SEQ, asns: [65001, 23456, 23456, 65002] }];
    const as4 = [{ type: SEQ, asns: [4200000001, 4200000002, 65002] }];
    assert.deepEqual(mergeAs4Path(asPath, as4), [{ type: SEQ, asns: [65001, 4200000001, 4200000002, 65002] }]);
  });
  it('AS4_PATH longer than AS_PATH → ignored', () => {
    const asPath = [{ type: SEQ, asns: [65001] }];
    assert.deepEqual(mergeAs4Path(asPath, [{ type: SEQ, asns: [1, 2] }]), asPath);
  });
  it('an AS_SET counts as one; confederation segments in AS4_PATH are dropped (RFC 6793 §6)', () => {
    const asPath = [{ type: SEQ, asns: [65001, 23456] }, { type: SET, asns: [23456, 65005] }];
    const as4 = [{ type: 3, asns: [64512] }, { type: SEQ, asns: [4200000001] }, { type: SET, asns: [4200000002, 65005] }];
    assert.deepEqual(mergeAs4Path(asPath, as4), [{ type: SEQ, asns: [65001, 4200000001] }, { type: SET, asns: [4200000002, 65005] }]);
  });
});

function baseRoute(): RouteAttributes {
  return {
    origin: 0,
    asPath: [{ type: SEQ, asns: [65001, 4200000001] }],
    nextHop: Uint8Array.of(192, 0, 2, 1),
    med: 10,
    localPref: 200,
    atomicAggregate: false,
    aggregator: { asn: 4200000001, address: Uint8Array.of(192, 0, 2, 9) },
    communities: [0xfde90001],
    largeCommunities: [[4200000001, 1, 2]],
    extendedCommunities: [Uint8Array.of(0, 2, 0, 0x48, 0, 0, 0, 1)],
    originatorId: 0x0a000001,
    clusterList: [0x0a000002],
    unknown: [{ code: 250, kind: 'unknown', flags: 0xc0, value: Uint8Array.of(1, 2) }],
  };
}

function sendAndReceive(route: RouteAttributes, prefix: string, ctx: CodecContext): { attrs: PathAttribute[]; back: RouteAttributes; msg: UpdateMessage } {
  const nlri = [parsePrefix(prefix)!];
  const family = nlri[0]!.family;
  const attrs = attributesForAnnounce(route, family, nlri, ctx);
  const msg: UpdateMessage = { type: 'update', withdrawn: [], attributes: attrs, nlri: family === 'ipv4-unicast' && attrs[0]?.kind !== 'mp-reach' ? nlri : [] };
  const d = decodeUpdate(encodeUpdate(msg, ctx).subarray(19), ctx);
  assert.equal(d.action, 'none', JSON.stringify(d.problems));
  return { attrs, back: routeAttributes(d.message, family, ctx), msg: d.message };
}

describe('attributesForAnnounce → wire → routeAttributes', () => {
  it('iBGP, NEW speaker: everything survives; unknown transitive gets Partial', () => {
    const { attrs, back } = sendAndReceive(baseRoute(), '10.1.0.0/24', IBGP);
    assert.deepEqual(attrs.map((a) => a.code), [1, 2, 3, 4, 5, 7, 8, 9, 10, 16, 32, 250]);
    assert.equal(attrs.find((a) => a.code === 250)?.flags, 0xe0);
    assert.equal(asPathToString(back.asPath), '65001 4200000001');
    assert.equal(back.localPref, 200);
    assert.equal(back.originatorId, 0x0a000001);
    assert.deepEqual(back.clusterList, [0x0a000002]);
    assert.equal(back.aggregator?.asn, 4200000001);
    assert.deepEqual(back.largeCommunities, [[4200000001, 1, 2]]);
    assert.equal(back.unknown.length, 1);
  });
  it('eBGP: no LOCAL_PREF, ORIGINATOR_ID or CLUSTER_LIST (RFC 4271 §5.1.5, RFC 4456 §8)', () => {
    const { attrs } = sendAndReceive(baseRoute(), '10.1.0.0/24', EBGP);
    assert.deepEqual(attrs.map((a) => a.code), [1, 2, 3, 4, 7, 8, 16, 32, 250]);
  });
  it('OLD speaker: AS_TRANS in AS_PATH/AGGREGATOR plus AS4_PATH/AS4_AGGREGATOR, merged back on receipt', () => {
    const { attrs, back } = sendAndReceive(baseRoute(), '10.1.0.0/24', EBGP_OLD);
    assert.deepEqual(attrs.map((a) => a.code), [1, 2, 3, 4, 7, 8, 16, 17, 18, 32, 250]);
    const wirePath = encodeUpdate({ type: 'update', withdrawn: [], attributes: [attrs[1]!], nlri: [] }, EBGP_OLD);
    assert.equal(Buffer.from(wirePath.subarray(23)).toString('hex'), '40020602' + '02fde95ba0'); // 65001 23456
    assert.equal(asPathToString(back.asPath), '65001 4200000001');
    assert.equal(back.aggregator?.asn, 4200000001);
  });
  it('IPv6: MP_REACH first with global + link-local next hop (RFC 2545 §3, RFC 7606 §5.1)', () => {
    const route = { ...baseRoute(), nextHop: parsePrefix('2001:db8::1/128')!.address, linkLocalNextHop: parsePrefix('fe80::1/128')!.address };
    const { attrs, back } = sendAndReceive(route, '2001:db8:1::/48', IBGP);
    assert.equal(attrs[0]?.kind, 'mp-reach');
    assert.ok(attrs[0]?.kind === 'mp-reach' && attrs[0].nextHop.length === 32 && attrs[0].reserved === 0);
    assert.equal(attrs.some((a) => a.kind === 'next-hop'), false);
    assert.equal(Buffer.from(back.linkLocalNextHop!).toString('hex'), 'fe800000000000000000000000000001');
  });
  it('IPv4 with an IPv6 next hop when RFC 8950 was negotiated → MP_REACH AFI 1', () => {
    const ctx = { ...IBGP, extendedNextHopIpv4: true };
    const route = { ...baseRoute(), nextHop: parsePrefix('2001:db8::1/128')!.address };
    const { attrs, back } = sendAndReceive(route, '10.1.0.0/24', ctx);
    assert.ok(attrs[0]?.kind === 'mp-reach' && attrs[0].afi === 1 && attrs[0].nlri.length === 1);
    assert.equal(back.nextHop?.length, 16);
  });
  it('unknown optional non-transitive attributes are not passed on (RFC 4271 §5)', () => {
    const msg: UpdateMessage = { type: 'update', withdrawn: [], nlri: [], attributes: [{ code: 251, kind: 'unknown', flags: 0x80, value: new Uint8Array(0) }] };
    assert.deepEqual(routeAttributes(msg, 'ipv4-unicast', EBGP).unknown, []);
  });
  it('AS4 attributes from a NEW speaker are ignored (RFC 6793 §6)', () => {
    const msg: UpdateMessage = {
      type: 'update', withdrawn: [], nlri: [],
      attributes: [
        { code: 2, kind: 'as-path', flags: 0x40, segments: [{ type: SEQ, asns: [65001] }], fourOctet: true },
        { code: 17, kind: 'as4-path', flags: 0xc0, segments: [{ type: SEQ, asns: [1, 2, 3] }] },
      ],
    };
    assert.equal(asPathToString(routeAttributes(msg, 'ipv4-unicast', EBGP).asPath), '65001');
  });
  it('AGGREGATOR not AS_TRANS → AS4_PATH and AS4_AGGREGATOR ignored (RFC 6793 §4.2.3)', () => {
    const msg: UpdateMessage = {
      type: 'update', withdrawn: [], nlri: [],
      attributes: [
        { code: 2, kind: 'as-path', flags: 0x40, segments: [{ type: SEQ, asns: [65001, 23456] }], fourOctet: false },
        { code: 7, kind: 'aggregator', flags: 0xc0, asn: 65009, address: Uint8Array.of(1, 1, 1, 1), fourOctet: false },
        { code: 17, kind: 'as4-path', flags: 0xc0, segments: [{ type: SEQ, asns: [4200000001] }] },
        { code: 18, kind: 'as4-aggregator', flags: 0xc0, asn: 4200000009, address: Uint8Array.of(2, 2, 2, 2) },
      ],
    };
    const r = routeAttributes(msg, 'ipv4-unicast', EBGP_OLD);
    assert.equal(asPathToString(r.asPath), '65001 23456');
    assert.equal(r.aggregator?.asn, 65009);
  });
});
