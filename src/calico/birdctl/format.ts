// SPDX-License-Identifier: Apache-2.0
// BIRD 1.6.8's reply texts, printf for printf, for `show status`, `show protocols [all]`,
// `show route [all]`, `show route count` and `show memory` (nest/cmds.c, nest/proto.c,
// nest/rt-table.c, proto/bgp/bgp.c). Checked against transcripts captured from real BIRD 1.6.8
// (test/calico/birdctl/fixtures). Pure functions of the model; no daemon access.
import { Code, table, reply, type Reply, type ReplyLine } from './frame.ts';
import type { BirdProtocol, BirdRoute, BirdStatus, RouteDest } from './model.ts';

/** BIRD's default time formats: `%T` when less than 20 hours ago, else `%F` (conf/cf-lex, tm_format_datetime). */
const RECENT_MS = 20 * 3600 * 1000;

function pad2(n: number): string {
  return String(n).padStart(2, '0');
}

/** `%F` in local time, as BIRD's strftime. */
export function isoDate(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())}`;
}

/** `%T` in local time. */
export function isoTime(ms: number): string {
  const d = new Date(ms);
  return `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
}

/** The `since` / route time column. */
export function shortTime(ms: number, now: number): string {
  return now - ms < RECENT_MS ? isoTime(ms) : isoDate(ms);
}

// ===== show status (nest/cmds.c cmd_show_status) =====
export function statusReply(s: BirdStatus): Reply {
  const lines: ReplyLine[] = [
    { code: Code.Version, text: `BIRD ${s.version}` },
    { code: Code.Uptime, text: `Router ID is ${s.routerId}` },
    { code: Code.Uptime, text: `Current server time is ${isoDate(s.now)} ${isoTime(s.now)}` },
    { code: Code.Uptime, text: `Last reboot on ${isoDate(s.bootedAt)} ${isoTime(s.bootedAt)}` },
    { code: Code.Uptime, text: `Last reconfiguration on ${isoDate(s.reconfiguredAt)} ${isoTime(s.reconfiguredAt)}` },
  ];
  // calico-node's checkBIRDReady fails while a line starts with 0024 (nest/proto.c graceful_restart_show_status).
  const gr = s.gracefulRestart;
  if (gr) {
    lines.push(
      { code: Code.GracefulRestartStatus, text: 'Graceful restart recovery in progress' },
      { code: Code.GracefulRestartStatus, text: `  Waiting for ${gr.waitingFor} protocols to recover` },
      { code: Code.GracefulRestartStatus, text: `  Wait timer is ${gr.timerLeft}/${gr.timerTotal}` },
    );
  }
  return reply({ code: Code.Status, text: 'Daemon is up and running' }, lines);
}

// ===== show protocols (nest/proto.c proto_cmd_show) =====
/** The heading calicoctl splits into exactly `name proto table state since info`. */
export const PROTOCOL_HEADING = 'name     proto    table    state  since       info';

/** `"%-8s %-8s %-8s %-5s  %-10s  %s"`: name, protocol, table, state, since, info. */
export function protocolRow(p: BirdProtocol, now: number): string {
  return `${p.name.padEnd(8)} ${p.kind.padEnd(8)} ${p.table.padEnd(8)} ${p.state.padEnd(5)}  ${shortTime(p.since, now).padEnd(10)}  ${p.info}`;
}

/** BGP info column (proto/bgp/bgp.c bgp_get_status): `%-14s` state, then the last error. */
export function bgpInfo(state: string, protoDown: boolean, lastError: string | undefined): string {
  if (protoDown) return lastError ?? '';
  return state.padEnd(14) + (lastError ?? '');
}

function u10(n: number): string {
  return String(n).padStart(10);
}

