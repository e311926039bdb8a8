// SPDX-License-Identifier: Apache-2.0
// Golden transcripts: real BIRD 1.6.8 (fixtures/bird*-a.conf against bird*-b.conf, captured over
// its control socket, see fixtures/README.md) versus Tern's formatter and framer rendering the
// same state, command by command on one connection, compared line for line after normalising
// clock times and timer countdowns only.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ReplyFramer } from '../../../src/calico/birdctl/frame.ts';
import { executeCommand } from '../../../src/calico/birdctl/commands.ts';
import type { BirdProtocol, BirdRoute, BirdSnapshot, RouteChangeStats } from '../../../src/calico/birdctl/model.ts';
import { ipToBytes } from '../../../src/util/ip.ts';
import { backendOf, lines, loadTranscript, normalise } from './helpers.ts';

const NOW = Date.parse('2026-11-21T12:00:00');
const T = NOW - 20_000;

function stats(i: number[], e: number[] = [0, 0, 0, 0]): RouteChangeStats {
  return { importUpdates: [i[0]!, i[1]!, i[2]!, i[3]!, i[4]!], importWithdraws: [0, 0, 0, 0], exportUpdates: [e[0]!, e[1]!, e[2]!, e[3]!], exportWithdraws: [0, 0] };
}

function local(name: string, kind: BirdProtocol['kind'], preference: number, imported: number, exportStats?: number[]): BirdProtocol {
  return {
    name, kind, table: 'master', state: 'up', since: T, info: '', preference, inputFilter: 'ACCEPT', outputFilter: 'REJECT',
    routes: { imported, exported: 0, preferred: imported }, stats: stats([imported, 0, 0, 0, imported], exportStats),
  };
}

const ESTABLISHED_SESSION = {
  neighborCaps: 'refresh enhanced-refresh restart-able llgr-aware AS4 add-path-rx add-path-tx',
  session: 'internal multihop AS4 add-path-rx add-path-tx',
  holdTimer: [226, 240] as [number, number],
  keepaliveTimer: [66, 80] as [number, number],
};

function peer(name: string, p: Partial<BirdProtocol> & { bgp: BirdProtocol['bgp'] }): BirdProtocol {
  return {
    name, kind: 'BGP', table: 'master', state: 'start', since: T, info: '', description: 'Connection to BGP peer', preference: 100,
    inputFilter: 'ACCEPT', outputFilter: '(unnamed)', routes: { imported: 0, exported: 0, preferred: 0 }, stats: stats([0, 0, 0, 0, 0]), ...p,
  };
}

function route(prefix: string, r: Partial<BirdRoute>): BirdRoute {
  return { prefix, address: ipToBytes(prefix.split('/')[0]!)!, dest: { kind: 'blackhole' }, proto: 'static1', since: T, primary: true, preference: 200, type: 'static unicast univ', ...r };
}

function bgpRoute(prefix: string, gateway: string, proto: string): BirdRoute {
  return route(prefix, {
    dest: { kind: 'via', gateway, iface: 'eth0' }, proto, preference: 100, type: 'BGP unicast univ',
    bgp: { igpMetric: 0, origin: 'i', attributes: ['BGP.origin: IGP', 'BGP.as_path: ', `BGP.next_hop: ${gateway}`, 'BGP.local_pref: 100'] },
  });
}

const status = (version: string) => ({ version, routerId: '10.0.0.1', now: NOW, bootedAt: T, reconfiguredAt: T });

const V4: BirdSnapshot = {
  family: 'ipv4',
  status: status('1.6.8'),
  protocols: [
    local('static1', 'Static', 200, 1),
    local('kernel1', 'Kernel', 10, 0, [4, 1, 3, 0]),
    local('device1', 'Device', 240, 0),
    local('direct1', 'Direct', 240, 1),
    peer('Mesh_10_0_0_2', {
      state: 'up', info: 'Established   ', routes: { imported: 2, exported: 1, preferred: 2 }, stats: stats([2, 0, 0, 0, 2], [4, 2, 1, 1]),
      bgp: { state: 'Established', neighborAddress: '10.0.0.2', neighborAs: 64512, session: { ...ESTABLISHED_SESSION, neighborId: '10.0.0.2', sourceAddress: '10.0.0.1' } },
    }),
    peer('Mesh_10_0_0_3', {
      info: 'Active        Socket: No route to host',
      bgp: { state: 'Active', neighborAddress: '10.0.0.3', neighborAs: 64512, connectDelay: [1, 2], lastError: 'Socket: No route to host' },
    }),
    peer('Node_10_0_0_9', { info: 'Passive       ', outputFilter: 'REJECT', bgp: { state: 'Passive', neighborAddress: '10.0.0.9', neighborAs: 65001 } }),
  ],
  // Deliberately not in BIRD's order: the FIB-hash sort must restore it.
  routes: [
    bgpRoute('192.168.2.64/26', '10.0.0.2', 'Mesh_10_0_0_2'),
    route('192.168.1.0/26', {}),
    route('10.0.0.0/24', { dest: { kind: 'dev', iface: 'eth0' }, proto: 'direct1', preference: 240, type: 'device unicast univ' }),
    bgpRoute('192.168.2.0/26', '10.0.0.2', 'Mesh_10_0_0_2'),
  ],
};

