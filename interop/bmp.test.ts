// SPDX-License-Identifier: Apache-2.0
// BMP interop: the real pmacct collector (`pmbmpd`, Debian `pmacct`) receives Tern's BMP export
// on loopback. Tern peers with two other Tern daemons (eBGP and iBGP); pmbmpd's JSON message log
// must show Tern's Initiation, a Peer Up for every peer, Route Monitoring with every prefix each
// peer sent (as pmbmpd decoded it: prefix, AS path, next hop), and a Peer Down when a peer
// stops. No network namespaces (loopback only), so no root is needed. Without pmbmpd the test is
// skipped with the reason, except under CI, where scripts/install-peers.sh installs it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../src/config/index.ts';
import { Daemon } from '../src/daemon.ts';
import { createLogger } from '../src/observability/log.ts';
import { freePort, waitFor } from '../test/observability/bmp-helpers.ts';

const PMBMPD = '/usr/sbin/pmbmpd';
const available = spawnSync(PMBMPD, ['-V'], { encoding: 'utf8' }).error === undefined;
const skip = available ? false : process.env.CI ? false : 'pmbmpd is not installed (Debian package pmacct; scripts/install-peers.sh installs it)';

type PmEvent = Record<string, unknown>;

function readLog(file: string): PmEvent[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .flatMap((l) => {
      try {
        return [JSON.parse(l) as PmEvent];
      } catch {
        return []; // a line still being written
      }
    });
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

function ternConfig(me: string, asn: number, port: number, dir: string, peers: { address: string; asn: number }[], extra: object): string {
  return JSON.stringify({
    routerId: me,
    asn,
    listen: { address: me, port },
    control: { socket: join(dir, `${me}.ctl`) },
    peers: peers.map((p) => ({ name: `peer_${p.address.replaceAll('.', '_')}`, address: p.address, asn: p.asn, port, localAddress: me, connectRetry: 1, holdTime: 9, families: ['ipv4-unicast', 'ipv6-unicast'], import: 'all', export: 'all', nextHop: 'keep' })),
    ...extra,
  });
}

test('pmbmpd (pmacct) receives Peer Up, Route Monitoring for every peer, and Peer Down from Tern', { skip }, async () => {
  assert.ok(available, 'pmbmpd must be installed under CI (scripts/install-peers.sh)');
  const dir = mkdtempSync(join(tmpdir(), 'tern-pmbmpd-'));
  const log = createLogger({ level: process.env.TERN_TEST_LOG ?? 'silent' });
  const bmpPort = await freePort();
  const bgpPort = await freePort();
  const msglog = join(dir, 'bmp.json');
  const conf = join(dir, 'pmbmpd.conf');
  writeFileSync(conf, [`bmp_daemon_ip: 127.0.0.1`, `bmp_daemon_port: ${bmpPort}`, `bmp_daemon_msglog_file: ${msglog}`, `bmp_daemon_msglog_output: json`, `pidfile: ${join(dir, 'pmbmpd.pid')}`, ''].join('\n'));
  let pm: ChildProcess | undefined;
  let pmOutput = '';
  const dut = new Daemon(
    parseConfig(ternConfig('127.0.0.1', 65000, bgpPort, dir, [{ address: '127.0.0.2', asn: 65002 }, { address: '127.0.0.3', asn: 65000 }], { bmp: [{ address: '127.0.0.1', port: bmpPort, name: 'pmbmpd' }] }), 'dut.json'),
    log,
  );
  const ebgp = new Daemon(parseConfig(ternConfig('127.0.0.2', 65002, bgpPort, dir, [{ address: '127.0.0.1', asn: 65000 }], { originate: [{ prefix: '10.244.2.0/26', nextHop: '127.0.0.2' }, { prefix: 'fd00:244:2::/64', nextHop: 'fd00::2' }] }), 'b.json'), log);
  const ibgp = new Daemon(parseConfig(ternConfig('127.0.0.3', 65000, bgpPort, dir, [{ address: '127.0.0.1', asn: 65000 }], { originate: [{ prefix: '10.244.3.0/26', nextHop: '127.0.0.3' }] }), 'c.json'), log);
  try {
    pm = spawn(PMBMPD, ['-f', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
    pm.stdout?.on('data', (d: Buffer) => (pmOutput += d.toString()));
    pm.stderr?.on('data', (d: Buffer) => (pmOutput += d.toString()));
    await waitFor('pmbmpd listening', async () => ((await listening(bmpPort)) ? true : undefined), 10_000).catch((err: unknown) => {
      throw new Error(`${String(err)}\n${pmOutput}`);
    });
    await dut.start();
    await ebgp.start();
    await ibgp.start();

    const expected: [string, string][] = [
      ['127.0.0.2', '10.244.2.0/26'],
      ['127.0.0.2', 'fd00:244:2::/64'],
      ['127.0.0.3', '10.244.3.0/26'],
    ];
    const events = await waitFor(
      'route monitoring for every peer in pmbmpd\'s log',
      () => {
        const ev = readLog(msglog);
        const routes = ev.filter((e) => e.bmp_msg_type === 'route_monitor');
        return expected.every(([peer, prefix]) => routes.some((r) => r.peer_ip === peer && r.ip_prefix === prefix)) ? ev : undefined;
      },
      30_000,
    ).catch((err: unknown) => {
      throw new Error(`${String(err)}\npmbmpd log:\n${existsSync(msglog) ? readFileSync(msglog, 'utf8') : '(none)'}\npmbmpd output:\n${pmOutput}`);
    });

    const init = events.find((e) => e.bmp_msg_type === 'init');
    assert.ok(init, 'pmbmpd logged the Initiation');
    for (const [peer, asn] of [['127.0.0.2', 65002], ['127.0.0.3', 65000]] as const) {
      const up = events.find((e) => e.bmp_msg_type === 'peer_up' && e.peer_ip === peer);
      assert.ok(up, `Peer Up for ${peer}`);
      assert.equal(Number(up.peer_asn), asn);
    }
    const v4 = events.find((e) => e.bmp_msg_type === 'route_monitor' && e.ip_prefix === '10.244.2.0/26')!;
    assert.equal(v4.as_path, '65002');
    assert.equal(v4.bgp_nexthop, '127.0.0.2');
    const v6 = events.find((e) => e.bmp_msg_type === 'route_monitor' && e.ip_prefix === 'fd00:244:2::/64')!;
    assert.equal(v6.bgp_nexthop, 'fd00::2');
    const internal = events.find((e) => e.bmp_msg_type === 'route_monitor' && e.ip_prefix === '10.244.3.0/26')!;
    assert.equal(internal.local_pref, 100);

    await ebgp.stop('maintenance');
    const down = await waitFor('Peer Down for the eBGP peer', () => readLog(msglog).find((e) => e.bmp_msg_type === 'peer_down' && e.peer_ip === '127.0.0.2'), 15_000);
    // RFC 7854 §4.9 reason 3: the remote system closed the session with a NOTIFICATION.
    assert.equal(down.reason_type, 3);
    await dut.stop();
    const term = await waitFor('Termination', () => readLog(msglog).find((e) => e.bmp_msg_type === 'term'), 15_000);
    assert.equal(term.bmp_term_info_reason, 'Session administratively closed');
  } finally {
    await Promise.allSettled([dut.stop(), ebgp.stop(), ibgp.stop()]);
    if (pm && pm.exitCode === null) {
      pm.kill('SIGTERM');
      await new Promise((r) => setTimeout(r, 200));
      if (pm.exitCode === null) pm.kill('SIGKILL');
    }
    if (!process.env.INTEROP_KEEP) rmSync(dir, { recursive: true, force: true });
  }
});
