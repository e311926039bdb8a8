// SPDX-License-Identifier: Apache-2.0
// TCP MD5 (RFC 2385) and GTSM (RFC 5082) between Tern and real peers, each in its own network
// namespace on one bridge (10.0.0.0/24), plus one BIRD two hops away behind a router namespace
// (10.1.0.0/24, forwarding on):
//   MD5: BIRD 2 and FRR with the right key come up on both sides; a BIRD with a wrong key never
//   does and the kernel's TcpExt TCPMD5Failure/TCPMD5NotFound in Tern's namespace rises; the
//   BIRD key rotated at runtime (Tern's config + `tern reload`, BIRD's + `birdc configure`) brings
//   that session back while the FRR MD5 session is never reset.
//   GTSM: BIRD 2 `ttl security on` directly connected comes up; the BIRD two hops away is refused
//   with `ttlSecurity: 1` (TCPMinTTLDrop rises) and comes up after a reload with `ttlSecurity: 2`.
// Every state is read from each daemon's own CLI. Needs root; skipped otherwise.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
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
    ? 'Tern is not buildable here'
    : !existsSync(BIRD2.daemon) || !existsSync(FRR.bgpd)
      ? 'BIRD 2 or FRR missing; run scripts/install-peers.sh'
      : false;

const ASN = 65000;
const FAR_ASN = 65010;
const TERN_IP = '10.0.0.1';
const KEY = 'tern-md5-key-1'; // FRR takes a single word
const ROTATED = 'rotated-key-2';
const WAIT = { timeoutMs: 40_000, intervalMs: 300 };

interface PeerPlan {
  name: string;
  kind: 'bird2' | 'frr';
  address: string;
  asn: number;
  /** Tern's side of the session. */
  tern: Record<string, unknown>;
  /** The peer's side. */
  session: Partial<SessionSpec>;
}

const PLANS: PeerPlan[] = [
  { name: 'bird-md5', kind: 'bird2', address: '10.0.0.2', asn: ASN, tern: { password: KEY }, session: { password: KEY } },
  { name: 'frr-md5', kind: 'frr', address: '10.0.0.3', asn: ASN, tern: { password: KEY }, session: { password: KEY } },
  { name: 'bird-badkey', kind: 'bird2', address: '10.0.0.4', asn: ASN, tern: { password: KEY }, session: { password: 'not the key' } },
  { name: 'bird-gtsm', kind: 'bird2', address: '10.0.0.5', asn: ASN, tern: { ttlSecurity: 1 }, session: { ttlSecurity: 1 } },
  // Two hops away (via the router namespace); BIRD: `ttl security on; multihop 2`.
  { name: 'bird-far', kind: 'bird2', address: '10.1.0.2', asn: FAR_ASN, tern: { ttlSecurity: 1 }, session: { ttlSecurity: 2 } },
];

let topo: Topology | undefined;
let workDir = '';
let tern: TernDut | undefined;
let ternNs = '';
let ternFile = '';
let ternSocket = '';
let ternConfigTree: Record<string, unknown> = {};
const peers = new Map<string, PeerDriver>();
let failed = false;

function label(name: string): string {
  return `tern_${name.replace(/-/g, '_')}`;
}

async function ternCli(args: string[], check = true): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return run(process.execPath, [await ternEntry(), ...args, '--socket', ternSocket], { check, timeoutMs: 15_000 });
}

interface PeerJson {
  name: string;
  state: string;
  uptimeSeconds: number;
  lastError: string | null;
}

async function ternPeer(name: string): Promise<PeerJson> {
  const list = JSON.parse((await ternCli(['show', 'peers', '--json'])).stdout) as PeerJson[];
  const p = list.find((x) => x.name === name);
  if (!p) throw new Error(`tern has no peer ${name}`);
  return p;
}

/** TcpExt counters of a namespace (they are per network namespace). */
async function tcpExt(ns: string): Promise<Map<string, number>> {
  const text = (await run('cat', ['/proc/net/netstat'], { netns: ns })).stdout;
  const lines = text.split('\n').filter((l) => l.startsWith('TcpExt:'));
  const names = lines[0]!.split(/\s+/);
  const values = lines[1]!.split(/\s+/);
  return new Map(names.map((n, i) => [n, Number(values[i])]));
}

function ternPeerConfigs(): Record<string, unknown>[] {
  return ternConfigTree.peers as Record<string, unknown>[];
}

