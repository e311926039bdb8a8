// SPDX-License-Identifier: Apache-2.0
// Kernel sync in network namespaces, against real BIRD 2 peers: what Tern programs (proto bird)
// and learns (Felix-like routes), read from the kernel itself with `ip -json route show table
// all` (the oracle) and from Tern through `tern show kernel|routes --json`, and from BIRD with
// birdc. Each world is its own bridge and namespaces (tern-it-<pid>-<tag>-*): Tern at 10.0.0.1
// (fd00::1), BIRD k at 10.0.0.k (fd00::k), all iBGP in AS 65000; the Tern namespace has a veth
// named tunl0 (no IPIP module here) and veths named cali*. Worlds run concurrently; the tests of
// one world run in order. It does not cover BIRD 1.6 or other table ids (unit tests do).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { Topology } from './lib/netns.ts';
import { run, startDaemon, stopDaemon, tail, type DaemonProcess } from './lib/proc.ts';
import { sleep, waitFor } from './lib/wait.ts';
import { ternAvailable, ternEntry } from './lib/tern.ts';
import { missingPeerBinaries } from './lib/lab.ts';
import { BIRD2, Bird2Process } from './lib/peers/bird2.ts';
import { birdc } from './lib/peers/bird-common.ts';

const isRoot = process.getuid?.() === 0;
const keepLogs = process.env.INTEROP_KEEP === '1';
const WAIT_MS = 30_000;
const skip = !isRoot
  ? 'kernel sync tests need root (network namespaces)'
  : !ternAvailable()
    ? 'bin/tern.js or src/main.ts missing'
    : (missingPeerBinaries('bird2') ?? false);

// ===== The kernel, as `ip -json` prints it =====
interface IpHop { gateway?: string; dev?: string; flags?: string[] }
interface IpRoute extends IpHop { dst: string; type?: string; protocol?: string; metric?: number; table?: string; nexthops?: IpHop[] }

/** Main-table routes, every family, with the prefix length always written. */
async function kernelRoutes(ns: string, extra: string[] = []): Promise<IpRoute[]> {
  const r = await run('ip', ['-n', ns, '-json', 'route', 'show', 'table', 'all', ...extra], { timeoutMs: 20_000 });
  const routes = (JSON.parse(r.stdout || '[]') as IpRoute[]).filter((x) => x.table === undefined || x.table === 'main');
  for (const x of routes) if (x.dst !== 'default' && !x.dst.includes('/')) x.dst += x.dst.includes(':') ? '/128' : '/32';
  return routes;
}

/** One route in iproute2's words: "unicast via 10.0.0.2 dev tunl0 onlink proto bird metric 500". */
function line(r: IpRoute): string {
  const hop = (h: IpHop) => [h.gateway ? `via ${h.gateway}` : '', h.dev ? `dev ${h.dev}` : '', h.flags?.includes('onlink') ? 'onlink' : ''].filter(Boolean).join(' ');
  const hops = r.nexthops ? r.nexthops.map((h) => `nexthop ${hop(h)}`).sort().join(' ') : hop(r);
  return [r.type ?? 'unicast', hops, `proto ${r.protocol ?? 'boot'}`, r.metric ? `metric ${r.metric}` : ''].filter(Boolean).join(' ');
}

async function kernelLine(ns: string, prefix: string): Promise<string[]> {
  return (await kernelRoutes(ns)).filter((r) => r.dst === prefix).map(line);
}

/** Waits until the kernel's routes for `prefix` are exactly `expected` (iproute2 words). */
function kernelHas(ns: string, prefix: string, expected: string[], timeoutMs = WAIT_MS): Promise<string[]> {
  return waitFor(`kernel route ${prefix} = ${JSON.stringify(expected)}`, async () => {
    const got = await kernelLine(ns, prefix);
    if (JSON.stringify(got) !== JSON.stringify(expected)) throw new Error(`kernel has ${JSON.stringify(got)}`);
    return got;
  }, { timeoutMs, intervalMs: 200 });
}

