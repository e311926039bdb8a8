// SPDX-License-Identifier: Apache-2.0
// Calico's consumers of the BIRD socket (mirrored in calico-mirror.ts) against (1) the replies
// captured from real BIRD 1.6.8, which proves the mirrors, and (2) live Tern daemons on loopback
// serving `birdSockets`: calicoctl's peer table, checkBIRDReady's verdicts and its graceful
// restart check, plus the socket's own limits (many clients, over-long lines, restrict, quit).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../../src/config/index.ts';
import { Daemon } from '../../../src/daemon.ts';
import { createLogger } from '../../../src/observability/log.ts';
import { BirdClient } from '../../../src/calico/birdctl/client.ts';
import { MAX_COMMAND_BYTES } from '../../../src/calico/birdctl/server.ts';
import { checkBirdReady, grInProgress, scanBirdPeers } from './calico-mirror.ts';
import { loadTranscript } from './helpers.ts';

test('mirrors accept the captured BIRD 1.6.8 replies', () => {
  const t = loadTranscript('bird168-v4.json');
  const peers = scanBirdPeers([t.hello, ...t.replies['show protocols']!], '.');
  assert.deepEqual(
    peers.map((p) => [p.peerIP, p.peerType, p.state, p.bgpState, p.info]),
    [
      ['10.0.0.2', 'node-to-node mesh', 'up', 'Established', ''],
      ['10.0.0.3', 'node-to-node mesh', 'start', 'Active', 'Socket: No route to host'],
      ['10.0.0.9', 'node specific', 'start', 'Passive', ''],
    ],
  );
  const gr = loadTranscript('bird168-v4-gr.json');
  assert.equal(grInProgress(gr.replies['show status']!), true);
  assert.equal(grInProgress(t.replies['show status']!), false);
  assert.equal(checkBirdReady(peers, true, () => false), 'BGP not established with 10.0.0.3,10.0.0.9');
  assert.equal(checkBirdReady(peers, false, () => false), undefined);
  assert.deepEqual(scanBirdPeers(loadTranscript('bird168-v6.json').replies['show protocols']!, ':').map((p) => p.peerIP), ['fd00::2', 'fd00::3']);
});

const PORT = 21179 + (process.pid % 1000);

function peer(name: string, address: string, extra: object = {}): object {
  return { name, address, asn: 64512, port: PORT, connectRetry: 1, holdTime: 9, import: 'all', export: 'all', ...extra };
}

