// SPDX-License-Identifier: Apache-2.0
// One test per class of config error: each asserts the exact key path and a reason substring.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, parseConfig, type ConfigProblem } from '../../src/config/index.ts';

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

const peer = (fields: string) => `${BASE}peers:\n  - {address: 10.0.0.2, asn: 65002, ${fields}}\n`;

test('empty file, top-level scalar, top-level list', () => {
  expectOnly('', '', 'config is empty');
  expectOnly('# only a comment\n', '', 'config is empty');
  expectOnly('hello\n', '', 'top level must be a mapping');
  expectOnly('- a\n- b\n', '', 'top level must be a mapping');
});

test('required keys', () => {
  const problems = problemsOf('asn: 1\npeers:\n  - address: 10.0.0.2\n');
  assert.deepEqual(
    problems.map((p) => [p.path, p.message, p.line]),
    [
      ['routerId', 'is required', 1],
      ['peers[0].asn', 'is required', 3],
    ],
  );
  expectOnly(`${BASE}originate:\n  - nextHop: 10.0.0.1\n`, 'originate[0].prefix', 'is required');
});

test('unknown keys, with "did you mean" for near misses and line/column of the key', () => {
  const p = expectOnly(`${BASE}peers:\n  - address: 10.0.0.2\n    asn: 1\n    hold_time: 9\n`, 'peers[0].hold_time', 'unknown key (did you mean "holdTime"?)');
  assert.deepEqual([p.line, p.column], [6, 5]);
  expectOnly(`${BASE}routerID: 10.0.0.2\n`, 'routerID', 'did you mean "routerId"?');
  expectOnly(`${BASE}contrl: {socket: /x}\n`, 'contrl', 'did you mean "control"?');
  expectOnly(`${BASE}control: {sock: /x}\n`, 'control.sock', 'did you mean "socket"?');
  const far = expectOnly(`${BASE}bananas: 3\n`, 'bananas', 'unknown key');
  assert.ok(!far.message.includes('did you mean'));
  expectOnly(`${BASE}__proto__: {polluted: true}\n`, '__proto__', 'unknown key');
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
});

test('wrong types', () => {
  expectOnly('routerId: 10.0.0.1\nasn: "65001"\n', 'asn', 'must be an integer (got "65001")');
  expectOnly(`${BASE}peers: {address: 10.0.0.2}\n`, 'peers', 'must be a list');
  expectOnly(`${BASE}peers: [10.0.0.2]\n`, 'peers[0]', 'must be a mapping');
  expectOnly(`${BASE}control: /run/x.ctl\n`, 'control', 'must be a mapping');
  expectOnly(`${BASE}listen: true\n`, 'listen', 'must be false, or a mapping (got true)');
  expectOnly(peer('passive: "true"'), 'peers[0].passive', 'must be true or false');
  expectOnly(peer('name: 42'), 'peers[0].name', 'must be a string (got 42)');
  expectOnly(peer('families: ipv4-unicast'), 'peers[0].families', 'must be a list');
  expectOnly(peer('addPaths: true'), 'peers[0].addPaths', 'must be one of off, rx, tx, both (got true)');
  expectOnly(peer('gracefulRestart: 120'), 'peers[0].gracefulRestart', 'must be true or false, or a mapping (got 120)');
});

test('whole numbers only', () => {
  expectOnly(peer('holdTime: 90.5'), 'peers[0].holdTime', 'must be a whole number (got 90.5)');
  expectOnly('routerId: 10.0.0.1\nasn: .inf\n', 'asn', 'must be a whole number');
});

test('ranges', () => {
  expectOnly('routerId: 10.0.0.1\nasn: 0\n', 'asn', 'must be between 1 and 4294967295 (got 0)');
  expectOnly('routerId: 10.0.0.1\nasn: 4294967296\n', 'asn', 'must be between 1 and 4294967295');
  expectOnly(peer('holdTime: 2'), 'peers[0].holdTime', 'must be 0 or between 3 and 65535 (got 2)');
  expectOnly(peer('holdTime: 65536'), 'peers[0].holdTime', 'must be 0 or between 3 and 65535 (got 65536)');
  expectOnly(peer('keepalive: 0'), 'peers[0].keepalive', 'between 1 and 21845');
  expectOnly(peer('connectRetry: 0'), 'peers[0].connectRetry', 'between 1 and 65535');
  expectOnly(peer('port: 0'), 'peers[0].port', 'between 1 and 65535 (got 0)');
  expectOnly(`${BASE}listen: {port: 70000}\n`, 'listen.port', 'between 0 and 65535');
  expectOnly(peer('gracefulRestart: {restartTime: 4096}'), 'peers[0].gracefulRestart.restartTime', 'between 0 and 4095');
});

