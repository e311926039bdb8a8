// SPDX-License-Identifier: Apache-2.0
// `tern calico run` startup rules: no daemon (and no config file) before every source synced,
// graceful-restart recovery mode when asked (BIRD -R), and a snapshot that compiles to an
// invalid config is rejected while the running config stays.
import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeApiServer } from '../../helpers/fake-apiserver.ts';
import { CalicoRunner, calicoRuntimeDefaults, type CalicoRunOptions } from '../../../src/calico/run.ts';
import { FAST, bgpConfig, bgpPeer, blockAffinity, ipPool, k8sNode, silent, sleep, transportFor, waitFor } from './helpers.ts';

let server: FakeApiServer | undefined;
let runner: CalicoRunner | undefined;
let dir: string | undefined;
/** Makes the next compiled document invalid (asn not a number). */
let breakConfig = false;
afterEach(async () => {
  breakConfig = false;
  await runner?.stop();
  await server?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  runner = server = dir = undefined;
});

async function setup(extra: Partial<CalicoRunOptions> = {}): Promise<{ s: FakeApiServer; r: CalicoRunner; file: string }> {
  dir = mkdtempSync(join(tmpdir(), 'tern-calico-run-'));
  server = await FakeApiServer.start();
  server.apply(bgpConfig('default', { asNumber: 64512, nodeToNodeMeshEnabled: true, listenPort: 0, bindMode: 'NodeIP' }));
  server.apply(ipPool('pool', '10.244.0.0/16'));
  server.apply(k8sNode('node-a', '127.0.0.1/8'));
  server.apply(k8sNode('node-b', '127.0.0.2/8')); // never runs: the mesh peer stays down
  server.apply(blockAffinity('node-a', '10.244.1.0/26'));
  const file = join(dir, 'tern.json');
  const d = dir;
  runner = new CalicoRunner({
    env: { NODENAME: 'node-a' },
    log: silent,
    transport: transportFor(server),
    configFile: file,
    datastore: { debounceMs: 20, ...FAST },
    adjust: (doc) => {
      const { kernel: _k, birdSockets: _b, ...rest } = doc; // no kernel routes, no /var/run sockets from a test
      return { ...rest, listen: { address: ['127.0.0.1'], port: 0 }, control: { socket: join(d, 'tern.ctl') }, ...(breakConfig ? { asn: 'not-a-number' } : {}) };
    },
    ...extra,
  });
  return { s: server, r: runner, file };
}

test('nothing is applied (no daemon, no config file) until every source has synced', async () => {
  const { s, r, file } = await setup();
  s.forbid('bgpfilters');
  await r.start();
  await waitFor('bgpfilters retried', () => s.requestsFor('bgpfilters', 'list').length >= 2);
  await sleep(100);
  assert.equal(r.daemon, undefined);
  assert.equal(existsSync(file), false);
  s.allow('bgpfilters');
  const d = await r.whenStarted();
  assert.ok(existsSync(file));
  assert.deepEqual(d.config.originate.map((o) => o.prefix), ['10.244.1.0/26']);
  assert.deepEqual(d.config.peers.map((p) => p.address), ['127.0.0.2']);
});

test('--graceful-restart starts the daemon in RFC 4724 restarting mode (BIRD -R)', async () => {
  const { r } = await setup({ gracefulRestart: true });
  await r.start();
  const d = await r.whenStarted();
  assert.equal(d.speaker.recovering, true);
});

test('without it, no recovery mode', async () => {
  const { r } = await setup();
  await r.start();
  const d = await r.whenStarted();
  assert.equal(d.speaker.recovering, false);
});

test('a snapshot that compiles to an invalid config is rejected; the running config stays', async () => {
  const { s, r } = await setup();
  await r.start();
  const d = await r.whenStarted();
  const rejected = new Promise((resolve) => r.once('rejected', resolve));
  breakConfig = true;
  s.apply(bgpPeer('tor', { node: 'node-a', peerIP: '127.0.0.9', asNumber: 65000 }));
  await rejected;
  assert.deepEqual(d.config.peers.map((p) => p.address), ['127.0.0.2'], 'the new peer was not applied');
  breakConfig = false;
  const applied = new Promise((resolve) => r.once('applied', resolve));
  s.apply(bgpPeer('tor', { node: 'node-a', peerIP: '127.0.0.9', asNumber: 65001 }));
  await applied;
  assert.deepEqual(d.config.peers.map((p) => p.address).sort(), ['127.0.0.2', '127.0.0.9']);
});

test('calico-node runtime defaults: control socket and BIRD-compatible sockets, overridable by env', () => {
  assert.deepEqual(calicoRuntimeDefaults({}), {
    control: { socket: '/var/run/calico/tern.ctl' },
    birdSockets: { ipv4: '/var/run/calico/bird.ctl', ipv6: '/var/run/calico/bird6.ctl' },
  });
  assert.deepEqual(calicoRuntimeDefaults({ TERN_BIRD_SOCKET: '', TERN_BIRD6_SOCKET: '', TERN_CONTROL_SOCKET: '/tmp/t.ctl' }), { control: { socket: '/tmp/t.ctl' } });
});
