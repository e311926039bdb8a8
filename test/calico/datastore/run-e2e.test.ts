// SPDX-License-Identifier: Apache-2.0
// End to end, in-process: the fake API server holds a small cluster (two nodes, a pool, one
// block affinity per node, the node-to-node mesh on a test port bound to each node's loopback
// address); two `tern calico run` runners (node-a on 127.0.0.1, node-b on 127.0.0.2) read it,
// compile, start their daemons, mesh with each other and exchange their blocks. Then BGPPeer
// changes are applied live: an added peer and a changed peer reset nothing but themselves.
// Kernel programming is switched off (the test must not touch the host's routes).
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeApiServer } from '../../helpers/fake-apiserver.ts';
import { CalicoRunner, calicoNodeName } from '../../../src/calico/run.ts';
import type { ReloadReport, PeerEntry } from '../../../src/daemon.ts';
import { createLogger } from '../../../src/observability/log.ts';
import { routeRows } from '../../../src/control/views.ts';
import { FAST, V1, bgpConfig, bgpPeer, blockAffinity, ipPool, k8sNode, secret, silent, transportFor, waitFor } from './helpers.ts';

const PORT = 21790 + (process.pid % 1000);
let server: FakeApiServer;
let dir: string;
const runners: CalicoRunner[] = [];

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tern-calico-e2e-'));
  server = await FakeApiServer.start();
  server.apply(bgpConfig('default', { asNumber: 64512, nodeToNodeMeshEnabled: true, listenPort: PORT, bindMode: 'NodeIP', logSeverityScreen: 'Info' }));
  server.apply(ipPool('default-ipv4-ippool', '10.244.0.0/16'));
  server.apply(k8sNode('node-a', '127.0.0.1/8'));
  server.apply(k8sNode('node-b', '127.0.0.2/8'));
  server.apply(blockAffinity('node-a', '10.244.1.0/26'));
  server.apply(blockAffinity('node-b', '10.244.2.0/26'));
});