function config(me: string, dir: string, peers: object[], extra: object = {}): string {
  return JSON.stringify({
    routerId: me,
    asn: 64512,
    listen: { address: me, port: PORT },
    control: { socket: join(dir, `${me}.ctl`) },
    birdSockets: { ipv4: join(dir, `${me}-bird.ctl`), ipv6: join(dir, `${me}-bird6.ctl`) },
    peers,
    ...extra,
  });
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, ms = 15000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** What calicoctl and the probe do: connect, send one command, read the reply (hello included). */
async function ask(path: string, command: string): Promise<string[]> {
  const c = await BirdClient.connect(path);
  try {
    return [c.hello, ...(await c.command(command))];
  } finally {
    c.close();
  }
}

test('live Tern: calicoctl node status, checkBIRDReady and GRInProgress read its sockets', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tern-birdctl-'));
  const log = createLogger({ level: process.env.TERN_TEST_LOG ?? 'silent' });
  const gr = { gracefulRestart: { restartTime: 120 } };
  // a peers with b (up) and with 127.0.0.3, where nothing listens (never up).
  const a = new Daemon(parseConfig(config('127.0.0.1', dir, [peer('Mesh_127_0_0_2', '127.0.0.2', { localAddress: '127.0.0.1', ...gr }), peer('Node_127_0_0_3', '127.0.0.3', { localAddress: '127.0.0.1' })], { gracefulRestart: { deferralTime: 3 } }), 'a.json'), log);
  const b = new Daemon(parseConfig(config('127.0.0.2', dir, [peer('Mesh_127_0_0_1', '127.0.0.1', { localAddress: '127.0.0.2', passive: true, ...gr })]), 'b.json'), log);
  try {
    // a restarts gracefully (as `tern run --graceful-restart`): recovery runs until b's End-of-RIB or 3 s.
    await a.start({ recover: true });
    await b.start();
    const sock4 = a.config.birdSockets!.ipv4!;
    const sock6 = a.config.birdSockets!.ipv6!;
    const hello = (await ask(sock4, 'show status'))[0]!;
    // calico's status parser needs "BIRD" and "ready" in the hello.
    assert.match(hello, /^0001 BIRD .*ready\.$/);
    assert.equal(grInProgress(await ask(sock4, 'show status')), true, 'recovery shows the 0024 block');

    const peers = await waitFor('Mesh_127_0_0_2 established', async () => {
      const p = scanBirdPeers(await ask(sock4, 'show protocols'), '.');
      return p.find((x) => x.bgpState === 'Established') ? p : undefined;
    });
    assert.deepEqual(
      peers.map((p) => [p.peerIP, p.peerType, p.state, p.bgpState]),
      [
        ['127.0.0.2', 'node-to-node mesh', 'up', 'Established'],
        ['127.0.0.3', 'node specific', 'start', peers[1]!.bgpState],
      ],
    );
    assert.ok(['Connect', 'Active', 'Idle'].includes(peers[1]!.bgpState), peers[1]!.bgpState);
    assert.match(peers[0]!.since, /^\d{2}:\d{2}:\d{2}$/);
    assert.equal(checkBirdReady(peers, true, () => false), 'BGP not established with 127.0.0.3');
    assert.equal(checkBirdReady(peers, false, () => false), undefined);
    // The IPv6 socket has no IPv6 peers: ready, as BIRD6 with no sessions.
    assert.deepEqual(scanBirdPeers(await ask(sock6, 'show protocols'), ':'), []);

    // Recovery ends (End-of-RIB from b, or the 3 s deferral): the 0024 block goes away.
    await waitFor('recovery done', async () => (grInProgress(await ask(sock4, 'show status')) ? undefined : true), 10000);
    // The reporter's detail query on the same connection: BGP state and neighbor address lines.
    const c = await BirdClient.connect(sock4);
    const detail = await c.command('show protocols all Mesh_127_0_0_2');
    const routes = await c.command('show route');
    c.close();
    assert.ok(detail.includes('   BGP state:          Established'), detail.join('\n'));
    assert.ok(detail.includes('     Neighbor address: 127.0.0.2'));
    assert.equal(routes.at(-1), '0000 ');
  } finally {
    await Promise.allSettled([a.stop(), b.stop()]);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('live Tern: many clients at once, restrict, quit, an over-long line', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tern-birdctl-'));
  const log = createLogger({ level: process.env.TERN_TEST_LOG ?? 'silent' });
  const d = new Daemon(parseConfig(config('127.0.0.1', dir, [peer('Global_127_0_0_5', '127.0.0.5')]), 'd.json'), log);
  try {
    await d.start();
    const sock = d.config.birdSockets!.ipv4!;
    // 40 clients, each two commands on one connection.
    const replies = await Promise.all(
      Array.from({ length: 40 }, async () => {
        const c = await BirdClient.connect(sock);
        const r = [await c.command('show protocols'), await c.command('show route count')];
        c.close();
        return r;
      }),
    );
    for (const [protocols, count] of replies) {
      assert.equal(protocols!.filter((l) => l.includes('Global_127_0_0_5')).length, 1);
      assert.match(count![0]!, /^0014 \d+ of \d+ routes for \d+ networks$/);
    }

    // Unrestricted: disable / enable a session as BIRD's CLI does (codes 0009, 0008, 0011).
    const admin = await BirdClient.connect(sock);
    assert.deepEqual(await admin.command('disable Global_127_0_0_5'), ['0009-Global_127_0_0_5: disabled', '0000 ']);
    assert.deepEqual(await admin.command('disable Global_127_0_0_5'), ['0008-Global_127_0_0_5: already disabled', '0000 ']);
    assert.match((await admin.command('show protocols Global_127_0_0_5'))[1]!, /^1002-Global_127_0_0_5 BGP +master +down /);
    assert.deepEqual(await admin.command('enable "Global*"'), ['0011-Global_127_0_0_5: enabled', '0000 ']);
    assert.deepEqual(await admin.command('disable kernel1'), ['8007 Access denied']);
    admin.close();

    const c = await BirdClient.connect(sock);
    assert.deepEqual(await c.command('restrict'), ['0016 Access restricted']);
    assert.deepEqual(await c.command('disable Global_127_0_0_5'), ['8007 Access denied']);
    assert.deepEqual(await c.command('configure'), ['8007 Access denied']);
    assert.deepEqual(await c.command('show protocols nope'), ['9002 nope is not a protocol']);
    assert.deepEqual(await c.command('show protocols "zzz*"'), ['8003 No protocols match']);
    assert.deepEqual(await c.command('show route for 10.9.9.9'), ['8001 Network not in table']);
    assert.deepEqual(await c.command('bogus'), ['9001 syntax error']);
    c.writeRaw('quit\n');
    await c.waitClosed();

    const long = await BirdClient.connect(sock);
    long.writeRaw(`show status ${'x'.repeat(MAX_COMMAND_BYTES)}\n`);
    await long.waitClosed();
    // The daemon's peer is untouched by the restricted client.
    assert.notEqual(d.peerByName('Global_127_0_0_5')?.session.state, undefined);
  } finally {
    await d.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
