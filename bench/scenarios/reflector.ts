// SPDX-License-Identifier: Apache-2.0
// Full table through a route reflector: one BIRD 2 feeder announces N /32s (its static protocol
// is enabled only once every session is up), the DUT reflects them to M BIRD 2 monitors; then
// the feeder disables the protocol and every route is withdrawn. Phases: announce, withdraw.
import { join } from 'node:path';
import { Lab, FEEDER_ADDR, monitorAddr } from '../lib/lab.ts';
import { startFeeder, startMonitor, writeFeederRoutes, type LabBird } from '../lib/birds.ts';
import { startDut, type Dut, type DutName } from '../lib/duts.ts';
import { runPhase, sessionsStable, waitEstablished } from '../lib/measure.ts';
import type { DutRun, RunContext, Scenario } from '../lib/types.ts';

export const scenario: Scenario = {
  name: 'reflector',
  describe: 'full table through a route reflector: 1 feeder → DUT → M monitors, announce then withdraw all',
  needsLab: true,
  params: {
    prefixes: { full: [100_000, 1_000_000], quick: [2_000], describe: 'IPv4 /32 prefixes the feeder announces (N)' },
    monitors: { full: [1, 10], quick: [2], describe: 'BIRD 2 monitors the DUT reflects to (M)' },
  },
  async run(params, ctx) {
    const n = params.prefixes!;
    const m = params.monitors!;
    const lab = await Lab.create(0, m);
    try {
      const routes = await writeFeederRoutes(lab, n);
      const runs: DutRun[] = [];
      for (const name of ctx.duts) runs.push(await runOne(name, lab, routes, n, m, ctx));
      return runs;
    } finally {
      await lab.destroy();
    }
  },
};

async function runOne(name: DutName, lab: Lab, routes: string, n: number, m: number, ctx: RunContext): Promise<DutRun> {
  const run: DutRun = { dut: name, version: '', ok: false, phases: [], sessionsStable: false };
  const birds: LabBird[] = [];
  let dut: Dut | undefined;
  try {
    const feeder = startFeeder(lab, FEEDER_ADDR, routes);
    birds.push(feeder);
    const monitors = Array.from({ length: m }, (_, i) => startMonitor(lab, i, monitorAddr(i)));
    birds.push(...monitors);
    const profile = name === 'tern' && ctx.profileDir ? join(ctx.profileDir, `reflector-${n}-${m}`) : undefined;
    dut = await startDut(name, lab, { role: 'rr', deployment: 'standalone', peers: [FEEDER_ADDR, ...monitors.map((_, i) => monitorAddr(i))], nodeArgs: profile ? ['--cpu-prof', `--cpu-prof-dir=${profile}`] : [] });
    if (profile) run.profile = profile;
    run.version = await dut.version();
    run.setupS = await waitEstablished(birds, 120);
    await new Promise((r) => setTimeout(r, 1000)); // let post-setup work (EoR, timers) settle
    const common = { dut, labPids: () => birds.map((b) => b.pid), labGroups: () => ({ feeder: [feeder.pid], monitors: monitors.map((b) => b.pid) }), timeoutS: ctx.timeoutS };
    ctx.log(`  ${name}: sessions up in ${run.setupS} s; announcing ${n}`);
    run.phases.push(await runPhase({ ...common, name: 'announce', trigger: () => feeder.enable('feed'), receivers: monitors.map((b) => ({ count: () => b.count(), target: n })) }));
    ctx.log(`  ${name}: ${fmt(run.phases.at(-1)!)}; withdrawing`);
    run.phases.push(await runPhase({ ...common, name: 'withdraw', trigger: () => feeder.disable('feed'), receivers: monitors.map((b) => ({ count: () => b.count(), target: 0 })) }));
    ctx.log(`  ${name}: ${fmt(run.phases.at(-1)!)}`);
    run.sessionsStable = await sessionsStable(birds);
    run.ok = run.phases.every((p) => p.missing === 0);
  } catch (err) {
    run.error = err instanceof Error ? err.message : String(err);
    ctx.log(`  ${name}: FAILED: ${run.error}`);
  } finally {
    await dut?.stop().catch(() => undefined);
    await Promise.all(birds.map((b) => b.stop('SIGKILL')));
  }
  return run;
}

export function fmt(p: { name: string; allS?: number; missing: number; cpuS: number; peakRssMiB: number; labCpuByRoleS?: Record<string, number> }): string {
  const roles = p.labCpuByRoleS ? `, lab CPU ${Object.entries(p.labCpuByRoleS).map(([role, s]) => `${role} ${s} s`).join(', ')}` : '';
  return `${p.name} ${p.allS !== undefined ? `${p.allS} s` : `TIMEOUT (${p.missing} missing)`}, CPU ${p.cpuS} s, peak RSS ${p.peakRssMiB} MiB${roles}`;
}
