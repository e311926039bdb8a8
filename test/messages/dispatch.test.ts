// SPDX-License-Identifier: Apache-2.0
// decodeMessage/encodeMessage dispatch, and properties: arbitrary bytes throw only
// BgpNotificationError; OPEN, NOTIFICATION, ROUTE-REFRESH round-trip through encode → decode.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  BgpNotificationError,
  DEFAULT_CONTEXT,
  decodeMessage,
  encodeKeepalive,
  encodeMessage,
  messageTypeName,
  withHeader,
} from '../../src/bgp/messages/index.ts';
import type { BgpMessage, Capability, CodecContext, OpenMessage } from '../../src/bgp/messages/index.ts';
import { fromHex, toHex } from '../../src/util/reader.ts';

const AS4_ADDPATH_CTX: CodecContext = {
  ...DEFAULT_CONTEXT,
  as4: true,
  maxMessageSize: 65535,
  addPathReceive: new Set(['ipv4-unicast', 'ipv6-unicast']),
  families: new Set(['ipv4-unicast', 'ipv6-unicast']),
};

function onlyNotificationErrors(frame: Uint8Array, ctx: CodecContext): void {
  try {
    decodeMessage(frame, ctx);
  } catch (e) {
    if (!(e instanceof BgpNotificationError)) throw e;
  }
}

// The UPDATE below comes from IBGP_adjacency.cap and carries LOCAL_PREF: an internal session.
const IBGP_CTX: CodecContext = { ...DEFAULT_CONTEXT, peerType: 'ibgp' };

describe('dispatch', () => {
  it('each type goes to its decoder and back', () => {
    const cases: [string, string][] = [
      ['KEEPALIVE', toHex(encodeKeepalive())],
      ['OPEN', 'ffffffffffffffffffffffffffffffff002d0104ff1400b4040404041002060104000100010202800002020200'],
      ['UPDATE', 'ffffffffffffffffffffffffffffffff003f020000001c40010100400200400304030303038004040000000040050400000064180a1e03180a1e02180a1e01'],
      ['NOTIFICATION', 'ffffffffffffffffffffffffffffffff0017030202feb0'],
      ['ROUTE-REFRESH', 'ffffffffffffffffffffffffffffffff00170500010001'],
    ];
    for (const [name, hex] of cases) {
      const d = decodeMessage(fromHex(hex), IBGP_CTX);
      assert.equal(messageTypeName(d.message), name);
      assert.deepEqual([d.action, d.problems], ['none', []]);
      if (name !== 'OPEN') assert.equal(toHex(encodeMessage(d.message, DEFAULT_CONTEXT)), hex, name);
      else assert.deepEqual(decodeMessage(encodeMessage(d.message, DEFAULT_CONTEXT), DEFAULT_CONTEXT).message, d.message);
    }
  });

  it('an UPDATE carries its RFC 7606 verdict through the dispatcher', () => {
    // ORIGIN of value 3 → treat-as-withdraw (RFC 7606 §7.1)
    const d = decodeMessage(
      fromHex('ffffffffffffffffffffffffffffffff' + '0030' + '02' + '0000' + '0015' + '40010103' + '400200' + '40030403030303' + '40050400000064' + '180a1e03'),
      IBGP_CTX,
    );
    assert.equal(d.action, 'treat-as-withdraw');
    assert.ok(d.problems.some((p) => p.attrType === 1));
  });
});

