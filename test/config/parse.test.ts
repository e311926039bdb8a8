// SPDX-License-Identifier: Apache-2.0
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConfigError, formatConfigError, loadConfig, parseConfig, type ConfigProblem } from '../../src/config/index.ts';

// ----- helpers -----

const BASE = 'routerId: 10.0.0.1\nasn: 65001\n';

function problemsOf(text: string, file = 'tern.yaml'): ConfigProblem[] {
  try {
    parseConfig(text, file);
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    assert.equal(err.file, file);
    return err.problems;
  }
  assert.fail(`expected ${file} to be rejected:\n${text}`);
}

/** Exactly one problem, at `path`, whose message contains `reason`. */
function expectOnly(text: string, path: string, reason: string, file?: string): ConfigProblem {
  const problems = problemsOf(text, file);
  assert.equal(problems.length, 1, `expected one problem, got:\n${JSON.stringify(problems, null, 1)}`);
  const p = problems[0]!;
  assert.equal(p.path, path);
  assert.ok(p.message.includes(reason), `"${p.message}" should contain "${reason}"`);
  return p;
}

/** Peer keys of the RIB and policy whose defaults do not depend on the peer type. */
const RIB_DEFAULTS = { routeReflectorClient: false, nextHop: 'auto', advertisementInterval: 0, allowOwnAs: 0, ttlSecurity: 0 } as const;

const FIXTURES = new URL('../fixtures/config/', import.meta.url);
const fixture = (name: string) => new URL(name, FIXTURES).pathname;

test('valid.yaml: every key read, defaults filled, addresses and prefixes canonical', () => {
  const c = loadConfig(fixture('valid.yaml'));
  assert.equal(c.routerId, '10.0.0.1');
  assert.equal(c.routerIdNum, 0x0a000001);
  assert.equal(c.asn, 65001);
  assert.deepEqual(c.listen, { addresses: ['10.0.0.1', 'fd00::1'], port: 1179, enabled: true });
  assert.deepEqual(c.control, { socket: '/tmp/tern-test.ctl' });
  assert.equal(c.logLevel, 'debug');
  assert.equal(c.source, fixture('valid.yaml'));
  assert.deepEqual(c.peers[0], {
    name: 'bird1',
    address: '10.0.0.2',
    asn: 65002,
    passive: false,
    holdTime: 90,
    keepalive: 30,
    connectRetry: 60,
    families: ['ipv4-unicast', 'ipv6-unicast'],
    localAddress: '10.0.0.1',
    port: 179,
    description: 'rack 1 top-of-rack',
    addPaths: 'both',
    gracefulRestart: { restartTime: 300 },
    // eBGP (65002 ≠ 65001), no import/export given: RFC 8212 defaults.
    ...RIB_DEFAULTS,
    import: { kind: 'none' },
    export: { kind: 'none' },
  });
  assert.deepEqual(c.peers[1], {
    name: 'peer_fd00__2',
    address: 'fd00::2',
    asn: 4200000000,
    passive: true,
    holdTime: 90,
    connectRetry: 120,
    families: ['ipv6-unicast'],
    port: 179,
    gracefulRestart: { restartTime: 120 },
    ...RIB_DEFAULTS,
    import: { kind: 'none' },
    export: { kind: 'none' },
  });
  assert.deepEqual(c.peers[2], {
    name: 'peer_fe80__2_eth0_port_1790',
    address: 'fe80::2%eth0',
    asn: 65001,
    passive: false,
    holdTime: 0,
    connectRetry: 120,
    families: ['ipv6-unicast'],
    port: 1790,
    // iBGP (65001): import and export default to all.
    ...RIB_DEFAULTS,
    import: { kind: 'all' },
    export: { kind: 'all' },
  });
  assert.deepEqual(c.originate, [
    { prefix: '10.244.1.0/26', family: 'ipv4-unicast' },
    { prefix: 'fd00:244:1::/64', family: 'ipv6-unicast', nextHop: 'fd00::1' },
  ]);
});

test('valid.json gives the same config as valid.yaml', () => {
  const y = loadConfig(fixture('valid.yaml'));
  const j = loadConfig(fixture('valid.json'));
  assert.deepEqual({ ...j, source: '' }, { ...y, source: '' });
});

test('minimal config: defaults', () => {
  const c = loadConfig(fixture('minimal.yaml'));
  assert.deepEqual(c, {
    routerId: '192.0.2.1',
    routerIdNum: 0xc0000201,
    asn: 64512,
    listen: { addresses: ['0.0.0.0', '::'], port: 179, enabled: true },
    control: { socket: '/run/tern/tern.ctl' },
    peers: [],
    originate: [],
    logLevel: 'info',
    routeReflector: { clusterId: 0xc0000201 },
    gracefulRestart: { deferralTime: 240 },
    policies: {},
    source: fixture('minimal.yaml'),
  });
});

test('JSON text is accepted whatever the file name', () => {
  const c = parseConfig('{"routerId": "10.0.0.1", "asn": 65001, "peers": [{"address": "10.0.0.2", "asn": 65002}]}', 'tern.conf');
  assert.equal(c.peers[0]?.name, 'peer_10_0_0_2');
});

