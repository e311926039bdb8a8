// SPDX-License-Identifier: Apache-2.0
// Two Tern daemons on loopback addresses (no root): eBGP over IPv4 carrying both families,
// routes each side originates show up on the other through the control socket, and a stop
// sends Cease / Administrative Shutdown that the other side reports.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../src/config/index.ts';
import { Daemon } from '../../src/daemon.ts';
import { createLogger } from '../../src/observability/log.ts';
import { controlRequest } from '../../src/control/client.ts';
import type { PeerView, RouteView } from '../../src/control/views.ts';

const PORT = 20179 + (process.pid % 1000);

function config(me: string, asn: number, them: string, theirAsn: number, dir: string, originate: object[], passive: boolean, extra: object = {}): string {
  return JSON.stringify({
    routerId: me,
    asn,
    listen: { address: me, port: PORT },
    control: { socket: join(dir, `${me}.ctl`) },
    peers: [{ name: `peer_${them.replaceAll('.', '_')}`, address: them, asn: theirAsn, port: PORT, localAddress: me, passive, connectRetry: 1, holdTime: 9, families: ['ipv4-unicast', 'ipv6-unicast'], import: 'all', export: 'all', ...extra }],
    originate,
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

// a's peer uses `nextHop: keep`: its IPv6 route keeps its configured next hop (a loopback IPv4
// session has no IPv6 address of its own to offer), its IPv4 route has none and goes out as self.
test('two daemons peer over eBGP on loopback and exchange IPv4 and IPv6 routes', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tern-daemon-'));
  const log = createLogger({ level: process.env.TERN_TEST_LOG ?? 'silent' });
  const a = new Daemon(parseConfig(config('127.0.0.1', 65001, '127.0.0.2', 65002, dir, [{ prefix: '10.244.1.0/26' }, { prefix: 'fd00:244:1::/64', nextHop: 'fd00::1' }], false, { nextHop: 'keep' }), 'a.json'), log);
  const b = new Daemon(parseConfig(config('127.0.0.2', 65002, '127.0.0.1', 65001, dir, [{ prefix: '10.244.2.0/26' }, { prefix: '10.244.3.0/26', nextHop: '127.0.0.9' }], true), 'b.json'), log);
  try {
    await a.start();
    await b.start();
    const sockA = a.config.control.socket;
    const sockB = b.config.control.socket;
    const established = async (sock: string) => {
      const peers = (await controlRequest(sock, 'show peers')) as PeerView[];
      return peers[0]?.state === 'Established' ? peers[0] : undefined;
    };
    const peerOfA = await waitFor('a established', () => established(sockA));
    await waitFor('b established', () => established(sockB));
    assert.deepEqual([...peerOfA.families].sort(), ['ipv4-unicast', 'ipv6-unicast']);

    // Routes learned from the one peer (the Loc-RIB also lists our own originated ones).
    const routesOf = async (sock: string, n: number) => {
      const routes = ((await controlRequest(sock, 'show routes')) as RouteView[]).filter((r) => r.peer !== null);
      return routes.length >= n ? routes : undefined;
    };
    const atA = await waitFor('routes at a', () => routesOf(sockA, 2));
    assert.deepEqual(
      atA.map((r) => [r.prefix, r.nextHop, r.asPath, r.origin, r.peer]),
      [
        ['10.244.2.0/26', '127.0.0.2', [65002], 'igp', 'peer_127_0_0_2'],
        // eBGP: next hop self (RFC 4271 §5.1.3), even for a route originated with its own next hop.
        ['10.244.3.0/26', '127.0.0.2', [65002], 'igp', 'peer_127_0_0_2'],
      ],
    );
    const atB = await waitFor('routes at b', () => routesOf(sockB, 2));
    assert.deepEqual(
      atB.map((r) => [r.prefix, r.nextHop, r.asPath, r.family]),
      [
        ['10.244.1.0/26', '127.0.0.1', [65001], 'ipv4-unicast'],
        ['fd00:244:1::/64', 'fd00::1', [65001], 'ipv6-unicast'],
      ],
    );
    assert.equal(atB[0]!.localPref, null, 'no LOCAL_PREF over eBGP (RFC 4271 §5.1.5)');
    const v6only = (await controlRequest(sockB, 'show routes', { family: 'ipv6-unicast', peer: 'peer_127_0_0_1' })) as RouteView[];
    assert.deepEqual(v6only.map((r) => r.prefix), ['fd00:244:1::/64']);
    assert.equal(v6only[0]!.best, true);
    await assert.rejects(controlRequest(sockB, 'show routes', { family: 'ipv4-flowspec' }), /unknown family/);
    await assert.rejects(controlRequest(sockB, 'show routes', { peer: 'nobody' }), /no peer named "nobody"/);

    const peersB = (await controlRequest(sockB, 'show peers')) as PeerView[];
    assert.equal(peersB[0]!.routesReceived, 2);
    assert.equal(peersB[0]!.routesSent, 2);

    // a stops: b must see Cease / Administrative Shutdown with a's text, and drop a's routes.
    await a.stop('maintenance window');
    const down = await waitFor('b sees the shutdown', async () => {
      const p = ((await controlRequest(sockB, 'show peers')) as PeerView[])[0]!;
      return p.state !== 'Established' && p.lastError ? p : undefined;
    });
    assert.match(down.lastError!, /Administrative Shutdown/);
    assert.match(down.lastError!, /maintenance window/);
    assert.deepEqual(((await controlRequest(sockB, 'show routes')) as RouteView[]).filter((r) => r.peer !== null), []);
  } finally {
    await Promise.allSettled([a.stop(), b.stop()]);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a per-peer localAsn is the AS on that session: OPEN, eBGP prepend, peer type', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tern-localas-'));
  const log = createLogger({ level: 'silent' });
  const port = PORT + 7;
  const a = new Daemon(
    parseConfig(JSON.stringify({ routerId: '127.0.0.1', asn: 65001, listen: { address: '127.0.0.1', port }, control: { socket: join(dir, 'a.ctl') },
      peers: [{ name: 'b', address: '127.0.0.2', asn: 65002, port, localAsn: 65010, localAddress: '127.0.0.1', connectRetry: 1, import: 'all', export: 'all' }],
      originate: [{ prefix: '10.245.1.0/24' }] }), 'a.json'),
    log,
  );
  const b = new Daemon(
    parseConfig(JSON.stringify({ routerId: '127.0.0.2', asn: 65002, listen: { address: '127.0.0.2', port }, control: { socket: join(dir, 'b.ctl') },
      peers: [{ name: 'a', address: '127.0.0.1', asn: 65010, port, passive: true, localAddress: '127.0.0.2', import: 'all', export: 'all' }] }), 'b.json'),
    log,
  );
  try {
    await a.start();
    await b.start();
    const got = await waitFor('route at b', async () => {
      const routes = ((await controlRequest(b.config.control.socket, 'show routes')) as RouteView[]).filter((r) => r.peer === 'a');
      return routes.length ? routes : undefined;
    });
    assert.deepEqual(got.map((r) => [r.prefix, r.asPath]), [['10.245.1.0/24', [65010]]]);
    assert.equal(((await controlRequest(a.config.control.socket, 'show peers')) as PeerView[])[0]!.peerType, 'ebgp');
  } finally {
    await Promise.allSettled([a.stop(), b.stop()]);
    rmSync(dir, { recursive: true, force: true });
  }
});
