// SPDX-License-Identifier: Apache-2.0
// A reload reads the config file without stopping the event loop: a large file is parsed in a
// worker thread (src/config/load-async.ts). Whatever thread parses it, the config and the errors
// (with their lines and columns) are the ones the start-up reader gives.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig, loadConfigAsync } from '../../src/config/index.ts';
import { WORKER_PARSE_BYTES } from '../../src/config/load-async.ts';

function bigYaml(prefixes: number, extra = ''): string {
  const lines = ['routerId: 10.0.0.1', 'asn: 65000', 'peers:', '  - name: p1', '    address: 10.0.0.2', '    asn: 65000' + extra, 'originate:'];
  for (let i = 0; i < prefixes; i++) lines.push(`  - prefix: 10.${200 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}/32`);
  return lines.join('\n') + '\n';
}

function withFile(name: string, text: string, fn: (file: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tern-load-async-'));
  const file = join(dir, name);
  writeFileSync(file, text);
  return fn(file).finally(() => rmSync(dir, { recursive: true, force: true }));
}

async function problemsOf(promise: Promise<unknown>): Promise<ConfigError['problems']> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  assert.fail('no ConfigError');
}

test('a large file is parsed in a worker thread and gives the config the start-up reader gives', async () => {
  const text = bigYaml(5000);
  assert.ok(text.length >= WORKER_PARSE_BYTES, 'large enough for the worker');
  await withFile('tern.yaml', text, async (file) => {
    const viaWorker = await loadConfigAsync(file);
    assert.deepEqual(viaWorker, loadConfig(file));
    assert.equal(viaWorker.originate.length, 5000);
  });
  // JSON, by its name: the strict JSON schema applies in the worker too.
  await withFile('tern.json', JSON.stringify({ routerId: '10.0.0.1', asn: 65000, originate: [{ prefix: '10.1.0.0/24' }] }), async (file) => {
    assert.deepEqual(await loadConfigAsync(file, 0), loadConfig(file));
  });
});

test('errors of a file parsed in a worker keep their line and column', async () => {
  // A schema problem on line 6 (the peer's asn), found after the worker parsed the file.
  await withFile('tern.yaml', bigYaml(5000, '\n    holdTime: 2'), async (file) => {
    const problems = await problemsOf(loadConfigAsync(file));
    assert.deepEqual(problems.map((p) => [p.path, p.line]), [['peers[0].holdTime', 7]]);
    assert.deepEqual(problems, await problemsOf(Promise.resolve().then(() => loadConfig(file))));
  });
  // A syntax error, found in the worker.
  await withFile('tern.yaml', bigYaml(5000) + '  - prefix: [unclosed\n', async (file) => {
    const problems = await problemsOf(loadConfigAsync(file));
    assert.equal(problems.length >= 1, true);
    assert.match(problems[0]!.message, /YAML syntax error/);
    assert.ok((problems[0]!.line ?? 0) > 5000, `line ${problems[0]!.line}`);
  });
  await withFile('missing.yaml', '', async (file) => {
    rmSync(file);
    assert.match((await problemsOf(loadConfigAsync(file)))[0]!.message, /cannot read config file/);
  });
});
