// SPDX-License-Identifier: Apache-2.0
// Faults around Tern with real BIRD 2 peers, each in its own namespace on one bridge:
//   - a peer dies (SIGKILL): its session goes down, its routes are withdrawn, Tern and every
//     other session carry on, and it all comes back when the peer restarts;
//   - a link goes down (`ip link set eth0 down` in the peer's namespace): nothing reaches Tern, so
//     the hold timer (3 s) ends the session and withdraws the routes; they return with the link;
//   - a peer stops reading (SIGSTOP) while Tern has a big table for it: Tern's RFC 9687 send hold
//     timer (sendHoldTime 2 s) fires, NOTIFICATION code 8 is sent and the session is dropped; after
//     SIGCONT it re-establishes (socket buffers are made small in both namespaces so "big" is 30k);
//   - the control socket is flooded (thousands of connections, garbage lines, valid requests)
//     while a hold-time-3 session must stay up with keepalives flowing;
//   - the config file is replaced by garbage at reload: the error is reported, nothing changes.
// Every state is read through `tern show ... --json` and `birdc`. Needs root; skipped otherwise.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Topology } from './lib/netns.ts';
import { run, tail } from './lib/proc.ts';
import { sleep, waitFor } from './lib/wait.ts';
import { Bird2Peer, BIRD2 } from './lib/peers/bird2.ts';
import { TernDut, ternAvailable, ternConfig, ternEntry } from './lib/tern.ts';
import type { DutPeer, PeerSpec } from './lib/types.ts';
import { bothEstablished, tearDownLab } from './lib/suite.ts';

const isRoot = process.getuid?.() === 0;
const skip = !isRoot ? 'needs root (network namespaces)' : !ternAvailable() ? 'Tern is not buildable here' : !existsSync(BIRD2.daemon) ? 'BIRD 2 missing; run scripts/install-peers.sh' : false;

const ASN = 65000;
const TERN_IP = '10.0.0.1';
const WAIT = { timeoutMs: 40_000, intervalMs: 250 };
/** Enough UPDATE bytes to fill the (shrunken) socket buffers of a peer that stopped reading. */
const BIG_TABLE = 30_000;

interface Plan {
  name: string;
  address: string;
  prefix: string;
  tern: Record<string, unknown>;
  holdTime?: number;
}

const PLANS: Plan[] = [
  { name: 'bird-kill', address: '10.0.0.2', prefix: '10.110.0.0/24', tern: {} },
  { name: 'bird-link', address: '10.0.0.3', prefix: '10.111.0.0/24', tern: { holdTime: 3, keepalive: 1 }, holdTime: 3 },
  // Hold time 30 s: only the send hold timer (2 s) can notice that BIRD stopped reading in time.
  { name: 'bird-stop', address: '10.0.0.4', prefix: '10.112.0.0/24', tern: { sendHoldTime: 2, holdTime: 30 }, holdTime: 30 },
  { name: 'bird-watch', address: '10.0.0.5', prefix: '10.113.0.0/24', tern: { holdTime: 3, keepalive: 1 }, holdTime: 3 },
];

let topo: Topology | undefined;
let workDir = '';
let tern: TernDut | undefined;
let ternFile = '';
let ternSocket = '';
let ternTree: Record<string, unknown> = {};
const peers = new Map<string, Bird2Peer>();
const nsOf = new Map<string, string>();
let failed = false;

const label = (name: string) => `tern_${name.replace(/-/g, '_')}`;

async function ternCli(args: string[], check = true) {
  return run(process.execPath, [await ternEntry(), ...args, '--socket', ternSocket], { check, timeoutMs: 15_000 });
}

interface PeerJson {
  name: string;
  state: string;
  uptimeSeconds: number;
  lastError: string | null;
  messagesSent: Record<string, number>;
  messagesReceived: Record<string, number>;
}

async function ternPeers(): Promise<PeerJson[]> {
  return JSON.parse((await ternCli(['show', 'peers', '--json'])).stdout) as PeerJson[];
}

