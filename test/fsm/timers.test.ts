// SPDX-License-Identifier: Apache-2.0
// Timer arithmetic: RFC 4271 §10 jitter range, hold/keepalive negotiation (§4.2, §4.4),
// RFC 9687 send hold time, and the RFC 9003 shutdown text (length octet, UTF-8, 255 cap).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { decodeShutdownCommunication } from '../../src/bgp/messages/notification.ts';
import { ceaseNotification, isAcceptableHoldTime, jitter, negotiateTimers, sendHoldTime } from '../../src/bgp/fsm/index.ts';

describe('timers', () => {
  it('jitter stays within 0.75–1.0 of the base value (RFC 4271 §10)', () => {
    assert.equal(jitter(120, () => 0), 90);
    assert.equal(jitter(120, () => 0.5), 105);
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 65535 }), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (base, r) => {
        const v = jitter(base, () => r);
        assert.ok(v >= base * 0.75 && v <= base, `${v} for ${base}`);
      }),
    );
  });

  it('hold time: smaller of the two; zero disables keepalives; keepalive a third, capped', () => {
    assert.deepEqual(negotiateTimers(90, 180), { holdTime: 90, keepaliveTime: 30 });
    assert.deepEqual(negotiateTimers(90, 0), { holdTime: 0, keepaliveTime: 0 });
    assert.deepEqual(negotiateTimers(0, 90), { holdTime: 0, keepaliveTime: 0 });
    assert.deepEqual(negotiateTimers(3, 90), { holdTime: 3, keepaliveTime: 1 });
    assert.deepEqual(negotiateTimers(90, 90, 10), { holdTime: 90, keepaliveTime: 10 });
    assert.deepEqual(negotiateTimers(90, 9, 10), { holdTime: 9, keepaliveTime: 3 }, 'configured keepalive capped to hold/3');
    assert.deepEqual(negotiateTimers(4, 4), { holdTime: 4, keepaliveTime: 1 });
  });

  it('acceptable hold times are 0 or ≥ 3 (RFC 4271 §4.2)', () => {
    assert.deepEqual([0, 1, 2, 3, 90, 65535].map(isAcceptableHoldTime), [true, false, false, true, true, true]);
  });

  it('send hold time is max(480 s, 2 × hold) (RFC 9687)', () => {
    assert.equal(sendHoldTime(0), 480);
    assert.equal(sendHoldTime(90), 480);
    assert.equal(sendHoldTime(240), 480);
    assert.equal(sendHoldTime(300), 600);
  });

  it('Cease with an RFC 9003 shutdown communication', () => {
    const n = ceaseNotification(2, 'bye');
    assert.deepEqual([n.code, n.subcode, ...n.data], [6, 2, 3, 0x62, 0x79, 0x65]);
    assert.deepEqual(ceaseNotification(7, 'ignored').data, new Uint8Array(0), 'only subcodes 2 and 4 carry text');
    assert.deepEqual(ceaseNotification(2).data, new Uint8Array(0));
    // 200 × "é" is 400 octets: cut to 127 whole characters (254 octets), never mid-character.
    const long = ceaseNotification(4, 'é'.repeat(200));
    assert.equal(long.data[0], 254);
    assert.deepEqual(decodeShutdownCommunication(long.data), { ok: true, message: 'é'.repeat(127) });
  });
});
