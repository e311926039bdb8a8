// SPDX-License-Identifier: Apache-2.0
// Calico mesh node: the DUT is a plain iBGP speaker (no reflection) peering with P emulated
// nodes (one BIRD 2 each, one /26 each) and originating its own block. Phases:
//   announce      every node enables its block; done when the DUT's table holds P + 1 blocks
//   withdraw-one  node 0 disables its block; done when the DUT holds P
//   idle          10 s (1 s in --quick) of keepalives only: the steady-state cost of P sessions
import { Lab, nodeAddr, nodeBlock } from '../lib/lab.ts';
import { startNode, type LabBird } from '../lib/birds.ts';
import { mapLimit } from '../lib/birdctl.ts';
import { startDut, type Dut, type DutName } from '../lib/duts.ts';
import { runPhase, sessionsStable, waitEstablished } from '../lib/measure.ts';
import type { DutRun, RunContext, Scenario } from '../lib/types.ts';
import { fmt } from './reflector.ts';

export const scenario: Scenario = {
  name: 'mesh',
  describe: 'Calico mesh node: the DUT peers with P BIRD nodes (plain iBGP), learns one /26 from each',
  needsLab: true,
  params: {
    peers: { full: [100, 250], quick: [10], describe: 'mesh peers (emulated Calico nodes)' },
  },
  async run(params, ctx) {
    const p = params.peers!;
    const lab = await Lab.create(p, 1);
    try {
      const runs: DutRun[] = [];
      for (const name of ctx.duts) runs.push(await runOne(name, lab, p, ctx));
      return runs;
    } finally {
      await lab.destroy();
    }
  },
};

async function runOne(name: DutName, lab: Lab, p: number, ctx: RunContext): Promise<DutRun> {
  const run: DutRun = { dut: name, version: '', ok: false, phases: [], sessionsStable: false };
  const nodes: LabBird[] = [];
  let dut: Dut | undefined;
  try {
    for (let i = 0; i < p; i++) nodes.push(startNode(lab, i, nodeAddr(i), nodeBlock(i), false));
    const d = (dut = await startDut(name, lab, { role: 'mesh', deployment: 'calico', peers: nodes.map((_, i) => nodeAddr(i)) }));
    run.version = await d.version();
    run.setupS = await waitEstablished(nodes, 300);
    await new Promise((r) => setTimeout(r, 1000));
    ctx.log(`  ${name}: ${p} sessions up in ${run.setupS} s`);
    const common = { dut: d, labPids: () => nodes.map((b) => b.pid), timeoutS: ctx.timeoutS, intervalMs: 200 };
    const phase = async (x: Parameters<typeof runPhase>[0]): Promise<void> => {
      run.phases.push(await runPhase(x));
      ctx.log(`  ${name}: ${fmt(run.phases.at(-1)!)}`);
    };
    await phase({ ...common, name: 'announce', trigger: async () => void (await mapLimit(nodes, 64, (b) => b.enable('blk'))), receivers: [{ count: () => d.routeCount(), target: p + 1 }] });
    await phase({ ...common, name: 'withdraw-one', trigger: () => nodes[0]!.disable('blk'), receivers: [{ count: () => d.routeCount(), target: p }] });
    const idleMs = ctx.quick ? 1_000 : 10_000;
    await phase({ ...common, name: 'idle', trigger: () => new Promise((r) => setTimeout(r, idleMs)), receivers: [{ count: () => d.routeCount(), target: p }] });
    run.sessionsStable = await sessionsStable(nodes);
    run.ok = run.phases.every((x) => x.missing === 0);
  } catch (err) {
    run.error = err instanceof Error ? err.message : String(err);
    ctx.log(`  ${name}: FAILED: ${run.error}`);
  } finally {
    await dut?.stop().catch(() => undefined);
    await mapLimit(nodes, 64, (b) => b.stop('SIGKILL'));
  }
  return run;
}
