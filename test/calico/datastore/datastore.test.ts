// SPDX-License-Identifier: Apache-2.0
// CalicoDatastore against the fake API server: API group detection both ways, "nothing until every
// source synced", password Secrets by name in NAMESPACE, Services only when advertisement is
// configured, this node's BlockAffinities only, debounced and deduplicated snapshots.
import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { FakeApiServer } from '../../helpers/fake-apiserver.ts';
import { CalicoDatastore, type DatastoreOptions } from '../../../src/calico/datastore/datastore.ts';
import { apiGroupFromEnv, detectCalicoApiGroup } from '../../../src/calico/datastore/api-group.ts';
import { KubeApiError, type KubeTransport } from '../../../src/calico/datastore/transport.ts';
import type { CalicoSnapshot } from '../../../src/calico/resources.ts';
import { FAST, V1, bgpConfig, bgpPeer, blockAffinity, ipPool, k8sNode, secret, silent, sleep, transportFor, waitFor } from './helpers.ts';

let server: FakeApiServer | undefined;
let store: CalicoDatastore | undefined;
afterEach(async () => {
  await store?.stop();
  await server?.close();
  store = undefined;
  server = undefined;
});

function datastore(s: FakeApiServer, env: NodeJS.ProcessEnv = {}, extra: Partial<DatastoreOptions> = {}): CalicoDatastore {
  return new CalicoDatastore({ transport: transportFor(s), log: silent, nodeName: 'node-a', namespace: 'kube-system', env, debounceMs: 30, ...FAST, ...extra });
}

const names = (objs: { metadata?: { name?: string } }[]) => objs.map((o) => o.metadata?.name).sort();

function seed(s: FakeApiServer, apiVersion = V1): void {
  s.apply(bgpConfig('default', { asNumber: 64512, nodeToNodeMeshEnabled: true }, apiVersion));
  s.apply(ipPool('default-ipv4-ippool', '10.244.0.0/16', apiVersion));
  s.apply(k8sNode('node-a', '192.168.1.10/24'));
  s.apply(k8sNode('node-b', '192.168.1.11/24'));
  s.apply(blockAffinity('node-a', '10.244.1.0/26', apiVersion));
  s.apply(blockAffinity('node-b', '10.244.2.0/26', apiVersion));
}

// ----- API group detection -----

test('API group: crd.projectcalico.org only → v1 by discovery', async () => {
  server = await FakeApiServer.start({ calicoGroups: ['crd.projectcalico.org'] });
  const g = await detectCalicoApiGroup(transportFor(server), {}, silent);
  assert.deepEqual(g, { group: 'crd.projectcalico.org', version: 'v1', decidedBy: 'discovery' });
});

test('API group: native projectcalico.org/v3 CRDs only → v3, and the datastore reads v3 paths', async () => {
  server = await FakeApiServer.start({ calicoGroups: ['projectcalico.org'] });
  seed(server, 'projectcalico.org/v3');
  store = datastore(server);
  const first = store.nextSnapshot();
  await store.start();
  const snap = await first;
  assert.equal(store.status().apiGroup, 'projectcalico.org/v3');
  assert.deepEqual(names(snap.ipPools), ['default-ipv4-ippool']);
  assert.ok(server.requestsFor('bgppeers', 'list').every((r) => r.path === '/apis/projectcalico.org/v3/bgppeers'));
});

test('API group: both served (aggregated API server over v1 CRDs) → v1, as Calico does', async () => {
  server = await FakeApiServer.start({ calicoGroups: ['crd.projectcalico.org', 'projectcalico.org'] });
  const g = await detectCalicoApiGroup(transportFor(server), {}, silent);
  assert.equal(g.group, 'crd.projectcalico.org');
});

test('API group: CALICO_API_GROUP overrides discovery, both ways', async () => {
  server = await FakeApiServer.start({ calicoGroups: ['crd.projectcalico.org'] });
  const v3 = await detectCalicoApiGroup(transportFor(server), { CALICO_API_GROUP: 'projectcalico.org/v3' }, silent);
  assert.deepEqual(v3, { group: 'projectcalico.org', version: 'v3', decidedBy: 'env' });
  assert.equal(server.requests.length, 0, 'no discovery when the env decides');
  assert.equal(apiGroupFromEnv('crd.projectcalico.org/v1')?.group, 'crd.projectcalico.org');
  assert.equal(apiGroupFromEnv(''), undefined);
});

