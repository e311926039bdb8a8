// SPDX-License-Identifier: Apache-2.0
// Tern's BIRD-compatible control sockets against real BIRD 1.6.8, in network namespaces:
//  1. golden, live: BIRD 1.6.8 (bird + bird6, Calico-shaped configs from
//     test/calico/birdctl/fixtures/bird*-a.conf) runs in namespace a against BIRD 1.6.8 in b;
//     its socket replies to a list of commands are captured; then Tern runs in a with the same
//     peers, originated routes and filters, against the same b, and its replies to the same
//     commands must equal BIRD's line for line after normalising clock times, timer countdowns,
//     BIRD's export-update counters (it counts offers to its filters), and the state/error of
//     the sessions to absent neighbours (Connect vs Active depends on ARP timing);
//  2. the real clients: BIRD 1.6's `birdc -s SOCKET show protocols` (the client core Calico's
//     birdcl is built from) and BIRD 2's `birdcl`, when installed, list every peer with its name
//     and state; `birdcl -s SOCKET show status` starts with "BIRD" (calico-node -bird-live).
// Needs root; skipped otherwise or when BIRD 1.6 is not unpacked (scripts/install-peers.sh).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Topology } from './lib/netns.ts';
import { run, startDaemon, stopDaemon, tail, which, type DaemonProcess } from './lib/proc.ts';
import { waitFor } from './lib/wait.ts';
import { ternAvailable, ternEntry } from './lib/tern.ts';
import { BIRD1, bird1Installed } from './lib/peers/bird1.ts';
import { BirdClient } from '../src/calico/birdctl/client.ts';

const isRoot = process.getuid?.() === 0;
const keepLogs = process.env.INTEROP_KEEP === '1';
const FIXTURES = fileURLToPath(new URL('../test/calico/birdctl/fixtures/', import.meta.url));
const skip = !isRoot ? 'needs root (network namespaces)' : !ternAvailable() ? 'bin/tern.js or src/main.ts missing' : !bird1Installed() ? 'BIRD 1.6 not unpacked (bash scripts/install-peers.sh)' : false;

const V4_COMMANDS = [
  'show status', 'show protocols', 'show protocols all', 'show protocols all Mesh_10_0_0_2', 'show protocols "Mesh*"',
  'show route', 'show route all', 'show route count', 'show route for 192.168.2.5', 'show route 192.168.2.0/26 all',
  'show route protocol Mesh_10_0_0_2', 'show route count protocol Mesh_10_0_0_2', 'show route for 1.2.3.4',
  'show route for fd00::1', 'show protocols nope', 'foo', 'restrict', 'configure',
];
const V6_COMMANDS = ['show status', 'show protocols', 'show protocols all', 'show route', 'show route all', 'show route count', 'show route for fd10:2::5', 'show route for 10.0.0.1'];
/** Sessions to addresses nobody answers on: their FSM state and socket error are timing. */
const ABSENT = ['Mesh_10_0_0_3', 'Global_fd00__3'];

const TERN_CONFIG = {
  routerId: '10.0.0.1',
  asn: 64512,
  listen: { address: ['10.0.0.1', 'fd00::1'], port: 179 },
  originate: [
    { prefix: '192.168.1.0/26', blackhole: true },
    { prefix: 'fd10:1::/122', blackhole: true },
  ],
  kernel: { learn: true, program: false },
  peers: [
    ...[['Mesh_10_0_0_2', '10.0.0.2', 64512], ['Mesh_10_0_0_3', '10.0.0.3', 64512]].map(([name, address, asn]) => calicoPeer(name as string, address as string, asn as number, '10.0.0.1', 'static')),
    { ...calicoPeer('Node_10_0_0_9', '10.0.0.9', 65001, '10.0.0.1', 'none'), passive: true },
    calicoPeer('Mesh_fd00__2', 'fd00::2', 64512, 'fd00::1', 'static'),
    calicoPeer('Global_fd00__3', 'fd00::3', 65003, 'fd00::1', 'none'),
  ],
};

/** bgp_template of Calico's bird.cfg, as Tern keys: hold 240 / keepalive 80, ADD-PATH, GR. */
function calicoPeer(name: string, address: string, asn: number, localAddress: string, exportKind: 'static' | 'none'): Record<string, unknown> {
  const v6 = address.includes(':');
  return {
    name, address, asn, localAddress, holdTime: 240, keepalive: 80, connectRetry: 5, addPaths: 'both',
    gracefulRestart: { restartTime: 120 }, families: [v6 ? 'ipv6-unicast' : 'ipv4-unicast'], import: 'all',
    // BIRD: export filter { if proto = "static1" then accept; reject; } (an unnamed filter).
    export: exportKind === 'none' ? 'none' : [{ match: { source: 'originated' }, action: 'accept' }, { action: 'reject' }],
  };
}

