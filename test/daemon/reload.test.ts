// SPDX-License-Identifier: Apache-2.0
// Reload: a changed policy re-evaluates routes without resetting the session; a broken file
// changes nothing and says why; peers added and removed take effect.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/index.ts';
import { Daemon } from '../../src/daemon.ts';
import { createLogger } from '../../src/observability/log.ts';
import { controlRequest } from '../../src/control/client.ts';
import type { PeerView, RouteView } from '../../src/control/views.ts';
import { ScriptedPeer, basicAttributes } from '../helpers/scripted-peer.ts';
import { dottedToU32, ipv4ToBytes } from '../../src/util/ip.ts';

const PORT = 22179 + (process.pid % 500);

function yaml(dir: string, importPolicy: string, extraPeers = ''): string {
  return `routerId: 127.0.0.1
asn: 65000
listen: { address: 127.0.0.1, port: ${PORT} }
control: { socket: ${join(dir, 'tern.ctl')} }
policies:
  only-tens:
    - match: { prefixWithin: 10.0.0.0/8 }
      action: accept
peers:
  - name: ext
    address: 127.0.0.2
    asn: 65100
    passive: true
    import: ${importPolicy}
    export: all
${extraPeers}`;
}

test('reload: a new import policy applies to routes already received, without a session reset', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tern-reload-'));
  const file = join(dir, 'tern.yaml');
  writeFileSync(file, yaml(dir, 'all'));
  const daemon = new Daemon(loadConfig(file), createLogger({ level: 'silent' }));
  const peer = new ScriptedPeer({ asn: 65100, bgpId: dottedToU32('127.0.0.2')!, holdTime: 30, families: ['ipv4-unicast'] }, 'ebgp');
  const socket = join(dir, 'tern.ctl');
  const routes = async () => ((await controlRequest(socket, 'show routes', { peer: 'ext' })) as RouteView[]).map((r) => r.prefix);
  try {
    await daemon.start();
    await peer.establish('127.0.0.1', PORT, '127.0.0.2');
    peer.announce('ipv4-unicast', ['10.1.0.0/24', '192.168.5.0/24'], basicAttributes(ipv4ToBytes('127.0.0.2')!, { asPath: [{ type: 2, asns: [65100] }] }));
    const until = Date.now() + 5000;
    while ((await routes()).length < 2 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(await routes(), ['10.1.0.0/24', '192.168.5.0/24']);

    writeFileSync(file, yaml(dir, 'only-tens'));
    const report = (await controlRequest(socket, 'reload')) as { peersUpdated: string[]; peersReset: string[] };
    assert.deepEqual(report.peersUpdated, ['ext']);
    assert.deepEqual(report.peersReset, []);
    assert.deepEqual(await routes(), ['10.1.0.0/24']);
    const rejected = ((await controlRequest(socket, 'show routes', { table: 'adj-in', peer: 'ext' })) as RouteView[]).find((r) => r.prefix === '192.168.5.0/24');
    assert.match(rejected!.reason!, /rejected by import policy/);
    assert.equal(peer.closed, false, 'the session stayed up');

    // A broken file: refused, and the running config stays.
    writeFileSync(file, 'routerId: nope\n');
    await assert.rejects(controlRequest(socket, 'reload'), /reload refused, the running configuration is unchanged:[\s\S]*routerId/);
    assert.deepEqual(await routes(), ['10.1.0.0/24']);

    // A peer added by reload shows up.
    writeFileSync(file, yaml(dir, 'only-tens', '  - { name: extra, address: 127.0.0.3, asn: 65000, passive: true }\n'));
    const added = (await controlRequest(socket, 'reload')) as { peersAdded: string[] };
    assert.deepEqual(added.peersAdded, ['extra']);
    assert.deepEqual(((await controlRequest(socket, 'show peers')) as PeerView[]).map((p) => p.name), ['ext', 'extra']);
    assert.equal(peer.closed, false);
  } finally {
    peer.close();
    await daemon.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
