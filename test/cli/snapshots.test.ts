// SPDX-License-Identifier: Apache-2.0
// Snapshot tests of what people read at a terminal: `show peers` and `show routes` tables,
// `tern explain` and `tern watch` lines, from fixed inputs. The expected text lives in
// test/fixtures/cli/*.txt; after an intended change, rewrite them with
//   UPDATE_SNAPSHOTS=1 node --import tsx --test test/cli/snapshots.test.ts
// and review the diff.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { peersTable, routesTable } from '../../src/control/table.ts';
import type { PeerView, RouteView } from '../../src/control/views.ts';
import { formatExplain, type AttributesView, type ExplainResult } from '../../src/control/explain.ts';
import { formatWatchEvent, type WatchEvent } from '../../src/control/watch.ts';
import { withDisabledState } from '../../src/cli.ts';

const FIXTURES = fileURLToPath(new URL('../fixtures/cli/', import.meta.url));

function snapshot(name: string, actual: string): void {
  const file = join(FIXTURES, name);
  if (process.env.UPDATE_SNAPSHOTS === '1') {
    mkdirSync(FIXTURES, { recursive: true });
    writeFileSync(file, actual);
    return;
  }
  assert.ok(existsSync(file), `missing snapshot ${file}: run with UPDATE_SNAPSHOTS=1`);
  assert.equal(actual, readFileSync(file, 'utf8'), `output differs from ${file} (UPDATE_SNAPSHOTS=1 rewrites it)`);
}

function peer(over: Partial<PeerView>): PeerView {
  return {
    name: 'peer',
    address: '192.0.2.1',
    asn: 65001,
    state: 'Established',
    uptimeSeconds: 0,
    families: ['ipv4-unicast'],
    routesReceived: 0,
    routesSent: 0,
    lastError: null,
    routesAccepted: 0,
    routesStale: 0,
    localAddress: null,
    remoteRouterId: null,
    holdTime: null,
    keepaliveTime: null,
    passive: false,
    peerType: 'ebgp',
    routeReflectorClient: false,
    capabilities: [],
    messagesReceived: {},
    messagesSent: {},
    disabled: false,
    ...over,
  };
}

function route(over: Partial<RouteView>): RouteView {
  return {
    prefix: '10.0.0.0/24',
    nextHop: '192.0.2.1',
    asPath: [65001],
    origin: 'igp',
    localPref: null,
    med: null,
    communities: [],
    largeCommunities: [],
    peer: 'rr1',
    best: true,
    reason: null,
    stale: false,
    pathId: null,
    originatorId: null,
    clusterList: [],
    family: 'ipv4-unicast',
    table: 'loc',
    source: 'bgp',
    multipath: true,
    asPathText: '65001',
    linkLocalNextHop: null,
    extendedCommunities: [],
    atomicAggregate: false,
    aggregator: null,
    ...over,
  };
}

test('show peers table', () => {
  const peers = [
    peer({ name: 'rr1', address: '10.0.0.1', asn: 65000, uptimeSeconds: 93784, families: ['ipv4-unicast', 'ipv6-unicast'], routesReceived: 1200, routesSent: 35, peerType: 'ibgp' }),
    peer({ name: 'tor-a', address: '2001:db8::1', asn: 4200000001, state: 'Active', lastError: 'received Cease / Administrative Shutdown: "maintenance"' }),
    peer({ name: 'old-node', address: '10.0.0.9', state: 'Idle', disabled: true, lastError: 'sent Cease / Administrative Shutdown: "disabled by operator"' }),
    peer({ name: 'x', address: '10.0.0.10', state: 'OpenSent', uptimeSeconds: 5 }),
  ];
  snapshot('show-peers.txt', peersTable(peers.map(withDisabledState)));
});

test('show routes table', () => {
  const routes = [
    route({ prefix: '10.244.1.0/26', nextHop: null, asPath: [], asPathText: '', peer: null, source: 'originated' }),
    route({ prefix: '10.244.2.0/26', localPref: 100, med: 0, communities: ['65000:100', '65000:200'], largeCommunities: ['65000:1:2'] }),
    route({ prefix: '10.244.2.0/26', peer: 'rr2', nextHop: '192.0.2.2', best: false, multipath: true, asPathText: '65002', reason: 'higher BGP Identifier (10.0.0.2 > 10.0.0.1) — RFC 4271 §9.1.2.2 (f), ORIGINATOR_ID in its place per RFC 4456 §9' }),
    route({ prefix: '10.244.3.0/26', peer: 'rr2', best: false, multipath: false, stale: true, asPathText: '65002 {65010 65011}', reason: 'longer AS_PATH (3 > 1) — RFC 4271 §9.1.2.2 (a)' }),
    route({ prefix: 'fd00:244::/64', family: 'ipv6-unicast', nextHop: 'fd00::1', pathId: 7, asPathText: '65001 65003' }),
  ];
  snapshot('show-routes.txt', routesTable(routes));
});

const attrs = (over: Partial<AttributesView>): AttributesView => ({
  nextHop: '192.0.2.1',
  linkLocalNextHop: null,
  asPath: '65001',
  origin: 'igp',
  localPref: null,
  med: null,
  communities: [],
  largeCommunities: [],
  extendedCommunities: [],
  originatorId: null,
  clusterList: [],
  atomicAggregate: false,
  ...over,
});

