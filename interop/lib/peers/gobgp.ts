// SPDX-License-Identifier: Apache-2.0
// GoBGP 3.x peer driver: writes gobgpd.toml (one neighbor per session, fast timers), runs
// `gobgpd` in the peer's namespace (its gRPC API on that namespace's own 127.0.0.1), adds the
// peer's routes with `gobgp global rib add`, and queries `gobgp neighbor -j` and
// `gobgp global rib -a ipv4|ipv6 -j`. GoBGP keeps no "last error" in its API, only counters, so
// the NOTIFICATION received is read from the CLI counter plus gobgpd's own log line.
// A global export policy sets the IPv6 next hop to the peer's IPv6 address: without it GoBGP
// sends an IPv4 next hop for IPv6 routes on an IPv4 session (RFC 8950 style), which only peers
// that negotiated extended next hop could use.
import { writeFileSync, mkdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { run, startDaemon, stopDaemon, type DaemonProcess } from '../proc.ts';
import { waitFor } from '../wait.ts';
import type { Family, PeerDriver, PeerSpec, RouteDetail, RouteInfo, SessionStatus } from '../types.ts';

export const GOBGP = { daemon: '/usr/bin/gobgpd', client: '/usr/bin/gobgp' };

/** gobgp's numeric session_state: apipb.PeerState.SessionState. */
const SESSION_STATES = ['UNKNOWN', 'IDLE', 'CONNECT', 'ACTIVE', 'OPENSENT', 'OPENCONFIRM', 'ESTABLISHED'];

function gobgpConfig(spec: PeerSpec): string {
  const q = (s: string): string => JSON.stringify(s);
  const wantsV6 = spec.sessions.some((s) => s.families.includes('ipv6-unicast'));
  const out = [
    '[global.config]',
    `  as = ${spec.asn}`,
    `  router-id = ${q(spec.routerId)}`,
    `  local-address-list = [${[...new Set(spec.sessions.map((s) => s.localAddress))].map(q).join(', ')}]`,
  ];
  if (wantsV6) {
    out.push('  [global.apply-policy.config]', '    export-policy-list = ["ipv6-next-hop"]', '    default-export-policy = "accept-route"');
  }
  for (const s of spec.sessions) {
    out.push(
      '[[neighbors]]',
      '  [neighbors.config]',
      `    neighbor-address = ${q(s.remoteAddress)}`,
      `    peer-as = ${s.remoteAsn}`,
      '  [neighbors.timers.config]',
      '    connect-retry = 2',
      '    hold-time = 9',
      '    keepalive-interval = 3',
      '    idle-hold-time-after-reset = 1',
      '  [neighbors.transport.config]',
      `    local-address = ${q(s.localAddress)}`,
    );
    for (const f of s.families) out.push('  [[neighbors.afi-safis]]', '    [neighbors.afi-safis.config]', `      afi-safi-name = ${q(f)}`);
  }
  if (wantsV6) {
    out.push(
      '[[policy-definitions]]',
      '  name = "ipv6-next-hop"',
      '  [[policy-definitions.statements]]',
      '    name = "ipv6"',
      '    [policy-definitions.statements.conditions.bgp-conditions]',
      '      afi-safi-in-list = ["ipv6-unicast"]',
      '    [policy-definitions.statements.actions]',
      '      route-disposition = "accept-route"',
      '      [policy-definitions.statements.actions.bgp-actions]',
      `        set-next-hop = ${q(spec.ipv6Address)}`,
    );
  }
  return out.join('\n') + '\n';
}

interface GobgpPath {
  'neighbor-ip'?: string;
  stale?: boolean;
  attrs?: { type: number; as_paths?: { asns?: number[] }[]; nexthop?: string; value?: unknown }[];
}

/** Path attribute type codes in gobgp's JSON (RFC 4271 §5, RFC 4456 §7, RFC 4760). */
const ATTR = { AS_PATH: 2, NEXT_HOP: 3, ORIGINATOR_ID: 9, CLUSTER_LIST: 10, MP_REACH_NLRI: 14 } as const;

function gobgpRoute(prefix: string, p: GobgpPath): RouteDetail {
  const attr = (type: number): NonNullable<GobgpPath['attrs']>[number] | undefined => p.attrs?.find((a) => a.type === type);
  const asPath = attr(ATTR.AS_PATH)?.as_paths?.flatMap((seg) => seg.asns ?? []) ?? [];
  const nextHop = (attr(ATTR.NEXT_HOP) ?? attr(ATTR.MP_REACH_NLRI))?.nexthop ?? '';
  const originator = attr(ATTR.ORIGINATOR_ID)?.value;
  const clusters = attr(ATTR.CLUSTER_LIST)?.value;
  return {
    prefix,
    nextHop,
    asPath,
    from: p['neighbor-ip'] ?? '',
    originatorId: typeof originator === 'string' ? originator : undefined,
    clusterList: Array.isArray(clusters) ? clusters.map(String) : [],
    stale: p.stale === true,
  };
}

/** Scenario options this driver has no config for: a scenario asking for one fails loudly. */
function unsupportedOptions(spec: PeerSpec): string[] {
  const out: string[] = [];
  if (spec.clusterId !== undefined) out.push('clusterId');
  for (const s of spec.sessions) {
    if (s.rrClient === true) out.push(`${s.label}.rrClient`);
    if (s.addPaths !== undefined) out.push(`${s.label}.addPaths`);
    if (s.gracefulRestart === true) out.push(`${s.label}.gracefulRestart`);
  }
  return out;
}

export class GobgpPeer implements PeerDriver {
  readonly spec: PeerSpec;
  private readonly conf: string;
  private readonly log: string;
  private proc: DaemonProcess | undefined;

  constructor(spec: PeerSpec) {
    this.spec = spec;
    const unsupported = unsupportedOptions(spec);
    if (unsupported.length > 0) throw new Error(`gobgp driver: no config for ${unsupported.join(', ')}`);
    mkdirSync(spec.workDir, { recursive: true });
    this.conf = join(spec.workDir, 'gobgpd.toml');
    this.log = join(spec.workDir, 'gobgpd.log');
    writeFileSync(this.conf, gobgpConfig(spec));
  }

  private cli(args: string[]): Promise<string> {
    return run(GOBGP.client, args, { netns: this.spec.namespace, timeoutMs: 5_000 }).then((r) => r.stdout);
  }

  async version(): Promise<string> {
    return (await run(GOBGP.daemon, ['--version'], { check: false })).stdout.trim();
  }

  async start(): Promise<void> {
    const args = ['-f', this.conf, '-p', '-l', 'info', '--pprof-disable', '--api-hosts', '127.0.0.1:50051'];
    this.proc = startDaemon(`gobgp-${this.spec.relation}`, GOBGP.daemon, args, this.log, this.spec.namespace);
    await waitFor('gobgpd API', async () => {
      if (!this.proc?.isRunning()) throw new Error(`gobgpd exited; see ${this.log}`);
      await this.cli(['global']);
      return true;
    }, { timeoutMs: 15_000, intervalMs: 300 });
    for (const [family, afi] of [['ipv4-unicast', 'ipv4'], ['ipv6-unicast', 'ipv6']] as const) {
      for (const prefix of this.spec.prefixes[family]) await this.cli(['global', 'rib', 'add', '-a', afi, prefix, 'origin', 'igp']);
    }
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (this.proc) await stopDaemon(this.proc, signal);
  }

  private address(label: string): string {
    const s = this.spec.sessions.find((x) => x.label === label);
    if (s === undefined) throw new Error(`gobgp: no session ${label}`);
    return s.remoteAddress;
  }

  private async neighbor(label: string): Promise<{ state?: { session_state?: number | string; messages?: { received?: { notification?: number } } } }> {
    return JSON.parse(await this.cli(['neighbor', this.address(label), '-j'])) as never;
  }

  async session(label: string): Promise<SessionStatus> {
    const n = await this.neighbor(label);
    const raw = n.state?.session_state ?? 0;
    const state = typeof raw === 'number' ? (SESSION_STATES[raw] ?? String(raw)) : raw.toUpperCase();
    return { established: state === 'ESTABLISHED', state, lastError: this.lastPeerDown(this.address(label)) };
  }

  /** gobgpd's last "Peer Down" reason for this neighbor (its API has no last-error field). */
  private lastPeerDown(address: string): string {
    if (!existsSync(this.log)) return '';
    const key = new RegExp(`Key="?${address.replace(/[.:]/g, '\\$&')}"?\\s`);
    const lines = readFileSync(this.log, 'utf8').split('\n').filter((l) => key.test(l + ' '));
    const down = lines.filter((l) => l.includes('Peer Down')).at(-1) ?? '';
    const notification = lines.filter((l) => l.includes('received notification')).at(-1) ?? '';
    return [/Reason="([^"]*)"/.exec(down)?.[1] ?? '', notification.replace(/^.*msg="received notification"\s*/, '')].filter(Boolean).join('; ');
  }

  async routes(label: string, family: Family): Promise<RouteInfo[]> {
    const address = this.address(label);
    return (await this.routeDetails(family)).filter((r) => r.from === address).map(({ prefix, nextHop, asPath }) => ({ prefix, nextHop, asPath }));
  }

  async routeDetails(family: Family): Promise<RouteDetail[]> {
    const rib = JSON.parse(await this.cli(['global', 'rib', '-a', family === 'ipv4-unicast' ? 'ipv4' : 'ipv6', '-j'])) as Record<string, GobgpPath[]>;
    // Locally added paths have no neighbor-ip (or an unspecified one).
    return Object.entries(rib).flatMap(([prefix, paths]) => paths.map((p) => gobgpRoute(prefix, p))).filter((r) => r.from !== '' && r.from !== '<nil>' && !/^(0\.0\.0\.0|::)$/.test(r.from));
  }

  async notificationReport(label: string): Promise<string> {
    const n = await this.neighbor(label);
    const count = n.state?.messages?.received?.notification ?? 0;
    return `notifications received: ${count}; ${this.lastPeerDown(this.address(label))}`;
  }

  logs(): string[] {
    return [this.log];
  }
}
