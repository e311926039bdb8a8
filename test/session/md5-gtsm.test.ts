// SPDX-License-Identifier: Apache-2.0
// TCP MD5 (RFC 2385) and GTSM (RFC 5082) between Tern daemons on loopback: the right key comes
// up, a wrong key never does (and the kernel counts the failure), a key changed by reload
// affects only its peer; TTL security lets a TTL-255 peer in and keeps a TTL-64 one out.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, parseConfig } from '../../src/config/index.ts';
import { Daemon } from '../../src/daemon.ts';
import { createLogger } from '../../src/observability/log.ts';
import { nativeAvailable } from '../../src/native/index.ts';

const PORT = 23179 + (process.pid % 400) * 2;
const log = createLogger({ level: process.env.TERN_TEST_LOG ?? 'silent' });
const skip = nativeAvailable() ? false : 'the native addon is not built';

function config(me: string, port: number, peers: object[], dir: string): string {
  return JSON.stringify({ routerId: me, asn: 65000, listen: { address: me, port }, control: { socket: join(dir, `${me}.ctl`) }, peers });
}

function tcpExt(name: string): number {
  const lines = readFileSync('/proc/net/netstat', 'utf8').split('\n').filter((l) => l.startsWith('TcpExt:'));
  const keys = lines[0]!.split(/\s+/);
  const values = lines[1]!.split(/\s+/);
  return Number(values[keys.indexOf(name)] ?? 0);
}

async function until(probe: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (probe()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return probe();
}

const state = (d: Daemon, name: string) => d.peers.get(name)!.session.state;

test('MD5: the right key establishes, a wrong key never does, a reloaded key resets only its peer', { skip }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tern-md5-'));
  const fileA = join(dir, 'a.json');
  writeFileSync(
    fileA,
    config('127.0.0.1', PORT, [
      { name: 'good', address: '127.0.0.2', asn: 65000, passive: true, port: PORT, password: 'correct horse battery staple' },
      { name: 'bad', address: '127.0.0.3', asn: 65000, passive: true, port: PORT, password: 's3cret' },
    ], dir),
  );
  const a = new Daemon(loadConfig(fileA), log);
  const good = new Daemon(parseConfig(config('127.0.0.2', PORT + 1, [{ name: 'a', address: '127.0.0.1', asn: 65000, port: PORT, localAddress: '127.0.0.2', connectRetry: 1, password: 'correct horse battery staple' }], dir), 'good.json'), log);
  const bad = new Daemon(parseConfig(config('127.0.0.3', PORT + 1, [{ name: 'a', address: '127.0.0.1', asn: 65000, port: PORT, localAddress: '127.0.0.3', connectRetry: 1, password: 'wrong' }], dir), 'bad.json'), log);
  const failuresBefore = tcpExt('TCPMD5Failure');
  try {
    await a.start();
    await good.start();
    await bad.start();
    assert.ok(await until(() => state(a, 'good') === 'Established', 8000), 'right key: Established');
    assert.equal(await until(() => state(a, 'bad') === 'Established', 2500), false, 'wrong key: never up');
    assert.ok(tcpExt('TCPMD5Failure') > failuresBefore, 'the kernel counts the MD5 failures');
    // Fix the bad peer's key in a's config: only that peer changes, the good session stays.
    const upSince = a.peers.get('good')!.session.info.uptimeSince;
    writeFileSync(fileA, readFileSync(fileA, 'utf8').replace('"s3cret"', '"wrong"'));
    const report = await a.reload();
    assert.deepEqual(report.peersReset, ['bad']);
    assert.ok(await until(() => state(a, 'bad') === 'Established', 8000), 'rotated key: Established');
    assert.equal(a.peers.get('good')!.session.info.uptimeSince, upSince, 'the other MD5 session was not reset');
  } finally {
    await Promise.allSettled([a.stop(), good.stop(), bad.stop()]);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('GTSM: a TTL-255 peer is accepted, a peer sending TTL 64 is kept out', { skip }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tern-gtsm-'));
  const port = PORT + 100;
  const a = new Daemon(
    parseConfig(config('127.0.0.1', port, [
      { name: 'secure', address: '127.0.0.2', asn: 65000, passive: true, port, ttlSecurity: 1 },
      { name: 'plain', address: '127.0.0.3', asn: 65000, passive: true, port, ttlSecurity: 1 },
    ], dir), 'a.json'),
    log,
  );
  const secure = new Daemon(parseConfig(config('127.0.0.2', port + 1, [{ name: 'a', address: '127.0.0.1', asn: 65000, port, localAddress: '127.0.0.2', connectRetry: 1, ttlSecurity: 1 }], dir), 's.json'), log);
  const plain = new Daemon(parseConfig(config('127.0.0.3', port + 1, [{ name: 'a', address: '127.0.0.1', asn: 65000, port, localAddress: '127.0.0.3', connectRetry: 1 }], dir), 'p.json'), log);
  const dropsBefore = tcpExt('TCPMinTTLDrop');
  try {
    await a.start();
    await secure.start();
    await plain.start();
    assert.ok(await until(() => state(a, 'secure') === 'Established', 8000), 'TTL 255 both ways: Established');
    assert.equal(await until(() => state(a, 'plain') === 'Established', 2500), false, 'TTL 64: never Established');
    assert.ok(tcpExt('TCPMinTTLDrop') > dropsBefore, 'the kernel counts the TTL drops');
  } finally {
    await Promise.allSettled([a.stop(), secure.stop(), plain.stop()]);
    rmSync(dir, { recursive: true, force: true });
  }
});
