// SPDX-License-Identifier: Apache-2.0
// The kernel's own counts of TCP segments dropped by RFC 2385 MD5 and RFC 5082 GTSM checks, read
// from /proc/net/netstat (TcpExt) of Tern's network namespace when scraped: they are the only
// evidence of a peer with a wrong key or TTL, since such segments never reach Tern. The counters
// are per namespace, not per peer (the kernel keeps no per-peer count). Linux only; elsewhere, or
// when the file cannot be read, the metrics are simply absent from the scrape.
import { readFileSync } from 'node:fs';
import { registerMetricsSource } from './metric-sources.ts';

/** TcpExt field → metric (names after the kernel's, with the Prometheus `_total` suffix). */
export const TCP_SECURITY_COUNTERS: readonly { field: string; name: string; help: string }[] = [
  { field: 'TCPMD5NotFound', name: 'tern_tcp_md5_not_found_total', help: 'TCP segments dropped: an MD5 key is configured for the peer but the segment had no signature (RFC 2385).' },
  { field: 'TCPMD5Unexpected', name: 'tern_tcp_md5_unexpected_total', help: 'TCP segments dropped: signed, but no MD5 key is configured for the peer (RFC 2385).' },
  { field: 'TCPMD5Failure', name: 'tern_tcp_md5_failure_total', help: 'TCP segments dropped: the MD5 signature was wrong (RFC 2385; a key mismatch).' },
  { field: 'TCPMinTTLDrop', name: 'tern_tcp_min_ttl_drop_total', help: 'TCP segments dropped for arriving below the minimum TTL / hop limit (GTSM, RFC 5082).' },
];

/** TcpExt fields of a /proc/net/netstat text (header line of names, then a line of values). */
export function parseTcpExt(text: string): Map<string, number> {
  const lines = text.split('\n').filter((l) => l.startsWith('TcpExt:'));
  const out = new Map<string, number>();
  if (lines.length < 2) return out;
  const names = lines[0]!.trim().split(/\s+/).slice(1);
  const values = lines[1]!.trim().split(/\s+/).slice(1);
  names.forEach((n, i) => {
    const v = Number(values[i]);
    if (Number.isFinite(v)) out.set(n, v);
  });
  return out;
}

function readTcpExt(): Map<string, number> | undefined {
  try {
    return parseTcpExt(readFileSync('/proc/net/netstat', 'utf8'));
  } catch {
    return undefined;
  }
}

registerMetricsSource(({ registry, prom }) => {
  for (const c of TCP_SECURITY_COUNTERS) {
    new prom.Counter({
      name: c.name,
      help: c.help,
      registers: [registry],
      collect() {
        this.reset();
        const v = readTcpExt()?.get(c.field);
        if (v !== undefined) this.inc(v);
      },
    });
  }
});
