// SPDX-License-Identifier: Apache-2.0
// Tern's operations endpoint against a real BIRD 2 peer: Tern and BIRD each in a namespace of
// their own (lib/netns.ts), eBGP over IPv4. While the session runs, /metrics is scraped over HTTP
// inside Tern's namespace and compared with `tern show peers --json` and `tern show routes --json`
// (Tern's own CLI), and the advertised count with what BIRD's `birdc` says it received. /healthz
// and /readyz answer over HTTP too; when BIRD is killed, readiness and the peer metrics follow.
// Root only (namespaces). INTEROP_KEEP=1 keeps the configs and logs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { Topology } from './lib/netns.ts';
import { Bird2Peer } from './lib/peers/bird2.ts';
import { TernDut, ternAvailable, ternConfig, ternEntry } from './lib/tern.ts';
import { missingPeerBinaries } from './lib/lab.ts';
import { run, tail } from './lib/proc.ts';
import { waitFor } from './lib/wait.ts';
import { controlRequest } from '../src/control/client.ts';
import type { DutSpec, PeerSpec } from './lib/types.ts';

const inCi = process.env.CI !== undefined && process.env.CI !== '' && process.env.CI !== 'false';
const keepLogs = process.env.INTEROP_KEEP === '1';

const TERN_ADDR = '10.0.0.1';
const BIRD_ADDR = '10.0.0.2';
const TERN_ASN = 65000;
const BIRD_ASN = 65001;
const METRICS = `${TERN_ADDR}:9179`;
const BIRD_PREFIXES = ['10.101.0.0/24', '10.101.1.0/24', '10.101.2.0/24'];
const TERN_PREFIX = '10.99.0.0/24';
const FAMILY = 'ipv4-unicast';

function skipReason(): string | false {
  if (process.getuid?.() !== 0) return 'needs root (network namespaces)';
  if (!ternAvailable()) return 'bin/tern.js or src/main.ts missing';
  const missing = missingPeerBinaries('bird2');
  if (missing !== undefined && !inCi) return `bird2 not installed (${missing}); run scripts/install-peers.sh`;
  return false;
}

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