test('keepalive against holdTime (RFC 4271 §10), including the default holdTime', () => {
  expectOnly(peer('holdTime: 9, keepalive: 4'), 'peers[0].keepalive', 'at most holdTime / 3 = 3 for holdTime 9 (got 4)');
  expectOnly(peer('keepalive: 31'), 'peers[0].keepalive', 'for holdTime 90');
  // 0 disables the hold timer, so no bound applies; exactly a third is fine.
  assert.equal(problemsOf(peer('holdTime: 0, keepalive: 100, bogus: 1')).length, 1);
  assert.equal(problemsOf(peer('holdTime: 9, keepalive: 3, bogus: 1')).length, 1);
});

test('invalid addresses', () => {
  expectOnly(peer('localAddress: 10.0.0.256'), 'peers[0].localAddress', 'must be an IPv4 or IPv6 address (got "10.0.0.256")');
  expectOnly('routerId: "fd00::1"\nasn: 1\n', 'routerId', 'must be an IPv4 address');
  expectOnly('routerId: 10.0.0\nasn: 1\n', 'routerId', 'must be an IPv4 address');
  expectOnly('routerId: 0.0.0.0\nasn: 1\n', 'routerId', 'must not be the unspecified address 0.0.0.0');
  expectOnly(`${BASE}peers:\n  - {address: 224.0.0.5, asn: 1}\n`, 'peers[0].address', 'must be a unicast address');
  expectOnly(`${BASE}peers:\n  - {address: "::", asn: 1}\n`, 'peers[0].address', 'unspecified');
  expectOnly(`${BASE}peers:\n  - {address: fd00::2%eth0, asn: 1}\n`, 'peers[0].address', 'only IPv6 link-local addresses');
  expectOnly(`${BASE}peers:\n  - {address: fe80::2, asn: 1}\n`, 'peers[0].address', 'must name its interface, like fe80::2%eth0');
  expectOnly(`${BASE}peers:\n  - {address: "fe80::2%bad iface", asn: 1}\n`, 'peers[0].address', 'invalid interface name');
  expectOnly(`${BASE}listen: {address: [10.0.0.1, nope]}\n`, 'listen.address[1]', 'must be an IPv4 or IPv6 address');
  expectOnly(`${BASE}originate:\n  - {prefix: 10.0.0.0/8, nextHop: fe80::1%eth0}\n`, 'originate[0].nextHop', 'must not name an interface');
});

test('invalid prefixes; host bits set names the prefix meant', () => {
  expectOnly(`${BASE}originate:\n  - prefix: 10.0.0.0\n`, 'originate[0].prefix', 'CIDR form');
  expectOnly(`${BASE}originate:\n  - prefix: 10.0.0.0/33\n`, 'originate[0].prefix', 'at most 32 (got /33)');
  expectOnly(`${BASE}originate:\n  - prefix: fd00::1/64\n`, 'originate[0].prefix', 'host bits must be zero: fd00::1/64 has bits set past /64 (did you mean fd00::/64?)');
  expectOnly(`${BASE}originate:\n  - prefix: 24\n`, 'originate[0].prefix', 'must be a prefix string');
});

test('enums', () => {
  expectOnly(`${BASE}logLevel: warning\n`, 'logLevel', 'must be one of trace, debug, info, warn, error (got "warning")');
  expectOnly(`${BASE}logLevel: INFO\n`, 'logLevel', 'did you mean "info"?');
  expectOnly(peer('families: [ipv4]'), 'peers[0].families[0]', 'must be one of ipv4-unicast, ipv6-unicast');
  expectOnly(peer('addPaths: bot'), 'peers[0].addPaths', 'did you mean "both"?');
});

