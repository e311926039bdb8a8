// SPDX-License-Identifier: Apache-2.0
// Reflector (list + watch) against the fake API server through @kubernetes/client-node:
// initial sync, paging, watch updates, 410 Gone → relist, bookmarks, 403 handling.
import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { FakeApiServer } from '../../helpers/fake-apiserver.ts';
import { Reflector } from '../../../src/calico/datastore/reflector.ts';
import { FAST, V1, bgpPeer, k8sNode, silent, sleep, transportFor, waitFor } from './helpers.ts';

let server: FakeApiServer | undefined;
let reflector: Reflector | undefined;
afterEach(async () => {
  await reflector?.stop();
  await server?.close();
  reflector = undefined;
  server = undefined;
});

function peersReflector(s: FakeApiServer, extra: { pageSize?: number } = {}): Reflector {
  return new Reflector(transportFor(s), { name: 'bgppeers', path: `/apis/${V1}/bgppeers`, apiVersion: V1, kind: 'BGPPeer', log: silent, ...FAST, ...extra });
}

test('initial sync: lists, emits synced once, then watches from the list resourceVersion with bookmarks', async () => {
  server = await FakeApiServer.start();
  server.apply(bgpPeer('rr1', { peerIP: '10.0.0.1', asNumber: 64512 }));
  server.apply(bgpPeer('tor', { peerIP: '10.0.0.254', asNumber: 65000 }));
  const listRv = String(server.rv);
  reflector = peersReflector(server);
  let synced = 0;
  reflector.on('synced', () => synced++);
  reflector.start();
  await waitFor('sync', () => reflector!.synced);
  await waitFor('watch', () => server!.openWatches('bgppeers') === 1);
  assert.equal(synced, 1);
  assert.deepEqual(reflector.list().map((o) => o.metadata?.name).sort(), ['rr1', 'tor']);
  const [list] = server.requestsFor('bgppeers', 'list');
  assert.equal(list?.query.limit, '500');
  const [watch] = server.requestsFor('bgppeers', 'watch');
  assert.equal(watch?.query.resourceVersion, listRv);
  assert.equal(watch?.query.allowWatchBookmarks, 'true');
  assert.ok(Number(watch?.query.timeoutSeconds) >= 300);
});

test('a list longer than a page is read with continue tokens', async () => {
  server = await FakeApiServer.start();
  for (let i = 0; i < 5; i++) server.apply(bgpPeer(`p${i}`, { peerIP: `10.0.0.${i + 1}`, asNumber: 65000 }));
  reflector = peersReflector(server, { pageSize: 2 });
  reflector.start();
  await waitFor('sync', () => reflector!.synced);
  assert.equal(reflector.store.size, 5);
  const lists = server.requestsFor('bgppeers', 'list');
  assert.equal(lists.length, 3);
  assert.ok(lists[1]?.query.continue);
});

test('built-in list items get apiVersion and kind filled in', async () => {
  server = await FakeApiServer.start();
  server.apply(k8sNode('node-a', '192.168.1.10/24'));
  reflector = new Reflector(transportFor(server), { name: 'nodes', path: '/api/v1/nodes', apiVersion: 'v1', kind: 'Node', log: silent, ...FAST });
  reflector.start();
  await waitFor('sync', () => reflector!.synced);
  const [node] = reflector.list();
  assert.equal(node?.kind, 'Node');
  assert.equal(node?.apiVersion, 'v1');
});

test('watch events add, modify and delete objects and emit change', async () => {
  server = await FakeApiServer.start();
  server.apply(bgpPeer('rr1', { peerIP: '10.0.0.1', asNumber: 64512 }));
  reflector = peersReflector(server);
  let changes = 0;
  reflector.on('change', () => changes++);
  reflector.start();
  await waitFor('watch', () => server!.openWatches('bgppeers') === 1);
  server.apply(bgpPeer('tor', { peerIP: '10.0.0.254', asNumber: 65000 }));
  await waitFor('added', () => reflector!.store.has('/tor'));
  server.apply(bgpPeer('tor', { peerIP: '10.0.0.253', asNumber: 65000 }));
  await waitFor('modified', () => reflector!.store.get('/tor')?.spec?.peerIP === '10.0.0.253');
  server.delete(V1, 'BGPPeer', 'rr1');
  await waitFor('deleted', () => !reflector!.store.has('/rr1'));
  assert.equal(changes, 3);
  assert.equal(reflector.resourceVersion, String(server.rv));
  assert.equal(server.requestsFor('bgppeers', 'list').length, 1, 'no relist while the watch works');
});

test('a cleanly closed watch resumes from the last resourceVersion without a relist', async () => {
  server = await FakeApiServer.start();
  reflector = peersReflector(server);
  reflector.start();
  await waitFor('watch', () => server!.openWatches('bgppeers') === 1);
  server.apply(bgpPeer('a', { peerIP: '10.0.0.1', asNumber: 65000 }));
  await waitFor('added', () => reflector!.store.has('/a'));
  const rv = reflector.resourceVersion;
  server.closeWatches();
  server.apply(bgpPeer('b', { peerIP: '10.0.0.2', asNumber: 65000 })); // while no watch is open
  await waitFor('b via replayed history', () => reflector!.store.has('/b'));
  const watches = server.requestsFor('bgppeers', 'watch');
  assert.equal(watches.at(-1)?.query.resourceVersion, rv);
  assert.equal(server.requestsFor('bgppeers', 'list').length, 1);
});