function parseProm(text: string): Sample[] {
  return text
    .split('\n')
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((line) => {
      const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
      if (!m) throw new Error(`unparsable exposition line: ${line}`);
      const labels = Object.fromEntries([...(m[2] ?? '').matchAll(/([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"/g)].map((x) => [x[1]!, x[2]!]));
      return { name: m[1]!, labels, value: Number(m[3]) };
    });
}

function valueOf(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  const hits = samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (hits.length > 1) throw new Error(`${name} ${JSON.stringify(labels)} matches ${hits.length} samples`);
  return hits[0]?.value;
}

/** An HTTP request made from inside `netns` (so it reaches Tern's address there): status and body. */
async function httpIn(netns: string, path: string): Promise<{ status: number; body: string }> {
  const script = `fetch(${JSON.stringify(`http://${METRICS}${path}`)}).then(async (r) => process.stdout.write(JSON.stringify({ status: r.status, body: await r.text() })), (e) => { process.stderr.write(String(e.cause ?? e)); process.exit(1); })`;
  const r = await run(process.execPath, ['-e', script], { netns, timeoutMs: 10_000 });
  return JSON.parse(r.stdout) as { status: number; body: string };
}

interface PeerJson {
  name: string;
  asn: number;
  state: string;
  uptimeSeconds: number;
  routesReceived: number;
  routesSent: number;
  routesAccepted: number;
  routesStale: number;
  messagesReceived: Record<string, number>;
  messagesSent: Record<string, number>;
}

test('metrics over HTTP agree with `tern show` and with BIRD 2, and readiness follows the session', { skip: skipReason(), timeout: 180_000 }, async () => {
  const workDir = join(tmpdir(), `tern-interop-obs-${process.pid}`);
  rmSync(workDir, { recursive: true, force: true });
  mkdirSync(workDir, { recursive: true });
  const topology = await Topology.create('obs');
  let tern: TernDut | undefined;
  let bird: Bird2Peer | undefined;
  let ok = false;
  try {
    const ternNs = await topology.addNode({ name: 'tern', ipv4: [`${TERN_ADDR}/24`], ipv6: [] });
    const birdNs = await topology.addNode({ name: 'bird', ipv4: [`${BIRD_ADDR}/24`], ipv6: [] });
    const dut: DutSpec = {
      namespace: ternNs,
      routerId: TERN_ADDR,
      asn: TERN_ASN,
      listen: [TERN_ADDR],
      peers: [{ name: 'bird', address: BIRD_ADDR, asn: BIRD_ASN, families: [FAMILY], localAddress: TERN_ADDR }],
      originate: [{ prefix: TERN_PREFIX }],
      ipv6Address: '',
      workDir: join(workDir, 'tern'),
    };
    tern = new TernDut(dut);
    // The lab's Tern config plus the metrics endpoint (TernDut uses a config already in place).
    const socket = join(dut.workDir, 'tern.ctl');
    writeFileSync(join(dut.workDir, 'tern.yaml'), JSON.stringify({ ...ternConfig(dut, socket, true), metrics: { listen: METRICS } }, null, 2) + '\n');
    const peerSpec: PeerSpec = {
      kind: 'bird2',
      relation: 'ebgp',
      namespace: birdNs,
      routerId: BIRD_ADDR,
      asn: BIRD_ASN,
      ipv6Address: '',
      sessions: [{ name: 'bird', label: 'tern', kind: 'ipv4', families: [FAMILY], localAddress: BIRD_ADDR, remoteAddress: TERN_ADDR, localAsn: BIRD_ASN, remoteAsn: TERN_ASN }],
      prefixes: { 'ipv4-unicast': BIRD_PREFIXES, 'ipv6-unicast': [] },
      workDir: join(workDir, 'bird'),
    };
    bird = new Bird2Peer(peerSpec);
    await tern.start();
    // Before BIRD runs: live, not ready, and the peer named.
    const early = await httpIn(ternNs, '/readyz');
    assert.equal(early.status, 503, early.body);
    assert.match(early.body, /"peer":"bird"/);
    assert.equal((await httpIn(ternNs, '/healthz')).status, 200);

    await bird.start();
    const entry = await ternEntry();
    const ternCli = async <T>(...args: string[]): Promise<T> => JSON.parse((await run(process.execPath, [entry, ...args, '--socket', socket], { timeoutMs: 10_000 })).stdout) as T;
    await waitFor('the session and every route on both sides', async () => {
      const p = (await ternCli<PeerJson[]>('show', 'peers', '--json'))[0]!;
      const atBird = await bird!.routes('tern', FAMILY);
      if (p.state !== 'Established' || p.routesReceived !== BIRD_PREFIXES.length || p.routesSent !== 1 || atBird.length !== 1) {
        throw new Error(`tern: ${p.state} received ${p.routesReceived} sent ${p.routesSent}; bird has ${atBird.length}`);
      }
      return true;
    }, { timeoutMs: 60_000 });

    // A scrape between two identical `show peers` answers must equal them (counters only grow).
    // The answers come straight from the control socket (the same `show peers` the CLI prints),
    // so the window is milliseconds, not two process starts, and uptimeSeconds rarely ticks in it.
    const consistent = async (): Promise<{ peer: PeerJson; samples: Sample[] }> => {
      for (let i = 0; i < 40; i++) {
        const before = (await controlRequest(socket, 'show peers')) as PeerJson[];
        const r = await httpIn(ternNs, '/metrics');
        assert.equal(r.status, 200);
        const after = (await controlRequest(socket, 'show peers')) as PeerJson[];
        if (JSON.stringify(before) === JSON.stringify(after)) return { peer: after[0]!, samples: parseProm(r.body) };
      }
      throw new Error('show peers never held still across a scrape');
    };
    const { peer, samples } = await consistent();
    const l = { peer: 'bird' };
    assert.equal(valueOf(samples, 'tern_peer_state', { ...l, peer_as: String(BIRD_ASN) }), 6);
    assert.equal(valueOf(samples, 'tern_peer_up', l), 1);
    assert.equal(valueOf(samples, 'tern_peer_uptime_seconds', l), peer.uptimeSeconds);
    assert.equal(valueOf(samples, 'tern_peer_established_transitions_total', l), 1);
    assert.equal(valueOf(samples, 'tern_peer_prefixes_received', { ...l, afi_safi: FAMILY }), peer.routesReceived);
    assert.equal(valueOf(samples, 'tern_peer_prefixes_accepted', { ...l, afi_safi: FAMILY }), peer.routesAccepted);
    assert.equal(valueOf(samples, 'tern_peer_prefixes_advertised', { ...l, afi_safi: FAMILY }), peer.routesSent);
    assert.equal(valueOf(samples, 'tern_peer_prefixes_stale', { ...l, afi_safi: FAMILY }), peer.routesStale);
    for (const [type, wire] of [['open', 'OPEN'], ['update', 'UPDATE'], ['keepalive', 'KEEPALIVE'], ['notification', 'NOTIFICATION']] as const) {
      assert.equal(valueOf(samples, 'tern_peer_messages_received_total', { ...l, type }), peer.messagesReceived[wire] ?? 0, `received ${type}`);
      assert.equal(valueOf(samples, 'tern_peer_messages_sent_total', { ...l, type }), peer.messagesSent[wire] ?? 0, `sent ${type}`);
    }
    // BIRD's own count of what it received from Tern.
    assert.equal(valueOf(samples, 'tern_peer_prefixes_advertised', { ...l, afi_safi: FAMILY }), (await bird.routes('tern', FAMILY)).length);
    const routes = await ternCli<{ prefix: string; family: string }[]>('show', 'routes', '--json');
    const v4 = routes.filter((r) => r.family === FAMILY);
    assert.equal(valueOf(samples, 'tern_rib_paths', { afi_safi: FAMILY }), v4.length);
    assert.equal(valueOf(samples, 'tern_rib_destinations', { afi_safi: FAMILY }), new Set(v4.map((r) => r.prefix)).size);
    assert.equal(v4.length, BIRD_PREFIXES.length + 1, 'BIRD\'s routes and our own');
    assert.deepEqual(await httpIn(ternNs, '/readyz'), { status: 200, body: '{"status":"ready","peers":1}\n' });

    // BIRD dies: Tern's session drops, readiness and metrics follow `show peers`.
    await bird.stop('SIGKILL');
    const down = await waitFor('Tern to report the session down', async () => {
      const p = (await ternCli<PeerJson[]>('show', 'peers', '--json'))[0]!;
      return p.state !== 'Established' ? p : undefined;
    }, { timeoutMs: 30_000 });
    assert.equal(down.routesReceived, 0);
    const after = await consistent();
    assert.equal(valueOf(after.samples, 'tern_peer_up', l), 0);
    assert.equal(valueOf(after.samples, 'tern_peer_prefixes_received', { ...l, afi_safi: FAMILY }), 0);
    assert.equal(valueOf(after.samples, 'tern_rib_paths', { afi_safi: FAMILY }), 1, 'only our own route left');
    const notReady = await httpIn(ternNs, '/readyz');
    assert.equal(notReady.status, 503);
    assert.match(notReady.body, /"peer":"bird"/);
    ok = true;
  } catch (err) {
    if (err instanceof Error) err.message += `\n--- tern log\n${tail(join(workDir, 'tern', 'tern.log'), 30)}\n(logs in ${workDir})`;
    throw err;
  } finally {
    await Promise.allSettled([tern?.stop('SIGKILL'), bird?.stop('SIGKILL')]);
    await topology.destroy();
    if (ok && !keepLogs) rmSync(workDir, { recursive: true, force: true });
  }
});