test('API group: an HTTP error on discovery falls back to v1 at once', async () => {
  let calls = 0;
  const failing: KubeTransport = {
    get: async () => {
      calls++;
      throw new KubeApiError(503, 'unavailable');
    },
    watch: async () => ({ abort() {} }),
  };
  const g = await detectCalicoApiGroup(failing, {}, silent, 5, 1);
  assert.deepEqual(g, { group: 'crd.projectcalico.org', version: 'v1', decidedBy: 'fallback' });
  assert.equal(calls, 1);
});

// ----- Sync gating and snapshots -----

test('nothing is emitted until every source has synced once', async () => {
  server = await FakeApiServer.start();
  seed(server);
  server.forbid('ippools');
  store = datastore(server);
  let snapshots = 0;
  store.on('snapshot', () => snapshots++);
  await store.start();
  await waitFor('ippools tried twice', () => server!.requestsFor('ippools', 'list').length >= 2);
  await sleep(100);
  assert.equal(snapshots, 0);
  assert.equal(store.current(), undefined);
  const st = store.status();
  assert.equal(st.synced, false);
  assert.equal(st.sources.find((s) => s.name === 'ippools')?.lastErrorStatus, 403);
  server.allow('ippools');
  await waitFor('snapshot', () => snapshots === 1);
  assert.deepEqual(names(store.current()!.ipPools), ['default-ipv4-ippool']);
});

test('first snapshot: all kinds, this node\'s block affinities only, nodes without heartbeat noise', async () => {
  server = await FakeApiServer.start();
  seed(server);
  server.apply(bgpPeer('tor', { peerIP: '192.168.1.1', asNumber: 65000 }));
  server.apply({ apiVersion: V1, kind: 'BGPFilter', metadata: { name: 'f' }, spec: { exportV4: [{ action: 'Reject', cidr: '10.0.0.0/8', matchOperator: 'In' }] } });
  store = datastore(server);
  const first = store.nextSnapshot();
  await store.start();
  const snap = await first;
  assert.deepEqual(names(snap.bgpConfigurations), ['default']);
  assert.deepEqual(names(snap.bgpPeers), ['tor']);
  assert.deepEqual(names(snap.bgpFilters), ['f']);
  assert.deepEqual(names(snap.nodes), ['node-a', 'node-b']);
  assert.deepEqual(snap.blockAffinities.map((a) => a.spec?.cidr), ['10.244.1.0/26']);
  assert.equal(snap.secrets.length + snap.services.length + snap.endpointSlices.length, 0);
  // A heartbeat (status.conditions) changes nothing BGP reads: no new snapshot.
  let more = 0;
  store.on('snapshot', () => more++);
  server.apply(k8sNode('node-b', '192.168.1.11/24'));
  await sleep(150);
  assert.equal(more, 0);
  // An annotation change does.
  server.apply(k8sNode('node-b', '192.168.1.11/24', { 'projectcalico.org/RouteReflectorClusterID': '244.0.0.1' }));
  await waitFor('snapshot after annotation', () => more === 1);
});

test('a burst of changes becomes one debounced snapshot', async () => {
  server = await FakeApiServer.start();
  seed(server);
  store = datastore(server, {}, { debounceMs: 80 });
  const first = store.nextSnapshot();
  await store.start();
  await first;
  const snaps: CalicoSnapshot[] = [];
  store.on('snapshot', (s: CalicoSnapshot) => snaps.push(s));
  for (let i = 1; i <= 5; i++) server.apply(bgpPeer(`p${i}`, { peerIP: `192.168.1.${100 + i}`, asNumber: 65000 }));
  await waitFor('snapshot', () => snaps.length >= 1);
  await sleep(150);
  assert.equal(snaps.length, 1);
  assert.equal(snaps[0]!.bgpPeers.length, 5);
});

// ----- Secrets -----

