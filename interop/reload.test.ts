// SPDX-License-Identifier: Apache-2.0
// Config reload in a running lab: Tern with BIRD 2 and FRR eBGP peers, each in its own network
// namespace on one bridge. The config file is edited and applied with `tern reload` (and with
// SIGHUP), as an operator does:
//   (a) a peer is added: it comes up and gets routes both ways;
//   (c) one peer's export policy changes (reload) and changes back (SIGHUP): FRR's own table
//       (vtysh) shows the effect each time, and no session is reset, not even FRR's;
//   (b) a peer is removed: BIRD sees Cease / Peer De-configured, the others lose its route;
//   a garbage file (YAML syntax error, then a schema error by SIGHUP) is refused and the old
//   config keeps running.
// After every step the sessions that did not change must not have been reset: a sampler sees them
// Established throughout, `show peers --json` uptimeSeconds only grows, the received OPEN count
// stays 1, the received message total only grows, and tern_peer_established_transitions_total
// (which counts by peer name across re-creations) stays 1. Root only (namespaces).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Topology } from './lib/netns.ts';
import { run, tail } from './lib/proc.ts';
import { sleep, waitFor } from './lib/wait.ts';
import { Bird2Peer, BIRD2 } from './lib/peers/bird2.ts';
import { FrrPeer, FRR } from './lib/peers/frr.ts';
import { TernDut, ternAvailable, ternConfig, ternEntry } from './lib/tern.ts';
import type { DutPeer, PeerDriver, PeerSpec, SessionSpec } from './lib/types.ts';
import { bothEstablished, tearDownLab } from './lib/suite.ts';

const isRoot = process.getuid?.() === 0;
const skip = !isRoot
  ? 'needs root (network namespaces)'
  : !ternAvailable()
    ? 'bin/tern.js or src/main.ts missing'
    : !existsSync(BIRD2.daemon) || !existsSync(FRR.bgpd)
      ? 'BIRD 2 or FRR missing; run scripts/install-peers.sh'
      : false;

const ASN = 65000;
const TERN_IP = '10.0.0.1';
const METRICS = `${TERN_IP}:9179`;
const FAMILY = 'ipv4-unicast';
const TERN_PREFIXES = ['10.99.0.0/24', '10.99.1.0/24'];
const WAIT = { timeoutMs: 40_000, intervalMs: 300 };

interface PeerPlan {
  name: string;
  kind: 'bird2' | 'frr';
  address: string;
  asn: number;
  prefix: string;
  /** In Tern's config from the start (bird-c is added by the test). */
  initially: boolean;
}

const PLANS: PeerPlan[] = [
  { name: 'bird-a', kind: 'bird2', address: '10.0.0.2', asn: 65001, prefix: '10.101.0.0/24', initially: true },
  { name: 'frr-b', kind: 'frr', address: '10.0.0.3', asn: 65002, prefix: '10.102.0.0/24', initially: true },
  { name: 'bird-c', kind: 'bird2', address: '10.0.0.4', asn: 65003, prefix: '10.103.0.0/24', initially: false },
];
const plan = (name: string): PeerPlan => PLANS.find((p) => p.name === name)!;

/** FRR's changed export: Tern's second prefix filtered, the rest prepended twice. */
const TO_FRR_POLICY = [
  { name: 'hide-second', match: { prefix: TERN_PREFIXES[1] }, action: 'reject' },
  { name: 'prepend', prepend: 2, action: 'accept' },
];

let topo: Topology | undefined;
let workDir = '';
let ternNs = '';
let ternFile = '';
let ternSocket = '';
let tern: TernDut | undefined;
let config: Record<string, unknown> = {};
const peers = new Map<string, PeerDriver>();
let failed = false;

interface PeerJson {
  name: string;
  state: string;
  uptimeSeconds: number;
  lastError: string | null;
  messagesReceived: Record<string, number>;
}

async function ternCli(args: string[], check = true): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return run(process.execPath, [await ternEntry(), ...args, '--socket', ternSocket], { check, timeoutMs: 30_000 });
}

async function ternPeers(): Promise<PeerJson[]> {
  return JSON.parse((await ternCli(['show', 'peers', '--json'])).stdout) as PeerJson[];
}

async function ternPeer(name: string): Promise<PeerJson> {
  const p = (await ternPeers()).find((x) => x.name === name);
  if (p === undefined) throw new Error(`tern show peers has no ${name}`);
  return p;
}

function label(name: string): string {
  return `tern_${name.replace(/-/g, '_')}`;
}