test('explain text', () => {
  const r: ExplainResult = {
    query: '10.244.2.17',
    family: 'ipv4-unicast',
    match: 'covering',
    prefix: '10.244.2.0/26',
    note: '10.244.2.17/32 is not in the Loc-RIB; explaining the longest covering prefix 10.244.2.0/26',
    paths: [
      {
        id: 'rr1', source: 'bgp', peer: 'rr1', pathId: null,
        received: attrs({ communities: ['65000:100'] }),
        import: { accepted: true, reason: null, decidedBy: 'calico-import term 1 (pref): accept' },
        attributes: attrs({ communities: ['65000:100'], localPref: 200 }),
        stale: false, ineligible: null, best: true, multipath: true, lostBecause: null,
        beats: [{ path: 'rr2', reason: 'lower LOCAL_PREF (100 < 200) — RFC 4271 §9.1.1 (degree of preference)', pairwiseWinner: true }],
      },
      {
        id: 'rr2', source: 'bgp', peer: 'rr2', pathId: null,
        received: attrs({ nextHop: '192.0.2.2', asPath: '65002' }),
        import: { accepted: true, reason: null, decidedBy: 'all: accept' },
        attributes: attrs({ nextHop: '192.0.2.2', asPath: '65002' }),
        stale: true, ineligible: null, best: false, multipath: false, lostBecause: 'lower LOCAL_PREF (100 < 200) — RFC 4271 §9.1.1 (degree of preference)', beats: [],
      },
      {
        id: 'tor', source: 'bgp', peer: 'tor', pathId: null,
        received: attrs({ nextHop: '192.0.2.3', asPath: '65003 65000' }),
        import: { accepted: false, reason: 'AS loop: our AS 65000 appears once in the AS_PATH from tor, 0 allowed (RFC 4271 §9.1.2)', decidedBy: null },
        attributes: null, stale: false, ineligible: null, best: false, multipath: false, lostBecause: null, beats: [],
      },
    ],
    best: 'rr1',
    ecmp: ['rr1'],
    exports: [
      {
        peer: 'rr1', state: 'Established', disabled: false, advertised: false,
        paths: [{ path: 'rr1', sent: false, reason: 'split horizon: rr1 is the peer the route came from', decidedBy: null, pathId: null, attributes: null }],
        adjRibOut: [], inSync: true, note: null,
      },
      {
        peer: 'tor', state: 'Established', disabled: false, advertised: true,
        paths: [{ path: 'rr1', sent: true, reason: null, decidedBy: 'calico-export term 4 (local-block): accept', pathId: null, attributes: attrs({ nextHop: '192.0.2.10', asPath: '65000 65001', communities: ['65000:100'] }) }],
        adjRibOut: [{ ...attrs({ nextHop: '192.0.2.10', asPath: '65000 65001', communities: ['65000:100'] }), pathId: null }], inSync: true, note: null,
      },
      {
        peer: 'edge', state: 'Idle', disabled: true, advertised: false,
        paths: [{ path: 'rr1', sent: false, reason: 'rejected by export policy (edge export term 0: reject)', decidedBy: 'edge export term 0: reject', pathId: null, attributes: null }],
        adjRibOut: [], inSync: true, note: null,
      },
      {
        peer: 'rr3', state: 'Established', disabled: false, advertised: true,
        paths: [{ path: 'rr1', sent: true, reason: null, decidedBy: 'all: accept', pathId: null, attributes: attrs({ localPref: 200, originatorId: '10.0.0.1', clusterList: ['10.0.0.100'] }) }],
        adjRibOut: [], inSync: false, note: 'the Adj-RIB-Out differs: 1 change(s) queued for this peer',
      },
    ],
    sections: { kernel: { summary: 'kernel sync not enabled' } },
  };
  snapshot('explain.txt', formatExplain(r));
});

test('watch lines', () => {
  const time = '2024-05-01T12:34:56.789Z';
  const events: WatchEvent[] = [
    { type: 'peer-state', time, peer: 'rr1', from: 'Active', to: 'OpenSent' },
    { type: 'peer-up', time, peer: 'rr1', families: ['ipv4-unicast', 'ipv6-unicast'] },
    { type: 'route', time, prefix: '10.244.2.0/26', family: 'ipv4-unicast', change: 'added', old: null, new: { from: 'rr1', nextHop: '192.0.2.1', asPath: '', localPref: 100, med: null }, ecmp: 1 },
    { type: 'route', time, prefix: '10.244.2.0/26', family: 'ipv4-unicast', change: 'best', old: { from: 'rr1', nextHop: '192.0.2.1', asPath: '', localPref: 100, med: null }, new: { from: 'rr2', nextHop: '192.0.2.2', asPath: '65002', localPref: 200, med: 5 }, ecmp: 2 },
    { type: 'peer-down', time, peer: 'rr2', reason: 'received Cease / Administrative Reset: "reset by operator"' },
    { type: 'route', time, prefix: '10.244.2.0/26', family: 'ipv4-unicast', change: 'withdrawn', old: { from: 'rr2', nextHop: '192.0.2.2', asPath: '65002', localPref: 200, med: 5 }, new: null, ecmp: 0 },
  ];
  snapshot('watch.txt', events.map(formatWatchEvent).join('\n') + '\n');
});
