// SPDX-License-Identifier: Apache-2.0
// Smoke test of the benchmark harness (bench/run.ts): every scenario at its --quick sizes
// against every installed daemon, in under a minute. Benchmarks are not part of `npm test`:
// this runs only with TERN_BENCH_SMOKE=1, as root (network namespaces), with the peers of
// scripts/install-peers.sh installed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runBench } from '../bench/run.ts';

const enabled = process.env.TERN_BENCH_SMOKE === '1' && process.getuid?.() === 0;

test('npm run bench -- all --quick: every DUT converges in every phase, in under a minute', { skip: enabled ? false : 'set TERN_BENCH_SMOKE=1 and run as root', timeout: 120_000 }, async () => {
  const t0 = performance.now();
  const results = await runBench(['all', '--quick', '--no-docs']);
  const seconds = (performance.now() - t0) / 1000;
  const names = results.map((r) => r.scenario);
  for (const s of ['reflector', 'calico-rr', 'mesh', 'codec']) assert.ok(names.includes(s), `scenario ${s} ran`);
  for (const r of results) {
    for (const run of r.runs) {
      assert.equal(run.error, undefined, `${r.scenario}/${run.dut}: ${run.error}`);
      assert.ok(run.phases.length > 0, `${r.scenario}/${run.dut} has phases`);
      for (const p of run.phases) assert.equal(p.missing, 0, `${r.scenario}/${run.dut}/${p.name}: ${p.missing} receivers never converged`);
      assert.ok(run.sessionsStable, `${r.scenario}/${run.dut}: a lab session went down`);
      if (run.dut === 'tern' && r.scenario !== 'kernel') assert.ok(run.phases.every((p) => p.eventLoop !== undefined), 'Tern reports event-loop delay');
    }
  }
  const codec = results.find((r) => r.scenario === 'codec')!.extra as { tern: { decodeMsgsPerS: number; encodeMsgsPerS: number } };
  assert.ok(codec.tern.decodeMsgsPerS > 0 && codec.tern.encodeMsgsPerS > 0);
  assert.ok(seconds < 60, `--quick took ${seconds.toFixed(1)} s`);
});
