// SPDX-License-Identifier: Apache-2.0
// Metrics against `tern show`: two daemons peer over eBGP on loopback (no root), and every
// per-peer and RIB number scraped from /metrics over HTTP equals what the control socket
// reports. Also: the last-error labels after a Cease, reload counters, and the
// (code, subcode) read back from every NOTIFICATION text `show peers` can hold.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/index.ts';
import { Daemon } from '../../src/daemon.ts';
import { createLogger } from '../../src/observability/log.ts';
import { controlRequest } from '../../src/control/client.ts';
import type { PeerView, RouteView } from '../../src/control/views.ts';
import { MESSAGE_TYPES, PEER_STATE_VALUE, notificationOfLastError } from '../../src/observability/metrics.ts';
import { describeNotification } from '../../src/bgp/messages/notification.ts';
import { NotificationCode } from '../../src/bgp/messages/iana.ts';
import { freePort, httpRequest, parseProm, valueOf, waitFor, type Sample } from './metrics-helpers.ts';

const A = '127.0.0.21';
const B = '127.0.0.22';
const BGP_PORT = 22179 + (process.pid % 1000);

function configText(me: string, asn: number, them: string, theirAsn: number, dir: string, metricsPort: number, originate: object[], passive: boolean, extra: object = {}): string {
  return JSON.stringify({
    routerId: me,
    asn,
    listen: { address: me, port: BGP_PORT },
    control: { socket: join(dir, `${me}.ctl`) },
    metrics: { listen: `${me}:${metricsPort}` },
    peers: [{ name: `peer_${them.replaceAll('.', '_')}`, address: them, asn: theirAsn, port: BGP_PORT, localAddress: me, passive, connectRetry: 1, holdTime: 9, families: ['ipv4-unicast', 'ipv6-unicast'], import: 'all', export: 'all', ...extra }],
    originate,
  });
}

async function scrape(port: number, host: string): Promise<Sample[]> {
  const r = await httpRequest(port, '/metrics', 'GET', host);
  assert.equal(r.status, 200, r.body);
  assert.match(String(r.headers['content-type']), /^text\/plain; version=0\.0\.4/);
  return parseProm(r.body);
}

/**
 * Scrape between two identical `show peers` answers: the counters only grow, so a scrape taken
 * in between must equal both (a keepalive arriving meanwhile makes us try again).
 */
async function consistentScrape(sock: string, port: number, host: string): Promise<{ peers: PeerView[]; samples: Sample[] }> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const before = (await controlRequest(sock, 'show peers')) as PeerView[];
    const samples = await scrape(port, host);
    const after = (await controlRequest(sock, 'show peers')) as PeerView[];
    if (JSON.stringify(before) === JSON.stringify(after)) return { peers: after, samples };
  }
  throw new Error('show peers never held still across a scrape');
}

function assertPeerMetricsMatch(samples: Sample[], v: PeerView, expectedPerFamily: Record<string, { received: number; advertised: number }>): void {
  const peer = { peer: v.name };
  assert.equal(valueOf(samples, 'tern_peer_state', { ...peer, peer_as: String(v.asn) }), PEER_STATE_VALUE[v.state], 'state');
  assert.equal(valueOf(samples, 'tern_peer_up', peer), v.state === 'Established' ? 1 : 0, 'up');
  assert.equal(valueOf(samples, 'tern_peer_uptime_seconds', peer), v.uptimeSeconds, 'uptime');
  for (const type of MESSAGE_TYPES) {
    const wire = type.toUpperCase().replace('_', '-');
    assert.equal(valueOf(samples, 'tern_peer_messages_received_total', { ...peer, type }), v.messagesReceived[wire] ?? 0, `received ${type}`);
    assert.equal(valueOf(samples, 'tern_peer_messages_sent_total', { ...peer, type }), v.messagesSent[wire] ?? 0, `sent ${type}`);
  }
  const sum = (name: string) => samples.filter((s) => s.name === name && s.labels.peer === v.name).reduce((n, s) => n + s.value, 0);
  assert.equal(sum('tern_peer_prefixes_received'), v.routesReceived, 'received = show peers routesReceived');
  assert.equal(sum('tern_peer_prefixes_accepted'), v.routesAccepted, 'accepted = show peers routesAccepted');
  assert.equal(sum('tern_peer_prefixes_advertised'), v.routesSent, 'advertised = show peers routesSent');
  assert.equal(sum('tern_peer_prefixes_stale'), v.routesStale, 'stale = show peers routesStale');
  for (const [family, want] of Object.entries(expectedPerFamily)) {
    assert.equal(valueOf(samples, 'tern_peer_prefixes_received', { ...peer, afi_safi: family }), want.received, `received ${family}`);
    assert.equal(valueOf(samples, 'tern_peer_prefixes_advertised', { ...peer, afi_safi: family }), want.advertised, `advertised ${family}`);
  }
}