function detailLines(p: BirdProtocol): string[] {
  const out: string[] = [];
  if (p.description !== undefined) out.push(`  Description:    ${p.description}`);
  out.push(`  Preference:     ${p.preference}`, `  Input filter:   ${p.inputFilter}`, `  Output filter:  ${p.outputFilter}`);
  if (p.grRecovery) out.push(`  GR recovery:    ${p.grRecovery}`);
  const r = p.routes;
  const s = p.stats;
  out.push(
    `  Routes:         ${r.imported} imported, ${r.exported} exported, ${r.preferred} preferred`,
    '  Route change stats:     received   rejected   filtered    ignored   accepted',
    `    Import updates:     ${s.importUpdates.map(u10).join(' ')}`,
    `    Import withdraws:   ${u10(s.importWithdraws[0])} ${u10(s.importWithdraws[1])}        --- ${u10(s.importWithdraws[2])} ${u10(s.importWithdraws[3])}`,
    `    Export updates:     ${u10(s.exportUpdates[0])} ${u10(s.exportUpdates[1])} ${u10(s.exportUpdates[2])}        --- ${u10(s.exportUpdates[3])}`,
    `    Export withdraws:   ${u10(s.exportWithdraws[0])}        ---        ---        --- ${u10(s.exportWithdraws[1])}`,
  );
  const b = p.bgp;
  if (b) {
    out.push(`  BGP state:          ${b.state}`, `    Neighbor address: ${b.neighborAddress}`, `    Neighbor AS:      ${b.neighborAs}`);
    if (b.connectDelay) out.push(`    Connect delay:    ${b.connectDelay[0]}/${b.connectDelay[1]}`);
    if (b.session) {
      const x = b.session;
      out.push(
        `    Neighbor ID:      ${x.neighborId}`,
        `    Neighbor caps:    ${x.neighborCaps}`,
        `    Session:          ${x.session}`,
        `    Source address:   ${x.sourceAddress}`,
        `    Hold timer:       ${x.holdTimer[0]}/${x.holdTimer[1]}`,
        `    Keepalive timer:  ${x.keepaliveTimer[0]}/${x.keepaliveTimer[1]}`,
      );
    }
    if (b.lastError) out.push(`    Last error:       ${b.lastError}`);
  }
  // The block ends with an empty line of the same code.
  out.push('');
  return out;
}

export function protocolsReply(protocols: readonly BirdProtocol[], all: boolean, now: number): Reply {
  const lines: ReplyLine[] = [{ code: Code.ProtocolHeading, text: PROTOCOL_HEADING }];
  for (const p of protocols) {
    lines.push({ code: Code.ProtocolList, text: protocolRow(p, now) });
    if (all) for (const text of detailLines(p)) lines.push({ code: Code.ProtocolDetails, text });
  }
  return table(lines);
}

// ===== show route (nest/rt-table.c rt_show_rte) =====
function destText(d: RouteDest): string {
  switch (d.kind) {
    case 'via':
      return `via ${d.gateway} on ${d.iface}`;
    case 'dev':
      return `dev ${d.iface}`;
    default:
      return d.kind;
  }
}

/** `"%-18s %s [%s %s%s]%s%s"`: network (first route only), via, protocol, time, from, primary, info. */
export function routeLine(r: BirdRoute, first: boolean, now: number): string {
  const info = r.bgp
    ? ` (${r.preference}/${r.bgp.igpMetric ?? '-'}) [${r.bgp.originAs !== undefined ? `AS${r.bgp.originAs}` : ''}${r.bgp.origin}]`
    : ` (${r.preference})`;
  const from = r.from ? ` from ${r.from}` : '';
  return `${(first ? r.prefix : '').padEnd(18)} ${destText(r.dest)} [${r.proto} ${shortTime(r.since, now)}${from}]${r.primary ? ' *' : ''}${info}`;
}

export function routesReply(routes: readonly BirdRoute[], all: boolean, now: number): Reply {
  const lines: ReplyLine[] = [];
  let previous: string | undefined;
  for (const r of routes) {
    lines.push({ code: Code.RouteList, text: routeLine(r, r.prefix !== previous, now) });
    previous = r.prefix;
    if (!all) continue;
    lines.push({ code: Code.RouteDetails, text: `\tType: ${r.type}` });
    for (const a of r.bgp?.attributes ?? []) lines.push({ code: Code.RouteExtendedAttributes, text: `\t${a}` });
  }
  return table(lines);
}

/** `show route count` (rt_show_cont): "N of M routes for K networks". */
export function routeCountReply(shown: number, total: number, networks: number): Reply {
  return reply({ code: Code.RouteCount, text: `${shown} of ${total} routes for ${networks} networks` });
}

// ===== show memory (nest/cmds.c cmd_show_memory) =====
/** lib/mempool print_size: `%4u  B`, `%4u kB`, `%4u MB`, `%4u GB`. */
export function memorySize(bytes: number): string {
  let v = bytes;
  for (const unit of [' B', 'kB', 'MB', 'GB']) {
    if (v < 10240 || unit === 'GB') return `${String(Math.floor(v)).padStart(4)} ${unit}`;
    v /= 1024;
  }
  return '';
}

export function memoryReply(rows: readonly [string, number][]): Reply {
  const lines: ReplyLine[] = [{ code: Code.MemoryUsage, text: 'BIRD memory usage' }];
  for (const [name, bytes] of rows) lines.push({ code: Code.MemoryUsage, text: `${`${name}:`.padEnd(17)} ${memorySize(bytes)}` });
  return table(lines);
}
