// SPDX-License-Identifier: Apache-2.0
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ControlServer, CommandError } from '../../src/control/server.ts';
import { controlRequest } from '../../src/control/client.ts';
import { parseRequest } from '../../src/control/protocol.ts';
import { createLogger } from '../../src/observability/log.ts';

const log = createLogger({ level: 'silent' });

test('parseRequest names what is wrong with a request', () => {
  assert.match((parseRequest('{') as { error: string }).error, /not valid JSON/);
  assert.match((parseRequest('[1]') as { error: string }).error, /JSON object/);
  assert.match((parseRequest('{"command":1}') as { error: string }).error, /"command" string/);
  assert.match((parseRequest('{"command":"x","args":[]}') as { error: string }).error, /"args" must be an object/);
  assert.deepEqual(parseRequest('{"id":3,"command":"show peers"}'), { id: 3, command: 'show peers', args: {} });
});

test('control server answers requests in order and survives bad ones', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tern-ctl-'));
  const path = join(dir, 'sub', 'tern.ctl');
  const server = new ControlServer(
    path,
    async (command, args) => {
      if (command === 'echo') return args;
      if (command === 'slow') {
        await new Promise((r) => setTimeout(r, 30));
        return 'slow';
      }
      throw new CommandError(`unknown command "${command}"`);
    },
    log,
  );
  try {
    await server.listen();
    assert.deepEqual(await controlRequest(path, 'echo', { a: 1 }), { a: 1 });
    await assert.rejects(controlRequest(path, 'nope'), /unknown command "nope"/);
    // Several requests on one connection, one of them garbage: answers come back in order.
    const lines = await rawExchange(path, '{"id":1,"command":"slow"}\nnot json\n{"id":2,"command":"echo","args":{"b":2}}\n', 3);
    assert.deepEqual(lines.map((l) => JSON.parse(l)), [
      { id: 1, ok: true, result: 'slow' },
      { ok: false, error: lines[1] && JSON.parse(lines[1]).error },
      { id: 2, ok: true, result: { b: 2 } },
    ]);
    assert.match(JSON.parse(lines[1]!).error, /not valid JSON/);
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a stale socket file is replaced; a live one is refused', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tern-ctl-'));
  const path = join(dir, 'tern.ctl');
  writeFileSync(path, '');
  const a = new ControlServer(path, () => 'a', log);
  const b = new ControlServer(path, () => 'b', log);
  try {
    await a.listen();
    assert.equal(await controlRequest(path, 'x'), 'a');
    await assert.rejects(b.listen(), /in use by a running daemon/);
  } finally {
    await a.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('client reports a missing socket clearly', async () => {
  await assert.rejects(controlRequest('/nonexistent/tern.ctl', 'show peers'), /no such socket \(is tern running\?\)/);
});

function rawExchange(path: string, payload: string, expectLines: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const s = createConnection(path);
    let buf = '';
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`timeout; got ${JSON.stringify(buf)}`));
    }, 5000);
    s.setEncoding('utf8');
    s.on('connect', () => s.write(payload));
    s.on('data', (d: string) => {
      buf += d;
      const lines = buf.split('\n').filter(Boolean);
      if (lines.length >= expectLines) {
        clearTimeout(timer);
        s.destroy();
        resolve(lines);
      }
    });
    s.on('error', reject);
  });
}