/** normalise() of the unit tests, plus what differs between two live runs of the same state. */
function normalise(line: string): string {
  let l = line
    .replace(/\b\d{4}-\d{2}-\d{2}\b/g, 'YYYY-MM-DD')
    .replace(/\b\d{2}:\d{2}:\d{2}\b/g, 'HH:MM:SS')
    .replace(/(Hold timer: {7}|Keepalive timer: {2}|Wait timer is )\d+\//, '$1N/')
    .replace(/BIRD (v0\.3\.3\+birdv)?1\.6\.8/, 'BIRD VERSION')
    .replace(/(Export updates: +)(\d+ +\d+ +\d+)( +--- +)\d+/, '$1N N N$3N');
  for (const name of ABSENT) if (l.includes(`${name} `)) l = l.replace(/(start +HH:MM:SS +)\S+ *.*$/, '$1CONNECTING');
  return l.replace(/(BGP state: +)(Connect|Active)$/, '$1CONNECTING');
}

/** Drops the lines only one side prints for an absent neighbour (BIRD's connect timer, socket errors). */
function comparable(lines: string[]): string[] {
  return lines.filter((l) => !/^ +(Connect delay|Last error|Error wait):/.test(l.replace(/^\d{4}-/, ' '))).map(normalise);
}

async function capture(path: string, commands: string[]): Promise<{ hello: string; replies: Map<string, string[]> }> {
  const c = await BirdClient.connect(path);
  const replies = new Map<string, string[]>();
  try {
    for (const cmd of commands) replies.set(cmd, await c.command(cmd));
  } finally {
    c.close();
  }
  return { hello: c.hello, replies };
}

async function protocolsOf(path: string): Promise<string> {
  const c = await BirdClient.connect(path, { timeoutMs: 1000 });
  try {
    return (await c.command('show protocols')).join('\n');
  } finally {
    c.close();
  }
}

/** Waits until the named sessions are Established and `routes` networks are in the table. */
async function converged(path: string, peers: string[], routes: number): Promise<void> {
  await waitFor(`${peers.join(', ')} established with ${routes} routes on ${path}`, async () => {
    const table = await protocolsOf(path);
    if (!peers.every((p) => new RegExp(`${p} +BGP +master +up .*Established`).test(table))) throw new Error(table);
    const c = await BirdClient.connect(path);
    const count = (await c.command('show route count'))[0] ?? '';
    c.close();
    return count.includes(`for ${routes} networks`) ? true : undefined;
  }, { timeoutMs: 30_000, intervalMs: 300 });
}

describe('BIRD-compatible control sockets against BIRD 1.6.8', { skip, timeout: 180_000 }, () => {
  const work = join(tmpdir(), `tern-birdctl-interop-${process.pid}`);
  let topology: Topology | undefined;
  let nsA = '';
  let nsB = '';
  const procs: DaemonProcess[] = [];
  let bird: { v4: Awaited<ReturnType<typeof capture>>; v6: Awaited<ReturnType<typeof capture>> } | undefined;
  let tern: DaemonProcess | undefined;
  const ternSock = { v4: join(work, 'tern-bird.ctl'), v6: join(work, 'tern-bird6.ctl') };

  function startBird(ns: string, daemon: string, conf: string, sock: string): DaemonProcess {
    copyFileSync(join(FIXTURES, conf), join(work, conf));
    const p = startDaemon(`bird-${conf}`, daemon, ['-f', '-c', join(work, conf), '-s', sock, '-P', `${sock}.pid`], join(work, `${conf}.log`), ns);
    procs.push(p);
    return p;
  }

  before(async () => {
    rmSync(work, { recursive: true, force: true });
    mkdirSync(work, { recursive: true });
    topology = await Topology.create('bctl');
    nsA = await topology.addNode({ name: 'a', ipv4: ['10.0.0.1/24'], ipv6: ['fd00::1/64'] });
    nsB = await topology.addNode({ name: 'b', ipv4: ['10.0.0.2/24'], ipv6: ['fd00::2/64'] });
    startBird(nsB, BIRD1.daemon4, 'bird-b.conf', join(work, 'b.ctl'));
    startBird(nsB, BIRD1.daemon6, 'bird6-b.conf', join(work, 'b6.ctl'));
    // 1. Real BIRD 1.6.8 as node a: converge, capture, stop.
    const a4 = startBird(nsA, BIRD1.daemon4, 'bird-a.conf', join(work, 'a.ctl'));
    const a6 = startBird(nsA, BIRD1.daemon6, 'bird6-a.conf', join(work, 'a6.ctl'));
    await converged(join(work, 'a.ctl'), ['Mesh_10_0_0_2'], 4);
    await converged(join(work, 'a6.ctl'), ['Mesh_fd00__2'], 3);
    bird = { v4: await capture(join(work, 'a.ctl'), V4_COMMANDS), v6: await capture(join(work, 'a6.ctl'), V6_COMMANDS) };
    await Promise.all([stopDaemon(a4), stopDaemon(a6)]);
    // 2. Tern as node a, same peers and routes.
    const configFile = join(work, 'tern.json');
    writeFileSync(configFile, JSON.stringify({ ...TERN_CONFIG, control: { socket: join(work, 'tern.ctl') }, birdSockets: { ipv4: ternSock.v4, ipv6: ternSock.v6 } }));
    const entry = await ternEntry();
    tern = startDaemon('tern', process.execPath, [entry, 'run', '--config', configFile], join(work, 'tern.log'), nsA);
    procs.push(tern);
    await waitFor('Tern BIRD socket', async () => {
      if (!tern?.isRunning()) throw new Error(`tern exited: ${tail(join(work, 'tern.log'), 10)}`);
      return (await protocolsOf(ternSock.v4)) ? true : undefined;
    }, { timeoutMs: 30_000, intervalMs: 300 });
    await converged(ternSock.v4, ['Mesh_10_0_0_2'], 4);
    await converged(ternSock.v6, ['Mesh_fd00__2'], 3);
  });

  after(async () => {
    await Promise.allSettled(procs.map((p) => stopDaemon(p)));
    topology?.destroySync();
    if (!keepLogs) rmSync(work, { recursive: true, force: true });
  });

  for (const family of ['v4', 'v6'] as const) {
    it(`${family}: Tern answers every command as BIRD 1.6.8 does in the same state`, async () => {
      const ours = await capture(ternSock[family], family === 'v4' ? V4_COMMANDS : V6_COMMANDS);
      assert.equal(normalise(ours.hello), normalise(bird![family].hello));
      for (const [command, expected] of bird![family].replies) {
        assert.deepEqual(comparable(ours.replies.get(command)!), comparable(expected), `reply to "${command}"`);
      }
    });
  }

  it('the real BIRD 1.6 client (birdc -s, birdcl\'s client core) lists every peer with its name and state', async () => {
    const out = (await run(BIRD1.client4, ['-s', ternSock.v4, 'show', 'protocols'], { timeoutMs: 10_000 })).stdout;
    assert.match(out, /^BIRD v0\.3\.3\+birdv1\.6\.8 ready\.\n/);
    assert.match(out, /\nMesh_10_0_0_2 BGP +master +up +\d\d:\d\d:\d\d +Established/);
    assert.match(out, /\nMesh_10_0_0_3 BGP +master +start +\d\d:\d\d:\d\d +(Connect|Active|Idle)/);
    assert.match(out, /\nNode_10_0_0_9 BGP +master +start +\d\d:\d\d:\d\d +Passive/);
    const out6 = (await run(BIRD1.client6, ['-s', ternSock.v6, 'show', 'protocols'], { timeoutMs: 10_000 })).stdout;
    assert.match(out6, /\nMesh_fd00__2 BGP +master +up +\d\d:\d\d:\d\d +Established/);
    assert.match(out6, /\nGlobal_fd00__3 BGP +master +start /);
    // Abbreviations are expanded by the client, as with BIRD.
    const abbreviated = (await run(BIRD1.client4, ['-s', ternSock.v4, 'show', 'proto', 'all', 'Mesh_10_0_0_2'], { timeoutMs: 10_000 })).stdout;
    assert.match(abbreviated, /\n {2}BGP state: {10}Established\n {4}Neighbor address: 10\.0\.0\.2\n/);
  });

  it('birdcl -s SOCKET show protocols / show status (calico-node -bird-live)', { skip: which('birdcl') ? false : 'no birdcl installed (BIRD 2 package)' }, async () => {
    const birdcl = which('birdcl')!;
    const protocols = (await run(birdcl, ['-s', ternSock.v4, 'show', 'protocols'], { timeoutMs: 10_000 })).stdout;
    for (const [name, state] of [['Mesh_10_0_0_2', 'up'], ['Mesh_10_0_0_3', 'start'], ['Node_10_0_0_9', 'start']]) {
      assert.match(protocols, new RegExp(`\\n${name} +BGP +master +${state} `), protocols);
    }
    // -bird-live: the output must start with "BIRD".
    const status = (await run(birdcl, ['-s', ternSock.v4, 'show', 'status'], { timeoutMs: 10_000 })).stdout;
    assert.ok(status.startsWith('BIRD'), status);
    assert.match(status, /\nDaemon is up and running\n/);
  });

  it('node a\'s namespace is where Tern runs (sanity: the BIRD run really stopped)', async () => {
    const pids = (await run('ip', ['netns', 'pids', nsA])).stdout.trim().split('\n').filter(Boolean);
    assert.equal(pids.length, 1, `processes in ${nsA}: ${pids.join(' ')}`);
    assert.ok(nsB !== '');
  });
});
