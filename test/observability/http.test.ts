// SPDX-License-Identifier: Apache-2.0
// The operations endpoint: /metrics, /healthz, /readyz, HEAD, 404/405, event-loop lag, bind
// errors at start, readiness following the peers (and our own graceful-restart recovery), and
// a scrape with peers in every FSM state (real ones on loopback, then arbitrary ones).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { createServer, type Server, type Socket } from 'node:net';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../src/config/index.ts';
import { Daemon } from '../../src/daemon.ts';
import { createLogger } from '../../src/observability/log.ts';
import { ObservabilityServer, parseListen } from '../../src/observability/http.ts';
import { PEER_STATE_VALUE } from '../../src/observability/metrics.ts';
import { encodeMessage } from '../../src/bgp/messages/index.ts';
import { buildOpen } from '../../src/bgp/messages/negotiate.ts';
import { encodeNotification } from '../../src/bgp/messages/notification.ts';
import { CeaseSubcode, NotificationCode } from '../../src/bgp/messages/iana.ts';
import { DEFAULT_CONTEXT } from '../../src/bgp/messages/types.ts';
import { dottedToU32 } from '../../src/util/ip.ts';
import { ScriptedPeer } from '../helpers/scripted-peer.ts';
import { freePort, httpRequest, parseProm, valueOf, waitFor } from './metrics-helpers.ts';

const log = createLogger({ level: process.env.TERN_TEST_LOG ?? 'silent' });

function daemonOf(config: Record<string, unknown>, dir: string): Daemon {
  return new Daemon(parseConfig(JSON.stringify({ asn: 65000, control: { socket: join(dir, `${String(config.routerId)}.ctl`) }, ...config }), 'test.json'), log);
}

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'tern-http-'));
}

const json = (body: string) => JSON.parse(body) as Record<string, unknown>;

test('parseListen: ADDRESS:PORT, [IPv6]:PORT, :PORT; anything else names the text', () => {
  assert.deepEqual(parseListen(':9179'), { host: undefined, port: 9179 });
  assert.deepEqual(parseListen('127.0.0.1:9179'), { host: '127.0.0.1', port: 9179 });
  assert.deepEqual(parseListen('[::1]:9179'), { host: '::1', port: 9179 });
  assert.deepEqual(parseListen('[fd00::1]:80'), { host: 'fd00::1', port: 80 });
  for (const bad of ['9179', '127.0.0.1', ':65536', ':-1', '::1:9179', '[127.0.0.1]:9179', '10.0.0.256:80', 'localhost:9179', '[::1]']) {
    assert.throws(() => parseListen(bad), (e: Error) => e.message.includes(`"${bad}"`), bad);
  }
});

