// SPDX-License-Identifier: Apache-2.0
// `tern peer disable|enable|reset`, as the other side sees it: a scripted peer receives
// Cease / Administrative Shutdown (RFC 9003 text "disabled by operator") and cannot come back
// until enable; reset sends Cease / Administrative Reset and a second Tern sees the session
// return by itself. A disabled peer stays disabled over a reload unless its config changes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, parseConfig } from '../../src/config/index.ts';
import { Daemon } from '../../src/daemon.ts';
import { createLogger } from '../../src/observability/log.ts';
import { controlRequest } from '../../src/control/client.ts';
import type { PeerView } from '../../src/control/views.ts';
import type { PeerOpResult } from '../../src/control/peer-ops.ts';
import { CeaseSubcode, NotificationCode } from '../../src/bgp/messages/iana.ts';
import { decodeShutdownCommunication } from '../../src/bgp/messages/notification.ts';
import type { NotificationMessage } from '../../src/bgp/messages/types.ts';
import { ScriptedPeer } from '../helpers/scripted-peer.ts';
import { dottedToU32 } from '../../src/util/ip.ts';

const PORT = 26179 + (process.pid % 500);
const log = createLogger({ level: process.env.TERN_TEST_LOG ?? 'silent' });

async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 30));
  }
}

function yaml(dir: string, description: string): string {
  return `routerId: 127.0.0.1
asn: 65000
listen: { address: 127.0.0.1, port: ${PORT} }
control: { socket: ${join(dir, 'tern.ctl')} }
peers:
  - { name: p, address: 127.0.0.2, asn: 65100, passive: true, import: all, export: all, description: "${description}" }
  - { name: q, address: 127.0.0.3, asn: 65200, passive: true }
`;
}

const scripted = () => new ScriptedPeer({ asn: 65100, bgpId: dottedToU32('127.0.0.2')!, holdTime: 30, families: ['ipv4-unicast'] }, 'ebgp');

function notificationOf(peer: ScriptedPeer): NotificationMessage | undefined {
  return peer.received.find((m): m is NotificationMessage => m.type === 'notification');
}