test('410 Gone (watch from a compacted resourceVersion) relists, and the relist reports deletions', async () => {
  server = await FakeApiServer.start();
  server.apply(bgpPeer('old', { peerIP: '10.0.0.1', asNumber: 65000 }));
  reflector = peersReflector(server);
  reflector.start();
  await waitFor('watch', () => server!.openWatches('bgppeers') === 1);
  let changes = 0;
  reflector.on('change', () => changes++);
  const staleRv = reflector.resourceVersion;
  server.closeWatches();
  // While disconnected: a delete and a create, then the history is compacted away.
  server.delete(V1, 'BGPPeer', 'old');
  server.apply(bgpPeer('new', { peerIP: '10.0.0.2', asNumber: 65000 }));
  server.compact();
  await waitFor('relist', () => server!.requestsFor('bgppeers', 'list').length === 2);
  await waitFor('store', () => reflector!.store.has('/new') && !reflector!.store.has('/old'));
  const watches = server.requestsFor('bgppeers', 'watch');
  assert.ok(watches.some((w) => w.query.resourceVersion === staleRv), 'tried to resume from the stale version first');
  assert.equal(changes, 1, 'the relist is one change');
  await waitFor('rewatch', () => server!.openWatches('bgppeers') === 1);
  assert.equal(server.requestsFor('bgppeers', 'watch').at(-1)?.query.resourceVersion, String(server.rv));
});

test('bookmarks advance the resourceVersion, so a compaction after a quiet period needs no relist', async () => {
  server = await FakeApiServer.start();
  server.apply(bgpPeer('rr1', { peerIP: '10.0.0.1', asNumber: 64512 }));
  reflector = peersReflector(server);
  reflector.start();
  await waitFor('watch', () => server!.openWatches('bgppeers') === 1);
  // Other resources move the global revision on; no BGPPeer event reaches our watch.
  for (let i = 0; i < 5; i++) server.apply(k8sNode(`n${i}`, `192.168.1.${i + 1}/24`));
  assert.notEqual(reflector.resourceVersion, String(server.rv));
  server.bookmark();
  await waitFor('bookmark', () => reflector!.resourceVersion === String(server!.rv));
  server.compact();
  server.closeWatches();
  await waitFor('rewatch', () => server!.openWatches('bgppeers') === 1);
  assert.equal(server.requestsFor('bgppeers', 'list').length, 1, 'resumed from the bookmark: no 410, no relist');
  assert.equal(reflector.store.size, 1);
});

test('without the bookmark the same compaction costs a relist (the bookmark test can fail)', async () => {
  server = await FakeApiServer.start();
  reflector = peersReflector(server);
  reflector.start();
  await waitFor('watch', () => server!.openWatches('bgppeers') === 1);
  for (let i = 0; i < 5; i++) server.apply(k8sNode(`n${i}`, `192.168.1.${i + 1}/24`));
  server.compact();
  server.closeWatches();
  await waitFor('relist', () => server!.requestsFor('bgppeers', 'list').length === 2);
});

test('403 Forbidden: clear error, no sync, slow retries; syncs once RBAC allows it', async () => {
  server = await FakeApiServer.start();
  server.forbid('bgppeers');
  server.apply(bgpPeer('rr1', { peerIP: '10.0.0.1', asNumber: 64512 }));
  reflector = peersReflector(server);
  const problems: (unknown)[] = [];
  reflector.on('problem', (p) => problems.push(p));
  reflector.start();
  await waitFor('two attempts', () => server!.requestsFor('bgppeers', 'list').length >= 2);
  assert.equal(reflector.synced, false);
  const st = reflector.status();
  assert.equal(st.lastErrorStatus, 403);
  assert.match(st.lastError ?? '', /forbidden/);
  // Slow: forbiddenRetryMs (50 ms here), not the 20 ms backoff, and not a tight loop.
  const before = server.requestsFor('bgppeers', 'list').length;
  await sleep(120);
  assert.ok(server.requestsFor('bgppeers', 'list').length - before <= 3);
  server.allow('bgppeers');
  await waitFor('sync', () => reflector!.synced);
  assert.equal(reflector.status().lastError, undefined);
  assert.equal(problems.at(-1), undefined, 'recovery reported');
});

test('403 on the watch after a sync keeps the store and retries until allowed', async () => {
  server = await FakeApiServer.start();
  server.apply(bgpPeer('rr1', { peerIP: '10.0.0.1', asNumber: 64512 }));
  reflector = peersReflector(server);
  reflector.start();
  await waitFor('watch', () => server!.openWatches('bgppeers') === 1);
  server.forbid('bgppeers'); // ends the open watch; re-watching now gets 403
  await waitFor('403', () => reflector!.status().lastErrorStatus === 403);
  assert.equal(reflector.store.size, 1, 'what was read stays');
  assert.equal(reflector.synced, true);
  server.allow('bgppeers');
  server.apply(bgpPeer('tor', { peerIP: '10.0.0.254', asNumber: 65000 }));
  await waitFor('recovered', () => reflector!.store.has('/tor'));
});
