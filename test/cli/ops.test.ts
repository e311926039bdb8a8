// SPDX-License-Identifier: Apache-2.0
// The operator commands as a user runs them against a running daemon: show routes filters
// (--prefix, --longer, --community, --large-community), explain, peer disable/enable, and watch
// until Ctrl-C; and their usage errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../src/config/index.ts';
import { Daemon } from '../../src/daemon.ts';
import { createLogger } from '../../src/observability/log.ts';
import { controlRequest } from '../../src/control/client.ts';
import type { RouteView } from '../../src/control/views.ts';
import { ScriptedPeer, basicAttributes } from '../helpers/scripted-peer.ts';
import { dottedToU32, ipv4ToBytes } from '../../src/util/ip.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const main = join(root, 'src', 'main.ts');
const PORT = 27179 + (process.pid % 500);

/** Runs `tern` asynchronously (the daemon lives in this process and must keep serving). */
function tern(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', main, ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

test('usage errors of explain, peer and watch exit 2', async () => {
  for (const args of [['explain'], ['peer'], ['peer', 'bounce', 'x'], ['peer', 'disable'], ['watch', '--prefix']]) {
    const r = await tern(args);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /^tern: /);
  }
});

test('show routes filters, explain, peer disable/enable and watch from the command line', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tern-cli-ops-'));
  const file = join(dir, 'tern.yaml');
  const socket = join(dir, 'tern.ctl');
  writeFileSync(
    file,
    `routerId: 127.0.0.1
asn: 65000
listen: { address: 127.0.0.1, port: ${PORT} }
control: { socket: ${socket} }
originate: [{ prefix: 10.2.0.0/16 }]
policies:
  not-tens:
    - name: no-ten-two
      match: { prefixWithin: 10.2.0.0/16 }
      action: reject
    - action: accept
peers:
  - { name: p, address: 127.0.0.2, asn: 65100, passive: true, import: all, export: not-tens }
`,
  );
  const daemon = new Daemon(loadConfig(file), createLogger({ level: 'silent' }));
  const peer = new ScriptedPeer({ asn: 65100, bgpId: dottedToU32('127.0.0.2')!, holdTime: 30, families: ['ipv4-unicast'] }, 'ebgp');
  const s = ['--socket', socket];
  try {
    await daemon.start();
    await peer.establish('127.0.0.1', PORT, '127.0.0.2');
    const hop = ipv4ToBytes('127.0.0.2')!;
    const path = [{ type: 2, asns: [65100] }];
    peer.announce('ipv4-unicast', ['10.2.1.0/24'], basicAttributes(hop, { asPath: path, communities: [(65100 << 16) | 1] }));
    peer.announce('ipv4-unicast', ['10.2.2.0/24'], basicAttributes(hop, { asPath: path, largeCommunities: [[65100, 1, 1]] }));
    peer.announce('ipv4-unicast', ['192.168.0.0/24'], basicAttributes(hop, { asPath: path, communities: [(65100 << 16) | 1, 0xffffff01] }));
    const end = Date.now() + 8000;
    while (((await controlRequest(socket, 'show routes')) as RouteView[]).length < 4 && Date.now() < end) await new Promise((r) => setTimeout(r, 30));

    const prefixes = async (...args: string[]) => {
      const r = await tern(['show', 'routes', '--json', ...args, ...s]);
      assert.equal(r.status, 0, r.stderr);
      return (JSON.parse(r.stdout) as RouteView[]).map((v) => v.prefix);
    };
    assert.deepEqual(await prefixes('--prefix', '10.2.0.0/16'), ['10.2.0.0/16']);
    assert.deepEqual(await prefixes('--prefix', '10.2.0.0/16', '--longer'), ['10.2.0.0/16', '10.2.1.0/24', '10.2.2.0/24']);
    assert.deepEqual(await prefixes('--prefix', '10.2.1.0/24'), ['10.2.1.0/24']);
    assert.deepEqual(await prefixes('--community', '65100:1'), ['10.2.1.0/24', '192.168.0.0/24']);
    assert.deepEqual(await prefixes('--community', 'no-export'), ['192.168.0.0/24']);
    assert.deepEqual(await prefixes('--large-community', '65100:1:1'), ['10.2.2.0/24']);
    assert.deepEqual(await prefixes('--table', 'adj-in', '--peer', 'p', '--prefix', '10.0.0.0/8', '--longer'), ['10.2.1.0/24', '10.2.2.0/24']);
    const table = await tern(['show', 'routes', '--prefix', '10.2.0.0/16', '--longer', ...s]);
    assert.equal(table.stdout.split('\n').filter(Boolean).length, 4, table.stdout);
    const bad = await tern(['show', 'routes', '--community', '65100', ...s]);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /bad community "65100"/);
    assert.match((await tern(['show', 'routes', '--longer', ...s])).stderr, /--longer needs --prefix/);

    // explain: the originated /16 is rejected by p's export policy term, the /24 goes to... nobody
    // (split horizon), and the address inside 10.2.3.0 is explained by its covering /16.
    const ex = await tern(['explain', '10.2.3.4', ...s]);
    assert.equal(ex.status, 0, ex.stderr);
    assert.match(ex.stdout, /10\.2\.3\.4\/32 is not in the Loc-RIB; explaining the longest covering prefix 10\.2\.0\.0\/16/);
    assert.match(ex.stdout, /^ {2}p \(Established\): no — rejected by export policy \(not-tens term 0 \(no-ten-two\): reject\)$/m);
    const exJson = JSON.parse((await tern(['explain', '192.168.0.0/24', '--json', ...s])).stdout) as { exports: { peer: string; paths: { reason: string }[] }[] };
    assert.match(exJson.exports[0]!.paths[0]!.reason, /split horizon/);

    // watch until Ctrl-C: a peer-down arrives when p is disabled; SIGINT ends it with status 0.
    const watch = spawn(process.execPath, ['--import', 'tsx', main, 'watch', '--json', ...s], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let watched = '';
    watch.stdout.on('data', (d) => (watched += d));
    const watchClosed = new Promise<number | null>((resolve) => watch.on('close', resolve));
    const streaming = Date.now() + 15_000;
    while (daemon.events.listenerCount('routeChange') === 0 && Date.now() < streaming) await new Promise((r) => setTimeout(r, 50));

    const off = await tern(['peer', 'disable', 'p', ...s]);
    assert.equal(off.status, 0, off.stderr);
    assert.match(off.stdout, /^peer p disabled \(Cease \/ Administrative Shutdown sent\); state Idle$/m);
    const peers = await tern(['show', 'peers', ...s]);
    assert.match(peers.stdout, /^p\s+127\.0\.0\.2\s+65100\s+Idle \(disabled\)/m);
    const until = Date.now() + 8000;
    while (!watched.includes('"peer-down"') && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    watch.kill('SIGINT');
    assert.equal(await watchClosed, 0);
    const events = watched.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { type: string; peer?: string; change?: string; prefix?: string });
    assert.ok(events.some((e) => e.type === 'peer-down' && e.peer === 'p'), watched);
    assert.ok(events.some((e) => e.type === 'route' && e.change === 'withdrawn' && e.prefix === '10.2.1.0/24'), watched);

    const on = await tern(['peer', 'enable', 'p', ...s]);
    assert.match(on.stdout, /^peer p enabled; state Active$/m);
    const again = await tern(['peer', 'enable', 'p', ...s]);
    assert.match(again.stdout, /^peer p already enabled$/m);
  } finally {
    peer.close();
    await daemon.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