function ternPeerConfig(p: PeerPlan): Record<string, unknown> {
  return {
    name: p.name, address: p.address, asn: p.asn, holdTime: 9, keepalive: 3, connectRetry: 2,
    families: [FAMILY], localAddress: TERN_IP, import: 'all', export: 'all',
  };
}

function peerList(): Record<string, unknown>[] {
  return config.peers as Record<string, unknown>[];
}

function writeConfig(): void {
  writeFileSync(ternFile, JSON.stringify(config, null, 2) + '\n');
}

/** `tern reload --json` after the edit; its report. */
async function reload(): Promise<Record<string, string[]>> {
  return JSON.parse((await ternCli(['reload', '--json'])).stdout) as Record<string, string[]>;
}

/** The pid of `tern run` in Tern's namespace (the only program there), for SIGHUP. */
async function ternPid(): Promise<number> {
  const pids = (await run('ip', ['netns', 'pids', ternNs])).stdout.split('\n').map(Number).filter((n) => n > 0);
  const mine = pids.filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes('run');
    } catch {
      return false;
    }
  });
  assert.equal(mine.length, 1, `one tern run process in ${ternNs}: ${mine.join(', ')}`);
  return mine[0]!;
}

async function metric(name: string, labels: Record<string, string>): Promise<number | undefined> {
  const script = `fetch(${JSON.stringify(`http://${METRICS}/metrics`)}).then(async (r) => process.stdout.write(await r.text()), (e) => { process.stderr.write(String(e)); process.exit(1); })`;
  const text = (await run(process.execPath, ['-e', script], { netns: ternNs, timeoutMs: 10_000 })).stdout;
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (m?.[1] === name && want.every((w) => (m[2] ?? '').split(',').includes(w))) return Number(m[3]);
  }
  return undefined;
}

async function established(name: string): Promise<void> {
  await bothEstablished(name, () => ternPeer(name), () => peers.get(name)!.session(label(name)), WAIT);
}

/** Waits until the peer's own CLI shows exactly these routes from Tern (prefix → AS path). */
async function peerSees(name: string, want: Record<string, number[]>): Promise<void> {
  await waitFor(`${name}'s table to equal ${JSON.stringify(want)}`, async () => {
    const got = Object.fromEntries((await peers.get(name)!.routes(label(name), FAMILY)).map((r) => [r.prefix, r.asPath]));
    assert.deepEqual(got, want);
    return true;
  }, WAIT);
}

interface Baseline {
  uptime: number;
  received: number;
  opens: number;
}

/**
 * Watches the named sessions while `step` runs: they must stay Established throughout (sampled
 * every 200 ms), and afterwards uptime and the received message total must not have gone back,
 * the received OPEN count must still be 1 and the established-transitions counter still 1.
 */
async function untouched(names: string[], step: () => Promise<void>): Promise<void> {
  const base = new Map<string, Baseline>();
  for (const n of names) {
    const p = await ternPeer(n);
    assert.equal(p.state, 'Established', `${n} before the step`);
    base.set(n, { uptime: p.uptimeSeconds, received: Object.values(p.messagesReceived).reduce((a, b) => a + b, 0), opens: p.messagesReceived.OPEN ?? 0 });
  }
  const broken: string[] = [];
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const list = await ternPeers().catch(() => []);
      for (const p of list) if (names.includes(p.name) && p.state !== 'Established') broken.push(`${p.name} went ${p.state}: ${p.lastError ?? ''}`);
      await sleep(200);
    }
  })();
  try {
    await step();
    await sleep(1_500); // a whole uptime second passes, so "grows" is observable
  } finally {
    sampling = false;
    await sampler;
  }
  assert.deepEqual(broken, [], 'unchanged sessions stayed Established');
  for (const n of names) {
    const p = await ternPeer(n);
    const b = base.get(n)!;
    const received = Object.values(p.messagesReceived).reduce((a, c) => a + c, 0);
    assert.equal(p.state, 'Established', n);
    assert.ok(p.uptimeSeconds > b.uptime, `${n}: uptime went on (${b.uptime} -> ${p.uptimeSeconds} s)`);
    // No OPEN since the step began. (Not "exactly one": when both sides connected at once, the
    // collision's losing connection brought an OPEN too, RFC 4271 §6.8.)
    assert.equal(p.messagesReceived.OPEN, b.opens, `${n}: no new OPEN`);
    assert.ok(received >= b.received, `${n}: received messages ${b.received} -> ${received}`);
    assert.equal(await metric('tern_peer_established_transitions_total', { peer: n }), 1, `${n}: established once`);
    assert.ok((await peers.get(n)!.session(label(n))).established, `${n}: the peer says Established`);
  }
}

