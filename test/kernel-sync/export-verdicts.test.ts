// SPDX-License-Identifier: Apache-2.0
// ExportVerdicts: the kernel export policy's verdict on each path kernel sync plans. A policy that
// never looks at the prefix is evaluated once for a run of paths with the same attributes,
// source, peer and interface (100k routes from one peer: one evaluation, one verdict object); any
// other policy, or a change in any of those, is evaluated afresh.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ExportVerdicts } from '../../src/kernel-sync/kernel-sync.ts';
import { ACCEPT_ALL, compilePolicy } from '../../src/policy/compile.ts';
import type { CompiledPolicy, PolicyInput } from '../../src/policy/types.ts';
import type { Path } from '../../src/rib/types.ts';
import { destination, path, peer } from './kernel-fixtures.ts';

/** `policy`, counting its evaluations and the prefixes it saw. */
function counting(policy: CompiledPolicy): { policy: CompiledPolicy; seen: string[] } {
  const seen: string[] = [];
  return {
    seen,
    policy: { ...policy, evaluate: (input: PolicyInput, ctx) => {
      seen.push(`${input.nlri.address.join('.')}/${input.nlri.length}`);
      return policy.evaluate(input, ctx);
    } },
  };
}

function verdictFor(v: ExportVerdicts, p: Path) {
  v.reset(destination(p.destKey, p));
  return v.get(p);
}

describe('ExportVerdicts', () => {
  const node2 = peer('node2', '10.0.0.2');
  const node3 = peer('node3', '10.0.0.3');
  const first = path('10.1.0.0/24', { nextHop: '10.0.0.2', peer: node2 });
  const same = (prefix: string, over: Partial<Path> = {}): Path => ({ ...path(prefix, { peer: node2 }), attrs: first.attrs, ...over });

  it('a prefix-independent policy (export: all): one evaluation for paths that share attributes, source, peer and interface', () => {
    const { policy, seen } = counting(ACCEPT_ALL);
    const v = new ExportVerdicts(() => policy);
    const verdict = verdictFor(v, first);
    assert.equal(verdict?.accept, true);
    assert.equal(verdictFor(v, same('10.2.0.0/24')), verdict);
    assert.equal(verdictFor(v, same('10.3.0.0/24')), verdict);
    assert.deepEqual(seen, ['10.1.0.0/24']);
    // Any of them different: evaluated again.
    verdictFor(v, same('10.4.0.0/24', { peer: node3 }));
    verdictFor(v, same('10.5.0.0/24', { attrs: path('10.5.0.0/24', { nextHop: '10.0.0.2' }).attrs }));
    verdictFor(v, same('10.6.0.0/24', { interface: 'eth0' }));
    verdictFor(v, { ...same('10.7.0.0/24'), source: 'originated' } as Path);
    assert.deepEqual(seen, ['10.1.0.0/24', '10.4.0.0/24', '10.5.0.0/24', '10.6.0.0/24', '10.7.0.0/24']);
  });

  it('a policy that may look at the prefix is evaluated for every destination', () => {
    const { policy, seen } = counting(compilePolicy('pools', [{ match: { prefixWithin: ['10.2.0.0/16'] }, action: 'accept' }]));
    const v = new ExportVerdicts(() => policy);
    assert.equal(verdictFor(v, first)?.accept, false);
    assert.equal(verdictFor(v, same('10.2.0.0/24'))?.accept, true);
    assert.equal(verdictFor(v, same('10.3.0.0/24'))?.accept, false);
    assert.deepEqual(seen, ['10.1.0.0/24', '10.2.0.0/24', '10.3.0.0/24']);
  });

  it('a new policy (reload) is evaluated, not the old one\'s verdict reused', () => {
    let current: CompiledPolicy = ACCEPT_ALL;
    const v = new ExportVerdicts(() => current);
    assert.equal(verdictFor(v, first)?.accept, true);
    const { policy, seen } = counting({ ...ACCEPT_ALL, evaluate: (input) => ({ accept: false, attrs: input.attrs, prepend: 0, decidedBy: 'none' }) } as CompiledPolicy);
    current = policy;
    assert.equal(verdictFor(v, same('10.2.0.0/24'))?.accept, false);
    assert.deepEqual(seen, ['10.2.0.0/24']);
  });
});
