// SPDX-License-Identifier: Apache-2.0
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { diffConfig, parseConfig, type TernConfig } from '../../src/config/index.ts';

const cfg = (text: string, file = 'a.yaml'): TernConfig => parseConfig(text, file);

const A = `routerId: 10.0.0.1
asn: 65001
peers:
  - {name: keep, address: 10.0.0.2, asn: 65002}
  - {name: change, address: 10.0.0.3, asn: 65003, holdTime: 90}
  - {name: gone, address: 10.0.0.4, asn: 65004}
originate:
  - prefix: 10.244.1.0/26
  - prefix: 10.244.2.0/26
  - {prefix: 10.244.3.0/26, nextHop: 10.0.0.9}
`;

test('identical configs (even from different files) have an empty diff', () => {
  assert.deepEqual(diffConfig(cfg(A), cfg(A, 'b.yaml')), {
    peersAdded: [],
    peersRemoved: [],
    peersChanged: [],
    originateAdded: [],
    originateRemoved: [],
    globalChanged: [],
    policiesChanged: [],
  });
});

test('peers added, removed and changed, matched by name, with the keys that changed', () => {
  const b = cfg(`routerId: 10.0.0.1
asn: 65001
peers:
  - {name: keep, address: 10.0.0.2, asn: 65002}
  - {name: change, address: 10.0.0.3, asn: 65003, holdTime: 30, families: [ipv4-unicast, ipv6-unicast], description: new}
  - {name: new, address: 10.0.0.5, asn: 65005}
originate:
  - prefix: 10.244.1.0/26
  - prefix: 10.244.2.0/26
  - {prefix: 10.244.3.0/26, nextHop: 10.0.0.9}
`);
  const a = cfg(A);
  const d = diffConfig(a, b);
  assert.deepEqual(d.peersAdded.map((p) => p.name), ['new']);
  assert.deepEqual(d.peersRemoved.map((p) => p.name), ['gone']);
  assert.equal(d.peersChanged.length, 1);
  assert.equal(d.peersChanged[0]?.before, a.peers[1]);
  assert.equal(d.peersChanged[0]?.after, b.peers[1]);
  assert.deepEqual(d.peersChanged[0]?.keys, ['description', 'families', 'holdTime']);
  assert.deepEqual(d.globalChanged, []);
});

test('a renamed peer is one removed and one added', () => {
  const d = diffConfig(cfg(A), cfg(A.replace('name: keep', 'name: kept')));
  assert.deepEqual(d.peersAdded.map((p) => p.name), ['kept']);
  assert.deepEqual(d.peersRemoved.map((p) => p.name), ['keep']);
});

test('originate: added, removed, and a changed next hop as remove + add', () => {
  const b = cfg(A.replace('  - prefix: 10.244.2.0/26\n', '  - prefix: 10.244.4.0/26\n').replace('nextHop: 10.0.0.9', 'nextHop: 10.0.0.8'));
  const d = diffConfig(cfg(A), b);
  assert.deepEqual(d.originateAdded, [
    { prefix: '10.244.4.0/26', family: 'ipv4-unicast' },
    { prefix: '10.244.3.0/26', family: 'ipv4-unicast', nextHop: '10.0.0.8' },
  ]);
  assert.deepEqual(d.originateRemoved, [
    { prefix: '10.244.2.0/26', family: 'ipv4-unicast' },
    { prefix: '10.244.3.0/26', family: 'ipv4-unicast', nextHop: '10.0.0.9' },
  ]);
  assert.deepEqual(d.peersChanged, []);
});

test('global changes are named by dotted key path', () => {
  const b = cfg(
    A.replace('routerId: 10.0.0.1', 'routerId: 10.0.0.2').replace('asn: 65001\n', 'asn: 65001\nlisten: {port: 1179}\ncontrol: {socket: /tmp/x.ctl}\nlogLevel: debug\n'),
  );
  // The cluster id defaults to the router id, so it moves with it (RFC 4456 §7).
  assert.deepEqual(diffConfig(cfg(A), b).globalChanged, ['routerId', 'logLevel', 'listen.port', 'control.socket', 'routeReflector.clusterId']);
  const off = cfg(A.replace('asn: 65001\n', 'asn: 65001\nlisten: false\n'));
  assert.deepEqual(diffConfig(cfg(A), off).globalChanged, ['listen.enabled']);
  const addr = cfg(A.replace('asn: 65001\n', 'asn: 65001\nlisten: {address: 10.0.0.1}\n'));
  assert.deepEqual(diffConfig(cfg(A), addr).globalChanged, ['listen.addresses']);
});

test('an optional key being set or cleared counts as a change', () => {
  const b = cfg(A.replace('{name: keep, address: 10.0.0.2, asn: 65002}', '{name: keep, address: 10.0.0.2, asn: 65002, keepalive: 10, addPaths: tx}'));
  const d = diffConfig(cfg(A), b);
  assert.deepEqual(d.peersChanged.map((c) => [c.before.name, c.keys]), [['keep', ['addPaths', 'keepalive']]]);
  assert.deepEqual(diffConfig(b, cfg(A)).peersChanged.map((c) => c.keys), [['addPaths', 'keepalive']]);
});