const V6: BirdSnapshot = {
  family: 'ipv6',
  status: status('1.6.8'),
  protocols: [
    local('static1', 'Static', 200, 1),
    local('kernel1', 'Kernel', 10, 0, [3, 1, 2, 0]),
    local('device1', 'Device', 240, 0),
    local('direct1', 'Direct', 240, 1),
    peer('Mesh_fd00__2', {
      state: 'up', info: 'Established   ', routes: { imported: 1, exported: 1, preferred: 1 }, stats: stats([1, 0, 0, 0, 1], [3, 1, 1, 1]),
      bgp: { state: 'Established', neighborAddress: 'fd00::2', neighborAs: 64512, session: { ...ESTABLISHED_SESSION, neighborId: '10.0.0.2', sourceAddress: 'fd00::1' } },
    }),
    peer('Global_fd00__3', { info: 'Connect       ', outputFilter: 'REJECT', bgp: { state: 'Connect', neighborAddress: 'fd00::3', neighborAs: 65003 } }),
  ],
  routes: [
    route('fd00::/64', { dest: { kind: 'dev', iface: 'eth0' }, proto: 'direct1', preference: 240, type: 'device unicast univ' }),
    route('fd10:1::/122', {}),
    bgpRoute('fd10:2::/122', 'fd00::2', 'Mesh_fd00__2'),
  ],
};

/** BIRD lists networks in FIB hash order; the snapshot builder sorts, so do it here too. */
import { birdFibHash } from '../../../src/calico/birdctl/route-attrs.ts';
function birdOrder(s: BirdSnapshot): BirdSnapshot {
  const fam = s.family === 'ipv4' ? 'ipv4-unicast' : 'ipv6-unicast';
  return { ...s, routes: [...s.routes].sort((a, b) => birdFibHash(a.address, fam) - birdFibHash(b.address, fam)) };
}

async function compareTranscript(fixture: string, snapshot: BirdSnapshot): Promise<number> {
  const t = loadTranscript(fixture);
  const framer = new ReplyFramer();
  assert.equal(normalise(framer.hello(snapshot.status.version).trimEnd()), normalise(t.hello));
  const session = { restricted: false };
  const backend = backendOf(birdOrder(snapshot));
  let compared = 0;
  for (const [command, expected] of Object.entries(t.replies)) {
    const result = await executeCommand(command, backend, session);
    assert.notEqual(result, 'quit');
    if (result === 'quit') continue;
    assert.deepEqual(lines(framer.frame(result)).map(normalise), expected.map(normalise), `reply to "${command}"`);
    compared++;
  }
  return compared;
}

test('IPv4 socket: every captured BIRD 1.6.8 reply is reproduced line for line', async () => {
  assert.equal(await compareTranscript('bird168-v4.json', V4), 30);
});

test('IPv6 socket: every captured BIRD 1.6.8 reply is reproduced line for line', async () => {
  assert.equal(await compareTranscript('bird168-v6.json', V6), 9);
});

test('graceful restart recovery: show status carries the 0024 block and kernel1 waits', async () => {
  const gr: BirdSnapshot = {
    ...V4,
    status: { ...V4.status, gracefulRestart: { waitingFor: 3, timerLeft: 240, timerTotal: 240 } },
    protocols: V4.protocols.map((p) =>
      p.name === 'kernel1' ? { ...p, state: 'wait' as const }
      : p.kind === 'BGP' ? { ...p, state: 'start' as const, info: p.name.startsWith('Node') ? 'Passive       ' : 'Active        ' }
      : p),
  };
  const t = loadTranscript('bird168-v4-gr.json');
  const framer = new ReplyFramer();
  framer.hello('1.6.8');
  for (const [command, expected] of Object.entries(t.replies)) {
    const result = await executeCommand(command, backendOf(gr), { restricted: false });
    assert.ok(result !== 'quit');
    assert.deepEqual(lines(framer.frame(result)).map(normalise), expected.map(normalise), command);
  }
});