after(async () => {
  await Promise.all(runners.map((r) => r.stop()));
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

function runner(node: string): CalicoRunner {
  const r = new CalicoRunner({
    env: { NODENAME: node, NAMESPACE: 'kube-system' },
    log: process.env.TERN_TEST_LOG ? createLogger({ level: process.env.TERN_TEST_LOG }) : silent,
    transport: transportFor(server),
    configFile: join(dir, `${node}.json`),
    datastore: { debounceMs: 20, ...FAST },
    adjust: (doc) => {
      const { kernel: _kernel, birdSockets: _b, ...rest } = doc; // no kernel routes, no /var/run sockets from a test
      return { ...rest, control: { socket: join(dir, `${node}.ctl`) } };
    },
  });
  runners.push(r);
  return r;
}

function established(entry: PeerEntry | undefined): boolean {
  return entry?.session.state === 'Established';
}

/** Loc-RIB routes learned from a peer (not originated here). */
function learned(r: CalicoRunner): string[] {
  return routeRows(r.daemon!, 'loc', {}).filter((v) => v.peer !== null && v.best).map((v) => v.prefix).sort();
}

function nextReport(r: CalicoRunner): Promise<ReloadReport> {
  return new Promise((resolve) => r.once('applied', resolve));
}

test('NODENAME comes from the env first', () => {
  assert.equal(calicoNodeName({ NODENAME: 'x' }, '/nonexistent'), 'x');
  assert.equal(calicoNodeName({ HOSTNAME: 'h' }, '/nonexistent'), 'h');
});

test('two nodes: datastore → compile → daemon, mesh established, blocks exchanged', async () => {
  const a = runner('node-a');
  const b = runner('node-b');
  await Promise.all([a.start(), b.start()]);
  const [da, db] = await Promise.all([a.whenStarted(), b.whenStarted()]);
  // The written config is the validated one the daemon runs.
  const written = JSON.parse(readFileSync(join(dir, 'node-a.json'), 'utf8')) as { routerId: string; peers: { address: string }[] };
  assert.equal(written.routerId, '127.0.0.1');
  assert.deepEqual(written.peers.map((p) => p.address), ['127.0.0.2']);
  const meshA = [...da.peers.values()][0];
  const meshB = [...db.peers.values()][0];
  await waitFor('mesh established', () => established(meshA) && established(meshB), 15_000);
  await waitFor('blocks exchanged', () => learned(a).includes('10.244.2.0/26') && learned(b).includes('10.244.1.0/26'), 10_000);
  assert.deepEqual(learned(a), ['10.244.2.0/26']);
  assert.deepEqual(learned(b), ['10.244.1.0/26']);
});

test('a new BGPPeer is added live; an unchanged mesh session is not reset', async () => {
  const [a, b] = runners as [CalicoRunner, CalicoRunner];
  const meshA = [...a.daemon!.peers.values()][0]!;
  const sessionBefore = meshA.session;
  let downs = 0;
  a.daemon!.events.on('peerDown', () => downs++);
  const reportA = nextReport(a);
  const reportB = nextReport(b);
  // A ToR for node-a only; nobody listens there, so it stays connecting.
  server.apply(bgpPeer('tor-a', { node: 'node-a', peerIP: '127.0.0.9', asNumber: 65000 }));
  const ra = await reportA;
  assert.equal(ra.peersAdded.length, 1);
  assert.deepEqual(ra.peersRemoved, []);
  assert.deepEqual(ra.peersReset, []);
  assert.ok(a.daemon!.peers.has(ra.peersAdded[0]!));
  // node-b sees the new BGPPeer too, but it is node-a's: b's config compiles the same, so its
  // apply is an empty difference.
  const rb = await reportB;
  assert.deepEqual([rb.peersAdded, rb.peersRemoved, rb.peersReset, rb.peersUpdated], [[], [], [], []]);
  assert.equal([...a.daemon!.peers.values()].find((p) => p.config.address === '127.0.0.2')?.session, sessionBefore, 'same session object');
  assert.ok(established(meshA));
  assert.equal(downs, 0);
});

test('a changed BGPPeer resets only that peer', async () => {
  const [a] = runners as [CalicoRunner];
  const meshA = [...a.daemon!.peers.values()].find((p) => p.config.address === '127.0.0.2')!;
  const sessionBefore = meshA.session;
  const report = nextReport(a);
  server.apply(bgpPeer('tor-a', { node: 'node-a', peerIP: '127.0.0.9', asNumber: 65001 }));
  const r = await report;
  assert.equal(r.peersReset.length, 1);
  assert.equal(a.daemon!.peers.get(r.peersReset[0]!)?.config.asn, 65001);
  assert.deepEqual(r.peersAdded, []);
  assert.equal(meshA.session, sessionBefore);
  assert.ok(established(meshA));
});

test('a rotated password Secret resets only the peer that uses it', async () => {
  const [a] = runners as [CalicoRunner];
  const meshA = [...a.daemon!.peers.values()].find((p) => p.config.address === '127.0.0.2')!;
  const sessionBefore = meshA.session;
  server.apply(secret('bgp-passwords', 'kube-system', { tor: 'first-password' }));
  let report = nextReport(a);
  server.apply(bgpPeer('tor-a', { node: 'node-a', peerIP: '127.0.0.9', asNumber: 65001, password: { secretKeyRef: { name: 'bgp-passwords', key: 'tor' } } }));
  let r = await report;
  assert.equal(r.peersReset.length, 1);
  const torName = r.peersReset[0]!;
  assert.equal(a.daemon!.peers.get(torName)?.config.password, 'first-password');
  report = nextReport(a);
  server.apply(secret('bgp-passwords', 'kube-system', { tor: 'second-password' }));
  r = await report;
  assert.deepEqual(r.peersReset, [torName]);
  assert.equal(a.daemon!.peers.get(torName)?.config.password, 'second-password');
  assert.equal(meshA.session, sessionBefore);
  assert.ok(established(meshA));
});

test('a deleted BGPPeer is removed live, and the mesh stays', async () => {
  const [a] = runners as [CalicoRunner];
  const report = nextReport(a);
  server.delete(V1, 'BGPPeer', 'tor-a');
  const r = await report;
  assert.equal(r.peersRemoved.length, 1);
  assert.equal(a.daemon!.peers.size, 1);
  assert.ok(established([...a.daemon!.peers.values()][0]));
});
