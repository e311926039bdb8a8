// SPDX-License-Identifier: Apache-2.0
// Calico route reflector: C emulated Calico nodes (one BIRD 2 process each, `strict bind`, one
// /26 each, all RR clients of the DUT) plus one BIRD 2 monitor. Phases:
//   announce        every node enables its block at once; done when every node and the monitor
//                   hold all C blocks (C × C route advertisements by the DUT)
//   withdraw-one    node 0 disables its block; done when everyone holds C − 1
//   reannounce-one  node 0 enables it again; done when everyone holds C
//   node-down       node 0's BIRD is stopped (Cease); done when everyone else holds C − 1
//   node-restart    node 0's BIRD starts again; done when everyone (node 0 included) holds C
import { Lab, monitorAddr, nodeAddr, nodeBlock } from '../lib/lab.ts';
import { startMonitor, startNode, type LabBird } from '../lib/birds.ts';
import { mapLimit } from '../lib/birdctl.ts';
import { startDut, type Dut, type DutName } from '../lib/duts.ts';
import { runPhase, sessionsStable, waitEstablished, type Receiver } from '../lib/measure.ts';
import type { DutRun, RunContext, Scenario } from '../lib/types.ts';
import { fmt } from './reflector.ts';
import { join } from 'node:path';

export const scenario: Scenario = {
  name: 'calico-rr',
  describe: 'Calico route reflector: C BIRD nodes × one /26, every node must get every block; then churn',
  needsLab: true,
  params: {
    clients: { full: [200, 500, 1000], quick: [10], describe: 'emulated Calico nodes (RR clients), one BIRD each' },
  },
  async run(params, ctx) {
    const c = params.clients!;
    const lab = await Lab.create(c, 1);
    try {
      const runs: DutRun[] = [];
      for (const name of ctx.duts) runs.push(await runOne(name, lab, c, ctx));
      return runs;
    } finally {
      await lab.destroy();
    }
  },
};

async function runOne(name: DutName, lab: Lab, c: number, ctx: RunContext): Promise<DutRun> {
  const run: DutRun = { dut: name, version: '', ok: false, phases: [], sessionsStable: false };
  const nodes: LabBird[] = [];
  let monitor: LabBird | undefined;
  let dut: Dut | undefined;
  const all = (): LabBird[] => [...nodes, ...(monitor ? [monitor] : [])];
  try {
    for (let i = 0; i < c; i++) nodes.push(startNode(lab, i, nodeAddr(i), nodeBlock(i), false));
    monitor = startMonitor(lab, 0, monitorAddr(0));
    const mon = monitor;
    const profile = name === 'tern' && ctx.profileDir ? join(ctx.profileDir, `calico-rr-${c}`) : undefined;
    dut = await startDut(name, lab, { role: 'rr', deployment: 'calico', peers: [...nodes.map((_, i) => nodeAddr(i)), monitorAddr(0)], nodeArgs: profile ? ['--cpu-prof', `--cpu-prof-dir=${profile}`] : [] });
    if (profile) run.profile = profile;
    run.version = await dut.version();
    run.setupS = await waitEstablished(all(), 300);
    await new Promise((r) => setTimeout(r, 1000));
    ctx.log(`  ${name}: ${c} sessions up in ${run.setupS} s`);
    const everyone = (target: number, except?: number): Receiver[] => [
      ...nodes.filter((_, i) => i !== except).map((b) => ({ count: () => b.count(), target })),
      { count: () => mon.count(), target },
    ];
    const common = { dut, labPids: () => all().map((b) => b.pid), timeoutS: ctx.timeoutS, intervalMs: c > 300 ? 250 : 100 };
    const phase = async (p: Parameters<typeof runPhase>[0]): Promise<void> => {
      run.phases.push(await runPhase(p));
      ctx.log(`  ${name}: ${fmt(run.phases.at(-1)!)}`);
    };
    await phase({ ...common, name: 'announce', trigger: async () => void (await mapLimit(nodes, 64, (b) => b.enable('blk'))), receivers: everyone(c) });
    await phase({ ...common, name: 'withdraw-one', trigger: () => nodes[0]!.disable('blk'), receivers: everyone(c - 1) });
    await phase({ ...common, name: 'reannounce-one', trigger: () => nodes[0]!.enable('blk'), receivers: everyone(c) });
    await phase({ ...common, name: 'node-down', trigger: async () => void (await nodes[0]!.stop('SIGTERM')), receivers: everyone(c - 1, 0) });
    await phase({
      ...common,
      name: 'node-restart',
      trigger: async () => void (nodes[0] = startNode(lab, 0, nodeAddr(0), nodeBlock(0), true)),
      receivers: [{ count: () => nodes[0]!.count(), target: c }, ...everyone(c, 0)],
    });
    run.sessionsStable = await sessionsStable(all());
    run.ok = run.phases.every((p) => p.missing === 0);
  } catch (err) {
    run.error = err instanceof Error ? err.message : String(err);
    ctx.log(`  ${name}: FAILED: ${run.error}`);
  } finally {
    await dut?.stop().catch(() => undefined);
    await mapLimit(all(), 64, (b) => b.stop('SIGKILL'));
  }
  return run;
}
