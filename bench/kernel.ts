// SPDX-License-Identifier: Apache-2.0
// Kernel benchmark: how long, and how much CPU, Tern takes to install N BGP routes into the
// kernel and to remove them, side by side with BIRD 2 doing the same (kernel protocol `export
// all`, `merge paths`), fed by the same BIRD 2 feeder in the same run. Every route goes the whole
// way: feeder → BGP → RIB → kernel export → netlink. Namespaces (root): feeder 10.0.0.2, Tern
// 10.0.0.1, BIRD 10.0.0.3 on one bridge; the feeder has one disabled static protocol per DUT
// and size (N /32 blackholes, next hop self = on the DUTs' subnet), enabled for T0 and disabled
// for the mass withdrawal (performance-anchors.md §5). The oracle is the kernel: the phase ends
// when the DUT's FIB has N more (fewer) prefixes, polled every 20 ms, and `ip route show proto
// bird` counted in the DUT's namespace then confirms the N routes (or the polling goes on with
// it). CPU is utime+stime from /proc/PID/stat, with stime (where the kernel inserts the routes)
// and each thread's share.
// Usage: npm run bench -- kernel [--routes 10000,100000,200000] [--duts tern,bird2] (bench/run.ts prints
// the table and the Tern/BIRD ratios and writes bench/results/kernel-routes<N>.json).
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { Topology } from '../interop/lib/netns.ts';
import { run, startDaemon, stopDaemon, type DaemonProcess } from '../interop/lib/proc.ts';
import { waitFor } from '../interop/lib/wait.ts';
import { ternEntry } from '../interop/lib/tern.ts';
import { BIRD2 } from '../interop/lib/peers/bird2.ts';
import { birdc } from '../interop/lib/peers/bird-common.ts';
import type { DutRun, Phase, RunContext, Scenario } from './lib/types.ts';
import { ternNodeArgs } from './lib/node-flags.ts';
import { cpuByThread, hostStealSeconds } from './lib/lab.ts';

const CLK_TCK = 100;
const ASN = 65000;

type Dut = 'tern' | 'bird';

/** utime + stime of a process, in seconds. */
function cpuSeconds(pid: number): number {
  const [user, sys] = cpuTimes(pid);
  return user + sys;
}

/** utime and stime of a process, in seconds: fields 14 and 15 of proc(5), counted from the
 *  state (field 3) after the command name. stime is where the kernel inserts routes. */
function cpuTimes(pid: number): [number, number] {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return [Number(fields[11]) / CLK_TCK, Number(fields[12]) / CLK_TCK];
}

function peakRssMiB(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Math.round(Number(m[1]) / 102.4) / 10 : 0;
}

async function kernelCount(ns: string): Promise<number> {
  const r = await run('ip', ['-n', ns, 'route', 'show', 'proto', 'bird'], { timeoutMs: 60_000 });
  let n = 0;
  for (let i = r.stdout.indexOf('\n'); i !== -1; i = r.stdout.indexOf('\n', i + 1)) n++;
  return n;
}

/** Prefixes in the FIB of a process's network namespace (all tables and protocols), from
 *  /proc/PID/net/fib_triestat: a few ms of one core at 100k routes. Polling with dumps instead
 *  (`ip route show` of 100k routes takes ~0.25 s of a core) kept one of the machine's two cores
 *  busy through the whole phase, beside the DUT. */
