// SPDX-License-Identifier: Apache-2.0
// validateOpen (RFC 4271 §6.2 and friends, each case asserting its (code, subcode)), negotiate()
// (hold time, families, ADD-PATH directions, AS4, extended message/next hop) and buildOpen().
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BgpNotificationError, buildOpen, decodeOpen, encodeOpen, negotiate, peerAsnOf, validateOpen } from '../../src/bgp/messages/index.ts';
import type { Capability, OpenMessage } from '../../src/bgp/messages/index.ts';
import { fromHex } from '../../src/util/reader.ts';

const ID_A = 0x0a000001;
const ID_B = 0x0a000002;

function open(overrides: Partial<OpenMessage> = {}, caps: Capability[] = []): OpenMessage {
  return { type: 'open', version: 4, myAs: 65001, holdTime: 90, bgpId: ID_B, capabilities: caps, otherParameters: [], ...overrides };
}

function rejects(o: OpenMessage, exp: { localAsn: number; peerAsn: number; localBgpId: number }, code: number, subcode: number): void {
  assert.throws(() => validateOpen(o, exp), (e: unknown) => {
    assert.ok(e instanceof BgpNotificationError);
    assert.deepEqual([e.code, e.subcode], [code, subcode], e.message);
    return true;
  });
}

const EBGP = { localAsn: 65000, peerAsn: 65001, localBgpId: ID_A };
const IBGP = { localAsn: 65001, peerAsn: 65001, localBgpId: ID_A };

describe('validateOpen', () => {
  it('accepts a plain OPEN', () => validateOpen(open(), EBGP));
  it('version 3 → 2/1, data = supported version 4', () => {
    rejects(open({ version: 3 }), EBGP, 2, 1);
    try {
      validateOpen(open({ version: 3 }), EBGP);
    } catch (e) {
      assert.deepEqual([...(e as BgpNotificationError).data], [0, 4]);
    }
  });
  it('wrong AS → 2/2', () => rejects(open({ myAs: 65002 }), EBGP, 2, 2));
  it('AS 0 → 2/2 (RFC 7607)', () => rejects(open({ myAs: 0 }), { ...EBGP, peerAsn: 0 }, 2, 2));
  it('AS4 capability 0 → 2/2 (RFC 7607)', () => rejects(open({ myAs: 23456 }, [{ kind: 'as4', code: 65, asn: 0 }]), { ...EBGP, peerAsn: 0 }, 2, 2));
  it('4-octet AS via AS_TRANS + capability is accepted (RFC 6793)', () => {
    validateOpen(open({ myAs: 23456 }, [{ kind: 'as4', code: 65, asn: 4200000001 }]), { ...EBGP, peerAsn: 4200000001 });
  });
  it('AS_TRANS without the capability does not match a 4-octet peer → 2/2', () => {
    rejects(open({ myAs: 23456 }), { ...EBGP, peerAsn: 4200000001 }, 2, 2);
  });
  it('AS4 capability disagreeing with configuration → 2/2 (BGP_notification_msg.cap: 65001 vs 65000)', () => {
    const captured = decodeOpen(fromHex('0104fde900b47f0000011802060104000100010206010400020001020641040002fde8').subarray(1));
    assert.equal(peerAsnOf(captured), 196072);
    rejects(captured, { localAsn: 65000, peerAsn: 65000, localBgpId: ID_A }, 2, 2);
  });
  it('BGP Identifier 0 → 2/3', () => rejects(open({ bgpId: 0 }), EBGP, 2, 3));
  it('iBGP peer with our BGP Identifier → 2/3 (RFC 6286 §2.2)', () => rejects(open({ bgpId: ID_A }), IBGP, 2, 3));
  it('eBGP peer with our BGP Identifier is allowed (RFC 6286 §2.2)', () => validateOpen(open({ bgpId: ID_A }), EBGP));
  it('hold time 1 and 2 → 2/6', () => {
    rejects(open({ holdTime: 1 }), EBGP, 2, 6);
    rejects(open({ holdTime: 2 }), EBGP, 2, 6);
  });
  it('hold time 0 and 3 are acceptable', () => {
    validateOpen(open({ holdTime: 0 }), EBGP);
    validateOpen(open({ holdTime: 3 }), EBGP);
  });
  it('an unknown optional parameter → 2/4', () => rejects(open({ otherParameters: [{ type: 1, value: new Uint8Array(0) }] }), EBGP, 2, 4));
});

