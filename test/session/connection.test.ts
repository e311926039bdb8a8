// SPDX-License-Identifier: Apache-2.0
// The connection layer on its own: the priority send queue (KEEPALIVE and NOTIFICATION never
// wait behind UPDATEs) and the RFC 9687 send hold watchdog, which fires only when output is
// pending and nothing drains (the peer stopped reading), not while the peer reads.
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { DEFAULT_FSM_CONFIG, initialState, type FsmEvent } from '../../src/bgp/fsm/index.ts';
import { Connection, type ConnectionHost } from '../../src/bgp/session/connection.ts';
import { SendQueue } from '../../src/bgp/session/send-queue.ts';
import type { Negotiated } from '../../src/bgp/messages/negotiate.ts';
import net from 'node:net';
import { log, rawServer, sleep, until } from './helpers.ts';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('SendQueue', () => {
  it('serves NOTIFICATION > OPEN > KEEPALIVE > ROUTE-REFRESH > UPDATE, FIFO within a class', () => {
    const q = new SendQueue();
    const f = (n: number) => Uint8Array.of(n);
    q.push('update', f(1));
    q.push('update', f(2));
    q.push('keepalive', f(3));
    q.push('route-refresh', f(4));
    q.push('notification', f(5));
    q.push('open', f(6));
    q.push('update', f(7));
    assert.equal(q.length, 7);
    assert.equal(q.pendingBytes, 7);
    const order: number[] = [];
    for (let next = q.shift(); next; next = q.shift()) order.push(next.frame[0]!);
    assert.deepEqual(order, [5, 6, 3, 4, 1, 2, 7]);
    assert.equal(q.pendingBytes, 0);
  });

  it('stays FIFO across compaction of a long queue', () => {
    const q = new SendQueue();
    for (let i = 0; i < 3000; i++) q.push('update', Uint8Array.of(i >> 8, i & 0xff));
    for (let i = 0; i < 3000; i++) {
      const next = q.shift()!;
      assert.equal((next.frame[0]! << 8) | next.frame[1]!, i);
    }
    assert.equal(q.shift(), undefined);
  });
});

function host(): ConnectionHost & { events: string[] } {
  const events: string[] = [];
  return {
    events,
    onEvent: (_c, e: FsmEvent<Negotiated>) => events.push(e.type),
    onFrame: () => {},
  };
}

async function connected(port: number) {
  const h = host();
  const conn = new Connection(1, 'outgoing', initialState<Negotiated>({ ...DEFAULT_FSM_CONFIG, random: Math.random }), h, log);
  cleanups.push(() => conn.destroy());
  conn.connect({ host: '127.0.0.1', port });
  await until(() => h.events.includes('TcpConnectionConfirmed'), 3000, 'tcp connect');
  return { conn, h };
}

describe('send hold watchdog (RFC 9687)', () => {
  it('fires when the peer stops reading while UPDATEs are pending', async () => {
    const server = await rawServer();
    cleanups.push(() => server.close());
    const { conn, h } = await connected(server.port);
    const peer = await server.nextPeer();
    peer.socket.pause(); // a zombie peer: the connection stays up, nothing is read
    conn.setTimer('sendHold', 0.5);
    const frame = new Uint8Array(4096);
    for (let i = 0; i < 8000; i++) conn.enqueue('update', frame); // 32 MiB: more than loopback buffers hold
    assert.ok(conn.pendingBytes > 0);
    await until(() => h.events.includes('SendHoldTimer_Expires'), 5000, 'SendHoldTimer_Expires');
  });

  it('does not fire while a slow peer keeps reading, nor when nothing is pending', async () => {
    // A sink that reads and discards everything, slowly enough that writes do block.
    const sockets: net.Socket[] = [];
    const sink = net.createServer((socket) => {
      sockets.push(socket);
      socket.on('error', () => {});
      socket.on('data', () => {
        socket.pause();
        setTimeout(() => socket.resume(), 5);
      });
    });
    await new Promise<void>((resolve) => sink.listen({ host: '127.0.0.1', port: 0 }, resolve));
    cleanups.push(() => new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      sink.close(() => resolve());
    }));
    const { conn, h } = await connected((sink.address() as net.AddressInfo).port);
    // The kernel wakes a blocked writer only after a good part of its buffer frees, so the
    // timer must be well above that granularity (RFC 9687's is minutes).
    conn.setTimer('sendHold', 1);
    const frame = new Uint8Array(4096);
    for (let i = 0; i < 8000; i++) conn.enqueue('update', frame); // 32 MiB at ≤ 64 KiB per 5 ms
    const t0 = Date.now();
    await until(() => conn.pendingBytes === 0, 10_000, 'queue drained');
    // The drain must outlast the send hold time several times over, or this proves nothing.
    assert.ok(Date.now() - t0 > 1500, `drained in ${Date.now() - t0} ms`);
    await sleep(500);
    assert.ok(!h.events.includes('SendHoldTimer_Expires'), `events: ${h.events.join(',')}`);
  });
});
