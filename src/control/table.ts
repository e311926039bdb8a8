// SPDX-License-Identifier: Apache-2.0
// Aligned text tables for people at a terminal (the --json form is for programs).
import type { PeerView, RouteView } from './views.ts';

export function formatTable(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(headers), ...rows.map(line)].join('\n') + '\n';
}

export function formatDuration(seconds: number): string {
  if (seconds <= 0) return '-';
  const d = Math.floor(seconds / 86400);
  const h = Math.floor((seconds % 86400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = Math.floor(seconds % 60);
  const hms = `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}:${String(s).padStart(2, '0')}`;
  return d ? `${d}d${hms}` : hms;
}

export function peersTable(peers: PeerView[]): string {
  return formatTable(
    ['NAME', 'ADDRESS', 'ASN', 'STATE', 'UPTIME', 'FAMILIES', 'RECV', 'SENT', 'LAST ERROR'],
    peers.map((p) => [p.name, p.address, String(p.asn), p.state, formatDuration(p.uptimeSeconds), p.families.join(','), String(p.routesReceived), String(p.routesSent), p.lastError ?? '']),
  );
}

export function routesTable(routes: RouteView[]): string {
  return formatTable(
    ['', 'PREFIX', 'NEXT HOP', 'AS PATH', 'ORIGIN', 'LOCALPREF', 'MED', 'COMMUNITIES', 'FROM', 'NOTE'],
    routes.map((r) => [
      // BIRD-style marks: * best, + another member of the ECMP set.
      r.best ? '*' : r.multipath ? '+' : ' ',
      r.pathId === null ? r.prefix : `${r.prefix} #${r.pathId}`,
      r.nextHop ?? '-',
      r.asPathText || '(empty)',
      r.origin ?? '-',
      r.localPref === null ? '-' : String(r.localPref),
      r.med === null ? '-' : String(r.med),
      [...r.communities, ...r.largeCommunities].join(' ') || '-',
      r.peer ?? r.source,
      [r.stale ? 'stale' : '', r.reason ?? ''].filter(Boolean).join('; '),
    ]),
  );
}
