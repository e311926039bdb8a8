// SPDX-License-Identifier: Apache-2.0
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parseConfig, renderConfigDoc } from '../../src/config/index.ts';
import { EXAMPLE_YAML } from '../../src/config/doc.ts';
import { SECTIONS } from '../../src/config/schema.ts';

test('docs/config.md is what scripts/gen-config-doc.ts generates from the schema', () => {
  const onDisk = readFileSync(new URL('../../docs/config.md', import.meta.url), 'utf8');
  assert.equal(onDisk, renderConfigDoc(), 'docs/config.md is stale: run `node --import tsx scripts/gen-config-doc.ts`');
});

test('the docs name every schema key', () => {
  const doc = renderConfigDoc();
  for (const section of SECTIONS) for (const f of section.fields) assert.ok(doc.includes(`| \`${f.key}\``), f.key);
});

test('the example in the docs is a valid config', () => {
  const c = parseConfig(EXAMPLE_YAML, 'example.yaml');
  assert.equal(c.peers[1]?.name, 'peer_fe80__2_eth0');
  assert.deepEqual(c.listen.addresses, ['10.0.0.1', '::']);
});