async function buildWorld(): Promise<void> {
  topo = await Topology.create('rld');
  workDir = join(tmpdir(), `tern-interop-reload-${process.pid}`);
  rmSync(workDir, { recursive: true, force: true });
  ternNs = await topo.addNode({ name: 'tern', ipv4: [`${TERN_IP}/24`], ipv6: [] });
  const dutPeers: DutPeer[] = PLANS.filter((p) => p.initially).map((p) => ({ name: p.name, address: p.address, asn: p.asn, families: [FAMILY], localAddress: TERN_IP }));
  const spec = { namespace: ternNs, routerId: TERN_IP, asn: ASN, listen: [TERN_IP], peers: dutPeers, originate: TERN_PREFIXES.map((prefix) => ({ prefix })), ipv6Address: '', workDir: join(workDir, 'tern') };
  tern = new TernDut(spec);
  ternFile = join(spec.workDir, 'tern.yaml');
  ternSocket = join(spec.workDir, 'tern.ctl');
  config = { ...ternConfig(spec, ternSocket, true), metrics: { listen: METRICS } };
  config.peers = PLANS.filter((p) => p.initially).map(ternPeerConfig);
  writeConfig(); // TernDut keeps a config already in place
  for (const p of PLANS) {
    const ns = await topo.addNode({ name: p.name, ipv4: [`${p.address}/24`], ipv6: [] });
    const session: SessionSpec = {
      name: p.name, label: label(p.name), kind: 'ipv4', families: [FAMILY],
      localAddress: p.address, remoteAddress: TERN_IP, localAsn: p.asn, remoteAsn: ASN,
    };
    const peerSpec: PeerSpec = {
      kind: p.kind, relation: 'ebgp', namespace: ns, routerId: p.address, asn: p.asn, ipv6Address: '',
      sessions: [session], prefixes: { 'ipv4-unicast': [p.prefix], 'ipv6-unicast': [] }, workDir: join(workDir, p.name),
    };
    peers.set(p.name, p.kind === 'bird2' ? new Bird2Peer(peerSpec) : new FrrPeer(peerSpec));
  }
  await tern.start();
  await Promise.all([...peers.values()].map((p) => p.start()));
}

function logsOnFailure(err: unknown): never {
  failed = true;
  const logs = [...(tern?.logs() ?? []), ...[...peers.values()].flatMap((p) => p.logs())].map((f) => `--- ${f}\n${tail(f, 25)}`).join('\n');
  if (err instanceof Error) err.message += `\n(work dir ${workDir})\n${logs}`;
  throw err;
}

/** Tern's routes as an eBGP peer sees them (AS path [65000]), plus other peers' routes via Tern. */
function fromTern(extra: PeerPlan[] = []): Record<string, number[]> {
  const want: Record<string, number[]> = Object.fromEntries(TERN_PREFIXES.map((p) => [p, [ASN]]));
  for (const p of extra) want[p.prefix] = [ASN, p.asn];
  return want;
}