/** Rewrites Tern's config file with one peer's keys changed and runs `tern reload`. */
async function reloadTern(name: string, change: Record<string, unknown>): Promise<string> {
  const p = ternPeerConfigs().find((x) => x.name === name)!;
  Object.assign(p, change);
  writeFileSync(ternFile, JSON.stringify(ternConfigTree, null, 2));
  return (await ternCli(['reload'])).stdout;
}

async function established(name: string): Promise<void> {
  await bothEstablished(name, () => ternPeer(name), () => peers.get(name)!.session(label(name)), WAIT);
}

/** Samples a condition for `ms`; returns the first observation that broke it, if any. */
async function holdsFor(ms: number, probe: () => Promise<string | undefined>): Promise<string | undefined> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const broken = await probe().catch((err: unknown) => `probe failed: ${String(err)}`);
    if (broken !== undefined) return broken;
    await sleep(250);
  }
  return undefined;
}

async function buildWorld(): Promise<void> {
  topo = await Topology.create('sec');
  workDir = join(tmpdir(), `tern-interop-security-${process.pid}`);
  rmSync(workDir, { recursive: true, force: true });
  ternNs = await topo.addNode({ name: 'tern', ipv4: [`${TERN_IP}/24`], ipv6: [] });
  const nsOf = new Map<string, string>();
  for (const plan of PLANS.filter((p) => p.address.startsWith('10.0.0.'))) {
    nsOf.set(plan.name, await topo.addNode({ name: plan.name, ipv4: [`${plan.address}/24`], ipv6: [] }));
  }
  // The router: on the bridge as 10.0.0.254, and 10.1.0.254 towards the far node.
  const routerNs = await topo.addNode({ name: 'router', ipv4: ['10.0.0.254/24'], ipv6: [] });
  const farNs = await topo.addNode({ name: 'bird-far', ipv4: [], ipv6: [] });
  nsOf.set('bird-far', farNs);
  await run('ip', ['-n', farNs, 'link', 'set', 'eth0', 'down']); // reachable only through the router
  await run('ip', ['-n', routerNs, 'link', 'add', 'eth1', 'type', 'veth', 'peer', 'name', 'eth1', 'netns', farNs]);
  await run('ip', ['-n', routerNs, 'addr', 'add', '10.1.0.254/24', 'dev', 'eth1']);
  await run('ip', ['-n', routerNs, 'link', 'set', 'eth1', 'up']);
  await run('ip', ['-n', farNs, 'addr', 'add', '10.1.0.2/24', 'dev', 'eth1']);
  await run('ip', ['-n', farNs, 'link', 'set', 'eth1', 'up']);
  await run('sysctl', ['-qw', 'net.ipv4.ip_forward=1'], { netns: routerNs });
  await run('ip', ['-n', farNs, 'route', 'add', 'default', 'via', '10.1.0.254']);
  await run('ip', ['-n', ternNs, 'route', 'add', '10.1.0.0/24', 'via', '10.0.0.254']);

  const dutPeers: DutPeer[] = PLANS.map((p) => ({ name: p.name, address: p.address, asn: p.asn, families: ['ipv4-unicast'], localAddress: TERN_IP }));
  const spec = { namespace: ternNs, routerId: TERN_IP, asn: ASN, listen: [TERN_IP], peers: dutPeers, originate: [{ prefix: '10.99.0.0/24' }], ipv6Address: '', workDir: join(workDir, 'tern') };
  tern = new TernDut(spec);
  ternFile = join(spec.workDir, 'tern.yaml');
  ternSocket = join(spec.workDir, 'tern.ctl');
  ternConfigTree = ternConfig(spec, ternSocket, true);
  for (const p of ternPeerConfigs()) Object.assign(p, PLANS.find((x) => x.name === p.name)!.tern);
  // The DUT writes its config only when the file is missing: this one has the security keys.
  writeFileSync(ternFile, JSON.stringify(ternConfigTree, null, 2));

  for (const [i, plan] of PLANS.entries()) {
    const session: SessionSpec = {
      name: plan.name,
      label: label(plan.name),
      kind: 'ipv4',
      families: ['ipv4-unicast'],
      localAddress: plan.address,
      remoteAddress: TERN_IP,
      localAsn: plan.asn,
      remoteAsn: ASN,
      ...plan.session,
    };
    const peerSpec: PeerSpec = {
      kind: plan.kind,
      relation: plan.asn === ASN ? 'ibgp' : 'ebgp',
      namespace: nsOf.get(plan.name)!,
      routerId: plan.address,
      asn: plan.asn,
      ipv6Address: '',
      sessions: [session],
      prefixes: { 'ipv4-unicast': [`10.${110 + i}.0.0/24`], 'ipv6-unicast': [] },
      workDir: join(workDir, plan.name),
    };
    peers.set(plan.name, plan.kind === 'bird2' ? new Bird2Peer(peerSpec) : new FrrPeer(peerSpec));
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

describe('TCP MD5 and GTSM with BIRD 2 and FRR', { skip, timeout: 300_000 }, () => {
  before(async () => {
    try {
      await buildWorld();
    } catch (err) {
      logsOnFailure(err);
    }
  });

  after(() => tearDownLab({ daemons: [...peers.values(), tern], topo, workDir, failed }));

  test('MD5 with BIRD 2: the right key is Established on both sides', async () => {
    await established('bird-md5').catch(logsOnFailure);
  });

  test('MD5 with FRR: the right key is Established on both sides', async () => {
    await established('frr-md5').catch(logsOnFailure);
  });

  test('MD5 wrong key: never Established, and the kernel in Tern\'s namespace counts the bad segments', async () => {
    try {
      const before = await tcpExt(ternNs);
      const broken = await holdsFor(8_000, async () => {
        const p = await ternPeer('bird-badkey');
        return p.state === 'Established' ? 'Tern says Established' : undefined;
      });
      assert.equal(broken, undefined, 'a wrong key never comes up');
      assert.equal((await peers.get('bird-badkey')!.session(label('bird-badkey'))).established, false, 'BIRD agrees');
      const after = await tcpExt(ternNs);
      const rise = (k: string) => (after.get(k) ?? 0) - (before.get(k) ?? 0);
      assert.ok(rise('TCPMD5Failure') + rise('TCPMD5NotFound') > 0, `TCPMD5Failure +${rise('TCPMD5Failure')}, TCPMD5NotFound +${rise('TCPMD5NotFound')}`);
    } catch (err) {
      logsOnFailure(err);
    }
  });

  test('MD5 key rotated at runtime: that session comes back, the other MD5 session is not reset', async () => {
    try {
      await established('bird-md5');
      await established('frr-md5');
      const frrBefore = await ternPeer('frr-md5');
      let frrBroken: string | undefined;
      let sampling = true;
      const sampler = (async () => {
        while (sampling && frrBroken === undefined) {
          const p = await ternPeer('frr-md5').catch(() => undefined);
          if (p && p.state !== 'Established') frrBroken = `frr-md5 went ${p.state}: ${p.lastError ?? ''}`;
          await sleep(200);
        }
      })();
      const reload = await reloadTern('bird-md5', { password: ROTATED });
      assert.match(reload, /bird-md5/, `tern reload names the reset peer: ${reload}`);
      await (peers.get('bird-md5') as Bird2Peer).reconfigure(label('bird-md5'), { password: ROTATED });
      await established('bird-md5');
      sampling = false;
      await sampler;
      assert.equal(frrBroken, undefined);
      const frrAfter = await ternPeer('frr-md5');
      assert.ok(frrAfter.uptimeSeconds >= frrBefore.uptimeSeconds, `frr-md5 uptime continued (${frrBefore.uptimeSeconds} -> ${frrAfter.uptimeSeconds} s)`);
      assert.ok((await peers.get('frr-md5')!.session(label('frr-md5'))).established, 'FRR still Established');
    } catch (err) {
      logsOnFailure(err);
    }
  });

  test('GTSM with BIRD 2 `ttl security on`: directly connected is Established', async () => {
    await established('bird-gtsm').catch(logsOnFailure);
  });

  test('GTSM: a peer two hops away is refused with ttlSecurity 1 and accepted with ttlSecurity 2', async () => {
    try {
      const before = await tcpExt(ternNs);
      const broken = await holdsFor(8_000, async () => {
        const p = await ternPeer('bird-far');
        return p.state === 'Established' ? 'Established through a router with ttlSecurity 1' : undefined;
      });
      assert.equal(broken, undefined);
      const drops = (await tcpExt(ternNs)).get('TCPMinTTLDrop')! - before.get('TCPMinTTLDrop')!;
      assert.ok(drops > 0, `TCPMinTTLDrop rose by ${drops}`);
      const reload = await reloadTern('bird-far', { ttlSecurity: 2 });
      assert.match(reload, /bird-far/, reload);
      await established('bird-far');
    } catch (err) {
      logsOnFailure(err);
    }
  });
});
