// SPDX-License-Identifier: Apache-2.0
// The `tern` command as a user runs it: exit codes, error messages that name the file, the key
// path and the reason, and `show` against a running daemon.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const main = join(root, 'src', 'main.ts');

function tern(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', main, ...args], { cwd: root, encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('an invalid config exits 2 naming the file, the key path and the reason', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tern-cli-'));
  try {
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'routerId: 10.0.0.1\nasn: 65001\npeers:\n  - address: 10.0.0.2\n    asn: 65002\n    holdTime: 2\n');
    for (const command of ['run', 'check']) {
      const r = tern([command, '--config', file]);
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, /bad\.yaml/);
      assert.match(r.stderr, /peers\[0\]\.holdTime/);
      assert.match(r.stderr, /must be 0 or between 3 and 65535/);
    }
    const missing = tern(['check', '--config', join(dir, 'nope.yaml')]);
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /nope\.yaml/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bad arguments exit 2 with the usage', () => {
  for (const args of [['frobnicate'], ['show'], ['show', 'bananas'], ['run'], ['show', 'peers', '--colour'], ['demo', '--speakers', 'many']]) {
    const r = tern(args);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /^tern: /);
    assert.match(r.stderr, /usage:/);
  }
});

test('check accepts a valid config; show reports an unreachable socket', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tern-cli-'));
  try {
    const file = join(dir, 'ok.json');
    writeFileSync(file, JSON.stringify({ routerId: '10.0.0.1', asn: 65001, control: { socket: join(dir, 'x.ctl') }, peers: [{ address: '10.0.0.2', asn: 65002 }] }));
    const ok = tern(['check', '--config', file]);
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /OK \(1 peers/);
    const show = tern(['show', 'peers', '--config', file]);
    assert.equal(show.status, 1);
    assert.match(show.stderr, /cannot reach the control socket .*x\.ctl: no such socket/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('tern run serves show peers / show routes and stops cleanly on SIGTERM', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tern-cli-'));
  const socket = join(dir, 'tern.ctl');
  const file = join(dir, 'tern.yaml');
  writeFileSync(file, `routerId: 10.0.0.1\nasn: 65001\nlisten: false\ncontrol: { socket: ${socket} }\npeers:\n  - { name: far, address: 192.0.2.1, asn: 65002, passive: true }\n`);
  const daemon = spawn(process.execPath, ['--import', 'tsx', main, 'run', '--config', file], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let logs = '';
  daemon.stdout.on('data', (d) => (logs += d));
  try {
    const until = Date.now() + 20_000;
    let peers: { status: number | null; stdout: string } = { status: null, stdout: '' };
    while (Date.now() < until) {
      peers = tern(['show', 'peers', '--json', '--socket', socket]);
      if (peers.status === 0) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.equal(peers.status, 0);
    const list = JSON.parse(peers.stdout) as Record<string, unknown>[];
    assert.equal(list.length, 1);
    for (const key of ['name', 'address', 'asn', 'state', 'uptimeSeconds', 'families', 'routesReceived', 'routesSent', 'lastError']) assert.ok(key in list[0]!, key);
    assert.deepEqual([list[0]!.name, list[0]!.address, list[0]!.asn, list[0]!.state], ['far', '192.0.2.1', 65002, 'Active']);
    const table = tern(['show', 'peers', '--socket', socket]);
    assert.match(table.stdout, /^NAME +ADDRESS +ASN +STATE/);
    const routes = tern(['show', 'routes', '--json', '--socket', socket, '--family', 'ipv6-unicast']);
    assert.equal(routes.status, 0);
    assert.deepEqual(JSON.parse(routes.stdout), []);
    const badPeer = tern(['show', 'routes', '--json', '--socket', socket, '--peer', 'ghost']);
    assert.equal(badPeer.status, 1);
    assert.match(badPeer.stderr, /no peer named "ghost"/);
    const noPeer = tern(['show', 'routes', '--socket', socket, '--table', 'adj-in']);
    assert.equal(noPeer.status, 1);
    assert.match(noPeer.stderr, /--table adj-in needs --peer NAME/);
    const adjOut = tern(['show', 'routes', '--json', '--socket', socket, '--table', 'adj-out', '--peer', 'far']);
    assert.equal(adjOut.status, 0, adjOut.stderr);
    assert.deepEqual(JSON.parse(adjOut.stdout), []);
    const reload = tern(['reload', '--socket', socket]);
    assert.equal(reload.status, 0, reload.stderr);
    assert.match(reload.stdout, /reloaded .*tern\.yaml\n  no changes/);
    const refresh = tern(['refresh', 'far', '--socket', socket]);
    assert.equal(refresh.status, 1);
    assert.match(refresh.stderr, /not established/);
  } finally {
    daemon.kill('SIGTERM');
    const code = await new Promise<number | null>((r) => daemon.once('exit', (c) => r(c)));
    assert.equal(code, 0);
    assert.match(logs, /"msg":"tern stopped"/);
    rmSync(dir, { recursive: true, force: true });
  }
});
