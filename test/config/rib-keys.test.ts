// SPDX-License-Identifier: Apache-2.0
// The RIB and policy keys: routeReflector, gracefulRestart (global), policies, and per peer
// routeReflectorClient, nextHop, maxPrefixes, import/export, advertisementInterval, allowOwnAs.
// Each key read with its default; each error at its exact key path; reload diffs of policies.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, diffConfig, parseConfig, type ConfigProblem, type TernConfig } from '../../src/config/index.ts';

const BASE = 'routerId: 10.0.0.1\nasn: 65001\n';
const cfg = (text: string): TernConfig => parseConfig(text, 't.yaml');

function problemsOf(text: string): ConfigProblem[] {
  try {
    parseConfig(text, 't.yaml');
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    return err.problems;
  }
  assert.fail(`expected rejection:\n${text}`);
}

/** Exactly one problem, at `path`, whose message contains `reason`. */
function expectOnly(text: string, path: string, reason: string): ConfigProblem {
  const problems = problemsOf(text);
  assert.equal(problems.length, 1, `expected one problem, got:\n${JSON.stringify(problems, null, 1)}`);
  const p = problems[0]!;
  assert.equal(p.path, path);
  assert.ok(p.message.includes(reason), `"${p.message}" should contain "${reason}"`);
  return p;
}

const ibgp = (fields: string) => `${BASE}peers:\n  - {address: 10.0.0.2, asn: 65001, ${fields}}\n`;
const ebgp = (fields: string) => `${BASE}peers:\n  - {address: 10.0.0.3, asn: 65002, ${fields}}\n`;
const withPolicy = (policyYaml: string, peerFields = 'export: p') => `${BASE}policies:\n  p: ${policyYaml}\npeers:\n  - {address: 10.0.0.2, asn: 65001, ${peerFields}}\n`;

// ----- global keys -----

test('routeReflector.clusterId: dotted quad or u32; default routerId', () => {
  assert.deepEqual(cfg(BASE).routeReflector, { clusterId: 0x0a000001 });
  assert.deepEqual(cfg(`${BASE}routeReflector: {clusterId: 192.0.2.7}\n`).routeReflector, { clusterId: 0xc0000207 });
  assert.deepEqual(cfg(`${BASE}routeReflector: {clusterId: 4294967295}\n`).routeReflector, { clusterId: 4294967295 });
  expectOnly(`${BASE}routeReflector: {clusterId: 0}\n`, 'routeReflector.clusterId', 'between 1 and 4294967295 (got 0)');
  expectOnly(`${BASE}routeReflector: {clusterId: 0.0.0.0}\n`, 'routeReflector.clusterId', 'unspecified');
  expectOnly(`${BASE}routeReflector: {clusterId: "fd00::1"}\n`, 'routeReflector.clusterId', 'must be an IPv4 address');
  expectOnly(`${BASE}routeReflector: {clusterID: 1}\n`, 'routeReflector.clusterID', 'did you mean "clusterId"?');
});

test('gracefulRestart.deferralTime: default 240 (BIRD graceful restart wait)', () => {
  assert.deepEqual(cfg(BASE).gracefulRestart, { deferralTime: 240 });
  assert.deepEqual(cfg(`${BASE}gracefulRestart: {deferralTime: 30}\n`).gracefulRestart, { deferralTime: 30 });
  expectOnly(`${BASE}gracefulRestart: {deferralTime: 0}\n`, 'gracefulRestart.deferralTime', 'between 1 and 3600');
  expectOnly(`${BASE}gracefulRestart: {restartTime: 5}\n`, 'gracefulRestart.restartTime', 'unknown key');
});

// ----- per-peer keys -----

test('routeReflectorClient: default false; only for iBGP peers', () => {
  assert.equal(cfg(ibgp('name: a')).peers[0]?.routeReflectorClient, false);
  assert.equal(cfg(ibgp('routeReflectorClient: true')).peers[0]?.routeReflectorClient, true);
  expectOnly(ebgp('routeReflectorClient: true'), 'peers[0].routeReflectorClient', 'only iBGP peers can be route-reflector clients (peer asn 65002 is not our asn 65001)');
  expectOnly(ibgp('routeReflectorClient: yes'), 'peers[0].routeReflectorClient', 'must be true or false');
});

test('nextHop: self, keep, auto (default)', () => {
  assert.equal(cfg(ibgp('name: a')).peers[0]?.nextHop, 'auto');
  assert.equal(cfg(ebgp('nextHop: self')).peers[0]?.nextHop, 'self');
  assert.equal(cfg(ebgp('nextHop: keep')).peers[0]?.nextHop, 'keep');
  expectOnly(ebgp('nextHop: slef'), 'peers[0].nextHop', 'must be one of self, keep, auto (got "slef") (did you mean "self"?)');
});