const MP4: Capability = { kind: 'multiprotocol', code: 1, afi: 1, safi: 1 };
const MP6: Capability = { kind: 'multiprotocol', code: 1, afi: 2, safi: 1 };
const AS4 = (asn: number): Capability => ({ kind: 'as4', code: 65, asn });
const ADDPATH = (families: { afi: number; safi: number; sendReceive: number }[]): Capability => ({ kind: 'add-path', code: 69, families });

describe('negotiate', () => {
  it('hold time is the smaller one, keepalive a third (RFC 4271 §4.2, §4.4)', () => {
    const n = negotiate(open({ holdTime: 90 }), open({ holdTime: 30 }), 'ebgp');
    assert.deepEqual([n.holdTime, n.keepaliveTime], [30, 10]);
  });
  it('hold 0 on either side disables keepalives', () => {
    const n = negotiate(open({ holdTime: 90 }), open({ holdTime: 0 }), 'ebgp', 20);
    assert.deepEqual([n.holdTime, n.keepaliveTime], [0, 0]);
  });
  it('a configured keepalive is used only when not above hold/3', () => {
    assert.equal(negotiate(open({ holdTime: 90 }), open({ holdTime: 90 }), 'ebgp', 20).keepaliveTime, 20);
    assert.equal(negotiate(open({ holdTime: 90 }), open({ holdTime: 9 }), 'ebgp', 20).keepaliveTime, 3);
  });
  it('families: intersection of MP capabilities', () => {
    const n = negotiate(open({}, [MP4, MP6]), open({}, [MP6]), 'ebgp');
    assert.deepEqual(n.families, ['ipv6-unicast']);
    assert.deepEqual([...n.ctx.families], ['ipv6-unicast']);
  });
  it('families: no MP capability on a side means IPv4 unicast only (RFC 4760 §8)', () => {
    assert.deepEqual(negotiate(open({}, [MP4, MP6]), open(), 'ebgp').families, ['ipv4-unicast']);
    assert.deepEqual(negotiate(open(), open(), 'ebgp').families, ['ipv4-unicast']);
    assert.deepEqual(negotiate(open(), open({}, [MP6]), 'ebgp').families, []);
  });
  it('families Tern does not speak are never negotiated', () => {
    const flowspec: Capability = { kind: 'multiprotocol', code: 1, afi: 1, safi: 133 };
    assert.deepEqual(negotiate(open({}, [flowspec]), open({}, [flowspec]), 'ebgp').families, []);
  });
  it('as4 only when both sent capability 65', () => {
    assert.equal(negotiate(open({}, [AS4(65000)]), open({}, [AS4(65001)]), 'ebgp').ctx.as4, true);
    assert.equal(negotiate(open({}, [AS4(65000)]), open(), 'ebgp').ctx.as4, false);
  });
  it('extended message only when both sent capability 6 (RFC 8654)', () => {
    const em: Capability = { kind: 'extended-message', code: 6 };
    const both = negotiate(open({}, [em]), open({}, [em]), 'ebgp');
    assert.deepEqual([both.extendedMessage, both.ctx.maxMessageSize], [true, 65535]);
    const one = negotiate(open({}, [em]), open(), 'ebgp');
    assert.deepEqual([one.extendedMessage, one.ctx.maxMessageSize], [false, 4096]);
  });
  it('extended next hop for IPv4 over IPv6 only when both offer it (RFC 8950)', () => {
    const enh: Capability = { kind: 'extended-nexthop', code: 5, entries: [{ afi: 1, safi: 1, nextHopAfi: 2 }] };
    assert.equal(negotiate(open({}, [enh]), open({}, [enh]), 'ebgp').ctx.extendedNextHopIpv4, true);
    assert.equal(negotiate(open({}, [enh]), open(), 'ebgp').ctx.extendedNextHopIpv4, false);
  });
  describe('ADD-PATH directions (RFC 7911 §4)', () => {
    const CASES: [number, number, { send: boolean; receive: boolean } | undefined][] = [
      [3, 3, { send: true, receive: true }],
      [1, 2, { send: false, receive: true }], // we receive, peer sends
      [2, 1, { send: true, receive: false }], // we send, peer receives
      [1, 1, undefined], // both only receive: nothing
      [2, 2, undefined], // both only send: nothing
      [3, 0, undefined], // peer did not advertise
    ];
    for (const [ours, theirs, want] of CASES) {
      it(`local ${ours}, peer ${theirs}`, () => {
        const local = open({}, [MP4, ADDPATH([{ afi: 1, safi: 1, sendReceive: ours }])]);
        const remote = open({}, theirs ? [MP4, ADDPATH([{ afi: 1, safi: 1, sendReceive: theirs }])] : [MP4]);
        const n = negotiate(local, remote, 'ibgp');
        assert.deepEqual(n.addPath, want ? [{ family: 'ipv4-unicast', ...want }] : []);
        assert.equal(n.ctx.addPathReceive.has('ipv4-unicast'), want?.receive ?? false);
        assert.equal(n.ctx.addPathSend.has('ipv4-unicast'), want?.send ?? false);
      });
    }
    it('only for negotiated families', () => {
      const local = open({}, [MP4, ADDPATH([{ afi: 2, safi: 1, sendReceive: 3 }])]);
      const remote = open({}, [MP4, ADDPATH([{ afi: 2, safi: 1, sendReceive: 3 }])]);
      assert.deepEqual(negotiate(local, remote, 'ibgp').addPath, []);
    });
  });
  it('route refresh needs code 2 from both; 128 alone does not count', () => {
    const rr: Capability = { kind: 'route-refresh', code: 2 };
    const cisco: Capability = { kind: 'route-refresh', code: 128 };
    assert.equal(negotiate(open({}, [rr]), open({}, [rr, cisco]), 'ebgp').routeRefresh, true);
    assert.equal(negotiate(open({}, [rr]), open({}, [cisco]), 'ebgp').routeRefresh, false);
  });
  it('keeps the peer graceful-restart capability and all its capabilities', () => {
    const gr: Capability = { kind: 'graceful-restart', code: 64, restarting: true, notification: true, restartTime: 120, families: [] };
    const n = negotiate(open(), open({}, [gr]), 'ibgp');
    assert.deepEqual(n.gracefulRestart, gr);
    assert.deepEqual(n.peerCapabilities, [gr]);
    assert.equal(n.ctx.peerType, 'ibgp');
  });
});

