// SPDX-License-Identifier: Apache-2.0
// docs/policy.md stays true: every YAML example is a valid config, and the BGPFilter translation
// example decides as the golden's BIRD function would (bgpfilter/match_operators/bird.cfg).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parseConfig } from '../../src/config/index.ts';
import { resolvePolicy } from '../../src/policy/compile.ts';
import { EXPORT_TO_IBGP, route } from './helpers.ts';

const doc = readFileSync(new URL('../../docs/policy.md', import.meta.url), 'utf8');
const examples = [...doc.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!);

test('docs/policy.md has its examples, and each is a valid config', () => {
  assert.equal(examples.length, 3);
  examples.forEach((text, i) => assert.doesNotThrow(() => parseConfig(text, `policy.md example ${i}`)));
});

test('the match_operators translation decides like the golden BIRD export function', () => {
  const c = parseConfig(examples[2]!, 'policy.md');
  const p = resolvePolicy(c.peers[0]!.export, c.policies, c.peers[0]!.name, 'export');
  const verdicts = ['77.0.1.0/24', '10.0.0.0/8', '77.1.0.0/16', '77.1.2.0/24', '77.2.0.0/16'].map((r) => p.evaluate(route(r), EXPORT_TO_IBGP).decidedBy);
  assert.deepEqual(verdicts, [
    'match-operators-export term 0: accept', // net ~ 77.0.0.0/16
    'match-operators-export term 1: reject', // net !~ 77.1.0.0/16
    'match-operators-export term 3: reject', // inside 77.1/16, not = 77.2/16, != 77.3/16
    'match-operators-export term 3: reject',
    'match-operators-export term 1: reject', // 77.2.0.0/16 is not inside 77.1.0.0/16: term 1 rejects first
  ]);
});
