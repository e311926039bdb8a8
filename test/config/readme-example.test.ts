// SPDX-License-Identifier: Apache-2.0
// The config shown in the README is a valid config (docs that drift fail here).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseConfig } from '../../src/config/index.ts';

test('every YAML example in README.md parses as a Tern config', () => {
  const readme = readFileSync(fileURLToPath(new URL('../../README.md', import.meta.url)), 'utf8');
  const blocks = [...readme.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!);
  assert.ok(blocks.length >= 1);
  for (const block of blocks) {
    const config = parseConfig(block, 'README.md');
    assert.ok(config.peers.length > 0);
  }
});