// ===== Tern =====
interface KRoute { prefix: string; type: string; nextHops: { gateway: string | null; device: string | null; onlink: boolean }[]; metric: number; table: number; protocol: number; state?: string; error?: string | null }
interface KernelJson { programmed: KRoute[]; learned: KRoute[]; stats: Record<string, number> }
interface RouteRow { prefix: string; source: string; best: boolean; peer: string | null }

class Tern {
  readonly log: string;
  private readonly socket: string;
  private readonly configFile: string;
  private proc: DaemonProcess | undefined;
  private entry: string | undefined;
  readonly ns: string;

  constructor(ns: string, dir: string, config: Record<string, unknown>) {
    this.ns = ns;
    this.socket = join(dir, 'tern.ctl');
    this.configFile = join(dir, 'tern.json');
    this.log = join(dir, 'tern.log');
    writeFileSync(this.configFile, JSON.stringify({ ...config, control: { socket: this.socket } }, null, 2));
  }

  async start(opts: { recovery?: boolean; logLevel?: string } = {}): Promise<void> {
    this.entry ??= await ternEntry();
    const args = [this.entry, 'run', '--config', this.configFile, '--log-level', opts.logLevel ?? 'debug', ...(opts.recovery ? ['--graceful-restart'] : [])];
    this.proc = startDaemon('tern', process.execPath, args, this.log, this.ns);
    await waitFor('Tern control socket', async () => {
      if (!this.proc?.isRunning()) throw new Error(`tern exited: ${tail(this.log, 10)}`);
      return this.cli(['show', 'peers', '--json']);
    }, { timeoutMs: 20_000, intervalMs: 200 });
  }

  stop(signal: NodeJS.Signals): Promise<number | string | null> {
    return this.proc ? stopDaemon(this.proc, signal, 10_000) : Promise.resolve(null);
  }

  async cli(args: string[]): Promise<unknown> {
    const r = await run(process.execPath, [this.entry!, ...args, '--socket', this.socket], { timeoutMs: 20_000 });
    return JSON.parse(r.stdout) as unknown;
  }

  kernel(): Promise<KernelJson> {
    return this.cli(['show', 'kernel', '--json']) as Promise<KernelJson>;
  }

  routes(family: string): Promise<RouteRow[]> {
    return this.cli(['show', 'routes', '--json', '--family', family]) as Promise<RouteRow[]>;
  }

  async programmed(prefix: string): Promise<KRoute | undefined> {
    return (await this.kernel()).programmed.find((p) => p.prefix === prefix);
  }
}

// ===== BIRD =====
interface StaticSpec { name: string; v6?: boolean; routes: string[]; disabled?: boolean }
interface BirdSpec { index: number; statics: StaticSpec[]; gr?: boolean; v6?: boolean; exportFilter?: string }

function birdConfig(b: BirdSpec): string {
  const out = [`router id 10.0.0.${b.index};`, 'log stderr { warning, error, fatal, bug, info };', 'protocol device { scan time 10; }'];
  if (b.gr) out.push('graceful restart wait 20;');
  for (const s of b.statics) {
    out.push(`protocol static ${s.name} { ${s.disabled ? 'disabled; ' : ''}${s.v6 ? 'ipv6' : 'ipv4'}; ${s.routes.map((p) => `route ${p} blackhole;`).join(' ')} }`);
  }
  out.push(
    'protocol bgp tern {',
    `  local 10.0.0.${b.index} as 65000; neighbor 10.0.0.1 as 65000; direct;`,
    '  connect delay time 1; connect retry time 2; error wait time 1,5; hold time 9; keepalive time 3;',
    b.gr ? '  graceful restart on; graceful restart time 60;' : '',
    `  ipv4 { import all; export ${b.exportFilter ?? 'all'}; gateway direct; };`,
    b.v6 ? `  ipv6 { import all; export all; next hop address fd00::${b.index}; gateway direct; };` : '',
    '}',
  );
  return out.filter(Boolean).join('\n') + '\n';
}

