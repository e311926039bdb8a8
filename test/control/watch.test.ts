// SPDX-License-Identifier: Apache-2.0
// `tern watch` and the streaming control protocol: events arrive in order as one JSON line each,
// a route change carries the old and new best path, a peer going down is reported with its
// reason, filters apply, and a client that does not read is dropped without blocking the daemon.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/index.ts';
import { Daemon } from '../../src/daemon.ts';
import { createLogger } from '../../src/observability/log.ts';
import { controlStream } from '../../src/control/client.ts';
import { ControlServer, EventStream } from '../../src/control/server.ts';
import { formatWatchEvent, type WatchEvent } from '../../src/control/watch.ts';
import { ScriptedPeer, basicAttributes } from '../helpers/scripted-peer.ts';
import { dottedToU32, ipv4ToBytes } from '../../src/util/ip.ts';

const PORT = 25179 + (process.pid % 500);
const log = createLogger({ level: 'silent' });

async function until<T>(what: string, probe: () => T | undefined, ms = 8000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function scripted(asn: number, address: string): ScriptedPeer {
  return new ScriptedPeer({ asn, bgpId: dottedToU32(address)!, holdTime: 30, families: ['ipv4-unicast'] }, 'ebgp');
}

test('watch streams peer state, route changes with old → new best, and a peer-down', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tern-watch-'));
  const file = join(dir, 'tern.yaml');
  const socket = join(dir, 'tern.ctl');
  writeFileSync(
    file,
    `routerId: 127.0.0.1
asn: 65000
listen: { address: 127.0.0.1, port: ${PORT} }
control: { socket: ${socket} }
peers:
  - { name: a, address: 127.0.0.2, asn: 65100, passive: true, import: all, export: all }
  - { name: b, address: 127.0.0.3, asn: 65200, passive: true, import: all, export: all }
`,
  );
  const daemon = new Daemon(loadConfig(file), log);
  const a = scripted(65100, '127.0.0.2');
  const b = scripted(65200, '127.0.0.3');
  const all: WatchEvent[] = [];
  const onlyB: WatchEvent[] = [];
  const other: WatchEvent[] = [];
  try {
    await daemon.start();
    const watchAll = controlStream(socket, 'watch', {}, (e) => all.push(e as WatchEvent));
    const watchB = controlStream(socket, 'watch', { peer: 'b' }, (e) => onlyB.push(e as WatchEvent));
    const watchOther = controlStream(socket, 'watch', { prefix: '192.168.0.0/16' }, (e) => other.push(e as WatchEvent));
    await Promise.all([watchAll.started, watchB.started, watchOther.started]);

    await a.establish('127.0.0.1', PORT, '127.0.0.2');
    a.announce('ipv4-unicast', ['10.9.0.0/24'], basicAttributes(ipv4ToBytes('127.0.0.2')!, { asPath: [{ type: 2, asns: [65100, 65101] }] }));
    await until('route added', () => all.find((e) => e.type === 'route' && e.change === 'added'));
    // b brings a shorter path: the best changes from a to b.
    await b.establish('127.0.0.1', PORT, '127.0.0.3');
    b.announce('ipv4-unicast', ['10.9.0.0/24'], basicAttributes(ipv4ToBytes('127.0.0.3')!, { asPath: [{ type: 2, asns: [65200] }] }));
    const changed = await until('best changed', () => all.find((e) => e.type === 'route' && e.change === 'best'));
    assert.deepEqual(changed.type === 'route' && [changed.prefix, changed.old?.from, changed.old?.asPath, changed.new?.from, changed.new?.asPath, changed.new?.nextHop], ['10.9.0.0/24', 'a', '65100 65101', 'b', '65200', '127.0.0.3']);

    // b dies: a peer-down with the reason, then the best goes back to a.
    b.crash();
    const down = await until('peer-down', () => all.find((e) => e.type === 'peer-down'));
    assert.equal(down.type === 'peer-down' && down.peer, 'b');
    const back = await until('best back to a', () => all.filter((e) => e.type === 'route' && e.change === 'best')[1]);
    assert.deepEqual(back.type === 'route' && [back.old?.from, back.new?.from], ['b', 'a']);
    const downAt = all.indexOf(down);
    assert.ok(all.indexOf(back) > downAt, 'events arrive in the order they happened');

    const states = all.filter((e) => e.type === 'peer-state' && e.peer === 'a').map((e) => (e.type === 'peer-state' ? e.to : ''));
    assert.equal(states.at(-1), 'Established');
    assert.ok(all.some((e) => e.type === 'peer-up' && e.peer === 'a'));

    // --peer b: only b's session events, and route changes where b was or became best.
    assert.ok(onlyB.length > 0);
    assert.ok(onlyB.every((e) => (e.type === 'route' ? e.old?.from === 'b' || e.new?.from === 'b' : e.peer === 'b')), JSON.stringify(onlyB));
    assert.equal(onlyB.filter((e) => e.type === 'route').length, 2);
    // --prefix 192.168.0.0/16: no route events for 10.9.0.0/24.
    assert.equal(other.filter((e) => e.type === 'route').length, 0);

    assert.match(formatWatchEvent(changed), /^\d\d:\d\d:\d\d\.\d{3} route 10\.9\.0\.0\/24 best: a via 127\.0\.0\.2 \[65100 65101\] -> b via 127\.0\.0\.3 \[65200\]$/);
    assert.match(formatWatchEvent(down), /^\S+ peer b: down: /);

    // Closing a watch unsubscribes it from the daemon's events.
    const before = daemon.events.listenerCount('peerState');
    watchAll.close();
    watchB.close();
    watchOther.close();
    await Promise.all([watchAll.done, watchB.done, watchOther.done]);
    await until('listeners released', () => (daemon.events.listenerCount('peerState') === before - 3 ? true : undefined));
    assert.equal(daemon.events.listenerCount('routeChange'), 0, 'the route tracker is released with the last watch');
  } finally {
    a.close();
    b.close();
    await daemon.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('watch rejects an unknown peer or a bad prefix before streaming', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tern-watch-'));
  const file = join(dir, 'tern.yaml');
  const socket = join(dir, 'tern.ctl');
  writeFileSync(file, `routerId: 127.0.0.1\nasn: 65000\nlisten: false\ncontrol: { socket: ${socket} }\npeers: []\n`);
  const daemon = new Daemon(loadConfig(file), log);
  try {
    await daemon.start();
    const s1 = controlStream(socket, 'watch', { peer: 'ghost' }, () => {});
    await assert.rejects(s1.done, /no peer named "ghost"/);
    const s2 = controlStream(socket, 'watch', { prefix: 'banana' }, () => {});
    await assert.rejects(s2.started, /bad prefix "banana"/);
    const s3 = controlStream(socket, 'show status', {}, () => {});
    await assert.rejects(s3.done, /"show status" is not a streaming command/);
  } finally {
    await daemon.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('stream protocol: events in order, end line, and a client that does not read is dropped', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tern-stream-'));
  const path = join(dir, 'tern.ctl');
  let emitNow: ((e: unknown) => void) | undefined;
  let endNow: ((error?: string) => void) | undefined;
  let unsubscribed = 0;
  const server = new ControlServer(
    path,
    (command) =>
      new EventStream((emit, end) => {
        emitNow = emit;
        endNow = end;
        if (command === 'three') {
          emit(1);
          emit(2);
          emit(3);
          end();
        }
        return () => unsubscribed++;
      }),
    log,
    { maxStreamBytes: 64 * 1024 },
  );
  try {
    await server.listen();
    const got: unknown[] = [];
    const three = controlStream(path, 'three', {}, (e) => got.push(e));
    await three.done;
    assert.deepEqual(got, [1, 2, 3]);
    assert.equal(unsubscribed, 1);

    const failing = controlStream(path, 'later', {}, () => {});
    await failing.started;
    endNow!('source went away');
    await assert.rejects(failing.done, /source went away/);
    assert.equal(unsubscribed, 2);

    // A client that never reads: the daemon keeps emitting without waiting, and drops it.
    const raw = createConnection(path);
    raw.on('error', () => {});
    await new Promise<void>((resolve) => raw.on('connect', () => resolve()));
    raw.write(JSON.stringify({ id: 9, command: 'slow' }) + '\n');
    await until('stream started', () => emitNow && unsubscribed === 2 ? true : undefined);
    raw.pause();
    await new Promise((r) => setTimeout(r, 50));
    const big = 'x'.repeat(4096);
    const started = Date.now();
    let sent = 0;
    while (unsubscribed === 2 && sent < 10_000) {
      emitNow!({ big, n: sent++ });
    }
    assert.equal(unsubscribed, 3, 'the slow client was dropped and its subscription ended');
    assert.ok(Date.now() - started < 2000, 'emitting never blocked');
    assert.ok(sent < 10_000, `dropped after ${sent} events`);
    raw.destroy();
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
