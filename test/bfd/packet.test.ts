// SPDX-License-Identifier: Apache-2.0
// The BFD Control packet codec against the RFC 5880 §4.1 layout (bit positions worked out from the
// figure by hand), the §6.8.6 discard rules one by one, and a round-trip property.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { BfdState, decodeControl, encodeControl, type BfdControlPacket } from '../../src/bfd/packet.ts';

const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));

// RFC 5880 §4.1: Vers(3)=1 Diag(5) | Sta(2) P F C A D M | Detect Mult | Length | My Discr | Your Discr
// | Desired Min TX | Required Min RX | Required Min Echo RX.
const DOWN_HELLO = hex('20 40 03 18  00000001  00000000  000f4240  000f4240  00000000');
// Up, diag 0, Poll set, mult 5, my 0x11223344, your 0xa1b2c3d4, 100 ms / 10 ms.
const UP_POLL = hex('20 e0 05 18  11223344  a1b2c3d4  000186a0  00002710  00000000');
// Down after a detection timeout (diag 1), Final set.
const DOWN_FINAL = hex('21 50 03 18  00000007  00000009  000f4240  0007a120  00000000');

test('decodes the first packet of a session: Down, Your Discriminator 0, 1 s intervals', () => {
  const r = decodeControl(DOWN_HELLO);
  assert.ok(r.ok);
  assert.deepEqual(r.packet, {
    diag: 0, state: BfdState.Down, poll: false, final: false, controlPlaneIndependent: false, authPresent: false, demand: false, multipoint: false,
    detectMult: 3, myDiscriminator: 1, yourDiscriminator: 0, desiredMinTxInterval: 1_000_000, requiredMinRxInterval: 1_000_000, requiredMinEchoRxInterval: 0,
  });
});

test('decodes state, P and F bits, diagnostics and 32-bit discriminators', () => {
  const up = decodeControl(UP_POLL);
  assert.ok(up.ok);
  assert.equal(up.packet.state, BfdState.Up);
  assert.equal(up.packet.poll, true);
  assert.equal(up.packet.final, false);
  assert.equal(up.packet.detectMult, 5);
  assert.equal(up.packet.myDiscriminator, 0x11223344);
  assert.equal(up.packet.yourDiscriminator, 0xa1b2c3d4);
  assert.equal(up.packet.desiredMinTxInterval, 100_000);
  assert.equal(up.packet.requiredMinRxInterval, 10_000);
  const down = decodeControl(DOWN_FINAL);
  assert.ok(down.ok);
  assert.equal(down.packet.diag, 1);
  assert.equal(down.packet.final, true);
  assert.equal(down.packet.poll, false);
  assert.equal(down.packet.requiredMinRxInterval, 500_000);
});

test('encodes exactly the RFC layout', () => {
  assert.deepEqual(encodeControl({ state: BfdState.Down, detectMult: 3, myDiscriminator: 1, yourDiscriminator: 0, desiredMinTxInterval: 1_000_000, requiredMinRxInterval: 1_000_000 }), DOWN_HELLO);
  assert.deepEqual(encodeControl({ state: BfdState.Up, poll: true, detectMult: 5, myDiscriminator: 0x11223344, yourDiscriminator: 0xa1b2c3d4, desiredMinTxInterval: 100_000, requiredMinRxInterval: 10_000 }), UP_POLL);
  assert.deepEqual(encodeControl({ state: BfdState.Down, diag: 1, final: true, detectMult: 3, myDiscriminator: 7, yourDiscriminator: 9, desiredMinTxInterval: 1_000_000, requiredMinRxInterval: 500_000 }), DOWN_FINAL);
});

test('RFC 5880 §6.8.6: each discard rule', () => {
  const with_ = (offset: number, value: number, base = DOWN_HELLO) => {
    const b = Uint8Array.from(base);
    b[offset] = value;
    return b;
  };
  assert.deepEqual(decodeControl(DOWN_HELLO.subarray(0, 23)), { ok: false, discard: 'short' });
  assert.deepEqual(decodeControl(with_(0, 0x40)), { ok: false, discard: 'bad-version' }); // version 2
  assert.deepEqual(decodeControl(with_(3, 23)), { ok: false, discard: 'bad-length' });
  assert.deepEqual(decodeControl(with_(1, 0x44)), { ok: false, discard: 'bad-length' }); // A bit: 26 needed
  assert.deepEqual(decodeControl(with_(3, 30)), { ok: false, discard: 'length-exceeds-payload' });
  assert.deepEqual(decodeControl(with_(2, 0)), { ok: false, discard: 'zero-detect-mult' });
  assert.deepEqual(decodeControl(with_(1, 0x41)), { ok: false, discard: 'multipoint' });
  assert.deepEqual(decodeControl(with_(7, 0)), { ok: false, discard: 'zero-my-discriminator' });
  assert.deepEqual(decodeControl(with_(1, 0xc0)), { ok: false, discard: 'zero-your-discriminator' }); // Up with your 0
  assert.deepEqual(decodeControl(with_(1, 0x80)), { ok: false, discard: 'zero-your-discriminator' }); // Init with your 0
  assert.equal(decodeControl(with_(1, 0x00)).ok, true); // AdminDown with your 0 is fine
  const auth = new Uint8Array(26);
  auth.set(DOWN_HELLO);
  auth[1] = 0x44;
  auth[3] = 26;
  assert.deepEqual(decodeControl(auth), { ok: false, discard: 'auth-not-configured' });
});

test('round trip: encode then decode gives the fields back', () => {
  const u32 = fc.integer({ min: 1, max: 0xffffffff });
  fc.assert(
    fc.property(
      fc.record({
        diag: fc.integer({ min: 0, max: 8 }),
        state: fc.constantFrom(BfdState.AdminDown, BfdState.Down, BfdState.Init, BfdState.Up),
        poll: fc.boolean(),
        final: fc.boolean(),
        detectMult: fc.integer({ min: 1, max: 255 }),
        myDiscriminator: u32,
        yourDiscriminator: u32,
        desiredMinTxInterval: fc.integer({ min: 0, max: 0xffffffff }),
        requiredMinRxInterval: fc.integer({ min: 0, max: 0xffffffff }),
      }),
      (f) => {
        const r = decodeControl(encodeControl(f));
        assert.ok(r.ok);
        const p: Partial<BfdControlPacket> = r.packet;
        for (const [k, v] of Object.entries(f)) assert.equal(p[k as keyof BfdControlPacket], v, k);
      },
    ),
  );
});

test('decoding arbitrary bytes never throws', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), (b) => void decodeControl(b)));
});