describe('config reload with BIRD 2 and FRR: add, remove, change policy, refuse garbage', { skip, timeout: 300_000 }, () => {
  before(async () => {
    try {
      await buildWorld();
    } catch (err) {
      logsOnFailure(err);
    }
  });

  after(() => tearDownLab({ daemons: [...peers.values(), tern], topo, workDir, failed }));

  test('start: the configured BIRD 2 and FRR sessions are Established and exchange routes', async () => {
    try {
      await established('bird-a');
      await established('frr-b');
      await peerSees('bird-a', fromTern([plan('frr-b')]));
      await peerSees('frr-b', fromTern([plan('bird-a')]));
      const c = await peers.get('bird-c')!.session(label('bird-c'));
      assert.equal(c.established, false, 'bird-c is not in Tern\'s config yet');
    } catch (err) {
      logsOnFailure(err);
    }
  });

  test('(a) add a peer with `tern reload`: it comes up, the other sessions keep their uptime', async () => {
    try {
      await untouched(['bird-a', 'frr-b'], async () => {
        peerList().push(ternPeerConfig(plan('bird-c')));
        writeConfig();
        const report = await reload();
        assert.deepEqual(report.peersAdded, ['bird-c']);
        assert.deepEqual([...report.peersRemoved!, ...report.peersReset!, ...report.peersUpdated!], []);
        await established('bird-c');
        await peerSees('bird-c', fromTern([plan('bird-a'), plan('frr-b')]));
        await peerSees('bird-a', fromTern([plan('frr-b'), plan('bird-c')]));
      });
    } catch (err) {
      logsOnFailure(err);
    }
  });

  test('(c) change one peer\'s export policy with `tern reload`: FRR\'s table shows it, no session is reset', async () => {
    try {
      await untouched(['bird-a', 'frr-b', 'bird-c'], async () => {
        config.policies = { 'to-frr': TO_FRR_POLICY };
        peerList().find((p) => p.name === 'frr-b')!.export = 'to-frr';
        writeConfig();
        const report = await reload();
        assert.deepEqual(report.peersUpdated, ['frr-b'], 'updated in place');
        assert.deepEqual(report.peersReset, []);
        // vtysh: the second prefix withdrawn, the rest carry two more 65000s.
        await peerSees('frr-b', {
          [TERN_PREFIXES[0]!]: [ASN, ASN, ASN],
          [plan('bird-a').prefix]: [ASN, ASN, ASN, plan('bird-a').asn],
          [plan('bird-c').prefix]: [ASN, ASN, ASN, plan('bird-c').asn],
        });
        await peerSees('bird-a', fromTern([plan('frr-b'), plan('bird-c')]));
      });
    } catch (err) {
      logsOnFailure(err);
    }
  });

  test('(c) change it back with SIGHUP: FRR\'s table is as before, no session is reset', async () => {
    try {
      await untouched(['bird-a', 'frr-b', 'bird-c'], async () => {
        peerList().find((p) => p.name === 'frr-b')!.export = 'all';
        delete config.policies;
        writeConfig();
        process.kill(await ternPid(), 'SIGHUP');
        await peerSees('frr-b', fromTern([plan('bird-a'), plan('bird-c')]));
      });
      assert.equal(await metric('tern_config_reloads_total', { result: 'success' }), 3);
    } catch (err) {
      logsOnFailure(err);
    }
  });

  test('(b) remove a peer with `tern reload`: BIRD hears Peer De-configured, the others keep their sessions', async () => {
    try {
      await untouched(['bird-a', 'frr-b'], async () => {
        config.peers = peerList().filter((p) => p.name !== 'bird-c');
        writeConfig();
        const report = await reload();
        assert.deepEqual(report.peersRemoved, ['bird-c']);
        assert.equal((await ternPeers()).some((p) => p.name === 'bird-c'), false, 'gone from show peers');
        await waitFor('bird-c to report the Cease', async () => {
          const s = await peers.get('bird-c')!.session(label('bird-c'));
          // RFC 4486 §4 subcode 3, in BIRD's words.
          if (s.established || !/de-?configured/i.test(s.lastError)) throw new Error(`${s.state} ${s.lastError}`);
          return true;
        }, WAIT);
        await peerSees('bird-a', fromTern([plan('frr-b')]));
        await peerSees('frr-b', fromTern([plan('bird-a')]));
      });
    } catch (err) {
      logsOnFailure(err);
    }
  });

  test('a garbage file is refused (`tern reload` and SIGHUP) and the old config keeps running', async () => {
    try {
      const good = readFileSync(ternFile, 'utf8');
      await untouched(['bird-a', 'frr-b'], async () => {
        writeFileSync(ternFile, 'peers: [ {name: bird-a, address: 10.0.0.2\nrouterId: ][\n');
        const r = await ternCli(['reload'], false);
        assert.equal(r.code, 1, `tern reload fails: ${r.stdout}${r.stderr}`);
        assert.match(r.stderr, new RegExp(ternFile.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')), 'the error names the file');
        // Valid YAML, invalid config, by SIGHUP: logged and refused, the daemon stays.
        writeFileSync(ternFile, good.replace('"holdTime": 9', '"holdTime": 2'));
        process.kill(await ternPid(), 'SIGHUP');
        await waitFor('the SIGHUP reload to be refused', async () => {
          if ((await metric('tern_config_reloads_total', { result: 'failure' })) !== 2) throw new Error('not yet');
          return true;
        }, WAIT);
        assert.match(readFileSync(tern!.logs()[0]!, 'utf8'), /holdTime: must be 0 or between 3 and 65535/);
        assert.ok(tern!.isRunning(), 'Tern still runs');
        assert.deepEqual((await ternPeers()).map((p) => p.name).sort(), ['bird-a', 'frr-b']);
      });
      await peerSees('frr-b', fromTern([plan('bird-a')]));
      writeFileSync(ternFile, good);
      const report = await reload();
      assert.deepEqual([...report.peersAdded!, ...report.peersRemoved!, ...report.peersReset!, ...report.peersUpdated!], [], 'the running config was the old one');
    } catch (err) {
      logsOnFailure(err);
    }
  });
});