test('lists: empty families and duplicate items', () => {
  expectOnly(peer('families: []'), 'peers[0].families', 'at least 1 item');
  expectOnly(peer('families: [ipv4-unicast, ipv4-unicast]'), 'peers[0].families[1]', 'duplicate "ipv4-unicast" (also peers[0].families[0])');
  expectOnly(`${BASE}listen: {address: [10.0.0.1, 10.0.0.1]}\n`, 'listen.address[1]', 'duplicate');
});

test('strings: names, emptiness, length', () => {
  expectOnly(peer('name: "my peer"'), 'peers[0].name', 'must be 1-100 characters from A-Z a-z 0-9 _ . - (got "my peer")');
  expectOnly(peer('name: ""'), 'peers[0].name', 'must not be empty');
  expectOnly(`${BASE}control: {socket: /${'x'.repeat(110)}}\n`, 'control.socket', 'at most 107 characters (got 111)');
});

test('duplicate peer names, explicit or derived', () => {
  expectOnly(`${BASE}peers:\n  - {name: a, address: 10.0.0.2, asn: 1}\n  - {name: a, address: 10.0.0.3, asn: 1}\n`, 'peers[1].name', 'duplicate peer name "a" (also peers[0])');
  expectOnly(
    `${BASE}peers:\n  - {address: 10.0.0.2, asn: 1}\n  - {name: peer_10_0_0_2, address: 10.0.0.3, asn: 1}\n`,
    'peers[1].name',
    'duplicate peer name "peer_10_0_0_2"',
  );
});

test('duplicate peer addresses (same address and port; text form does not matter)', () => {
  const p = expectOnly(
    `${BASE}peers:\n  - {address: "fd00::2", asn: 1}\n  - {address: "FD00:0::2", asn: 2}\n`,
    'peers[1].address',
    'duplicate peer fd00::2 port 179 (also peers[0])',
  );
  assert.equal(p.line, 5);
});

test('duplicate originate prefixes, compared in canonical form', () => {
  expectOnly(`${BASE}originate:\n  - prefix: fd00::/64\n  - prefix: FD00:0::/64\n`, 'originate[1].prefix', 'duplicate prefix fd00::/64 (also originate[0])');
});

test('localAddress family must match the peer address', () => {
  expectOnly(peer('localAddress: "fd00::1"'), 'peers[0].localAddress', 'must be an IPv4 address like address 10.0.0.2 (got fd00::1)');
});

test('originate nextHop family must match the prefix', () => {
  expectOnly(`${BASE}originate:\n  - {prefix: "fd00::/64", nextHop: 10.0.0.1}\n`, 'originate[0].nextHop', 'must be an IPv6 address like prefix fd00::/64');
});

test('alias expansion bombs are refused as a ConfigError', () => {
  const lines = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
  for (let i = 1; i < 8; i++) lines.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(10).fill('*' + String.fromCharCode(96 + i)).join(', ')}]`);
  const problems = problemsOf(lines.join('\n') + '\n');
  assert.equal(problems[0]?.path, '');
});

test('many problems at once, each at its own path, in file order', () => {
  const text = [
    'routerId: 1.2.3',
    'asn: -5',
    'peers:',
    '  - name: x y',
    '    address: 10.0.0.2',
    '    asn: 1',
    '    families: [ipv5-unicast]',
    '  - address: 10.0.0.2',
    '    asn: 2',
    '    keepalive: 60',
    '    localAddres: 10.0.0.1',
    'originate:',
    '  - prefix: 10.1.2.3/16',
    '  - prefix: "fd00::/64"',
    '    nextHop: 10.0.0.1',
    'logLevel: loud',
    '',
  ].join('\n');
  assert.deepEqual(
    problemsOf(text).map((p) => [p.line, p.path]),
    [
      [1, 'routerId'],
      [2, 'asn'],
      [4, 'peers[0].name'],
      [7, 'peers[0].families[0]'],
      [8, 'peers[1].address'], // peers[0] keeps its address even though its name is bad
      [10, 'peers[1].keepalive'],
      [11, 'peers[1].localAddres'],
      [13, 'originate[0].prefix'],
      [15, 'originate[1].nextHop'],
      [16, 'logLevel'],
    ],
  );
});
