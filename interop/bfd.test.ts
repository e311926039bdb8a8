// SPDX-License-Identifier: Apache-2.0
// BFD (RFC 5880/5881, single hop) between Tern and BIRD 2's `protocol bfd`, each in its own
// namespace: the BFD session comes Up on both sides (`tern show bfd --json`, `birdc show bfd
// sessions`) next to an Established BGP session with hold time 9 s; when the link is cut (`ip
// link set eth0 down` in BIRD's namespace) Tern's BGP session goes down within BFD's detection
// time (3 × 100 ms), long before the hold timer, with Cease / BFD Down (RFC 9384) as the reason;
// both come back with the link. FRR's bfdd is not driven here (the FRR driver runs no bfdd).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Topology } from './lib/netns.ts';
import { run, tail } from './lib/proc.ts';
import { waitFor } from './lib/wait.ts';
import { Bird2Peer, BIRD2 } from './lib/peers/bird2.ts';
import { birdc } from './lib/peers/bird-common.ts';
import { TernDut, ternAvailable, ternConfig, ternEntry } from './lib/tern.ts';
import { tearDownLab } from './lib/suite.ts';

const isRoot = process.getuid?.() === 0;
const skip = !isRoot ? 'needs root (network namespaces)' : !ternAvailable() ? 'Tern is not buildable here' : !existsSync(BIRD2.daemon) ? 'BIRD 2 missing; run scripts/install-peers.sh' : false;

const ASN = 65000;
const TERN_IP = '10.0.0.1';
const BIRD_IP = '10.0.0.2';
const NAME = 'bird-bfd';
const LABEL = 'tern_bird_bfd';
/** BIRD's `protocol bfd` and Tern's `bfd` use the same timers: 100 ms × 3 = 300 ms detection. */
const BFD = { minRx: 100, minTx: 100, multiplier: 3 };
const HOLD_TIME = 9;

let topo: Topology | undefined;
let workDir = '';
let tern: TernDut | undefined;
let bird: Bird2Peer | undefined;
let birdNs = '';
let ternSocket = '';
let failed = false;

async function ternJson(args: string[]): Promise<unknown> {
  const r = await run(process.execPath, [await ternEntry(), ...args, '--json', '--socket', ternSocket], { timeoutMs: 10_000 });
  return JSON.parse(r.stdout) as unknown;
}

async function ternBgp(): Promise<{ state: string; lastError: string | null }> {
  const peers = (await ternJson(['show', 'peers'])) as { name: string; state: string; lastError: string | null }[];
  return peers.find((p) => p.name === NAME)!;
}

async function ternBfd(): Promise<string> {
  const rows = (await ternJson(['show', 'bfd'])) as { name: string; state: string }[];
  return rows.find((r) => r.name === NAME)?.state ?? 'none';
}

async function birdBfd(): Promise<string> {
  const out = await birdc(BIRD2.client, join(workDir, 'bird', 'bird.ctl'), ['show', 'bfd', 'sessions']);
  const line = out.split('\n').find((l) => l.trim().startsWith(TERN_IP));
  return line?.trim().split(/\s+/)[2] ?? 'none';
}

async function allUp(): Promise<void> {
  await waitFor('Tern BFD Up', async () => ((await ternBfd()) === 'Up' ? true : undefined), { timeoutMs: 30_000, intervalMs: 200 });
  await waitFor('BIRD BFD Up', async () => ((await birdBfd()) === 'Up' ? true : undefined), { timeoutMs: 30_000, intervalMs: 200 });
  await waitFor('BGP Established at Tern', async () => ((await ternBgp()).state === 'Established' ? true : undefined), { timeoutMs: 30_000, intervalMs: 200 });
  await waitFor('BGP Established at BIRD', async () => ((await bird!.session(LABEL)).established ? true : undefined), { timeoutMs: 30_000, intervalMs: 200 });
}

function logsOnFailure(err: unknown): never {
  failed = true;
  const logs = [...(tern?.logs() ?? []), ...(bird?.logs() ?? [])].map((f) => `--- ${f}\n${tail(f, 30)}`).join('\n');
  if (err instanceof Error) err.message += `\n(work dir ${workDir})\n${logs}`;
  throw err;
}

