// SPDX-License-Identifier: Apache-2.0
// The Node flags Tern's deploy files start it with: the container image's wrapper carries
// calico-node's flags, this Node accepts every one of them (a misspelt V8 flag would stop the
// daemon from starting), and the benchmark reads them from the files (bench/lib/node-flags.ts).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { deployedNodeFlags } from '../../bench/lib/node-flags.ts';

const CONTAINERFILE = fileURLToPath(new URL('../../deploy/container/Containerfile', import.meta.url));

describe('deploy files: Node flags', () => {
  it('calico-node and standalone both cap the young generation; only calico-node trades CPU for memory', () => {
    const calico = deployedNodeFlags('calico');
    const standalone = deployedNodeFlags('standalone');
    assert.ok(calico.includes('--max-semi-space-size=2'));
    assert.ok(standalone.includes('--max-semi-space-size=2'));
    assert.ok(calico.includes('--heap-growing-percent=100'));
    assert.ok(!standalone.includes('--heap-growing-percent=100'));
    // V8's helper threads were 40 % of a 1000-client reflector burst (docs/performance.md).
    assert.ok(calico.includes('--single-threaded-gc'));
    assert.ok(calico.some((f) => /^--interrupt-budget=\d+$/.test(f)));
  });

  it('the container image wrapper uses calico-node\'s flags', () => {
    const m = /\$\{TERN_NODE_FLAGS-([^}]*)\}/.exec(readFileSync(CONTAINERFILE, 'utf8'));
    assert.ok(m, 'Containerfile: no ${TERN_NODE_FLAGS-...} default');
    assert.deepEqual(m[1]!.split(/\s+/).filter(Boolean), deployedNodeFlags('calico'));
  });

  for (const deployment of ['calico', 'standalone'] as const) {
    it(`this Node starts with the ${deployment} flags`, () => {
      // Node refuses to start (exit 9, "bad option") on a flag it does not know.
      const out = execFileSync(process.execPath, [...deployedNodeFlags(deployment), '-e', 'process.stdout.write("ok")'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      assert.equal(out, 'ok');
    });
  }
});
