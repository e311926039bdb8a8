// SPDX-License-Identifier: Apache-2.0
// Shapes shared by the benchmark runner (bench/run.ts), the scenarios (bench/scenarios/*.ts,
// bench/kernel.ts) and the report writer (bench/lib/report.ts). Results are plain JSON.
import type { DutName, EventLoopStats } from './duts.ts';

export type { DutName, EventLoopStats };

/** One measured step of a run, e.g. "announce" or "withdraw". */
export interface Phase {
  name: string;
  /** Receivers that had to reach the target (monitors, nodes, or the DUT itself). */
  receivers: number;
  /** Seconds from the trigger until every receiver had its target (undefined: timed out). */
  allS?: number;
  /** Seconds until the first and the median receiver had it. */
  firstS?: number;
  medianS?: number;
  /** Receivers that never got there within the timeout. */
  missing: number;
  /** DUT CPU seconds (utime+stime, children included) spent during the phase. */
  cpuS: number;
  /** Of cpuS, the kernel's part (stime + cstime): system calls and network-stack work. */
  cpuSysS?: number;
  /** Of cpuS, the DUT's main thread ("main") and its other threads by name (for Node, "node":
   *  V8's compiler and GC helpers and the libuv threadpool), for threads alive at the end. */
  cpuByThreadS?: Record<string, number>;
  /** DUT peak RSS (VmHWM) at the end of the phase, MiB. */
  peakRssMiB: number;
  /** CPU seconds of the lab's own BIRDs (feeder, monitors, nodes) in the phase: contention. */
  labCpuS: number;
  /** CPU seconds the hypervisor gave to other guests during the phase, over all of this
   *  machine's CPUs (/proc/stat steal; lab.ts hostStealSeconds): a phase that lost much ran on
   *  a slower machine than it looks. */
  hostStealS?: number;
  /** The lab CPU split by role, where the scenario names roles (reflector: feeder, monitors). */
  labCpuByRoleS?: Record<string, number>;
  /** Tern only: event-loop delay during the phase. */
  eventLoop?: EventLoopStats;
}

export interface DutRun {
  dut: DutName;
  version: string;
  ok: boolean;
  error?: string;
  /** Seconds until every session was Established (setup; not part of any phase). */
  setupS?: number;
  phases: Phase[];
  /** Every lab session still Established at the end and no hold-timer expiry in the lab logs. */
  sessionsStable: boolean;
  /** Tern: path of the CPU profile written for this run (--profile). */
  profile?: string;
}

export interface ScenarioResult {
  scenario: string;
  /** The workload parameters of this run, e.g. { prefixes: 100000, monitors: 1 }. */
  params: Record<string, number>;
  quick: boolean;
  startedAt: string;
  host: { cpus: number; model: string; kernel: string; node: string };
  runs: DutRun[];
  /** Scenario-specific extra data (the codec scenario puts its numbers here). */
  extra?: Record<string, unknown>;
}

/** What the runner gives a scenario. */
export interface RunContext {
  duts: DutName[];
  quick: boolean;
  /** Per-phase timeout, seconds. */
  timeoutS: number;
  /** Directory for Tern CPU profiles, when profiling (--profile). */
  profileDir?: string;
  log(line: string): void;
}

export interface ParamSpec {
  /** Values swept by default (`all`), and in --quick mode. */
  full: number[];
  quick: number[];
  describe: string;
}

export interface Scenario {
  name: string;
  describe: string;
  /** Workload parameters; each may be given on the command line as --NAME v1,v2. */
  params: Record<string, ParamSpec>;
  /** Whether the scenario runs daemons (needs root and the lab) or is in-process. */
  needsLab: boolean;
  run(params: Record<string, number>, ctx: RunContext): Promise<DutRun[] | { runs: DutRun[]; extra: Record<string, unknown> }>;
}