describe('BFD with BIRD 2', { skip, timeout: 180_000 }, () => {
  before(async () => {
    try {
      topo = await Topology.create('bfd');
      workDir = join(tmpdir(), `tern-interop-bfd-${process.pid}`);
      rmSync(workDir, { recursive: true, force: true });
      const ternNs = await topo.addNode({ name: 'tern', ipv4: [`${TERN_IP}/24`], ipv6: [] });
      birdNs = await topo.addNode({ name: 'bird', ipv4: [`${BIRD_IP}/24`], ipv6: [] });
      const spec = {
        namespace: ternNs,
        routerId: TERN_IP,
        asn: ASN,
        listen: [TERN_IP],
        peers: [{ name: NAME, address: BIRD_IP, asn: ASN, families: ['ipv4-unicast' as const], localAddress: TERN_IP }],
        originate: [{ prefix: '10.99.0.0/24' }],
        ipv6Address: '',
        workDir: join(workDir, 'tern'),
      };
      tern = new TernDut(spec);
      ternSocket = join(spec.workDir, 'tern.ctl');
      const tree = ternConfig(spec, ternSocket, false);
      for (const p of tree.peers as Record<string, unknown>[]) Object.assign(p, { bfd: BFD, holdTime: HOLD_TIME });
      writeFileSync(join(spec.workDir, 'tern.yaml'), JSON.stringify(tree, null, 2));
      bird = new Bird2Peer({
        kind: 'bird2',
        relation: 'ibgp',
        namespace: birdNs,
        routerId: BIRD_IP,
        asn: ASN,
        ipv6Address: '',
        sessions: [{ name: NAME, label: LABEL, kind: 'ipv4', families: ['ipv4-unicast'], localAddress: BIRD_IP, remoteAddress: TERN_IP, localAsn: ASN, remoteAsn: ASN, bfd: true, holdTime: HOLD_TIME }],
        prefixes: { 'ipv4-unicast': ['10.120.0.0/24'], 'ipv6-unicast': [] },
        workDir: join(workDir, 'bird'),
      });
      await tern.start();
      await bird.start();
    } catch (err) {
      logsOnFailure(err);
    }
  });

  after(() => tearDownLab({ daemons: [bird, tern], topo, workDir, failed }));

  test('BFD comes Up on both sides next to an Established BGP session', async () => {
    await allUp().catch(logsOnFailure);
  });

  test('link cut: BGP goes down within the BFD detection time (Cease / BFD Down), not after the 9 s hold timer; back with the link', async () => {
    try {
      await allUp();
      const cut = Date.now();
      await run('ip', ['-n', birdNs, 'link', 'set', 'eth0', 'down']);
      await waitFor('Tern to drop the BGP session', async () => ((await ternBgp()).state !== 'Established' ? true : undefined), { timeoutMs: HOLD_TIME * 1000, intervalMs: 50 });
      // When, by Tern's own log (same clock as ours): polling the CLI (~2 s a call) is too coarse.
      const downLine = readFileSync(tern!.logs()[0]!, 'utf8')
        .split('\n')
        .filter((l) => l.includes('"connection down"') && l.includes(NAME))
        .map((l) => JSON.parse(l) as { time: string; reason?: string })
        .find((r) => Date.parse(r.time) >= cut);
      assert.ok(downLine, 'Tern logged the session going down');
      const took = Date.parse(downLine.time) - cut;
      // 300 ms detection, plus the last packet's age and timer slack.
      assert.ok(took < 1000, `BGP down ${took} ms after the cut (BFD detection 300 ms, hold time ${HOLD_TIME} s)`);
      assert.match(downLine.reason ?? '', /BFD Down/i);
      const p = await ternBgp();
      assert.match(p.lastError ?? '', /BFD Down/i, `reason: ${p.lastError}`);
      await run('ip', ['-n', birdNs, 'link', 'set', 'eth0', 'up']);
      await allUp();
    } catch (err) {
      logsOnFailure(err);
    }
  });
});