test('*.json files use the strict JSON schema: a bare address is a syntax error with its position', () => {
  const p = expectOnly(readFixture('bad.json'), '', 'JSON syntax error', 'bad.json');
  assert.equal(p.line, 4);
  assert.equal(p.column, 27);
});

test('listen: false and port 0 both disable listening; one address is a one-item list', () => {
  assert.deepEqual(parseConfig(`${BASE}listen: false\n`, 't.yaml').listen, { addresses: ['0.0.0.0', '::'], port: 179, enabled: false });
  assert.deepEqual(parseConfig(`${BASE}listen: {port: 0}\n`, 't.yaml').listen, { addresses: ['0.0.0.0', '::'], port: 0, enabled: false });
  assert.deepEqual(parseConfig(`${BASE}listen:\n  address: "::1"\n`, 't.yaml').listen, { addresses: ['::1'], port: 179, enabled: true });
});

test('empty values mean "not set"', () => {
  const c = parseConfig(`${BASE}listen:\ncontrol:\npeers:\noriginate:\nlogLevel:\n`, 't.yaml');
  assert.equal(c.listen.enabled, true);
  assert.deepEqual(c.peers, []);
  assert.equal(c.logLevel, 'info');
});

test('addPaths off and gracefulRestart false leave the extensions unset', () => {
  const c = parseConfig(`${BASE}peers:\n  - {address: 10.0.0.2, asn: 1, addPaths: off, gracefulRestart: false}\n`, 't.yaml');
  assert.equal(c.peers[0]?.addPaths, undefined);
  assert.equal(c.peers[0]?.gracefulRestart, undefined);
});

test('two peers at one address with different ports are distinct sessions', () => {
  const c = parseConfig(`${BASE}peers:\n  - {address: 127.0.0.1, asn: 1, port: 1179}\n  - {address: 127.0.0.1, asn: 1, port: 2179}\n`, 't.yaml');
  assert.deepEqual(
    c.peers.map((p) => p.name),
    ['peer_127_0_0_1_port_1179', 'peer_127_0_0_1_port_2179'],
  );
});

test('YAML 1.2: "no" is a string, so a boolean key rejects it', () => {
  expectOnly(`${BASE}peers:\n  - {address: 10.0.0.2, asn: 1, passive: no}\n`, 'peers[0].passive', 'must be true or false (got "no")');
});

test('syntax errors carry line and column, and an unquoted "::" gets a hint', () => {
  const p = expectOnly(readFixture('syntax-error.yaml'), '', 'YAML syntax error');
  assert.equal(p.line, 4);
  assert.ok(p.message.includes('quote IPv6 addresses'));
});

test('a missing file is a ConfigError naming it', () => {
  const file = join(mkdtempSync(join(tmpdir(), 'tern-cfg-')), 'missing.yaml');
  assert.throws(
    () => loadConfig(file),
    (e: unknown) => e instanceof ConfigError && e.file === file && formatConfigError(e).startsWith(`${file}: cannot read config file: ENOENT`),
  );
});

test('loadConfig reads a file written at run time', () => {
  const file = join(mkdtempSync(join(tmpdir(), 'tern-cfg-')), 'tern.yaml');
  writeFileSync(file, `${BASE}originate:\n  - prefix: 10.0.0.0/8\n`);
  assert.deepEqual(loadConfig(file).originate, [{ prefix: '10.0.0.0/8', family: 'ipv4-unicast' }]);
});

test('formatConfigError: one line per problem, file:line:col: path: reason', () => {
  try {
    loadConfig(fixture('many-errors.yaml'));
    assert.fail('should throw');
  } catch (e) {
    assert.ok(e instanceof ConfigError);
    const text = formatConfigError(e).replaceAll(fixture(''), '');
    assert.equal(
      text,
      [
        'many-errors.yaml:1:11: routerId: must not be the unspecified address 0.0.0.0',
        'many-errors.yaml:2:6: asn: must be between 1 and 4294967295 (got 0)',
        'many-errors.yaml:3:1: lisen: unknown key (did you mean "listen"?)',
        'many-errors.yaml:9:15: peers[0].holdTime: must be 0 or between 3 and 65535 (got 2)',
        'many-errors.yaml:10:11: peers[1].name: duplicate peer name "bird1" (also peers[0])',
        'many-errors.yaml:13:5: peers[1].holdtime: unknown key (did you mean "holdTime"?)',
        'many-errors.yaml:14:16: peers[1].keepalive: must be at most holdTime / 3 = 30 for holdTime 90 (got 40)',
        'many-errors.yaml:16:13: originate[0].prefix: host bits must be zero: 10.244.1.5/26 has bits set past /26 (did you mean 10.244.1.0/26?)',
        'many-errors.yaml:18:13: originate[2].prefix: duplicate prefix 10.244.2.0/26 (also originate[1])',
      ].join('\n'),
    );
    assert.equal(e.message, formatConfigError(e));
  }
});

test('problems without a position are formatted without one', () => {
  const e = new ConfigError('x.yaml', [{ path: 'asn', message: 'is required' }, { path: '', message: 'config is empty' }]);
  assert.equal(formatConfigError(e), 'x.yaml: asn: is required\nx.yaml: config is empty');
});

test('problem count: every problem in one pass', () => {
  assert.equal(problemsOf(readFixture('many-errors.yaml')).length, 9);
});

function readFixture(name: string): string {
  return readFileSync(fixture(name), 'utf8');
}