function fibPrefixes(pid: number): number {
  const m = /Main:[^]*?Prefixes:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/net/fib_triestat`, 'utf8'));
  if (!m) throw new Error(`/proc/${pid}/net/fib_triestat: no Main table prefix count`);
  return Number(m[1]);
}

function routesFile(dir: string, name: string, n: number, base: number): string {
  const file = join(dir, `${name}.inc`);
  const lines: string[] = [];
  for (let k = 0; k < n; k++) {
    const a = base + k;
    lines.push(`  route ${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}/32 blackhole;`);
  }
  writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

function feederConfig(dir: string, sizes: number[]): string {
  const out = ['router id 10.0.0.2;', 'log stderr { warning, error, fatal, bug };', 'protocol device { scan time 10; }'];
  const feeds: Record<Dut, string[]> = { tern: [], bird: [] };
  for (const dut of ['tern', 'bird'] as const) {
    sizes.forEach((n, i) => {
      const name = `feed_${dut}_${n}`;
      feeds[dut].push(name);
      // Distinct prefixes per size, the same per DUT: 100.0.0.0 + i·2^20 ...
      // BIRD reads `include` only at the start of a line.
      out.push(`protocol static ${name} {`, '  disabled; ipv4;', `include "${routesFile(dir, name, n, (100 << 24) + i * (1 << 20))}";`, '}');
    });
  }
  for (const [dut, address] of [['tern', '10.0.0.1'], ['bird', '10.0.0.3']] as const) {
    out.push(
      `protocol bgp to_${dut} {`,
      `  local 10.0.0.2 as ${ASN}; neighbor ${address} as ${ASN}; direct; connect delay time 1; connect retry time 2; error wait time 1,5;`,
      `  ipv4 { import none; export where ${feeds[dut].map((f) => `proto = "${f}"`).join(' || ')}; next hop self; };`,
      '}',
    );
  }
  return out.join('\n') + '\n';
}

const BIRD_DUT_CONFIG = [
  'router id 10.0.0.3;',
  'log stderr { warning, error, fatal, bug };',
  'protocol device { scan time 10; }',
  'protocol kernel { ipv4 { import none; export all; }; merge paths on; }',
  `protocol bgp feeder { local 10.0.0.3 as ${ASN}; neighbor 10.0.0.2 as ${ASN}; direct; connect delay time 1; connect retry time 2;`,
  '  ipv4 { import all; export none; gateway direct; }; }',
].join('\n') + '\n';

function ternConfig(dir: string): Record<string, unknown> {
  return {
    routerId: '10.0.0.1', asn: ASN, listen: { address: ['10.0.0.1'], port: 179 }, control: { socket: join(dir, 'tern.ctl') },
    peers: [{ name: 'feeder', address: '10.0.0.2', asn: ASN, localAddress: '10.0.0.1', connectRetry: 2 }],
    kernel: { learn: false, program: true },
  };
}

/** One DUT: install N routes (enable its feed) then remove them (disable it), timed in the kernel. */
async function measure(dut: Dut, n: number, ns: string, proc: DaemonProcess, feeder: DaemonProcess, feederSocket: string, timeoutS: number): Promise<Phase[]> {
  const pid = proc.child.pid!;
  const feed = `feed_${dut}_${n}`;
  const phase = async (name: string, trigger: string, done: (count: number) => boolean, fibDone: (prefixes: number, before: number) => boolean): Promise<Phase> => {
    const fibBefore = fibPrefixes(pid);
    const [user0, sys0] = cpuTimes(pid);
    const threads0 = cpuByThread(pid);
    const lab0 = cpuSeconds(feeder.child.pid!);
    const steal0 = hostStealSeconds();
    const t0 = performance.now();
    await birdc(BIRD2.client, feederSocket, [trigger, feed]);
    let allS: number | undefined;
    try {
      const deadline = t0 + timeoutS * 1000;
      await waitFor(`${dut}'s FIB to ${name} ${n} prefixes`, async () => (fibDone(fibPrefixes(pid), fibBefore) ? true : undefined), { timeoutMs: timeoutS * 1000, intervalMs: 20 });
      allS = round((performance.now() - t0) / 1000);
      // The count says N prefixes changed; the routes themselves confirm it was ours, all of them.
      if (!done(await kernelCount(ns))) {
        await waitFor(`${dut} to ${name} ${n} routes`, async () => (done(await kernelCount(ns)) ? true : undefined), { timeoutMs: Math.max(1, deadline - performance.now()), intervalMs: 50 });
        allS = round((performance.now() - t0) / 1000);
      }
    } catch {
      allS = undefined;
    }
    const [user1, sys1] = cpuTimes(pid);
    const steal = hostStealSeconds() - steal0;
    const threads1 = cpuByThread(pid);
    const byThread = Object.entries(threads1).map(([thread, s]) => [thread, round(s - (threads0[thread] ?? 0))] as const).filter(([, s]) => s > 0);
    return {
      name, receivers: 1, ...(allS !== undefined ? { allS, firstS: allS, medianS: allS } : {}), missing: allS === undefined ? 1 : 0,
      cpuS: round(user1 + sys1 - user0 - sys0), cpuSysS: round(sys1 - sys0), peakRssMiB: peakRssMiB(pid), labCpuS: round(cpuSeconds(feeder.child.pid!) - lab0),
      ...(byThread.length ? { cpuByThreadS: Object.fromEntries(byThread) } : {}),
      ...(Number.isNaN(steal) ? {} : { hostStealS: round(steal) }),
    };
  };
  const install = await phase('install', 'enable', (c) => c >= n, (prefixes, before) => prefixes >= before + n);
  const remove = await phase('remove', 'disable', (c) => c === 0, (prefixes, before) => prefixes <= before - n);
  return [install, remove];
}

const round = (x: number): number => Math.round(x * 100) / 100;

async function established(feederSocket: string, protocol: string): Promise<boolean> {
  return /Established/.test(await birdc(BIRD2.client, feederSocket, ['show', 'protocols', protocol]).catch(() => ''));
}

/** One size: a fresh lab, Tern then BIRD 2 measured in turn against the same feeder. */
async function runKernel(params: Record<string, number>, ctx: RunContext): Promise<DutRun[]> {
  const n = params.routes ?? 10_000;
  const duts = (['tern', 'bird'] as const).filter((d) => ctx.duts.includes(d === 'tern' ? 'tern' : 'bird2'));
  const dir = join(tmpdir(), `tern-bench-kernel-${process.pid}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const topology = await Topology.create('kb');
  const procs: DaemonProcess[] = [];
  let ok = false;
  try {
    const ternNs = await topology.addNode({ name: 'tern', ipv4: ['10.0.0.1/24'], ipv6: [] });
    const feederNs = await topology.addNode({ name: 'feeder', ipv4: ['10.0.0.2/24'], ipv6: [] });
    const birdNs = await topology.addNode({ name: 'bird', ipv4: ['10.0.0.3/24'], ipv6: [] });
    const file = (name: string, text: string) => {
      writeFileSync(join(dir, name), text);
      return join(dir, name);
    };
    const feederSocket = join(dir, 'feeder.ctl');
    const t0 = performance.now();
    const feeder = startDaemon('feeder', BIRD2.daemon, ['-f', '-c', file('feeder.conf', feederConfig(dir, [n])), '-s', feederSocket, '-P', join(dir, 'feeder.pid')], join(dir, 'feeder.log'), feederNs);
    procs.push(feeder);
    const started: Partial<Record<Dut, { ns: string; proc: DaemonProcess }>> = {};
    if (duts.includes('bird')) {
      const bird = startDaemon('bird-dut', BIRD2.daemon, ['-f', '-c', file('bird.conf', BIRD_DUT_CONFIG), '-s', join(dir, 'bird.ctl'), '-P', join(dir, 'bird.pid')], join(dir, 'bird.log'), birdNs);
      procs.push(bird);
      started.bird = { ns: birdNs, proc: bird };
    }
    if (duts.includes('tern')) {
      const entry = await ternEntry();
      // Node flags as calico-node's wrapper sets them: in Calico, calico-node programs the kernel.
      const args = [...ternNodeArgs('calico'), entry, 'run', '--config', file('tern.json', JSON.stringify(ternConfig(dir))), '--log-level', 'warn'];
      const tern = startDaemon('tern', process.execPath, args, join(dir, 'tern.log'), ternNs);
      procs.push(tern);
      started.tern = { ns: ternNs, proc: tern };
    }
    for (const d of duts) {
      await waitFor(`feeder session to_${d}`, async () => ((await established(feederSocket, `to_${d}`)) ? true : undefined), { timeoutMs: 60_000, intervalMs: 200 });
    }
    const setupS = round((performance.now() - t0) / 1000);
    const runs: DutRun[] = [];
    for (const d of duts) {
      const { ns, proc } = started[d]!;
      ctx.log(`  ${d}: ${n} routes`);
      const phases = await measure(d, n, ns, proc, feeder, feederSocket, ctx.timeoutS);
      const version = d === 'tern' ? 'tern (this tree)' : (await run(BIRD2.daemon, ['--version'], { check: false })).stderr.trim();
      runs.push({ dut: d === 'tern' ? 'tern' : 'bird2', version, ok: phases.every((p) => p.missing === 0), setupS, phases, sessionsStable: await established(feederSocket, `to_${d}`) });
    }
    ok = true;
    return runs;
  } finally {
    // SIGTERM first (SIGKILL after 5 s): a Tern run under --cpu-prof writes its profile on exit.
    await Promise.allSettled(procs.map((p) => stopDaemon(p, 'SIGTERM')));
    topology.destroySync();
    if (ok && process.env.BENCH_KEEP !== '1') rmSync(dir, { recursive: true, force: true });
    else ctx.log(`logs and configs kept in ${dir}`);
  }
}

export const scenario: Scenario = {
  name: 'kernel',
  describe: 'BGP routes from a BIRD 2 feeder installed into (and removed from) the kernel: Tern kernel sync vs BIRD 2 `protocol kernel`',
  params: { routes: { full: [10_000, 100_000, 200_000], quick: [1_000], describe: 'N /32 routes, next hop on the subnet' } },
  needsLab: true,
  run: runKernel,
};