test('maxPrefixes: a number means restart after 60 s; a mapping sets action and delay', () => {
  assert.equal(cfg(ibgp('name: a')).peers[0]?.maxPrefixes, undefined);
  assert.deepEqual(cfg(ebgp('maxPrefixes: 1000')).peers[0]?.maxPrefixes, { limit: 1000, action: 'restart', restartDelay: 60 });
  assert.deepEqual(cfg(ebgp('maxPrefixes: {limit: 50, action: warn}')).peers[0]?.maxPrefixes, { limit: 50, action: 'warn', restartDelay: 60 });
  assert.deepEqual(cfg(ebgp('maxPrefixes: {limit: 50, restartDelay: 5}')).peers[0]?.maxPrefixes, { limit: 50, action: 'restart', restartDelay: 5 });
  expectOnly(ebgp('maxPrefixes: 0'), 'peers[0].maxPrefixes', 'between 1 and 4294967295 (got 0)');
  expectOnly(ebgp('maxPrefixes: {action: warn}'), 'peers[0].maxPrefixes.limit', 'is required');
  expectOnly(ebgp('maxPrefixes: {limit: 5, action: drop}'), 'peers[0].maxPrefixes.action', 'must be one of warn, restart');
  expectOnly(ebgp('maxPrefixes: many'), 'peers[0].maxPrefixes', 'must be an integer between 1 and 4294967295, or a mapping');
});

test('advertisementInterval: 0..600, default 0', () => {
  assert.equal(cfg(ibgp('name: a')).peers[0]?.advertisementInterval, 0);
  assert.equal(cfg(ebgp('advertisementInterval: 30')).peers[0]?.advertisementInterval, 30);
  expectOnly(ebgp('advertisementInterval: 601'), 'peers[0].advertisementInterval', 'between 0 and 600 (got 601)');
});

test('allowOwnAs: 0..10, default 0', () => {
  assert.equal(cfg(ibgp('name: a')).peers[0]?.allowOwnAs, 0);
  assert.equal(cfg(ebgp('allowOwnAs: 2')).peers[0]?.allowOwnAs, 2);
  expectOnly(ebgp('allowOwnAs: 11'), 'peers[0].allowOwnAs', 'between 0 and 10 (got 11)');
});

test('import/export defaults: iBGP all, eBGP none (RFC 8212)', () => {
  const i = cfg(ibgp('name: a')).peers[0]!;
  assert.deepEqual([i.import, i.export], [{ kind: 'all' }, { kind: 'all' }]);
  const e = cfg(ebgp('name: b')).peers[0]!;
  assert.deepEqual([e.import, e.export], [{ kind: 'none' }, { kind: 'none' }]);
  const set = cfg(ebgp('import: all, export: none')).peers[0]!;
  assert.deepEqual([set.import, set.export], [{ kind: 'all' }, { kind: 'none' }]);
});

test('import/export: a named policy, or an inline one', () => {
  const c = cfg(withPolicy('[{action: accept}]', 'import: p, export: [{match: {prefix: 10.0.0.0/8}, action: accept}]'));
  assert.deepEqual(c.peers[0]?.import, { kind: 'named', name: 'p' });
  assert.deepEqual(c.peers[0]?.export, { kind: 'inline', spec: [{ match: { prefix: ['10.0.0.0/8'] }, action: 'accept' }] });
  assert.deepEqual(c.policies, { p: [{ action: 'accept' }] });
});

test('import/export: unknown policy names, with did-you-mean', () => {
  expectOnly(withPolicy('[{action: accept}]', 'export: q'), 'peers[0].export', 'unknown policy "q"');
  const near = `${BASE}policies:\n  calico-export: [{action: accept}]\npeers:\n  - {address: 10.0.0.2, asn: 65001, export: calico-exprot}\n`;
  expectOnly(near, 'peers[0].export', 'unknown policy "calico-exprot": not in policies, and not all or none (did you mean "calico-export"?)');
  expectOnly(ibgp('import: Al'), 'peers[0].import', 'did you mean "all"?');
  expectOnly(ibgp('import: 5'), 'peers[0].import', 'must be a string of `all`, `none` or a policy name, or a list');
  expectOnly(ibgp('import: "bad name"'), 'peers[0].import', 'must be `all`, `none` or a policy name (got "bad name")');
});

// ----- the policy language -----

