// SPDX-License-Identifier: Apache-2.0
// Whatever the input, parseConfig returns a config or throws ConfigError, never anything else.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { ConfigError, parseConfig } from '../../src/config/index.ts';
import { compilePolicy, resolvePolicy } from '../../src/policy/compile.ts';

function onlyConfigError(text: string, file: string): void {
  try {
    const config = parseConfig(text, file);
    // Whatever validates must compile: policies are "already validated" for compilePolicy.
    for (const peer of config.peers) {
      resolvePolicy(peer.import, config.policies, peer.name, 'import');
      resolvePolicy(peer.export, config.policies, peer.name, 'export');
    }
    for (const [name, spec] of Object.entries(config.policies)) compilePolicy(name, spec);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    assert.ok(err.problems.length > 0);
    for (const p of err.problems) assert.equal(typeof p.message, 'string');
  }
}

// Values near the schema: real keys and plausible values, so the generator reaches deep checks.
const keyNames = ['routerId', 'asn', 'listen', 'address', 'port', 'control', 'socket', 'peers', 'name', 'holdTime', 'keepalive',
  'families', 'localAddress', 'originate', 'prefix', 'nextHop', 'addPaths', 'gracefulRestart', 'restartTime', 'logLevel', '__proto__', 'x',
  // RIB and policy keys
  'policies', 'p', 'all', 'import', 'export', 'match', 'action', 'prefixWithin', 'prefixLength', 'min', 'max', 'community', 'asPathPrefix',
  'not', 'addCommunities', 'prepend', 'maxPrefixes', 'limit', 'routeReflector', 'clusterId', 'routeReflectorClient', 'deferralTime'];
const leaf = fc.oneof(
  fc.constantFrom('10.0.0.1', '::', 'fe80::1%eth0', '10.0.0.0/8', 'fd00::1/64', 'ipv4-unicast', 'both', 'info', '', '0.0.0.0'),
  fc.constantFrom('accept', 'reject', 'all', 'none', 'p', '65000:100', '1:2:3', '26-32', 'no-export', 'self', 'cali*'),
  fc.integer({ min: -5, max: 70000 }),
  fc.constantFrom(0, 4294967296, 1.5, Number.NaN, true, false, null),
  fc.string(),
);
const value = fc.letrec((tie) => ({
  node: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leaf, tie('list'), tie('map')),
  list: fc.array(tie('node'), { maxLength: 4 }),
  map: fc.dictionary(fc.constantFrom(...keyNames), tie('node'), { maxKeys: 6 }),
})).node;

test('arbitrary strings: only ConfigError', () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 200 }), fc.constantFrom('t.yaml', 't.json'), (text, file) => onlyConfigError(text, file)),
    { numRuns: 2000 },
  );
});

test('arbitrary objects as YAML and JSON: only ConfigError', () => {
  fc.assert(
    fc.property(value, (v) => {
      onlyConfigError(stringify(v), 't.yaml');
      onlyConfigError(JSON.stringify(v) ?? 'null', 't.json');
    }),
    { numRuns: 2000 },
  );
});

test('arbitrary peers under a valid header: only ConfigError, or a config whose peers are all there', () => {
  const peer = fc.dictionary(fc.constantFrom(...keyNames), leaf, { maxKeys: 8 });
  fc.assert(
    fc.property(fc.array(peer, { maxLength: 4 }), (peers) => {
      const text = JSON.stringify({ routerId: '10.0.0.1', asn: 65001, peers });
      try {
        const c = parseConfig(text, 't.json');
        assert.equal(c.peers.length, peers.length);
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
      }
    }),
    { numRuns: 2000 },
  );
});