test('password secrets: only the referenced names, in NAMESPACE, watched by name; a change is a new snapshot', async () => {
  server = await FakeApiServer.start();
  seed(server);
  server.apply(bgpPeer('tor', { peerIP: '192.168.1.1', asNumber: 65000, password: { secretKeyRef: { name: 'bgp-passwords', key: 'tor' } } }));
  server.apply(secret('bgp-passwords', 'kube-system', { tor: 'very-secret' }));
  server.apply(secret('unrelated', 'kube-system', { x: 'y' }));
  server.apply(secret('bgp-passwords', 'default', { tor: 'wrong-namespace' }));
  store = datastore(server);
  const first = store.nextSnapshot();
  await store.start();
  const snap = await first;
  assert.equal(snap.secrets.length, 1);
  const s = snap.secrets[0]!;
  assert.equal(s.metadata?.namespace, 'kube-system');
  assert.equal(Buffer.from(s.data!.tor!, 'base64').toString(), 'very-secret');
  const reqs = server.requestsFor('secrets');
  assert.ok(reqs.length > 0 && reqs.every((r) => r.path === '/api/v1/namespaces/kube-system/secrets' && r.query.fieldSelector === 'metadata.name=bgp-passwords'));
  const next = store.nextSnapshot();
  server.apply(secret('bgp-passwords', 'kube-system', { tor: 'rotated' }));
  const after = await next;
  assert.equal(Buffer.from(after.secrets[0]!.data!.tor!, 'base64').toString(), 'rotated');
});

test('a secret referenced later is read before the next snapshot; an unreferenced one is dropped', async () => {
  server = await FakeApiServer.start();
  seed(server);
  server.apply(secret('mesh', 'kube-system', { pw: 'm' }));
  store = datastore(server);
  const first = store.nextSnapshot();
  await store.start();
  assert.equal((await first).secrets.length, 0);
  assert.equal(server.requestsFor('secrets').length, 0);
  const next = store.nextSnapshot();
  server.apply(bgpConfig('default', { asNumber: 64512, nodeToNodeMeshEnabled: true, nodeMeshPassword: { secretKeyRef: { name: 'mesh', key: 'pw' } } }));
  const withSecret = await next;
  assert.deepEqual(names(withSecret.secrets), ['mesh'], 'the config and its secret arrive together');
  const last = store.nextSnapshot();
  server.apply(bgpConfig('default', { asNumber: 64512, nodeToNodeMeshEnabled: true }));
  assert.equal((await last).secrets.length, 0);
  await waitFor('secret watch closed', () => server!.openWatches('secrets') === 0);
});

// ----- Services -----

test('Services and EndpointSlices are read only when service advertisement is configured', async () => {
  server = await FakeApiServer.start();
  seed(server);
  server.apply({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'default' }, spec: { type: 'ClusterIP', clusterIP: '10.96.0.10', externalTrafficPolicy: 'Cluster' } });
  server.apply({ apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 'web-abc', namespace: 'default', labels: { 'kubernetes.io/service-name': 'web' } }, addressType: 'IPv4', endpoints: [{ addresses: ['10.244.1.5'], nodeName: 'node-a' }] });
  store = datastore(server);
  const first = store.nextSnapshot();
  await store.start();
  const snap = await first;
  assert.equal(snap.services.length, 0);
  assert.equal(server.requestsFor('services').length + server.requestsFor('endpointslices').length, 0);
  const next = store.nextSnapshot();
  server.apply(bgpConfig('default', { asNumber: 64512, serviceClusterIPs: [{ cidr: '10.96.0.0/12' }] }));
  const withServices = await next;
  assert.deepEqual(names(withServices.services), ['web']);
  assert.deepEqual(names(withServices.endpointSlices), ['web-abc']);
  assert.equal(server.requestsFor('services', 'list')[0]?.path, '/api/v1/services');
});

test('CALICO_ADVERTISE_CLUSTER_IPS (legacy env) also turns on the Services sources', async () => {
  server = await FakeApiServer.start();
  seed(server);
  store = datastore(server, { CALICO_ADVERTISE_CLUSTER_IPS: '10.96.0.0/12' });
  const first = store.nextSnapshot();
  await store.start();
  await first;
  assert.ok(server.requestsFor('services', 'list').length > 0);
  assert.ok(server.requestsFor('endpointslices', 'list').length > 0);
});