test('policies: canonical spec (lists for any-of, ranges, canonical communities and prefixes)', () => {
  const c = cfg(`${BASE}policies:
  p:
    - name: t
      match:
        prefixWithin: 10.244.0.0/16
        prefixLength: "26-32"
        asPathLength: {max: 3}
        community: ["65000:0100", NO-EXPORT]
        largeCommunity: "1:2:3"
        asPathPrefix: [65000, 65001]
        nextHop: 10.0.0.1
        interface: "cali*"
        not: {prefix: "FD00::/8"}
      addCommunities: "1:1"
      prepend: 2
      nextHop: self
      action: accept
`);
  assert.deepEqual(c.policies.p, [
    {
      name: 't',
      match: {
        prefixWithin: ['10.244.0.0/16'],
        prefixLength: [{ min: 26, max: 32 }],
        community: ['65000:100', 'no-export'],
        largeCommunity: ['1:2:3'],
        asPathLength: [{ min: 0, max: 3 }],
        asPathPrefix: [[65000, 65001]],
        interface: ['cali*'],
        nextHop: ['10.0.0.1/32'],
        not: { prefix: ['fd00::/8'] },
      },
      addCommunities: ['1:1'],
      prepend: 2,
      nextHop: 'self',
      action: 'accept',
    },
  ]);
});

test('policy errors name the key path, term index included', () => {
  expectOnly(withPolicy('[{action: accept}, {match: {prefixWithin: 10.0.0.0/33}, action: reject}]'), 'policies.p[1].match.prefixWithin', 'prefix length must be at most 32 (got /33)');
  expectOnly(withPolicy('[{match: {prefix: [10.0.0.0/8, 10.0.0.1/8]}, action: reject}]'), 'policies.p[0].match.prefix[1]', 'host bits must be zero');
  expectOnly(withPolicy('[{match: {prefixLength: "30-20"}, action: reject}]'), 'policies.p[0].match.prefixLength', 'range is empty: min 30 is more than max 20');
  expectOnly(withPolicy('[{match: {prefixLength: 129}, action: reject}]'), 'policies.p[0].match.prefixLength', 'between 0 and 128 (got 129)');
  expectOnly(withPolicy('[{match: {prefixLength: {min: 1, mx: 2}}, action: reject}]'), 'policies.p[0].match.prefixLength.mx', 'did you mean "max"?');
  expectOnly(withPolicy('[{match: {community: "65536:1"}, action: reject}]'), 'policies.p[0].match.community', 'not a community');
  expectOnly(withPolicy('[{match: {community: no-exprot}, action: reject}]'), 'policies.p[0].match.community', 'not a community');
  expectOnly(withPolicy('[{match: {largeCommunity: "1:2"}, action: reject}]'), 'policies.p[0].match.largeCommunity', 'not a large community');
  expectOnly(withPolicy('[{match: {interface: "eth 0"}, action: reject}]'), 'policies.p[0].match.interface', 'interface name or glob');
  expectOnly(withPolicy('[{match: {peerType: IBGP}, action: reject}]'), 'policies.p[0].match.peerType', 'must be one of ibgp, ebgp');
  expectOnly(withPolicy('[{match: {source: static}, action: reject}]'), 'policies.p[0].match.source', 'must be one of bgp, originated, kernel, connected');
  expectOnly(withPolicy('[{match: {nextHop: "10.0.0.0/33"}, action: reject}]'), 'policies.p[0].match.nextHop', 'at most 32');
  expectOnly(withPolicy('[{match: {asPathPrefix: []}, action: reject}]'), 'policies.p[0].match.asPathPrefix', 'at least 1 item');
  expectOnly(withPolicy('[{match: {prefx: 10.0.0.0/8}, action: reject}]'), 'policies.p[0].match.prefx', 'did you mean "prefix"?');
  expectOnly(withPolicy('[{match: {not: {not: {prefix: 10.0.0.0/8}}}, action: reject}]'), 'policies.p[0].match.not.not', 'unknown key');
  expectOnly(withPolicy('[{action: drop}]'), 'policies.p[0].action', 'must be one of accept, reject');
  expectOnly(withPolicy('[{prepend: 11}]'), 'policies.p[0].prepend', 'between 1 and 10 (got 11)');
  expectOnly(withPolicy('[{localPref: -1}]'), 'policies.p[0].localPref', 'between 0 and 4294967295');
  expectOnly(withPolicy('[{nextHop: elf}]'), 'policies.p[0].nextHop', 'must be self, keep, or an IPv4 or IPv6 address (got "elf") (did you mean "self"?)');
  expectOnly(withPolicy('[{match: {prefix: 10.0.0.0/8}}]'), 'policies.p[0]', 'term does nothing');
  expectOnly(withPolicy('[]'), 'policies.p', 'at least 1 item');
});