class Bird {
  readonly proc: Bird2Process;
  constructor(ns: string, dir: string, spec: BirdSpec) {
    this.proc = new Bird2Process(`bird-${spec.index}`, ns, dir, birdConfig(spec));
  }

  cmd(...args: string[]): Promise<string> {
    return birdc(BIRD2.client, this.proc.socket, args);
  }

  /** Prefixes BIRD received from Tern. */
  async fromTern(): Promise<string[]> {
    return (await this.proc.routes('tern', 'ipv4-unicast')).map((r) => r.prefix);
  }
}

// ===== A world =====
interface WorldSpec {
  tag: string;
  birds: BirdSpec[];
  /** Tern's config without routerId/asn/listen/control/peers (given here). */
  tern: Record<string, unknown>;
  /** Extra per-peer Tern settings. */
  peer?: Record<string, unknown>;
  /** Run in the Tern namespace before Tern starts (ip arguments, `-n NS` added). */
  setup?: string[][];
}

class World {
  readonly topology: Topology;
  readonly dir: string;
  readonly ternNs: string;
  readonly tern: Tern;
  readonly birds = new Map<number, Bird>();

  private constructor(topology: Topology, dir: string, ternNs: string, tern: Tern) {
    this.topology = topology;
    this.dir = dir;
    this.ternNs = ternNs;
    this.tern = tern;
  }

  static async create(spec: WorldSpec): Promise<World> {
    const topology = await Topology.create(spec.tag);
    const dir = join(tmpdir(), `tern-kernel-${process.pid}`, spec.tag);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    try {
      const ternNs = await topology.addNode({ name: 'tern', ipv4: ['10.0.0.1/24'], ipv6: ['fd00::1/64'] });
      const ip = (args: string[]) => run('ip', ['-n', ternNs, ...args], { timeoutMs: 10_000 });
      // No IPIP module here: a veth named tunl0 stands in for the tunnel device.
      for (const [name, peer] of [['tunl0', 'tunl0p'], ['cali1234', 'cali1234p'], ['cali5678', 'cali5678p']] as const) {
        await ip(['link', 'add', name, 'type', 'veth', 'peer', 'name', peer]);
        await ip(['link', 'set', name, 'up']);
        await ip(['link', 'set', peer, 'up']);
      }
      for (const args of spec.setup ?? []) await ip(args);
      const peers = spec.birds.map((b) => ({
        name: `bird${b.index}`, address: `10.0.0.${b.index}`, asn: 65000, holdTime: 9, keepalive: 3, connectRetry: 2,
        families: b.v6 ? ['ipv4-unicast', 'ipv6-unicast'] : ['ipv4-unicast'], localAddress: '10.0.0.1',
        ...(b.gr ? { gracefulRestart: { restartTime: 60 } } : {}), ...spec.peer,
      }));
      const config = { routerId: '10.0.0.1', asn: 65000, listen: { address: ['10.0.0.1'], port: 179 }, peers, ...spec.tern };
      const tern = new Tern(ternNs, dir, config);
      const world = new World(topology, dir, ternNs, tern);
      for (const b of spec.birds) {
        const ns = await topology.addNode({ name: `bird${b.index}`, ipv4: [`10.0.0.${b.index}/24`], ipv6: [`fd00::${b.index}/64`] });
        world.birds.set(b.index, new Bird(ns, join(dir, `bird${b.index}`), b));
      }
      await Promise.all([tern.start(), ...[...world.birds.values()].map((b) => b.proc.start())]);
      return world;
    } catch (err) {
      topology.destroySync();
      throw err;
    }
  }

  bird(index: number): Bird {
    return this.birds.get(index)!;
  }

  ip(...args: string[]): Promise<unknown> {
    return run('ip', ['-n', this.ternNs, ...args], { timeoutMs: 60_000 });
  }

