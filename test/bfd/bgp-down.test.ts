// SPDX-License-Identifier: Apache-2.0
// What BFD Down does to BGP (RFC 9384): the session is closed at once with Cease / BFD Down
// (6/10), the peer sees that NOTIFICATION, and the session comes back by itself afterwards.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../src/config/index.ts';
import { Daemon } from '../../src/daemon.ts';
import { createLogger } from '../../src/observability/log.ts';
import type { SessionDown } from '../../src/bgp/session/peer-session.ts';

const PORT = 25179 + (process.pid % 400) * 2;
const log = createLogger({ level: process.env.TERN_TEST_LOG ?? 'silent' });

function config(me: string, port: number, peer: object, dir: string): string {
  return JSON.stringify({ routerId: me, asn: 65000, listen: { address: me, port }, control: { socket: join(dir, `${me}.ctl`) }, peers: [peer] });
}

async function until(probe: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (probe()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return probe();
}

test('bfdDown(): Cease / BFD Down to the peer at once, then the session re-establishes', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tern-bfd-bgp-'));
  const a = new Daemon(parseConfig(config('127.0.0.1', PORT, { name: 'b', address: '127.0.0.2', asn: 65000, port: PORT + 1, localAddress: '127.0.0.1', connectRetry: 1, holdTime: 30 }, dir), 'a.json'), log);
  const b = new Daemon(parseConfig(config('127.0.0.2', PORT + 1, { name: 'a', address: '127.0.0.1', asn: 65000, port: PORT, localAddress: '127.0.0.2', connectRetry: 1, holdTime: 30 }, dir), 'b.json'), log);
  try {
    await a.start();
    await b.start();
    const sa = a.peers.get('b')!.session;
    const sb = b.peers.get('a')!.session;
    assert.ok(await until(() => sa.state === 'Established' && sb.state === 'Established', 8000), 'Established');
    const downAtB = new Promise<SessionDown>((resolve) => sb.once('down', (_r: string, info: SessionDown) => resolve(info)));
    const started = Date.now();
    await sa.bfdDown();
    const info = await downAtB;
    assert.ok(Date.now() - started < 1500, 'not the 30 s hold timer');
    assert.equal(info.notificationReceived?.code, 6);
    assert.equal(info.notificationReceived?.subcode, 10, 'RFC 9384 BFD Down');
    assert.ok(await until(() => sa.state === 'Established' && sb.state === 'Established', 10000), 'back up afterwards');
  } finally {
    await Promise.allSettled([a.stop(), b.stop()]);
    rmSync(dir, { recursive: true, force: true });
  }
});