test('the brief\'s example: policies.calico-export[2].match.prefixWithin', () => {
  const text = `${BASE}policies:\n  calico-export:\n    - {action: reject, match: {peerType: ibgp}}\n    - {addCommunities: "1:1"}\n    - {match: {prefixWithin: 10.0.0.0/33}, action: accept}\n`;
  const p = expectOnly(text, 'policies.calico-export[2].match.prefixWithin', 'prefix length must be at most 32 (got /33)');
  assert.deepEqual([p.line, p.column], [7, 30]);
});

test('policy names: all and none are reserved; names follow the peer-name alphabet', () => {
  expectOnly(`${BASE}policies:\n  all: [{action: accept}]\n`, 'policies.all', '"all" is reserved');
  expectOnly(`${BASE}policies:\n  "no good": [{action: accept}]\n`, 'policies.no good', 'name must be 1-100 characters');
  expectOnly(`${BASE}policies: [{action: accept}]\n`, 'policies', 'must be a mapping from names');
});

test('inline policies are checked like named ones, at the peer\'s key path', () => {
  expectOnly(ibgp('export: [{match: {prefix: 10.0.0.1/8}, action: accept}]'), 'peers[0].export[0].match.prefix', 'host bits must be zero');
  expectOnly(ibgp('import: [{localPref: 200}, {med: 1}, {match: {family: ipv4-unicast}}]'), 'peers[0].import[2]', 'term does nothing');
});

// ----- reload -----

const RELOAD = (terms: string, extra = '') => `${BASE}${extra}policies:
  shared: ${terms}
  other: [{action: reject}]
peers:
  - {name: uses-shared, address: 10.0.0.2, asn: 65001, import: shared}
  - {name: uses-other, address: 10.0.0.3, asn: 65001, export: other}
  - {name: inline, address: 10.0.0.4, asn: 65001, export: [{action: accept}]}
`;

test('diff: a named policy whose content changed is listed, and so is each peer using it', () => {
  const a = cfg(RELOAD('[{action: accept}]'));
  const b = cfg(RELOAD('[{match: {prefixWithin: 10.0.0.0/8}, action: accept}]'));
  const d = diffConfig(a, b);
  assert.deepEqual(d.policiesChanged, ['shared']);
  assert.deepEqual(d.peersChanged.map((c) => [c.after.name, c.keys]), [['uses-shared', ['import']]]);
  assert.deepEqual([d.peersAdded, d.peersRemoved, d.globalChanged], [[], [], []]);
});

test('diff: an inline policy change, a switch of policy, policies added and removed', () => {
  const a = cfg(RELOAD('[{action: accept}]'));
  const inline = cfg(RELOAD('[{action: accept}]').replace('export: [{action: accept}]', 'export: [{action: reject}]'));
  assert.deepEqual(diffConfig(a, inline).peersChanged.map((c) => [c.after.name, c.keys]), [['inline', ['export']]]);
  assert.deepEqual(diffConfig(a, inline).policiesChanged, []);
  const switched = cfg(RELOAD('[{action: accept}]').replace('export: other', 'export: shared'));
  assert.deepEqual(diffConfig(a, switched).peersChanged.map((c) => [c.after.name, c.keys]), [['uses-other', ['export']]]);
  const added = cfg(RELOAD('[{action: accept}]').replace('policies:\n', 'policies:\n  fresh: [{action: accept}]\n'));
  assert.deepEqual(diffConfig(a, added).policiesChanged, ['fresh']);
  assert.deepEqual(diffConfig(added, a).policiesChanged, ['fresh']);
  assert.deepEqual(diffConfig(a, added).peersChanged, []);
});

test('diff: global RIB settings and per-peer RIB keys', () => {
  const a = cfg(RELOAD('[{action: accept}]'));
  const b = cfg(RELOAD('[{action: accept}]', 'routeReflector: {clusterId: 1.1.1.1}\ngracefulRestart: {deferralTime: 60}\n'));
  assert.deepEqual(diffConfig(a, b).globalChanged, ['routeReflector.clusterId', 'gracefulRestart.deferralTime']);
  const c = cfg(RELOAD('[{action: accept}]').replace('{name: uses-other,', '{name: uses-other, maxPrefixes: 10, routeReflectorClient: true,'));
  assert.deepEqual(diffConfig(a, c).peersChanged.map((x) => x.keys), [['maxPrefixes', 'routeReflectorClient']]);
});
