// SPDX-License-Identifier: Apache-2.0
// The FSM is a pure function (architecture.md): no sockets, timers, clocks or randomness inside
// src/bgp/fsm. This guards the rule the way a lint rule would.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('../../src/bgp/fsm', import.meta.url));
const FORBIDDEN: [RegExp, string][] = [
  [/from ['"]node:(net|dgram|tls|fs|timers|child_process)['"]/, 'I/O module import'],
  [/\bset(Timeout|Interval|Immediate)\s*\(/, 'real timer'],
  [/\bDate\.now\s*\(|\bnew Date\s*\(/, 'clock read'],
  [/\bMath\.random\s*\(/, 'randomness (inject an RNG)'],
  [/from ['"]\.\.\/session\//, 'import from the session driver'],
];

test('src/bgp/fsm uses no I/O, timers, clock or randomness', () => {
  const files = readdirSync(dir).filter((f) => f.endsWith('.ts'));
  assert.ok(files.length >= 3);
  for (const f of files) {
    const code = readFileSync(join(dir, f), 'utf8').replace(/\/\/.*$/gm, '').replace(/\/\*[\s\S]*?\*\//g, '');
    for (const [re, what] of FORBIDDEN) assert.doesNotMatch(code, re, `${f}: ${what}`);
  }
});