test('disable / enable / reset as a scripted peer sees them; disabled survives reload', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tern-peerops-'));
  const file = join(dir, 'tern.yaml');
  const socket = join(dir, 'tern.ctl');
  writeFileSync(file, yaml(dir, 'first'));
  const daemon = new Daemon(loadConfig(file), log);
  const peers: ScriptedPeer[] = [];
  const connect = async () => {
    const s = scripted();
    peers.push(s);
    await s.establish('127.0.0.1', PORT, '127.0.0.2');
    return s;
  };
  const peerP = async () => ((await controlRequest(socket, 'show peers')) as PeerView[]).find((v) => v.name === 'p')!;
  try {
    await daemon.start();
    const first = await connect();

    // disable: Cease / Administrative Shutdown with the RFC 9003 text.
    const off = (await controlRequest(socket, 'peer disable', { peer: 'p' })) as PeerOpResult;
    assert.deepEqual(off, { peer: 'p', action: 'disable', changed: true, disabled: true, state: 'Idle' });
    await first.waitFor('close', () => first.closed);
    const n = notificationOf(first)!;
    assert.deepEqual([n.code, n.subcode], [NotificationCode.Cease, CeaseSubcode.AdministrativeShutdown]);
    assert.deepEqual(decodeShutdownCommunication(n.data), { ok: true, message: 'disabled by operator' });
    const shown = await peerP();
    assert.equal(shown.state, 'Idle');
    assert.equal(shown.disabled, true);
    assert.equal(((await controlRequest(socket, 'show peers')) as PeerView[]).find((v) => v.name === 'q')!.disabled, false);
    // It stays down: a new connection from the peer is refused.
    await assert.rejects(connect(), /connection closed while waiting for Established/);
    assert.equal(((await controlRequest(socket, 'peer disable', { peer: 'p' })) as PeerOpResult).changed, false);
    await assert.rejects(controlRequest(socket, 'peer reset', { peer: 'p' }), /peer "p" is disabled; enable it/);

    // A reload that does not touch p keeps it disabled.
    const report = (await controlRequest(socket, 'reload')) as { peersUpdated: string[] };
    assert.deepEqual(report.peersUpdated, []);
    assert.equal((await peerP()).disabled, true);
    await assert.rejects(connect(), /connection closed/);

    // enable: the peer can come back.
    const on = (await controlRequest(socket, 'peer enable', { peer: 'p' })) as PeerOpResult;
    assert.equal(on.changed, true);
    assert.equal(on.disabled, false);
    const second = await connect();
    assert.equal((await peerP()).state, 'Established');
    assert.equal(((await controlRequest(socket, 'peer enable', { peer: 'p' })) as PeerOpResult).changed, false);

    // reset: Cease / Administrative Reset (subcode 4), then Tern is ready again (passive: waits).
    const reset = (await controlRequest(socket, 'peer reset', { peer: 'p' })) as PeerOpResult;
    assert.equal(reset.disabled, false);
    await second.waitFor('close', () => second.closed);
    const r = notificationOf(second)!;
    assert.deepEqual([r.code, r.subcode], [NotificationCode.Cease, CeaseSubcode.AdministrativeReset]);
    assert.deepEqual(decodeShutdownCommunication(r.data), { ok: true, message: 'reset by operator' });
    await connect();
    assert.equal((await peerP()).state, 'Established');

    // Disabled, then a reload that changes p's config: enabled again.
    await controlRequest(socket, 'peer disable', { peer: 'p' });
    writeFileSync(file, yaml(dir, 'second'));
    const changed = (await controlRequest(socket, 'reload')) as { peersUpdated: string[] };
    assert.deepEqual(changed.peersUpdated, ['p']);
    assert.equal((await peerP()).disabled, false);
    await connect();

    await assert.rejects(controlRequest(socket, 'peer disable', { peer: 'nobody' }), /no peer named "nobody" \(peers: p, q\)/);
  } finally {
    for (const s of peers) s.close();
    await daemon.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('reset: a second Tern sees Cease / Administrative Reset and the session comes back by itself', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tern-peerops2-'));
  const port = PORT + 600;
  const config = (me: string, asn: number, them: string, theirAsn: number, passive: boolean) =>
    JSON.stringify({
      routerId: me,
      asn,
      listen: { address: me, port },
      control: { socket: join(dir, `${me}.ctl`) },
      peers: [{ name: 'other', address: them, asn: theirAsn, port, localAddress: me, passive, connectRetry: 1, holdTime: 9, import: 'all', export: 'all' }],
    });
  const a = new Daemon(parseConfig(config('127.0.0.5', 65001, '127.0.0.6', 65002, false), 'a.json'), log);
  const b = new Daemon(parseConfig(config('127.0.0.6', 65002, '127.0.0.5', 65001, true), 'b.json'), log);
  const peerOf = async (d: Daemon) => ((await controlRequest(d.config.control.socket, 'show peers')) as PeerView[])[0]!;
  try {
    await a.start();
    await b.start();
    const upSince = await until('established', async () => {
      const [pa, pb] = [await peerOf(a), await peerOf(b)];
      return pa.state === 'Established' && pb.state === 'Established' ? pb.messagesReceived.OPEN : undefined;
    });
    await controlRequest(a.config.control.socket, 'peer reset', { peer: 'other' });
    const seen = await until('b sees the reset', async () => {
      const p = await peerOf(b);
      return p.lastError?.includes('Administrative Reset') ? p : undefined;
    });
    assert.match(seen.lastError!, /received Cease \/ Administrative Reset: "reset by operator"/);
    // a reconnects on its own (it is the active side); b sees a new OPEN.
    await until('re-established', async () => {
      const p = await peerOf(b);
      return p.state === 'Established' && (p.messagesReceived.OPEN ?? 0) > (upSince ?? 0) ? true : undefined;
    });
    assert.equal((await peerOf(a)).state, 'Established');

    // disable on b: a sees Administrative Shutdown and cannot get back in until enable.
    await controlRequest(b.config.control.socket, 'peer disable', { peer: 'other' });
    const down = await until('a sees the shutdown', async () => {
      const p = await peerOf(a);
      return p.lastError?.includes('disabled by operator') ? p : undefined;
    });
    assert.match(down.lastError!, /Administrative Shutdown: "disabled by operator"/);
    await new Promise((r) => setTimeout(r, 1500)); // a retries every second
    assert.notEqual((await peerOf(a)).state, 'Established');
    await controlRequest(b.config.control.socket, 'peer enable', { peer: 'other' });
    await until('back after enable', async () => ((await peerOf(a)).state === 'Established' ? true : undefined));
  } finally {
    await Promise.allSettled([a.stop(), b.stop()]);
    rmSync(dir, { recursive: true, force: true });
  }
});