async function ternPeer(name: string): Promise<PeerJson> {
  const p = (await ternPeers()).find((x) => x.name === name);
  if (!p) throw new Error(`tern has no peer ${name}`);
  return p;
}

async function ternRoutes(peer: string): Promise<string[]> {
  const rows = JSON.parse((await ternCli(['show', 'routes', '--json', '--family', 'ipv4-unicast', '--peer', peer])).stdout) as { prefix: string; peer: string }[];
  return rows.filter((r) => r.peer === peer).map((r) => r.prefix);
}

async function established(name: string): Promise<void> {
  await bothEstablished(name, () => ternPeer(name), () => peers.get(name)!.session(label(name)), WAIT);
}

async function hasRoute(name: string, present: boolean): Promise<void> {
  const prefix = PLANS.find((p) => p.name === name)!.prefix;
  await waitFor(`${prefix} from ${name} ${present ? 'in' : 'gone from'} Tern's table`, async () => {
    const routes = await ternRoutes(name);
    if (routes.includes(prefix) !== present) throw new Error(`routes from ${name}: ${routes.join(' ') || 'none'}`);
    return true;
  }, WAIT);
}

function logsOnFailure(err: unknown): never {
  failed = true;
  const logs = [...(tern?.logs() ?? []), ...[...peers.values()].flatMap((p) => p.logs())].map((f) => `--- ${f}\n${tail(f, 25)}`).join('\n');
  if (err instanceof Error) err.message += `\n(work dir ${workDir})\n${logs}`;
  throw err;
}

async function buildWorld(): Promise<void> {
  topo = await Topology.create('flt');
  workDir = join(tmpdir(), `tern-interop-faults-${process.pid}`);
  rmSync(workDir, { recursive: true, force: true });
  const ternNs = await topo.addNode({ name: 'tern', ipv4: [`${TERN_IP}/24`], ipv6: [] });
  // Small TCP buffers in Tern's namespace and bird-stop's, so a stopped reader fills them quickly.
  await run('sysctl', ['-qw', 'net.ipv4.tcp_wmem=4096 16384 65536'], { netns: ternNs });
  for (const plan of PLANS) {
    const ns = await topo.addNode({ name: plan.name, ipv4: [`${plan.address}/24`], ipv6: [] });
    nsOf.set(plan.name, ns);
    if (plan.name === 'bird-stop') await run('sysctl', ['-qw', 'net.ipv4.tcp_rmem=4096 16384 65536'], { netns: ns });
  }
  const dutPeers: DutPeer[] = PLANS.map((p) => ({ name: p.name, address: p.address, asn: ASN, families: ['ipv4-unicast'], localAddress: TERN_IP }));
  const spec = { namespace: ternNs, routerId: TERN_IP, asn: ASN, listen: [TERN_IP], peers: dutPeers, originate: [{ prefix: '10.99.0.0/24' }], ipv6Address: '', workDir: join(workDir, 'tern') };
  tern = new TernDut(spec);
  ternFile = join(spec.workDir, 'tern.yaml');
  ternSocket = join(spec.workDir, 'tern.ctl');
  ternTree = ternConfig(spec, ternSocket, false);
  for (const p of ternTree.peers as Record<string, unknown>[]) Object.assign(p, PLANS.find((x) => x.name === p.name)!.tern);
  writeFileSync(ternFile, JSON.stringify(ternTree, null, 2));
  for (const plan of PLANS) {
    const peerSpec: PeerSpec = {
      kind: 'bird2',
      relation: 'ibgp',
      namespace: nsOf.get(plan.name)!,
      routerId: plan.address,
      asn: ASN,
      ipv6Address: '',
      sessions: [{ name: plan.name, label: label(plan.name), kind: 'ipv4', families: ['ipv4-unicast'], localAddress: plan.address, remoteAddress: TERN_IP, localAsn: ASN, remoteAsn: ASN, ...(plan.holdTime ? { holdTime: plan.holdTime } : {}) }],
      prefixes: { 'ipv4-unicast': [plan.prefix], 'ipv6-unicast': [] },
      workDir: join(workDir, plan.name),
    };
    peers.set(plan.name, new Bird2Peer(peerSpec));
  }
  await tern.start();
  await Promise.all([...peers.values()].map((p) => p.start()));
  for (const plan of PLANS) await established(plan.name);
}

