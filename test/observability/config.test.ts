// SPDX-License-Identifier: Apache-2.0
// The `metrics` config key: accepted forms, and each error with its exact key path and reason.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, diffConfig, parseConfig, type ConfigProblem } from '../../src/config/index.ts';
import { parseListen } from '../../src/observability/http.ts';

const BASE = 'routerId: 10.0.0.1\nasn: 65001\n';

function problemsOf(text: string): ConfigProblem[] {
  try {
    parseConfig(text, 'tern.yaml');
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.problems;
  }
  assert.fail(`expected a ConfigError for:\n${text}`);
}

function expectOnly(text: string, path: string, reason: string | RegExp): void {
  const problems = problemsOf(text);
  assert.equal(problems.length, 1, JSON.stringify(problems));
  assert.equal(problems[0]!.path, path);
  if (typeof reason === 'string') assert.ok(problems[0]!.message.includes(reason), problems[0]!.message);
  else assert.match(problems[0]!.message, reason);
}

test('metrics.listen: accepted forms, and absent means no endpoint', () => {
  assert.equal(parseConfig(BASE, 'tern.yaml').metrics, undefined);
  for (const listen of [':9179', '127.0.0.1:9179', '0.0.0.0:1', '[::1]:9179', '[::]:65535', '[fd00::1]:80']) {
    const config = parseConfig(`${BASE}metrics:\n  listen: "${listen}"\n`, 'tern.yaml');
    assert.deepEqual(config.metrics, { listen });
    // What the schema accepts, the server's parser accepts too.
    assert.doesNotThrow(() => parseListen(listen), listen);
  }
});

test('metrics.listen errors name the key and the reason', () => {
  const form = 'must be ADDRESS:PORT, [IPV6]:PORT or :PORT (every address), with a port from 1 to 65535';
  for (const bad of ['9179', ':0', ':65536', '10.0.0.1', '10.0.0.256:9179', 'localhost:9179', '::1:9179', '[::1]', ' :9179']) {
    expectOnly(`${BASE}metrics:\n  listen: "${bad}"\n`, 'metrics.listen', `${form} (got "${bad}")`);
  }
  expectOnly(`${BASE}metrics:\n  listen: 9179\n`, 'metrics.listen', 'must be a string (got 9179)');
  expectOnly(`${BASE}metrics: {}\n`, 'metrics.listen', /required/);
  expectOnly(`${BASE}metrics:\n  listen: ":9179"\n  lisen: ":9180"\n`, 'metrics.lisen', /unknown key/);
  expectOnly(`${BASE}metrics: ":9179"\n`, 'metrics', /must be a mapping/);
});

test('a reload that changes metrics.listen reports it as needing a restart', () => {
  const at = (listen?: string) => parseConfig(listen === undefined ? BASE : `${BASE}metrics: {listen: "${listen}"}\n`, 'tern.yaml');
  assert.deepEqual(diffConfig(at(':9179'), at(':9180')).globalChanged, ['metrics.listen']);
  assert.deepEqual(diffConfig(at(), at(':9179')).globalChanged, ['metrics.listen']);
  assert.deepEqual(diffConfig(at(':9179'), at(':9179')).globalChanged, []);
});
