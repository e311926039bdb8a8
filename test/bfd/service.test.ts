// SPDX-License-Identifier: Apache-2.0
// The UDP side of BFD on loopback: two services reach Up, a removed session tells its peer
// (AdminDown), a scripted peer that falls silent is declared down within the detection time, and
// a packet that arrives with a TTL other than 255 is dropped (RFC 5881 §5).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { BfdService } from '../../src/bfd/service.ts';
import { BfdState, decodeControl, encodeControl } from '../../src/bfd/packet.ts';
import { createLogger } from '../../src/observability/log.ts';
import { nativeAvailable } from '../../src/native/index.ts';

const log = createLogger({ level: process.env.TERN_TEST_LOG ?? 'silent' });
const BASE = 40000 + (process.pid % 1000) * 4;

function waitEvent(emitter: BfdService, event: string, ms: number): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${event} within ${ms} ms`)), ms);
    emitter.once(event, (...args: unknown[]) => {
      clearTimeout(timer);
      resolve(args);
    });
  });
}

test('two services come Up; removing one brings the other Down (AdminDown, Diag 3)', async () => {
  const a = new BfdService(log, { port: BASE, peerPort: BASE + 1 });
  const b = new BfdService(log, { port: BASE + 1, peerPort: BASE });
  try {
    const upA = waitEvent(a, 'up', 5000);
    const upB = waitEvent(b, 'up', 5000);
    await a.add({ name: 'b', address: '127.0.0.2', localAddress: '127.0.0.1', minRx: 50, minTx: 50, multiplier: 3 });
    await b.add({ name: 'a', address: '127.0.0.1', localAddress: '127.0.0.2', minRx: 50, minTx: 50, multiplier: 3 });
    await Promise.all([upA, upB]);
    assert.equal(a.view('b')?.state, 'Up');
    assert.equal(a.view('b')?.remoteDiscriminator, b.view('a')?.localDiscriminator);
    assert.equal(a.checksTtl, nativeAvailable());
    // Once both polls are over, a's detection time is 3 × 50 ms.
    const deadline = Date.now() + 3000;
    while (a.view('b')!.detectionTimeMs !== 150 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.equal(a.view('b')!.detectionTimeMs, 150);
    const down = waitEvent(a, 'down', 2000);
    await b.remove('a');
    assert.deepEqual(await down, ['b', 3]);
  } finally {
    await a.close();
    await b.close();
  }
});

test('a peer that falls silent is declared down within the detection time; TTL 64 is dropped', async () => {
  const port = BASE + 2;
  const svc = new BfdService(log, { port, peerPort: BASE + 3 });
  const peer = dgram.createSocket('udp4');
  await new Promise<void>((r) => peer.bind({ address: '127.0.0.2', port: BASE + 3 }, () => r()));
  peer.setTTL(255);
  let ourDiscr = 0;
  peer.on('message', (m) => {
    const d = decodeControl(m);
    if (d.ok) ourDiscr = d.packet.myDiscriminator;
  });
  const send = (state: 0 | 1 | 2 | 3, yourDiscriminator: number) =>
    new Promise<void>((r) => peer.send(encodeControl({ state, detectMult: 3, myDiscriminator: 77, yourDiscriminator, desiredMinTxInterval: 100_000, requiredMinRxInterval: 100_000 }), port, '127.0.0.1', () => r()));
  try {
    await svc.add({ name: 'p', address: '127.0.0.2', localAddress: '127.0.0.1', minRx: 100, minTx: 100, multiplier: 3 });
    const deadline = Date.now() + 3000;
    while (ourDiscr === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.ok(ourDiscr !== 0, 'the service sends to the peer');
    if (svc.checksTtl) {
      peer.setTTL(64);
      await send(BfdState.Init, ourDiscr);
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(svc.view('p')?.state, 'Down', 'a TTL-64 packet changes nothing');
      assert.equal(svc.discards.ttl, 1);
      peer.setTTL(255);
    }
    const up = waitEvent(svc, 'up', 2000);
    await send(BfdState.Init, ourDiscr);
    await up;
    for (let i = 0; i < 5; i++) {
      await send(BfdState.Up, ourDiscr);
      await new Promise((r) => setTimeout(r, 50));
    }
    const silentAt = Date.now();
    const [name, diag] = await waitEvent(svc, 'down', 2000);
    const took = Date.now() - silentAt;
    assert.equal(name, 'p');
    assert.equal(diag, 1, 'Diag 1: Control Detection Time Expired');
    assert.ok(took <= 300 + 150, `declared down after ${took} ms (detection time 300 ms)`);
  } finally {
    peer.close();
    await svc.close();
  }
});
