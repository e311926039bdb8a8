// SPDX-License-Identifier: Apache-2.0
// The kernel's MD5/GTSM drop counters as metrics: parsed from a real /proc/net/netstat layout, and
// exported by a daemon's registry with the values the kernel reports right now.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseConfig } from '../../src/config/index.ts';
import { Daemon } from '../../src/daemon.ts';
import { DaemonMetrics } from '../../src/observability/metrics.ts';
import { createLogger } from '../../src/observability/log.ts';
import { TCP_SECURITY_COUNTERS, parseTcpExt } from '../../src/observability/tcp-security-metrics.ts';
import { parseProm, valueOf } from './metrics-helpers.ts';

// Two lines of a Linux 6.x /proc/net/netstat (TcpExt header and values), shortened.
const NETSTAT = `TcpExt: SyncookiesSent SyncookiesRecv TCPMD5NotFound TCPMD5Unexpected TCPMD5Failure TCPMinTTLDrop
TcpExt: 0 0 7 2 13 5
IpExt: InNoRoutes InTruncatedPkts
IpExt: 0 0
`;

test('parseTcpExt reads the TcpExt header/value pair', () => {
  const m = parseTcpExt(NETSTAT);
  assert.equal(m.get('TCPMD5NotFound'), 7);
  assert.equal(m.get('TCPMD5Unexpected'), 2);
  assert.equal(m.get('TCPMD5Failure'), 13);
  assert.equal(m.get('TCPMinTTLDrop'), 5);
  assert.equal(m.get('InNoRoutes'), undefined, 'IpExt is not TcpExt');
  assert.equal(parseTcpExt('').size, 0);
});

test('a daemon exports the kernel counters under tern_tcp_*_total', { skip: process.platform !== 'linux' }, async () => {
  const daemon = new Daemon(parseConfig(JSON.stringify({ routerId: '10.0.0.1', asn: 65000, listen: false, peers: [] }), 'm.json'), createLogger({ level: 'silent' }));
  const before = parseTcpExt(readFileSync('/proc/net/netstat', 'utf8'));
  const samples = parseProm(await new DaemonMetrics(daemon, { defaultMetrics: false }).registry.metrics());
  const after = parseTcpExt(readFileSync('/proc/net/netstat', 'utf8'));
  for (const c of TCP_SECURITY_COUNTERS) {
    const v = valueOf(samples, c.name);
    assert.notEqual(v, undefined, c.name);
    // The kernel may count between our reads: the scraped value lies between them.
    assert.ok(v! >= (before.get(c.field) ?? 0) && v! <= (after.get(c.field) ?? 0), `${c.name} = ${v}`);
  }
});
