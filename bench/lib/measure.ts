// SPDX-License-Identifier: Apache-2.0
// Measuring one phase of a run: sample the DUT's CPU and the lab's CPU, reset Tern's event-loop
// histogram, fire the trigger (enable/disable a protocol, restart a node), poll every receiver
// until it holds its target count (only those not done yet are polled again), sample again.
// Convergence time per receiver is the first poll that saw the target (poll interval = error).
import { readFileSync, existsSync } from 'node:fs';
import { mapLimit } from './birdctl.ts';
import type { LabBird } from './birds.ts';
import type { Dut } from './duts.ts';
import { cpuByThread, cpuOf, hostStealSeconds, sampleProc, sleep } from './lab.ts';
import type { Phase } from './types.ts';

export interface Receiver {
  count(): Promise<number>;
  /** The count that means "converged". */
  target: number;
}

/** Seconds until each receiver reached its target (undefined: not within the timeout). */
export async function waitReceivers(receivers: Receiver[], timeoutMs: number, intervalMs: number, t0 = performance.now(), concurrency = 48): Promise<(number | undefined)[]> {
  const done: (number | undefined)[] = receivers.map(() => undefined);
  let open = receivers.map((_, i) => i);
  while (open.length) {
    const seen = await mapLimit(open, concurrency, (i) => receivers[i]!.count().catch(() => -1));
    const now = (performance.now() - t0) / 1000;
    open = open.filter((i, k) => {
      if (seen[k] !== receivers[i]!.target) return true;
      done[i] = now;
      return false;
    });
    if (!open.length || performance.now() - t0 > timeoutMs) break;
    await sleep(intervalMs);
  }
  return done;
}

export interface PhaseSpec {
  name: string;
  dut: Dut;
  /** pids of the lab's BIRDs (re-read at the start of the phase). */
  labPids: () => number[];
  /** Optional split of the lab's CPU by role (e.g. feeder, monitors), kept in the phase JSON. */
  labGroups?: () => Record<string, number[]>;
  trigger: () => Promise<void>;
  receivers: Receiver[];
  timeoutS: number;
  intervalMs?: number;
}

export async function runPhase(spec: PhaseSpec): Promise<Phase> {
  const { dut } = spec;
  const labPids = spec.labPids();
  const before = sampleProc(dut.pid);
  const threads0 = cpuByThread(dut.pid);
  const cpu0 = before?.cpuSeconds ?? NaN;
  const lab0 = cpuOf(labPids);
  const groups = Object.entries(spec.labGroups?.() ?? {});
  const groups0 = groups.map(([, pids]) => cpuOf(pids));
  await dut.eventLoop(true);
  const steal0 = hostStealSeconds();
  // Times count from the start of the trigger (enabling 1000 nodes' blocks takes a while).
  const t0 = performance.now();
  await spec.trigger();
  const times = await waitReceivers(spec.receivers, spec.timeoutS * 1000, spec.intervalMs ?? 100, t0);
  const after = sampleProc(dut.pid);
  const threads1 = cpuByThread(dut.pid);
  const eventLoop = await dut.eventLoop(false).catch(() => undefined);
  const got = times.filter((t): t is number => t !== undefined).sort((a, b) => a - b);
  const phase: Phase = {
    name: spec.name,
    receivers: spec.receivers.length,
    missing: spec.receivers.length - got.length,
    cpuS: round((after?.cpuSeconds ?? NaN) - cpu0),
    cpuSysS: round((after?.sysSeconds ?? NaN) - (before?.sysSeconds ?? NaN)),
    peakRssMiB: round(after?.peakRssMiB ?? NaN, 1),
    labCpuS: round(cpuOf(labPids) - lab0),
  };
  const steal = hostStealSeconds() - steal0;
  if (!Number.isNaN(steal)) phase.hostStealS = round(steal);
  const byThread = Object.entries(threads1).map(([name, s]) => [name, round(s - (threads0[name] ?? 0))] as const).filter(([, s]) => s > 0);
  if (byThread.length) phase.cpuByThreadS = Object.fromEntries(byThread);
  if (groups.length) phase.labCpuByRoleS = Object.fromEntries(groups.map(([role, pids], i) => [role, round(cpuOf(pids) - groups0[i]!)]));
  if (got.length) {
    phase.firstS = round(got[0]!);
    phase.medianS = round(got[Math.floor(got.length / 2)]!);
  }
  if (got.length === spec.receivers.length) phase.allS = round(got[got.length - 1]!);
  if (eventLoop) phase.eventLoop = eventLoop;
  return phase;
}

/** Wait until every lab BIRD has its session to the DUT Established; returns seconds. */
export async function waitEstablished(birds: LabBird[], timeoutS: number): Promise<number> {
  const t0 = performance.now();
  let open = [...birds];
  while (open.length) {
    const up = await mapLimit(open, 48, (b) => b.established().catch(() => false));
    open = open.filter((_, i) => !up[i]);
    if (!open.length) break;
    if (performance.now() - t0 > timeoutS * 1000) throw new Error(`${open.length} of ${birds.length} lab sessions not Established after ${timeoutS} s (e.g. ${open[0]!.name})`);
    await sleep(200);
  }
  return round((performance.now() - t0) / 1000);
}

/** Every BIRD still Established, and none logged a hold timer expiry (RFC 4271 §6.5). */
export async function sessionsStable(birds: LabBird[]): Promise<boolean> {
  const up = await mapLimit(birds, 48, (b) => b.established().catch(() => false));
  if (up.some((u) => !u)) return false;
  return !birds.some((b) => existsSync(b.proc.logFile) && /hold timer expired/i.test(readFileSync(b.proc.logFile, 'utf8')));
}

export function round(x: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