test('endpoints: health and readiness follow the serving flag, HEAD, 404, 405, query strings, lag, close', async () => {
  const dir = tempDir();
  const daemon = daemonOf({ routerId: '127.0.0.1', listen: false }, dir);
  const server = await ObservabilityServer.start(daemon, { listen: '127.0.0.1:0', maxEventLoopLagMs: 150, lagWindowMs: 60_000 });
  const port = server.address().port;
  try {
    // Not serving yet: both 503 with a reason.
    let r = await httpRequest(port, '/healthz');
    assert.equal(r.status, 503);
    assert.match(String(json(r.body).reason), /starting/);
    r = await httpRequest(port, '/readyz');
    assert.equal(r.status, 503);
    assert.equal(r.headers['content-type'], 'application/json');

    server.setServing(true);
    r = await httpRequest(port, '/healthz');
    assert.equal(r.status, 200, r.body);
    assert.equal(json(r.body).status, 'ok');
    assert.equal(typeof json(r.body).eventLoopLagMs, 'number');
    r = await httpRequest(port, '/readyz');
    assert.deepEqual(json(r.body), { status: 'ready', peers: 0 });

    // HEAD: the GET headers (with the length), no body.
    const get = await httpRequest(port, '/metrics');
    const head = await httpRequest(port, '/metrics', 'HEAD');
    assert.equal(head.status, 200);
    assert.equal(head.body, '');
    assert.ok(Number(head.headers['content-length']) > 1000, String(head.headers['content-length']));
    assert.equal(head.headers['content-type'], get.headers['content-type']);
    assert.equal((await httpRequest(port, '/healthz', 'HEAD')).body, '');
    assert.equal((await httpRequest(port, '/metrics?name[]=tern_peer_up')).status, 200);

    r = await httpRequest(port, '/');
    assert.equal(r.status, 404);
    assert.match(r.body, /try \/metrics, \/healthz, \/readyz/);
    assert.equal((await httpRequest(port, '/metrics/')).status, 404);
    r = await httpRequest(port, '/metrics', 'POST');
    assert.equal(r.status, 405);
    assert.equal(r.headers.allow, 'GET, HEAD');

    // A blocked event loop: the lag shows in /healthz once the loop turns again.
    const until = Date.now() + 500;
    while (Date.now() < until) {
      // busy: nothing else runs
    }
    r = await httpRequest(port, '/healthz');
    assert.equal(r.status, 503, r.body);
    assert.match(String(json(r.body).reason), /^event loop lag \d+(\.\d)? ms exceeds 150 ms$/);
    assert.ok(Number(json(r.body).eventLoopLagMs) >= 400);
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
  await assert.rejects(httpRequest(port, '/healthz'), /ECONNREFUSED/);
});

test('a metrics address that cannot be bound fails the daemon start, naming the address', async () => {
  const dir = tempDir();
  const busy = createServer();
  await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
  const busyPort = (busy.address() as { port: number }).port;
  try {
    const inUse = daemonOf({ routerId: '127.0.0.1', listen: false, metrics: { listen: `127.0.0.1:${busyPort}` } }, dir);
    await assert.rejects(inUse.start(), new RegExp(`^Error: metrics: cannot listen on 127\\.0\\.0\\.1:${busyPort}: EADDRINUSE`));
    assert.equal(existsSync(inUse.config.control.socket), false, 'nothing else was started');
    const notLocal = daemonOf({ routerId: '127.0.0.1', listen: false, metrics: { listen: '192.0.2.1:9179' } }, dir);
    await assert.rejects(notLocal.start(), /^Error: metrics: cannot listen on 192\.0\.2\.1:9179: EADDRNOTAVAIL/);
  } finally {
    busy.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('/readyz: not ready until the peer is Established, not ready again when it goes down', async () => {
  const dir = tempDir();
  const [bgpPort, metricsPort] = [await freePort('127.0.0.51'), await freePort('127.0.0.51')];
  const peer = (address: string, asn: number, passive: boolean) => ({ name: 'other', address, asn, port: bgpPort, passive, connectRetry: 1, holdTime: 9, import: 'all', export: 'all' });
  const a = daemonOf({ routerId: '127.0.0.51', asn: 65051, listen: { address: '127.0.0.51', port: bgpPort }, metrics: { listen: `127.0.0.51:${metricsPort}` }, peers: [{ ...peer('127.0.0.52', 65052, false), localAddress: '127.0.0.51' }] }, dir);
  const b = daemonOf({ routerId: '127.0.0.52', asn: 65052, listen: { address: '127.0.0.52', port: bgpPort }, peers: [peer('127.0.0.51', 65051, true)] }, dir);
  const get = (path: string) => httpRequest(metricsPort, path, 'GET', '127.0.0.51');
  try {
    await a.start();
    let r = await get('/readyz');
    assert.equal(r.status, 503);
    const body = json(r.body) as { notReady: { peer: string; state: string; reason: string }[] };
    assert.deepEqual(body.notReady.map((p) => [p.peer, p.reason]), [['other', 'session not Established']]);
    assert.notEqual(body.notReady[0]!.state, 'Established');
    assert.equal((await get('/healthz')).status, 200, 'live while not ready');

    await b.start();
    r = await waitFor('ready', async () => {
      const x = await get('/readyz');
      return x.status === 200 ? x : undefined;
    });
    assert.deepEqual(json(r.body), { status: 'ready', peers: 1 });

    await b.stop('going away');
    r = await waitFor('not ready again', async () => {
      const x = await get('/readyz');
      return x.status === 503 ? x : undefined;
    });
    assert.match(r.body, /"peer":"other"/);
    await a.stop();
    await assert.rejects(get('/healthz'), /ECONNREFUSED/);
  } finally {
    await Promise.allSettled([a.stop(), b.stop()]);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('/readyz after our own restart: not ready until the graceful-restart peer\'s End-of-RIB ends recovery', async () => {
  const dir = tempDir();
  const [bgpPort, metricsPort] = [await freePort('127.0.0.61'), await freePort('127.0.0.61')];
  const d = daemonOf({
    routerId: '127.0.0.61',
    listen: { address: '127.0.0.61', port: bgpPort },
    metrics: { listen: `127.0.0.61:${metricsPort}` },
    peers: [{ name: 'gr', address: '127.0.0.62', asn: 65000, passive: true, holdTime: 30, gracefulRestart: { restartTime: 30 } }],
  }, dir);
  const get = (path: string) => httpRequest(metricsPort, path, 'GET', '127.0.0.61');
  const p = new ScriptedPeer({
    asn: 65000,
    bgpId: dottedToU32('127.0.0.62')!,
    holdTime: 30,
    families: ['ipv4-unicast'],
    gracefulRestart: { restartTime: 30, restarting: false, notification: false, families: [{ family: 'ipv4-unicast', forwardingState: true }] },
  }, 'ibgp');
  try {
    await d.start({ recover: true });
    await p.establish('127.0.0.61', bgpPort, '127.0.0.62');
    let r = await get('/readyz');
    assert.equal(r.status, 503);
    assert.match(r.body, /graceful restart recovery in progress/);
    assert.equal(valueOf(parseProm((await get('/metrics')).body), 'tern_graceful_restart_recovering'), 1);
    p.sendEndOfRib('ipv4-unicast');
    r = await waitFor('ready after End-of-RIB', async () => {
      const x = await get('/readyz');
      return x.status === 200 ? x : undefined;
    });
    assert.equal(valueOf(parseProm((await get('/metrics')).body), 'tern_graceful_restart_recovering'), 0);
    p.close();
  } finally {
    await d.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

/** A TCP "peer" on `host` that does `onConnect` with each connection Tern makes. */
async function rawPeer(host: string, onConnect: (s: Socket) => void): Promise<{ server: Server; port: number }> {
  const server = createServer((s) => {
    s.on('error', () => {});
    onConnect(s);
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return { server, port: (server.address() as { port: number }).port };
}

test('a scrape never throws, with peers in every state (real ones, then arbitrary ones)', async () => {
  const dir = tempDir();
  const H = '127.0.0.71';
  const open = (asn: number, id: string) => encodeMessage(buildOpen({ asn, bgpId: dottedToU32(id)!, holdTime: 90, families: ['ipv4-unicast'] }), DEFAULT_CONTEXT);
  const silent = await rawPeer('127.0.0.73', () => {});
  const openOnly = await rawPeer('127.0.0.74', (s) => s.write(open(65074, '127.0.0.74')));
  const rejecting = await rawPeer('127.0.0.75', (s) => {
    s.end(encodeNotification({ type: 'notification', code: NotificationCode.Cease, subcode: CeaseSubcode.ConnectionRejected, data: new Uint8Array(0) }));
  });
  const bgpPort = await freePort(H);
  const peer = (name: string, address: string, asn: number, port: number, passive = false) => ({ name, address, asn, port, passive, localAddress: H, holdTime: 90, connectRetry: 1 });
  const d = daemonOf({
    routerId: H,
    listen: { address: H, port: bgpPort },
    peers: [
      peer('active', '127.0.0.72', 65072, 179, true),
      peer('opensent', '127.0.0.73', 65073, silent.port),
      peer('openconfirm', '127.0.0.74', 65074, openOnly.port),
      peer('idle', '127.0.0.75', 65075, rejecting.port),
      peer('established', '127.0.0.76', 65000, 179, true),
    ],
  }, dir);
  const scripted = new ScriptedPeer({ asn: 65000, bgpId: dottedToU32('127.0.0.76')!, holdTime: 90, families: ['ipv4-unicast'] }, 'ibgp');
  const server = await ObservabilityServer.start(d, { listen: `${H}:0` });
  const scrape = async () => {
    const r = await httpRequest(server.address().port, '/metrics', 'GET', H);
    assert.equal(r.status, 200, r.body);
    return parseProm(r.body);
  };
  try {
    await d.start();
    server.setServing(true);
    await scripted.establish(H, bgpPort, '127.0.0.76');
    const want: Record<string, string> = { active: 'Active', opensent: 'OpenSent', openconfirm: 'OpenConfirm', idle: 'Idle', established: 'Established' };
    await waitFor('every state', () => [...d.peers.values()].every((p) => p.session.state === want[p.config.name] && (p.config.name !== 'idle' || p.session.info.lastError)) || undefined);
    const samples = await scrape();
    for (const [name, state] of Object.entries(want)) assert.equal(valueOf(samples, 'tern_peer_state', { peer: name }), PEER_STATE_VALUE[state], name);
    assert.equal(valueOf(samples, 'tern_peer_last_error_info', { peer: 'idle' }), 1);
    assert.equal(valueOf(samples, 'tern_peer_last_error_info', { peer: 'idle', code: '6', subcode: '5' }), 1, 'Cease / Connection Rejected');
    const ready = json((await httpRequest(server.address().port, '/readyz', 'GET', H)).body) as { notReady: { peer: string; state: string }[] };
    assert.deepEqual(ready.notReady.map((p) => `${p.peer}:${p.state}`).sort(), ['active:Active', 'idle:Idle', 'openconfirm:OpenConfirm', 'opensent:OpenSent']);

    // Arbitrary session states and counters (including ones no real session reaches): the scrape
    // still answers, and tern_peer_state is the state's number (0 for an unknown state name).
    const entry = d.peers.get('established')!;
    const saved = { ...entry.session.info };
    try {
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom('Idle', 'Connect', 'Active', 'OpenSent', 'OpenConfirm', 'Established', 'Bogus'),
          fc.option(fc.integer({ min: 0, max: 2 ** 42 })),
          fc.option(fc.string()),
          fc.dictionary(fc.constantFrom('OPEN', 'UPDATE', 'KEEPALIVE', 'NOTIFICATION', 'ROUTE-REFRESH', 'WEIRD'), fc.nat()),
          async (state, uptimeSince, lastError, messagesIn) => {
            Object.defineProperty(entry.session, 'state', { get: () => state, configurable: true });
            entry.session.info.uptimeSince = uptimeSince ?? undefined;
            entry.session.info.lastError = lastError ?? undefined;
            entry.session.info.messagesIn = messagesIn;
            const s = await scrape();
            assert.equal(valueOf(s, 'tern_peer_state', { peer: 'established' }), PEER_STATE_VALUE[state] ?? 0);
            assert.equal(s.filter((x) => x.name === 'tern_peer_last_error_info' && x.labels.peer === 'established').length, lastError === null ? 0 : 1);
          },
        ),
        { numRuns: 60 },
      );
    } finally {
      delete (entry.session as unknown as Record<string, unknown>).state;
      Object.assign(entry.session.info, saved);
    }
    scripted.close();
  } finally {
    await server.close();
    await d.stop();
    for (const p of [silent, openOnly, rejecting]) p.server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
