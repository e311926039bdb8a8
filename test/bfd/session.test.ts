// SPDX-License-Identifier: Apache-2.0
// The RFC 5880 state machine, driven by the packets one session sends the other: the three-way
// handshake (§6.2), detection time (§6.8.4), AdminDown (§6.8.6), the one-second rule while not Up
// and the Poll/Final sequence that changes the rate (§6.8.3), and transmit jitter (§6.8.7).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { BfdDiag, BfdState, decodeControl, encodeControl, type BfdControlPacket } from '../../src/bfd/packet.ts';
import { SLOW_TX_US, adminDown, controlPacket, detectionExpired, detectionTimeMs, newSession, receive, transmitIntervalMs, type BfdSession } from '../../src/bfd/session.ts';

const cfg = (d: number, ms = 300, mult = 3) => ({ localDiscriminator: d, desiredMinTxUs: ms * 1000, requiredMinRxUs: ms * 1000, detectMult: mult });

/** What `from` puts on the wire, as the other side decodes it. */
function wire(from: BfdSession, final = false): BfdControlPacket {
  const r = decodeControl(encodeControl(controlPacket(from, { final })));
  assert.ok(r.ok, 'our own packets pass the §6.8.6 checks');
  return r.packet;
}

function handshake(): { a: BfdSession; b: BfdSession } {
  let a = newSession(cfg(1));
  let b = newSession(cfg(2));
  b = receive(b, wire(a)).session; // b: Down -> Init
  assert.equal(b.state, BfdState.Init);
  const aStep = receive(a, wire(b)); // a: Down, hears Init -> Up
  a = aStep.session;
  assert.deepEqual(aStep.actions.filter((x) => x.type === 'stateChange'), [{ type: 'stateChange', from: BfdState.Down, to: BfdState.Up, diag: 0 }]);
  b = receive(b, wire(a)).session; // b: Init, hears Up -> Up
  assert.equal(b.state, BfdState.Up);
  return { a, b };
}

test('three-way handshake: Down -> Init -> Up on both sides, discriminators learned', () => {
  const { a, b } = handshake();
  assert.equal(a.remoteDiscriminator, 2);
  assert.equal(b.remoteDiscriminator, 1);
  assert.equal(wire(a).yourDiscriminator, 2);
});

test('§6.8.3: at least 1 s while not Up; the configured rate once Up, announced with a Poll answered by Final', () => {
  const fresh = newSession(cfg(1, 100));
  assert.equal(controlPacket(fresh).desiredMinTxInterval, SLOW_TX_US);
  assert.equal(controlPacket(fresh).requiredMinRxInterval, 100_000, 'RX is not slowed');
  let { a, b } = handshake();
  assert.equal(a.desiredMinTxUs, 300_000);
  assert.equal(a.polling, true);
  assert.equal(wire(a).poll, true);
  const bStep = receive(b, wire(a));
  b = bStep.session;
  assert.ok(bStep.actions.some((x) => x.type === 'sendFinal'), 'a Poll is answered at once');
  const final = wire(b, true);
  assert.equal(final.final, true);
  assert.equal(final.poll, false, 'P and F are never both set');
  a = receive(a, final).session;
  assert.equal(a.polling, false, 'Final ends the Poll Sequence');
  assert.equal(wire(a).poll, false);
});

test('§6.8.4: the detection time is the peer\'s Detect Mult times the slower of our RX and its TX', () => {
  let { a } = handshake();
  // b still advertises 1 s TX until its own poll: 3 × max(300 ms, 1 s).
  assert.equal(detectionTimeMs(a), 3000);
  const b2 = { ...newSession(cfg(2, 50, 5)), state: BfdState.Up, desiredMinTxUs: 50_000, remoteDiscriminator: 1 } as BfdSession;
  a = receive(a, wire(b2)).session;
  assert.equal(detectionTimeMs(a), 5 * 300, 'our RX (300 ms) is the slower one');
});

test('§6.8.4: detection time expiry takes Init or Up down with Diag 1 and forgets the remote discriminator', () => {
  const { a } = handshake();
  const step = detectionExpired(a);
  assert.equal(step.session.state, BfdState.Down);
  assert.equal(step.session.localDiag, BfdDiag.ControlDetectionTimeExpired);
  assert.equal(step.session.remoteDiscriminator, 0);
  assert.deepEqual(step.actions, [{ type: 'stateChange', from: BfdState.Up, to: BfdState.Down, diag: 1 }]);
  assert.equal(step.session.desiredMinTxUs, SLOW_TX_US, 'back to one second');
  const again = detectionExpired(step.session);
  assert.deepEqual(again.actions, [], 'Down stays Down without a new change');
});

test('§6.8.6: the peer going Down or AdminDown takes us Down with Diag 3', () => {
  for (const peerState of [BfdState.Down, BfdState.AdminDown]) {
    const { a, b } = handshake();
    const peer = peerState === BfdState.AdminDown ? adminDown(b).session : detectionExpired(b).session;
    const pkt = { ...wire(peer), yourDiscriminator: 1 };
    const step = receive(a, pkt);
    assert.equal(step.session.state, BfdState.Down, `peer ${peerState}`);
    assert.equal(step.session.localDiag, BfdDiag.NeighborSignaledSessionDown);
  }
  const admin = adminDown(newSession(cfg(5))).session;
  assert.equal(wire(admin).state, BfdState.AdminDown);
  assert.equal(wire(admin).diag, BfdDiag.AdministrativelyDown);
  assert.equal(receive(admin, wire(newSession(cfg(6)))).session.state, BfdState.AdminDown, 'AdminDown discards what it hears');
});

test('§6.8.6: Up ignores Init and Up; Init ignores Down; Down ignores Up', () => {
  const { a } = handshake();
  const init = { ...wire(newSession(cfg(2))), state: BfdState.Init as typeof BfdState.Init, yourDiscriminator: 1 };
  assert.equal(receive(a, init).session.state, BfdState.Up);
  const initSession = receive(newSession(cfg(1)), wire(newSession(cfg(2)))).session;
  assert.equal(receive(initSession, wire(newSession(cfg(2)))).session.state, BfdState.Init);
  const up = { ...init, state: BfdState.Up as typeof BfdState.Up };
  assert.equal(receive(newSession(cfg(1)), up).session.state, BfdState.Down);
});

test('§6.8.7: jitter keeps the interval within 75-100% (75-90% for Detect Mult 1); none when the peer wants none', () => {
  fc.assert(
    fc.property(fc.double({ min: 0, max: 1, noNaN: true }), fc.integer({ min: 1, max: 5 }), (r, mult) => {
      const s = { ...newSession(cfg(1, 300, mult)), remoteMinRxUs: 500_000 };
      const ms = transmitIntervalMs(s, () => r)!;
      const base = 1000; // not Up: max(1 s, remote 500 ms)
      assert.ok(ms >= 0.75 * base - 1e-9 && ms <= (mult === 1 ? 0.9 : 1) * base + 1e-9, `${ms}`);
    }),
  );
  assert.equal(transmitIntervalMs({ ...newSession(cfg(1)), remoteMinRxUs: 0 }, Math.random), undefined);
});