  logs(): string {
    return [`--- tern ${this.tern.log}\n${tail(this.tern.log, 40)}`, ...[...this.birds.values()].map((b) => `--- ${b.proc.logFile}\n${tail(b.proc.logFile, 10)}`)].join('\n');
  }

  destroy(keep: boolean): void {
    this.topology.destroySync();
    if (!keep) rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * Declares one world as a suite: built in `before`, destroyed in `after` (logs kept when a test
 * failed), its tests run in order with the world's logs added to any failure.
 */
function world(title: string, spec: WorldSpec, tests: [string, (w: World) => Promise<void>][]): void {
  describe(title, { concurrency: 1 }, () => {
    let w: World | undefined;
    let failed = false;
    before(async () => {
      w = await World.create(spec);
    });
    after(() => w?.destroy(failed || keepLogs));
    for (const [name, body] of tests) {
      it(name, async () => {
        assert.ok(w, 'the world did not start');
        try {
          await body(w);
        } catch (err) {
          failed = true;
          if (err instanceof Error) err.message += `\n(logs in ${w.dir})\n${w.logs()}`;
          throw err;
        }
      });
    }
  });
}

describe('kernel sync against BIRD 2 in namespaces', { concurrency: true, skip, timeout: 180_000 }, () => {
  // ---- 1-3: programming, withdrawals, metric, learning Felix's routes, blackholes ----
  world('routes from BIRD peers', {
    tag: 'kr',
    birds: [
      {
        index: 2, v6: true,
        statics: [
          { name: 'main4', routes: ['10.50.0.0/24', '10.51.0.0/24', '10.52.0.0/24', '10.53.0.0/24', '10.60.0.0/24'] },
          { name: 'gone4', routes: ['10.54.0.0/24'] },
          { name: 'main6', v6: true, routes: ['fd00:50::/48'] },
        ],
        // A next hop outside Tern's subnets (crossSubnet → tunnel).
        exportFilter: 'filter { if net = 10.52.0.0/24 then bgp_next_hop = 10.9.9.9; accept; }',
      },
      { index: 3, statics: [{ name: 'ecmp4', routes: ['10.60.0.0/24'] }] },
    ],
    peer: { export: 'to-peers' },
    setup: [['route', 'add', '10.244.0.5/32', 'dev', 'cali1234', 'proto', 'boot']],
    tern: {
      originate: [{ prefix: '10.244.1.0/26', blackhole: true }],
      policies: {
        'to-peers': [
          { match: { source: 'kernel', interface: 'cali*' }, action: 'accept' },
          { match: { source: 'originated' }, action: 'accept' },
          { action: 'reject' },
        ],
        'to-kernel': [
          { match: { prefix: '10.51.0.0/24' }, tunnel: 'always', action: 'accept' },
          { match: { prefix: '10.53.0.0/24' }, metric: 500, action: 'accept' },
          { action: 'accept' },
        ],
      },
      kernel: { learn: true, program: true, export: 'to-kernel', tunnel: { device: 'tunl0', mode: 'crossSubnet' } },
    },
  }, [
    ['1. BGP routes are in the kernel: on-subnet, tunnel always, crossSubnet both ways, ECMP, IPv6', async (w) => {
      const ns = w.ternNs;
      await kernelHas(ns, '10.50.0.0/24', ['unicast via 10.0.0.2 dev eth0 proto bird']);
      await kernelHas(ns, '10.51.0.0/24', ['unicast via 10.0.0.2 dev tunl0 onlink proto bird']);
      await kernelHas(ns, '10.52.0.0/24', ['unicast via 10.9.9.9 dev tunl0 onlink proto bird']);
      await kernelHas(ns, '10.60.0.0/24', ['unicast nexthop via 10.0.0.2 dev eth0 nexthop via 10.0.0.3 dev eth0 proto bird']);
      await kernelHas(ns, 'fd00:50::/48', ['unicast via fd00::2 dev eth0 proto bird metric 1024']);
      const p = await w.tern.programmed('10.51.0.0/24');
      assert.deepEqual(p && [p.state, p.type, p.nextHops, p.protocol, p.table], ['installed', 'unicast', [{ gateway: '10.0.0.2', device: 'tunl0', onlink: true }], 12, 254]);
      // The kernel stores IPv6 routes sent without a metric at 1024: Tern says (and keys) what the kernel has.
      assert.equal((await w.tern.programmed('fd00:50::/48'))?.metric, 1024);
      const ecmp = await w.tern.programmed('10.60.0.0/24');
      assert.deepEqual(ecmp?.nextHops.map((h) => h.gateway).sort(), ['10.0.0.2', '10.0.0.3']);
    }],
    ['2. a policy metric is the kernel metric; withdrawals remove routes (whatever their next hops) and shrink ECMP', async (w) => {
      const ns = w.ternNs;
      await kernelHas(ns, '10.53.0.0/24', ['unicast via 10.0.0.2 dev eth0 proto bird metric 500']);
      assert.equal((await w.tern.programmed('10.53.0.0/24'))?.metric, 500);
      await kernelHas(ns, '10.54.0.0/24', ['unicast via 10.0.0.2 dev eth0 proto bird']);
      // Somebody deletes a route of ours: Tern puts it back (as BIRD's kernel scan does).
      await w.ip('route', 'del', '10.50.0.0/24', 'proto', 'bird');
      await kernelHas(ns, '10.50.0.0/24', ['unicast via 10.0.0.2 dev eth0 proto bird']);
      // Our route with other next hops than Tern wrote (as after a replacement the kernel
      // refused, or someone writing in our protocol's name): the withdrawal still removes it.
      await w.ip('route', 'replace', '10.54.0.0/24', 'via', '10.0.0.3', 'dev', 'eth0', 'proto', 'bird');
      await kernelHas(ns, '10.54.0.0/24', ['unicast via 10.0.0.3 dev eth0 proto bird']);
      await w.bird(2).cmd('disable', 'gone4');
      await kernelHas(ns, '10.54.0.0/24', []);
      assert.equal(await w.tern.programmed('10.54.0.0/24'), undefined, 'gone from show kernel');
      await w.bird(3).cmd('disable', 'ecmp4');
      await kernelHas(ns, '10.60.0.0/24', ['unicast via 10.0.0.2 dev eth0 proto bird']);
      await w.bird(2).cmd('disable', 'main6');
      await kernelHas(ns, 'fd00:50::/48', []);
      await kernelHas(ns, '10.50.0.0/24', ['unicast via 10.0.0.2 dev eth0 proto bird']); // untouched
    }],
    ["3. Felix's routes are learned and exported to BIRD; an originated blackhole is in the kernel and in BGP", async (w) => {
      const ns = w.ternNs;
      // One route from the start-up dump, one from the monitor.
      await w.ip('route', 'add', '10.244.0.6/32', 'dev', 'cali5678', 'proto', 'boot');
      await waitFor('Tern to learn both workload routes', async () => {
        const learned = (await w.tern.kernel()).learned.filter((r) => r.prefix.startsWith('10.244.0.'));
        const got = learned.map((r) => `${r.prefix} dev ${r.nextHops[0]?.device} proto ${r.protocol}`).sort();
        assert.deepEqual(got, ['10.244.0.5/32 dev cali1234 proto 3', '10.244.0.6/32 dev cali5678 proto 3']);
        return got;
      }, { timeoutMs: WAIT_MS });
      const rows = (await w.tern.routes('ipv4-unicast')).filter((r) => r.prefix.startsWith('10.244.0.'));
      assert.deepEqual(rows.map((r) => `${r.prefix} ${r.source}`).sort(), ['10.244.0.5/32 kernel', '10.244.0.6/32 kernel']);
      await kernelHas(ns, '10.244.1.0/26', ['blackhole proto bird']);
      const bird = w.bird(2);
      await waitFor('BIRD to receive the workload routes and the block', async () => {
        const got = (await bird.fromTern()).sort();
        assert.deepEqual(got, ['10.244.0.5/32', '10.244.0.6/32', '10.244.1.0/26']);
        return got;
      }, { timeoutMs: WAIT_MS });
      // Felix removes a workload: learned no more, withdrawn from BIRD; the kernel route was never ours.
      await w.ip('route', 'del', '10.244.0.6/32', 'dev', 'cali5678');
      await waitFor('BIRD to lose 10.244.0.6/32', async () => {
        const got = (await bird.fromTern()).sort();
        assert.deepEqual(got, ['10.244.0.5/32', '10.244.1.0/26']);
        return got;
      }, { timeoutMs: WAIT_MS });
      assert.deepEqual(await kernelLine(ns, '10.244.0.5/32'), ['unicast dev cali1234 proto boot']);
      // No connected subnet of a cali* interface, no own route, is ever learned back.
      const learned = (await w.tern.kernel()).learned;
      assert.equal(learned.filter((r) => r.protocol === 12).length, 0);
    }],
  ]);

  // ---- 4: other protocols' routes are never touched ----
  world("another protocol's route for the same prefix", {
    tag: 'kf',
    birds: [{ index: 2, v6: true, statics: [{ name: 'main4', routes: ['10.80.0.0/24', '10.81.0.0/24'] }, { name: 'main6', v6: true, routes: ['fd00:80::/48'] }] }],
    setup: [
      ['route', 'add', '10.80.0.0/24', 'via', '10.0.0.3', 'dev', 'eth0', 'proto', 'static'],
      ['-6', 'route', 'add', 'fd00:80::/48', 'via', 'fd00::3', 'dev', 'eth0', 'proto', 'static'],
    ],
    tern: { kernel: { learn: false, program: true } },
  }, [
    ['4. a static route already there is left alone: state failed with the reason, never deleted; ours once it goes', async (w) => {
      const ns = w.ternNs;
      await kernelHas(ns, '10.81.0.0/24', ['unicast via 10.0.0.2 dev eth0 proto bird']); // converged
      for (const [prefix, gw, metric] of [['10.80.0.0/24', '10.0.0.3', ''], ['fd00:80::/48', 'fd00::3', ' metric 1024']] as const) {
        const p = await waitFor(`${prefix} to be reported failed`, async () => {
          const got = await w.tern.programmed(prefix);
          assert.equal(got?.state, 'failed', JSON.stringify(got));
          return got;
        }, { timeoutMs: WAIT_MS });
        assert.match(p.error ?? '', /protocol 4\b.*left alone/);
        assert.deepEqual(await kernelLine(ns, prefix), [`unicast via ${gw} dev eth0 proto static${metric}`]);
      }
      // Once the other route goes, ours is installed.
      await run('ip', ['-n', ns, 'route', 'del', '10.80.0.0/24', 'proto', 'static']);
      await kernelHas(ns, '10.80.0.0/24', ['unicast via 10.0.0.2 dev eth0 proto bird']);
      assert.equal((await w.tern.programmed('10.80.0.0/24'))?.state, 'installed');
      // Stopping Tern (persist off or on) never removes another protocol's route either.
      await w.tern.stop('SIGTERM');
      assert.deepEqual(await kernelLine(ns, 'fd00:80::/48'), ['unicast via fd00::3 dev eth0 proto static metric 1024']);
    }],
  ]);

  // ---- 5a: graceful restart: routes stay while Tern is down and come back up ----
  world('Tern restarts with graceful restart', {
    tag: 'kg',
    birds: [{ index: 2, gr: true, v6: true, statics: [{ name: 'keep4', routes: ['10.90.0.0/24'] }, { name: 'gone4', routes: ['10.91.0.0/24'] }, { name: 'keep6', v6: true, routes: ['fd00:90::/48'] }] }],
    tern: { gracefulRestart: { deferralTime: 30 }, kernel: { learn: true, program: true } },
  }, [
    ['5. kill -9 and `tern run --graceful-restart`: routes never leave the kernel; stale ones go after recovery', async (w) => {
      const ns = w.ternNs;
      await kernelHas(ns, '10.90.0.0/24', ['unicast via 10.0.0.2 dev eth0 proto bird']);
      await kernelHas(ns, '10.91.0.0/24', ['unicast via 10.0.0.2 dev eth0 proto bird']);
      await kernelHas(ns, 'fd00:90::/48', ['unicast via fd00::2 dev eth0 proto bird metric 1024']);
      const sampler = sample(ns, ['10.90.0.0/24', 'fd00:90::/48']);
      try {
        await w.tern.stop('SIGKILL');
        await waitFor('BIRD to keep Tern\'s session in graceful restart', async () => {
          const text = await w.bird(2).proc.protocolText('tern');
          if (/Established/.test(text)) throw new Error('still Established');
          return true;
        }, { timeoutMs: WAIT_MS });
        await w.bird(2).cmd('disable', 'gone4'); // BIRD will not announce it to the restarted Tern
        await sleep(1_000);
        assert.deepEqual(await kernelLine(ns, '10.91.0.0/24'), ['unicast via 10.0.0.2 dev eth0 proto bird'], 'kept while Tern is down');
        await w.tern.start({ recovery: true });
        await kernelHas(ns, '10.91.0.0/24', [], 40_000);
        const k = await w.tern.kernel();
        assert.equal(k.stats.adopted, 3);
        assert.equal(k.stats.leftoversRemoved, 1);
        assert.equal(k.programmed.find((p) => p.prefix === '10.90.0.0/24')?.state, 'installed');
      } finally {
        const s = await sampler.stop();
        assert.ok(s.samples > 20, `only ${s.samples} samples`);
        assert.deepEqual(s.absent, [], `kept routes missing or changed at ${s.absent.length} of ${s.samples} samples`);
      }
      assert.deepEqual(await kernelLine(ns, '10.90.0.0/24'), ['unicast via 10.0.0.2 dev eth0 proto bird']);
    }],
  ]);

  // ---- 5b: persist without graceful restart; tunnel mode always ----
  world('Tern restarts without graceful restart (persist)', {
    tag: 'kp',
    birds: [{ index: 2, statics: [{ name: 'keep4', routes: ['10.95.0.0/24'] }, { name: 'gone4', routes: ['10.96.0.0/24'] }] }],
    tern: { kernel: { learn: true, program: true, tunnel: { device: 'tunl0', mode: 'always' } } },
  }, [
    ['5. without GR, kernel.persist keeps routes while Tern is down; leftovers go once peers converge', async (w) => {
      const ns = w.ternNs;
      const tunnelled = ['unicast via 10.0.0.2 dev tunl0 onlink proto bird'];
      await kernelHas(ns, '10.95.0.0/24', tunnelled);
      await kernelHas(ns, '10.96.0.0/24', tunnelled);
      assert.equal(await w.tern.stop('SIGTERM'), 0, 'Tern exits 0 on SIGTERM');
      await w.bird(2).cmd('disable', 'gone4');
      for (let i = 0; i < 5; i++) {
        assert.deepEqual(await kernelLine(ns, '10.95.0.0/24'), tunnelled, 'persisted while Tern is down');
        assert.deepEqual(await kernelLine(ns, '10.96.0.0/24'), tunnelled, 'persisted while Tern is down');
        await sleep(300);
      }
      await w.tern.start();
      await kernelHas(ns, '10.96.0.0/24', [], 40_000);
      await kernelHas(ns, '10.95.0.0/24', tunnelled);
      const k = await w.tern.kernel();
      assert.deepEqual([k.stats.adopted, k.stats.leftoversRemoved], [2, 1]);
    }],
  ]);

  // ---- 5c: persist off: Tern takes its routes with it ----
  world('Tern stops with kernel.persist off', {
    tag: 'kn',
    birds: [{ index: 2, v6: true, statics: [{ name: 'main4', routes: ['10.97.0.0/24'] }, { name: 'main6', v6: true, routes: ['fd00:97::/48'] }] }],
    tern: { kernel: { learn: false, program: true, persist: false } },
  }, [
    ['5c. with persist off, SIGTERM removes every route Tern installed', async (w) => {
      const ns = w.ternNs;
      await kernelHas(ns, '10.97.0.0/24', ['unicast via 10.0.0.2 dev eth0 proto bird']);
      await kernelHas(ns, 'fd00:97::/48', ['unicast via fd00::2 dev eth0 proto bird metric 1024']);
      assert.equal(await w.tern.stop('SIGTERM'), 0, 'Tern exits 0 on SIGTERM');
      assert.deepEqual(await kernelLine(ns, '10.97.0.0/24'), []);
      assert.deepEqual(await kernelLine(ns, 'fd00:97::/48'), []);
    }],
  ]);

  // ---- 6: an overrun (or just a flood) ends consistent ----
  world('a flood of 20,000 routes of another protocol', {
    tag: 'ko',
    birds: [],
    tern: { kernel: { learn: true, program: false } },
  }, [
    ['6. after a flood (overrun or not), what Tern learned equals what the kernel has', async (w, n = 20_000) => {
      const batch = join(w.dir, 'flood.txt');
      const lines = (op: string) => Array.from({ length: n }, (_, i) => `route ${op} blackhole 10.${200 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}/32 proto static`).join('\n') + '\n';
      writeFileSync(batch, lines('add'));
      await Promise.all([w.ip('-batch', batch), w.ip('route', 'add', '10.199.0.0/24', 'dev', 'cali1234', 'proto', 'boot')]);
      const consistent = async (): Promise<{ learned: number; stats: Record<string, number> }> => {
        const [kernel, k] = await Promise.all([kernelRoutes(w.ternNs, ['proto', 'static']), w.tern.kernel()]);
        const learned = k.learned.filter((r) => r.protocol === 4).length;
        if (learned !== kernel.length) throw new Error(`Tern learned ${learned}, the kernel has ${kernel.length}`);
        return { learned, stats: k.stats };
      };
      const full = await waitFor('learned = kernel after the flood', async () => {
        const c = await consistent();
        if (c.learned !== n) throw new Error(`${c.learned} of ${n}`);
        return c;
      }, { timeoutMs: 60_000, intervalMs: 1_000 });
      writeFileSync(batch, lines('del'));
      await w.ip('-batch', batch);
      const empty = await waitFor('learned = kernel after removing them', async () => {
        const c = await consistent();
        if (c.learned !== 0) throw new Error(`${c.learned} left`);
        return c;
      }, { timeoutMs: 60_000, intervalMs: 1_000 });
      const k = await w.tern.kernel();
      assert.ok(k.learned.some((r) => r.prefix === '10.199.0.0/24'), 'the route added during the flood is learned');
      process.stdout.write(`# flood: overruns ${empty.stats.overruns ?? 0}, resyncs ${empty.stats.resyncs ?? 0} (after adding: ${full.stats.overruns ?? 0}/${full.stats.resyncs ?? 0})\n`);
      assert.equal(empty.stats.resyncs, empty.stats.overruns, 'every overrun was followed by a resync');
    }],
  ]);
});

/** Samples `ip route` for some prefixes every 100 ms until stopped; records when they were not the same routes. */
function sample(ns: string, prefixes: string[]): { stop: () => Promise<{ samples: number; absent: string[] }> } {
  let running = true;
  let samples = 0;
  let first: string | undefined;
  const absent: string[] = [];
  const loop = (async () => {
    while (running) {
      const routes = await kernelRoutes(ns).catch(() => [] as IpRoute[]);
      const got = prefixes.map((p) => `${p}: ${routes.filter((r) => r.dst === p).map(line).join(', ') || 'absent'}`).join('; ');
      first ??= got;
      samples++;
      if (got !== first || got.includes('absent')) absent.push(`${new Date().toISOString()}: ${got}`);
      await sleep(100);
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return { samples, absent };
    },
  };
}