describe('faults around Tern with BIRD 2 peers', { skip, timeout: 300_000 }, () => {
  before(async () => {
    try {
      await buildWorld();
    } catch (err) {
      logsOnFailure(err);
    }
  });

  after(async () => {
    for (const p of peers.values()) {
      const pid = p.process.pid;
      if (pid) process.kill(pid, 'SIGCONT');
    }
    await tearDownLab({ daemons: [...peers.values(), tern], topo, workDir, failed });
  });

  test('peer dies (SIGKILL): session down, its routes withdrawn, Tern and the other sessions fine; back after restart', async () => {
    try {
      await hasRoute('bird-kill', true);
      const bird = peers.get('bird-kill')!;
      await bird.stop('SIGKILL');
      await waitFor('Tern to see bird-kill gone', async () => ((await ternPeer('bird-kill')).state !== 'Established' ? true : undefined), WAIT);
      await hasRoute('bird-kill', false);
      assert.ok(tern!.isRunning(), 'Tern still runs');
      for (const other of ['bird-link', 'bird-watch']) assert.equal((await ternPeer(other)).state, 'Established', other);
      await bird.start();
      await established('bird-kill');
      await hasRoute('bird-kill', true);
    } catch (err) {
      logsOnFailure(err);
    }
  });

  test('link goes down: the hold timer (3 s) ends the session and withdraws the routes; they return with the link', async () => {
    try {
      await hasRoute('bird-link', true);
      const ns = nsOf.get('bird-link')!;
      const cut = Date.now();
      await run('ip', ['-n', ns, 'link', 'set', 'eth0', 'down']);
      await waitFor('Tern to drop bird-link', async () => ((await ternPeer('bird-link')).state !== 'Established' ? true : undefined), { timeoutMs: 15_000, intervalMs: 100 });
      const took = Date.now() - cut;
      const p = await ternPeer('bird-link');
      assert.match(p.lastError ?? '', /hold timer/i, 'ended by the hold timer');
      assert.ok(took >= 2_000 && took < 6_000, `down after ${took} ms (hold time 3 s)`);
      await hasRoute('bird-link', false);
      await run('ip', ['-n', ns, 'link', 'set', 'eth0', 'up']);
      await established('bird-link');
      await hasRoute('bird-link', true);
    } catch (err) {
      logsOnFailure(err);
    }
  });

  test('peer stops reading (SIGSTOP) with a big table to send: send hold timer, NOTIFICATION code 8, session dropped; back after SIGCONT', async () => {
    const bird = peers.get('bird-stop')!;
    const pid = bird.process.pid!;
    try {
      process.kill(pid, 'SIGSTOP');
      // A big table appears while BIRD is frozen: Tern must not wait on it forever.
      const originate = (ternTree.originate as { prefix: string }[]).slice(0, 1);
      for (let i = 0; i < BIG_TABLE; i++) originate.push({ prefix: `10.${200 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}/32` });
      ternTree.originate = originate;
      writeFileSync(ternFile, JSON.stringify(ternTree));
      const reloadAt = Date.now();
      await ternCli(['reload']);
      const reloaded = Date.now();
      await waitFor('Tern to drop the frozen bird-stop', async () => ((await ternPeer('bird-stop')).state !== 'Established' ? true : undefined), { timeoutMs: 20_000, intervalMs: 200 });
      const p = await ternPeer('bird-stop');
      assert.match(p.lastError ?? '', /send hold timer/i, `RFC 9687 send hold timer (lastError: ${p.lastError})`);
      assert.ok((p.messagesSent.NOTIFICATION ?? 0) >= 1, 'a NOTIFICATION was sent');
      assert.ok(Date.now() - reloadAt < 25_000, `dropped ${Date.now() - reloaded} ms after the reload (${reloaded - reloadAt} ms), well before the 30 s hold timer`);
      for (const other of ['bird-kill', 'bird-watch']) assert.equal((await ternPeer(other)).state, 'Established', `${other} unaffected`);
      process.kill(pid, 'SIGCONT');
      await established('bird-stop');
    } catch (err) {
      logsOnFailure(err);
    } finally {
      try {
        process.kill(pid, 'SIGCONT');
      } catch {
        // gone
      }
    }
  });

  test('control socket flooded: a hold-time-3 session stays up and keepalives keep flowing', async () => {
    try {
      await established('bird-watch');
      const before = await ternPeer('bird-watch');
      const birdBefore = await peers.get('bird-watch')!.protocolText(label('bird-watch'));
      const stats = { connections: 0, answered: 0, errors: 0 };
      const end = Date.now() + 8_000;
      const one = (i: number): Promise<void> =>
        new Promise((resolve) => {
          const s = net.createConnection(ternSocket);
          stats.connections++;
          s.setTimeout(5_000, () => s.destroy());
          s.on('error', () => {
            stats.errors++;
            resolve();
          });
          s.on('close', () => resolve());
          s.on('data', () => {
            stats.answered++;
            s.end();
          });
          s.on('connect', () => {
            const kind = i % 4;
            if (kind === 0) s.write('\u0000\u00ff garbage {not json\n');
            else if (kind === 1) s.write(`${JSON.stringify({ id: i, command: 'show peers' })}\n`);
            else if (kind === 2) s.write(`${'x'.repeat(70_000)}\n`); // over the request limit
            else s.end(); // connect and leave
          });
        });
      let i = 0;
      while (Date.now() < end) await Promise.all(Array.from({ length: 200 }, () => one(i++)));
      const after = await ternPeer('bird-watch');
      assert.ok(stats.connections >= 1000, `${stats.connections} connections made`);
      assert.ok(stats.answered > 0, 'Tern answered during the flood');
      assert.equal(after.state, 'Established');
      assert.ok(after.uptimeSeconds >= before.uptimeSeconds + 7, `no reset: uptime ${before.uptimeSeconds} -> ${after.uptimeSeconds} s`);
      const sent = (after.messagesSent.KEEPALIVE ?? 0) - (before.messagesSent.KEEPALIVE ?? 0);
      assert.ok(sent >= 5, `${sent} KEEPALIVEs sent during 8 s (every 1 s)`);
      const birdAfter = await peers.get('bird-watch')!.session(label('bird-watch'));
      assert.ok(birdAfter.established, 'BIRD still Established');
      // BIRD's "Established since" did not move.
      const since = (t: string) => /^\S+\s+BGP\s+\S+\s+\S+\s+(\S+)/m.exec(t)?.[1];
      assert.equal(since(await peers.get('bird-watch')!.protocolText(label('bird-watch'))), since(birdBefore), 'BIRD saw no reset');
    } catch (err) {
      logsOnFailure(err);
    }
  });

  test('config file replaced by garbage at reload: error reported, the old config keeps running', async () => {
    const good = readFileSync(ternFile, 'utf8');
    try {
      const before = await ternPeers();
      writeFileSync(ternFile, 'peers: [ {{{ this is : not : yaml\n\u0000\u0001garbage');
      const r = await ternCli(['reload'], false);
      assert.notEqual(r.code, 0, 'tern reload fails');
      assert.ok(`${r.stderr}${r.stdout}`.trim().length > 0, 'and says why');
      const after = await ternPeers();
      assert.deepEqual(after.map((p) => p.name).sort(), before.map((p) => p.name).sort(), 'same peers');
      for (const p of after.filter((x) => x.name !== 'bird-stop')) assert.equal(p.state, 'Established', p.name);
      assert.ok(tern!.isRunning());
    } catch (err) {
      logsOnFailure(err);
    } finally {
      writeFileSync(ternFile, good);
    }
  });
});