async function assertRibMetricsMatch(samples: Sample[], sock: string): Promise<void> {
  const routes = (await controlRequest(sock, 'show routes')) as RouteView[];
  const status = (await controlRequest(sock, 'show status')) as { destinations: number; attributeSets: number };
  for (const family of ['ipv4-unicast', 'ipv6-unicast']) {
    const rows = routes.filter((r) => r.family === family);
    assert.equal(valueOf(samples, 'tern_rib_destinations', { afi_safi: family }), new Set(rows.map((r) => r.prefix)).size, `destinations ${family}`);
    assert.equal(valueOf(samples, 'tern_rib_paths', { afi_safi: family }), rows.length, `paths ${family}`);
  }
  const dests = samples.filter((s) => s.name === 'tern_rib_destinations').reduce((n, s) => n + s.value, 0);
  assert.equal(dests, status.destinations);
  assert.equal(valueOf(samples, 'tern_path_attributes_interned'), status.attributeSets);
}

test('metrics scraped over HTTP equal `show peers`, `show routes` and `show status`, before and after a Cease', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tern-metrics-'));
  const log = createLogger({ level: process.env.TERN_TEST_LOG ?? 'silent' });
  const [portA, portB] = [await freePort(A), await freePort(B)];
  const fileA = join(dir, 'a.json');
  const fileB = join(dir, 'b.json');
  writeFileSync(fileA, configText(A, 65001, B, 65002, dir, portA, [{ prefix: '10.244.1.0/26' }, { prefix: 'fd00:244:1::/64', nextHop: 'fd00::1' }], false, { nextHop: 'keep' }));
  writeFileSync(fileB, configText(B, 65002, A, 65001, dir, portB, [{ prefix: '10.244.2.0/26' }, { prefix: '10.244.3.0/26', nextHop: '127.0.0.9' }], true));
  const a = new Daemon(loadConfig(fileA), log);
  const b = new Daemon(loadConfig(fileB), log);
  try {
    await a.start();
    await b.start();
    const sockA = a.config.control.socket;
    const sockB = b.config.control.socket;
    // a's peer uses `nextHop: keep` (as in test/daemon): a loopback IPv4 session has no IPv6
    // address to offer as next hop self, so a's IPv6 route keeps its configured one.
    // Converged: both sessions up, and each side has the other's routes and has sent its own.
    for (const [sock, n] of [[sockA, 2], [sockB, 2]] as const) {
      await waitFor('convergence', async () => {
        const p = ((await controlRequest(sock, 'show peers')) as PeerView[])[0];
        return p?.state === 'Established' && p.routesReceived === n && p.routesSent === 2 ? p : undefined;
      });
    }

    const atA = await consistentScrape(sockA, portA, A);
    assertPeerMetricsMatch(atA.samples, atA.peers[0]!, { 'ipv4-unicast': { received: 2, advertised: 1 }, 'ipv6-unicast': { received: 0, advertised: 1 } });
    await assertRibMetricsMatch(atA.samples, sockA);
    assert.equal(valueOf(atA.samples, 'tern_peer_established_transitions_total', { peer: 'peer_127_0_0_22' }), 1);
    assert.equal(valueOf(atA.samples, 'tern_graceful_restart_recovering'), 0);
    assert.equal(atA.samples.filter((s) => s.name === 'tern_peer_last_error_info').length, 0, 'no error yet');
    assert.ok((valueOf(atA.samples, 'nodejs_eventloop_lag_seconds') ?? -1) >= 0, 'default metrics are in the per-daemon registry');

    const atB = await consistentScrape(sockB, portB, B);
    assertPeerMetricsMatch(atB.samples, atB.peers[0]!, { 'ipv4-unicast': { received: 1, advertised: 2 }, 'ipv6-unicast': { received: 1, advertised: 0 } });
    await assertRibMetricsMatch(atB.samples, sockB);
    // Each daemon has its own registry: b's scrape names only b's peer.
    assert.deepEqual([...new Set(atB.samples.filter((s) => s.name.startsWith('tern_peer_')).map((s) => s.labels.peer))], ['peer_127_0_0_21']);

    // Reloads: a file that does not load counts as a failure, the same file again as a success.
    writeFileSync(fileA, '{ not json');
    await assert.rejects(a.reload());
    writeFileSync(fileA, configText(A, 65001, B, 65002, dir, portA, [{ prefix: '10.244.1.0/26' }, { prefix: 'fd00:244:1::/64', nextHop: 'fd00::1' }], false, { nextHop: 'keep' }));
    await a.reload();
    const afterReload = await scrape(portA, A);
    assert.equal(valueOf(afterReload, 'tern_config_reloads_total', { result: 'failure' }), 1);
    assert.equal(valueOf(afterReload, 'tern_config_reloads_total', { result: 'success' }), 1);

    // a stops with Cease / Administrative Shutdown: b's metrics follow `show peers`.
    await a.stop('maintenance window');
    const down = await waitFor('b sees the Cease', async () => {
      const p = ((await controlRequest(sockB, 'show peers')) as PeerView[])[0]!;
      return p.state !== 'Established' && p.lastError ? p : undefined;
    });
    assert.match(down.lastError!, /^received Cease \/ Administrative Shutdown/);
    const atBDown = await consistentScrape(sockB, portB, B);
    assertPeerMetricsMatch(atBDown.samples, atBDown.peers[0]!, { 'ipv4-unicast': { received: 0, advertised: 0 }, 'ipv6-unicast': { received: 0, advertised: 0 } });
    await assertRibMetricsMatch(atBDown.samples, sockB);
    assert.equal(valueOf(atBDown.samples, 'tern_peer_last_error_info', { peer: 'peer_127_0_0_21', code: '6', subcode: '2' }), 1);
    assert.equal(valueOf(atBDown.samples, 'tern_peer_up', { peer: 'peer_127_0_0_21' }), 0);
    assert.equal(valueOf(atBDown.samples, 'tern_peer_uptime_seconds', { peer: 'peer_127_0_0_21' }), 0);
    assert.equal(valueOf(atBDown.samples, 'tern_peer_established_transitions_total', { peer: 'peer_127_0_0_21' }), 1);
    // No prefix is ever a label value.
    for (const s of atBDown.samples) for (const v of Object.values(s.labels)) assert.doesNotMatch(v, /\/\d+$/, `${s.name} has a prefix label`);
  } finally {
    await Promise.allSettled([a.stop(), b.stop()]);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the (code, subcode) label is read back from every NOTIFICATION text `show peers` can hold', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 255 }),
      fc.integer({ min: 0, max: 255 }),
      fc.uint8Array({ maxLength: 40 }),
      fc.constantFrom('received', 'sent'),
      (code, subcode, data, direction) => {
        const text = `${direction} ${describeNotification({ type: 'notification', code, subcode, data })}`;
        assert.deepEqual(notificationOfLastError(text), { code, subcode }, text);
      },
    ),
    { numRuns: 3000 },
  );
  // Shutdown communications with the text that looks like a name, and errors without NOTIFICATION.
  const sc = new TextEncoder().encode('Hold Timer Expired');
  assert.deepEqual(notificationOfLastError(`received ${describeNotification({ type: 'notification', code: NotificationCode.Cease, subcode: 2, data: Uint8Array.of(sc.length, ...sc) })}`), { code: 6, subcode: 2 });
  assert.deepEqual(notificationOfLastError('connect ECONNREFUSED 10.0.0.2:179'), { code: 0, subcode: 0 });
  assert.deepEqual(notificationOfLastError('hold timer expired'), { code: 0, subcode: 0 });
});
