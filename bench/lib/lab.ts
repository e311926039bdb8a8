// SPDX-License-Identifier: Apache-2.0
// The benchmark lab (docs/performance.md, recipe in performance-anchors.md §5): three network
// namespaces on one bridge (the interop lab's Topology, so the same cleanup hooks apply):
//   dut   10.0.0.1/16          the device under test
//   nodes 10.0.0.2/16 + 10.0.1.1 … (one address per emulated Calico node / feeder)
//   mon   10.0.0.3 … 10.0.0.12  BIRD 2 monitors
// plus process accounting from /proc (CPU seconds, peak RSS). It starts no BGP daemon itself.
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { Topology } from '../../interop/lib/netns.ts';
import { run } from '../../interop/lib/proc.ts';

export const DUT_ADDR = '10.0.0.1';
export const FEEDER_ADDR = '10.0.0.2';
export const ASN = 64512;

/** Monitor i (0-based) address: 10.0.0.3, 10.0.0.4, … */
export function monitorAddr(i: number): string {
  return `10.0.0.${3 + i}`;
}

/** Emulated node i (0-based): 10.0.1.1 … 10.0.1.250, 10.0.2.1 … (up to 250 per /24). */
export function nodeAddr(i: number): string {
  return `10.0.${1 + Math.floor(i / 250)}.${1 + (i % 250)}`;
}

/** Node i's Calico block: a /26 out of 10.128.0.0/10. */
export function nodeBlock(i: number): string {
  const base = (10 << 24) + (128 << 16) + i * 64;
  return `${base >>> 24}.${(base >>> 16) & 255}.${(base >>> 8) & 255}.${base & 255}/26`;
}

export class Lab {
  readonly topo: Topology;
  readonly dutNs: string;
  readonly nodesNs: string;
  readonly monNs: string;
  readonly workDir: string;

  private constructor(topo: Topology, workDir: string) {
    this.topo = topo;
    this.dutNs = topo.nsName('dut');
    this.nodesNs = topo.nsName('nodes');
    this.monNs = topo.nsName('mon');
    this.workDir = workDir;
  }

  /** Namespaces for `nodes` emulated nodes and `monitors` monitors. Call destroy() in a finally. */
  static async create(nodes: number, monitors: number): Promise<Lab> {
    const workDir = join(tmpdir(), `tern-bench-${process.pid}`);
    rmSync(workDir, { recursive: true, force: true });
    mkdirSync(workDir, { recursive: true });
    const topo = await Topology.create('bench');
    const lab = new Lab(topo, workDir);
    try {
      await topo.addNode({ name: 'dut', ipv4: [`${DUT_ADDR}/16`], ipv6: [] });
      await topo.addNode({ name: 'nodes', ipv4: [`${FEEDER_ADDR}/16`], ipv6: [] });
      await topo.addNode({ name: 'mon', ipv4: [`${monitorAddr(0)}/16`], ipv6: [] });
      await lab.addAddresses(lab.nodesNs, Array.from({ length: nodes }, (_, i) => nodeAddr(i)));
      await lab.addAddresses(lab.monNs, Array.from({ length: Math.max(0, monitors - 1) }, (_, i) => monitorAddr(i + 1)));
    } catch (err) {
      await lab.destroy();
      throw err;
    }
    return lab;
  }

  /** Many addresses in one `ip -batch` run (1000 separate `ip` processes take seconds). */
  private async addAddresses(ns: string, addresses: string[]): Promise<void> {
    if (addresses.length === 0) return;
    const file = join(this.workDir, `addrs-${ns}.batch`);
    writeFileSync(file, addresses.map((a) => `addr add ${a}/16 dev eth0\n`).join(''));
    await run('ip', ['-n', ns, '-batch', file], { timeoutMs: 60_000 });
  }

  dir(...parts: string[]): string {
    const d = join(this.workDir, ...parts);
    mkdirSync(d, { recursive: true });
    return d;
  }

  async destroy(): Promise<void> {
    await this.topo.destroy();
    // BENCH_KEEP=1 keeps the configs and logs (the DUT's log has its stdout: --trace-gc and the like).
    if (process.env.BENCH_KEEP) process.stderr.write(`bench: kept ${this.workDir}\n`);
    else rmSync(this.workDir, { recursive: true, force: true });
  }
}

export interface ProcSample {
  /** utime + stime + cutime + cstime, seconds. */
  cpuSeconds: number;
  /** stime + cstime, seconds: the part spent in the kernel on the process's behalf (system
   *  calls, and the network stack's work done in its context). */
  sysSeconds: number;
  /** VmHWM: peak resident set, MiB. */
  peakRssMiB: number;
  rssMiB: number;
}

const TICKS_PER_SECOND = 100; // getconf CLK_TCK on Linux x86-64/arm64

/** CPU and memory of a live process; undefined once it is gone. */
export function sampleProc(pid: number): ProcSample | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces): state is field 3.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]); // fields 14–17
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
    const sysTicks = Number(f[12]) + Number(f[14]);
    return { cpuSeconds: ticks / TICKS_PER_SECOND, sysSeconds: sysTicks / TICKS_PER_SECOND, peakRssMiB: kib('VmHWM') / 1024, rssMiB: kib('VmRSS') / 1024 };
  } catch {
    return undefined;
  }
}

/**
 * CPU seconds of a live process: its main thread ("main") and the others by thread name
 * (/proc/PID/task/TID/comm; Node 20's V8 compiler and GC helpers and libuv threadpool threads all
 * keep the name "node"). Threads that ended are not counted. Empty once the process is gone.
 */
export function cpuByThread(pid: number): Record<string, number> {
  const out: Record<string, number> = {};
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    try {
      const name = Number(tid) === pid ? 'main' : readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out[name] = (out[name] ?? 0) + (Number(f[11]) + Number(f[12])) / TICKS_PER_SECOND;
    } catch {
      // the thread ended meanwhile
    }
  }
  return out;
}

/** Sum of CPU seconds of several processes (the lab's own feeders/monitors, for contention). */
export function cpuOf(pids: number[]): number {
  let s = 0;
  for (const pid of pids) s += sampleProc(pid)?.cpuSeconds ?? 0;
  return s;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Poll `check` until true; returns the elapsed ms, or undefined on timeout. */
export async function pollUntil(check: () => Promise<boolean>, timeoutMs: number, intervalMs = 100): Promise<number | undefined> {
  const t0 = performance.now();
  for (;;) {
    if (await check().catch(() => false)) return performance.now() - t0;
    if (performance.now() - t0 > timeoutMs) return undefined;
    await sleep(intervalMs);
  }
}

/**
 * CPU seconds the hypervisor has given to other guests while this machine wanted to run (the
 * `steal` column of /proc/stat's first line, summed over the machine's CPUs) since boot. A phase
 * that lost much of it ran on a slower machine than its CPU seconds say: its times stretch, and
 * cache-bound work slows down too. NaN where the kernel does not count it.
 */
export function hostStealSeconds(): number {
  try {
    const cpu = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/);
    return cpu[0] === 'cpu' && cpu.length > 8 ? Number(cpu[8]) / TICKS_PER_SECOND : NaN;
  } catch {
    return NaN;
  }
}
