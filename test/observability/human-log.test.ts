// SPDX-License-Identifier: Apache-2.0
// `--log-format human`: sample pino lines rewritten exactly, pino writing through the stream
// synchronously, and the CLI flag.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { createLogger } from '../../src/observability/log.ts';
import { HumanLogStream, defaultLogFormat, formatHumanLine } from '../../src/observability/human-log.ts';

const T = '"time":"2026-11-21T22:00:01.123Z"';

test('sample lines: time, padded level, [peer], message, then fields', () => {
  const cases: [string, string][] = [
    [
      `{"level":30,${T},"component":"tern","peer":"bird1","peerAddress":"10.0.0.2","peerAs":65002,"holdTime":90,"keepalive":30,"msg":"session established"}`,
      '2026-11-21T22:00:01.123Z INFO  [bird1] session established holdTime=90 keepalive=30',
    ],
    [
      `{"level":40,${T},"component":"tern","peer":"r1","conn":2,"notification":"Cease / Administrative Shutdown: \\"bye\\"","msg":"NOTIFICATION received"}`,
      '2026-11-21T22:00:01.123Z WARN  [r1] NOTIFICATION received conn=2 notification="Cease / Administrative Shutdown: \\"bye\\""',
    ],
    // Objects and arrays inline as JSON; a non-default component stays visible.
    [
      `{"level":30,${T},"component":"kernel","listen":{"addresses":["0.0.0.0","::"],"port":179,"enabled":true},"families":["ipv4-unicast"],"recovering":false,"msg":"tern started"}`,
      '2026-11-21T22:00:01.123Z INFO  tern started component=kernel listen={"addresses":["0.0.0.0","::"],"port":179,"enabled":true} families=["ipv4-unicast"] recovering=false',
    ],
    // pino's err serializer: the message (with the type when it is not plain Error, and the code).
    [
      `{"level":50,${T},"err":{"type":"TypeError","message":"bad thing","stack":"TypeError: bad thing\\n    at x"},"msg":"failed"}`,
      '2026-11-21T22:00:01.123Z ERROR failed err="TypeError: bad thing"',
    ],
    [
      `{"level":30,${T},"peer":"p","conn":1,"err":{"type":"Error","message":"connect ECONNREFUSED 10.0.0.2:179","stack":"Error: ...","code":"ECONNREFUSED"},"msg":"socket error"}`,
      '2026-11-21T22:00:01.123Z INFO  [p] socket error conn=1 err="connect ECONNREFUSED 10.0.0.2:179 (ECONNREFUSED)"',
    ],
    // Levels, null, an empty string, a string with spaces, numbers as time, no message.
    [`{"level":10,"time":0,"a":null,"b":"","c":"two words","d":"10.0.0.0/24"}`, '1970-01-01T00:00:00.000Z TRACE a=null b="" c="two words" d=10.0.0.0/24'],
    [`{"level":60,${T},"msg":"x"}`, '2026-11-21T22:00:01.123Z FATAL x'],
    [`{"level":20,${T},"msg":"x"}`, '2026-11-21T22:00:01.123Z DEBUG x'],
    // A message with a newline stays on one line.
    [`{"level":50,${T},"msg":"reload failed\\nline two"}`, '2026-11-21T22:00:01.123Z ERROR reload failed\\nline two'],
    // Not a JSON object: unchanged.
    ['plain text', 'plain text'],
    ['[1,2]', '[1,2]'],
  ];
  for (const [input, want] of cases) assert.equal(formatHumanLine(input), want);
});

/** Strings rich in line breaks and control characters. */
const tricky = fc.string({ unit: fc.oneof(fc.constantFrom('\n', '\r', '\u0085', '\u2028', '\u2029', '\u001b', '\u007f', 'a', ' ', '"', '='), fc.string({ unit: 'binary', minLength: 1, maxLength: 1 })) });

test('any field value keeps the record on one line (no control characters escape)', () => {
  fc.assert(
    fc.property(tricky, fc.jsonValue(), tricky, (msg, value, text) => {
      const line = formatHumanLine(JSON.stringify({ level: 30, time: '2026-11-21T22:00:01.123Z', peer: msg, msg, field: value, text, nested: { text } }));
      assert.doesNotMatch(line, /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/);
      assert.ok(line.startsWith('2026-11-21T22:00:01.123Z INFO  '));
    }),
  );
});

test('pino writes through HumanLogStream synchronously', () => {
  const out: string[] = [];
  const log = createLogger({ level: 'info', destination: new HumanLogStream({ write: (s: string) => out.push(s) }) });
  const peerLog = log.child({ peer: 'bird1', peerAddress: '10.0.0.2', peerAs: 65002 });
  peerLog.info({ holdTime: 90, keepalive: 30 }, 'session established');
  peerLog.error({ err: new Error('boom'), password: 'secret' }, 'failed');
  log.debug('not written at info');
  // Written before info() returned: no worker thread, no asynchronous hop.
  assert.equal(out.length, 2);
  assert.match(out[0]!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z INFO  \[bird1\] session established holdTime=90 keepalive=30\n$/);
  assert.match(out[1]!, /^\S+ ERROR \[bird1\] failed err="boom" password=\[Redacted\]\n$/);
});

test('default format: human on a terminal, JSON otherwise', () => {
  assert.equal(defaultLogFormat(true), 'human');
  assert.equal(defaultLogFormat(false), 'json');
  assert.equal(defaultLogFormat(undefined), 'json');
});

test('tern run --log-format: an unknown format exits 2; human prints human lines, json JSON lines', async () => {
  const root = fileURLToPath(new URL('../..', import.meta.url));
  const dir = mkdtempSync(join(tmpdir(), 'tern-humanlog-'));
  const config = join(dir, 'tern.yaml');
  writeFileSync(config, `routerId: 127.0.0.1\nasn: 65001\nlisten: false\ncontrol: {socket: ${join(dir, 'tern.ctl')}}\n`);
  const tern = (format: string) => spawn(process.execPath, ['--import', 'tsx', join(root, 'src', 'main.ts'), 'run', '--config', config, '--log-format', format], { cwd: root });
  const firstLine = (child: ReturnType<typeof tern>) =>
    new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('tern started')) resolve(out.split('\n').find((l) => l.includes('tern started'))!);
      });
      child.on('exit', (code) => reject(new Error(`exited ${code}: ${out}`)));
    });
  try {
    const bad = tern('xml');
    let stderr = '';
    bad.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise((resolve) => bad.on('exit', resolve));
    assert.equal(code, 2);
    assert.match(stderr, /--log-format must be json or human \(got "xml"\)/);
    for (const [format, shape] of [['human', /^\S+Z INFO  tern started routerId=127\.0\.0\.1 asn=65001 peers=0 listen=\{/], ['json', /^\{"level":30,/]] as const) {
      const child = tern(format);
      try {
        assert.match(await firstLine(child), shape);
      } finally {
        child.kill('SIGTERM');
        await new Promise((resolve) => child.on('exit', resolve));
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