describe('properties', () => {
  it('arbitrary bytes after a valid marker throw only BgpNotificationError', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 7 }), fc.uint8Array({ maxLength: 300 }), fc.boolean(), (type, body, as4) => {
        const frame = withHeader(type, body);
        onlyNotificationErrors(frame, as4 ? AS4_ADDPATH_CTX : DEFAULT_CONTEXT);
      }),
      { numRuns: 3000 },
    );
  });

  it('fully arbitrary bytes throw only BgpNotificationError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), (bytes) => onlyNotificationErrors(bytes, DEFAULT_CONTEXT)),
      { numRuns: 2000 },
    );
  });

  it('OPEN bodies built from arbitrary parameter bytes throw only BgpNotificationError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 120 }), fc.boolean(), (params, extended) => {
        const head = fromHex('04fde800b40a000001');
        const lengthField = extended ? Uint8Array.of(255, 255, params.length >> 8, params.length & 255) : Uint8Array.of(params.length & 255);
        const body = new Uint8Array(head.length + lengthField.length + params.length);
        body.set(head);
        body.set(lengthField, head.length);
        body.set(params, head.length + lengthField.length);
        onlyNotificationErrors(withHeader(1, body), DEFAULT_CONTEXT);
      }),
      { numRuns: 3000 },
    );
  });

  const u16 = fc.integer({ min: 0, max: 0xffff });
  const u8 = fc.integer({ min: 0, max: 0xff });
  const u32 = fc.integer({ min: 0, max: 0xffffffff });
  const capability: fc.Arbitrary<Capability> = fc.oneof(
    fc.record({ kind: fc.constant('multiprotocol' as const), code: fc.constant(1 as const), afi: u16, safi: u8 }),
    fc.record({ kind: fc.constant('route-refresh' as const), code: fc.constantFrom(2 as const, 128 as const) }),
    fc.record({ kind: fc.constant('extended-message' as const), code: fc.constant(6 as const) }),
    fc.record({ kind: fc.constant('enhanced-route-refresh' as const), code: fc.constant(70 as const) }),
    fc.record({ kind: fc.constant('as4' as const), code: fc.constant(65 as const), asn: u32 }),
    fc.record({
      kind: fc.constant('extended-nexthop' as const),
      code: fc.constant(5 as const),
      entries: fc.array(fc.record({ afi: u16, safi: u16, nextHopAfi: u16 }), { minLength: 1, maxLength: 5 }),
    }),
    fc.record({
      kind: fc.constant('add-path' as const),
      code: fc.constant(69 as const),
      families: fc.array(fc.record({ afi: u16, safi: u8, sendReceive: u8 }), { minLength: 1, maxLength: 5 }),
    }),
    fc.record({
      kind: fc.constant('graceful-restart' as const),
      code: fc.constant(64 as const),
      restarting: fc.boolean(),
      notification: fc.boolean(),
      restartTime: fc.integer({ min: 0, max: 4095 }),
      families: fc.array(fc.record({ afi: u16, safi: u8, forwardingState: fc.boolean() }), { maxLength: 5 }),
    }),
    fc.record({
      kind: fc.constant('unknown' as const),
      code: fc.constantFrom(3, 9, 71, 73, 75, 131, 200),
      value: fc.uint8Array({ maxLength: 40 }),
    }),
  );
  const openMessage: fc.Arbitrary<OpenMessage> = fc.record({
    type: fc.constant('open' as const),
    version: u8,
    myAs: u16,
    holdTime: u16,
    bgpId: u32,
    capabilities: fc.array(capability, { maxLength: 40 }),
    otherParameters: fc.array(fc.record({ type: fc.integer({ min: 0, max: 254 }).filter((t) => t !== 2), value: fc.uint8Array({ maxLength: 20 }) }), { maxLength: 2 }),
  });

  it('OPEN: decode(encode(x)) equals x (extended parameters exactly when needed)', () => {
    fc.assert(
      fc.property(openMessage, (msg) => {
        const frame = encodeMessage(msg, DEFAULT_CONTEXT);
        const back = decodeMessage(frame, DEFAULT_CONTEXT).message as OpenMessage;
        const { extendedParameters, ...rest } = back;
        assert.deepEqual(rest, structuredClone(msg)); // fast-check records have a null prototype
        assert.equal(extendedParameters === true, frame[19 + 10] === 255 && frame[19 + 9] === 255);
      }),
      { numRuns: 1500 },
    );
  });

  it('NOTIFICATION: decode(encode(x)) equals x', () => {
    fc.assert(
      fc.property(u8, u8, fc.uint8Array({ maxLength: 200 }), (code, subcode, data) => {
        const msg: BgpMessage = { type: 'notification', code, subcode, data };
        assert.deepEqual(decodeMessage(encodeMessage(msg, DEFAULT_CONTEXT), DEFAULT_CONTEXT).message, msg);
      }),
    );
  });

  it('ROUTE-REFRESH: decode(encode(x)) equals x', () => {
    fc.assert(
      fc.property(u16, u8, u8, (afi, safi, subtype) => {
        const msg: BgpMessage = { type: 'route-refresh', afi, safi, subtype };
        assert.deepEqual(decodeMessage(encodeMessage(msg, DEFAULT_CONTEXT), DEFAULT_CONTEXT).message, msg);
      }),
    );
  });
});