describe('buildOpen', () => {
  it('2-octet AS, both families, the default capabilities', () => {
    const o = buildOpen({ asn: 64512, bgpId: ID_A, holdTime: 90, families: ['ipv4-unicast', 'ipv6-unicast'] });
    assert.equal(o.myAs, 64512);
    assert.deepEqual(o.capabilities.map((c) => c.code), [1, 1, 2, 70, 65]);
    assert.deepEqual(decodeOpen(encodeOpen(o).subarray(19)), o);
  });
  it('4-octet AS travels as AS_TRANS plus capability 65 (RFC 6793 §4.1)', () => {
    const o = buildOpen({ asn: 4200000001, bgpId: ID_A, holdTime: 90, families: ['ipv4-unicast'] });
    assert.equal(o.myAs, 23456);
    assert.equal(peerAsnOf(o), 4200000001);
  });
  it('optional capabilities when asked, and two of ours negotiate what they offer', () => {
    const o = buildOpen({
      asn: 65000, bgpId: ID_A, holdTime: 90, families: ['ipv4-unicast'], extendedMessage: true, extendedNextHop: true,
      addPath: [{ family: 'ipv4-unicast', sendReceive: 3 }],
      gracefulRestart: { restartTime: 120, restarting: false, notification: true, families: [{ family: 'ipv4-unicast', forwardingState: true }] },
    });
    assert.deepEqual(o.capabilities.map((c) => c.code).sort((a, b) => a - b), [1, 2, 5, 6, 64, 65, 69, 70]);
    const n = negotiate(o, decodeOpen(encodeOpen({ ...o, bgpId: ID_B }).subarray(19)), 'ibgp');
    assert.deepEqual(
      { as4: n.as4, em: n.extendedMessage, enh: n.ctx.extendedNextHopIpv4, addPath: n.addPath, err: n.enhancedRouteRefresh },
      { as4: true, em: true, enh: true, addPath: [{ family: 'ipv4-unicast', send: true, receive: true }], err: true },
    );
  });
});
