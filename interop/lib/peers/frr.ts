// SPDX-License-Identifier: Apache-2.0
// FRR 8.x peer driver: writes frr.conf for bgpd (`no bgp ebgp-requires-policy`, `no bgp
// network import-check`, `network` statements for the peer's routes, fast timers), runs zebra and
// bgpd in the foreground in the peer's namespace with a private vty/zserv directory, and queries
// bgpd through `vtysh --vty_socket DIR -d bgpd -c "show bgp ... json"`.
// Sessions start shut down (`bgp shutdown`) and are let up once zebra has sent bgpd every interface
// address: see waitForConnectedAddresses.
// Why zebra: without it bgpd knows no interfaces, so it withdraws IPv6 routes that carry a
// link-local second next hop ("no peer interface information") and cannot validate next hops.
// bgpd runs with -n (no FIB install), so nothing is programmed into the namespace's kernel.
import { writeFileSync, mkdirSync, chmodSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { run, startDaemon, stopDaemon, type DaemonProcess } from '../proc.ts';
import { waitFor } from '../wait.ts';
import type { Family, PeerDriver, PeerSpec, RouteDetail, RouteInfo, SessionStatus } from '../types.ts';

import { readFile } from 'node:fs/promises';

export const FRR = { bgpd: '/usr/lib/frr/bgpd', zebra: '/usr/lib/frr/zebra', vtysh: '/usr/bin/vtysh' };

function frrConfig(spec: PeerSpec): string {
  const out = [
    'frr defaults traditional',
    `hostname frr-${spec.relation}`,
    'log stdout informational',
    '!',
    `router bgp ${spec.asn}`,
    ` bgp router-id ${spec.routerId}`,
    ' no bgp ebgp-requires-policy',
    ' no bgp network import-check',
    ' no bgp default ipv4-unicast',
    // NOTIFICATIONs received go to the log too: a reconnect attempt overwrites show's last reset.
    ' bgp log-neighbor-changes',
    // Every neighbor starts shut down: start() lifts this once zebra has told bgpd of every
    // connected address (see waitForConnectedAddresses).
    ' bgp shutdown',
  ];
  for (const s of spec.sessions) {
    out.push(
      ` neighbor ${s.remoteAddress} remote-as ${s.remoteAsn}`,
      ` neighbor ${s.remoteAddress} description ${s.label}`,
      ` neighbor ${s.remoteAddress} update-source ${s.localAddress}`,
      ` neighbor ${s.remoteAddress} timers 3 9`,
      ` neighbor ${s.remoteAddress} timers connect 2`,
      ` neighbor ${s.remoteAddress} advertisement-interval 0`,
    );
    // Security and fault options (security/faults tests), absent in the session lab.
    if (s.password !== undefined) out.push(` neighbor ${s.remoteAddress} password ${s.password}`);
    if (s.ttlSecurity !== undefined && s.ttlSecurity > 0) out.push(` neighbor ${s.remoteAddress} ttl-security hops ${s.ttlSecurity}`);
    if (s.holdTime !== undefined) out.push(` neighbor ${s.remoteAddress} timers ${Math.max(1, Math.floor(s.holdTime / 3))} ${s.holdTime}`);
  }
  // IPv6 routes over an IPv4 session: FRR picks the IPv6 next hop from zebra, and right after a
  // restart (before zebra reports the interface's addresses) it falls back to an IPv4-mapped one.
  // Name the global next hop, as BIRD's `next hop address` does in its driver.
  const v6OverV4 = spec.sessions.filter((s) => s.families.includes('ipv6-unicast') && !s.remoteAddress.includes(':'));
  for (const [family, afi] of [['ipv4-unicast', 'ipv4'], ['ipv6-unicast', 'ipv6']] as const) {
    out.push(` address-family ${afi} unicast`);
    for (const p of spec.prefixes[family]) out.push(`  network ${p}`);
    for (const s of spec.sessions) if (s.families.includes(family)) out.push(`  neighbor ${s.remoteAddress} activate`);
    if (family === 'ipv6-unicast') for (const s of v6OverV4) out.push(`  neighbor ${s.remoteAddress} route-map V6-GLOBAL-NH out`);
    out.push(' exit-address-family');
  }
  if (v6OverV4.length) out.push('!', 'route-map V6-GLOBAL-NH permit 10', ` set ipv6 next-hop global ${spec.ipv6Address}`, '!');
  return out.join('\n') + '\n';
}

interface FrrNeighbor {
  bgpState?: string;
  lastResetDueTo?: string;
  lastNotificationReason?: string;
  lastShutdownDescription?: string;
  lastErrorCodeSubcode?: string;
}

interface FrrPath {
  peerId?: string;
  path?: string;
  nexthops?: { ip?: string; scope?: string }[];
}

/** One path of `show bgp ipv4 unicast PREFIX json` (the per-prefix view has RFC 4456 details). */
interface FrrDetailedPath {
  aspath?: { string?: string };
  originatorId?: string;
  clusterList?: { list?: string[] };
  stale?: boolean;
  peer?: { peerId?: string };
  nexthops?: { ip?: string; scope?: string }[];
}

function globalNextHop(hops: { ip?: string; scope?: string }[] | undefined): string {
  return (hops?.find((h) => h.scope === undefined || h.scope === 'global') ?? hops?.[0])?.ip ?? '';
}

export class FrrPeer implements PeerDriver {
  readonly spec: PeerSpec;
  private readonly runDir: string;
  private readonly bgpdLog: string;
  private readonly zebraLog: string;
  private zebra: DaemonProcess | undefined;
  private bgpd: DaemonProcess | undefined;

  constructor(spec: PeerSpec) {
    this.spec = spec;
    // The scenarios use FRR as a plain iBGP speaker only; it has no config for these here.
    const unsupported = spec.sessions.filter((s) => s.rrClient === true || s.addPaths !== undefined || s.gracefulRestart === true);
    if (spec.clusterId !== undefined || unsupported.length > 0) throw new Error('frr driver: no config for reflector, ADD-PATH or graceful restart options');
    this.runDir = join(spec.workDir, 'run');
    mkdirSync(this.runDir, { recursive: true });
    // zebra drops to the frr user: it must be able to create its pid file and sockets here.
    chmodSync(this.runDir, 0o777);
    writeFileSync(join(spec.workDir, 'frr.conf'), frrConfig(spec));
    writeFileSync(join(spec.workDir, 'zebra.conf'), `hostname zebra-${spec.relation}\n`);
    this.bgpdLog = join(spec.workDir, 'bgpd.log');
    this.zebraLog = join(spec.workDir, 'zebra.log');
  }

  async version(): Promise<string> {
    return (await run(FRR.bgpd, ['--version'], { check: false })).stdout.split('\n')[0]?.trim() ?? '';
  }

  async start(): Promise<void> {
    const zserv = join(this.runDir, 'zserv.api');
    const common = ['--vty_socket', this.runDir, '-P', '0'];
    this.zebra = startDaemon(`zebra-${this.spec.relation}`, FRR.zebra,
      ['-u', 'frr', '-g', 'frr', '-f', join(this.spec.workDir, 'zebra.conf'), '-i', join(this.runDir, 'zebra.pid'), '-z', zserv, ...common],
      this.zebraLog, this.spec.namespace);
    await waitFor('zebra zserv socket', async () => {
      if (!this.zebra?.isRunning()) throw new Error(`zebra exited; see ${this.zebraLog}`);
      return existsSync(zserv) ? true : undefined;
    }, { timeoutMs: 10_000, intervalMs: 100 });
    // -S: no privilege drop (we are root in a private namespace); -n: never touch the FIB.
    this.bgpd = startDaemon(`bgpd-${this.spec.relation}`, FRR.bgpd,
      ['-S', '-n', '-z', zserv, '-f', join(this.spec.workDir, 'frr.conf'), '-i', join(this.runDir, 'bgpd.pid'), ...common],
      this.bgpdLog, this.spec.namespace);
    await waitFor('bgpd vty', async () => {
      if (!this.bgpd?.isRunning()) throw new Error(`bgpd exited; see ${this.bgpdLog}`);
      await this.vtysh('show bgp summary json');
      return true;
    }, { timeoutMs: 15_000, intervalMs: 200 });
    await this.waitForConnectedAddresses();
    await this.configureBgp(['no bgp shutdown']);
  }

  /** bgpd learns its interfaces' addresses from zebra some time after it starts. A session that
   *  comes up before bgpd knows the address it runs from has "no peer interface information", and
   *  bgpd then treats every IPv6 route received with a link-local second next hop as withdrawn, for
   *  the whole session (seen after restarts). So sessions wait until zebra has sent bgpd at least
   *  as many interface addresses as the namespace has. */
  private async waitForConnectedAddresses(): Promise<void> {
    // Tentative IPv6 addresses (duplicate address detection still running) are not counted.
    const listed = (await run('ip', ['-n', this.spec.namespace, '-o', 'addr', 'show'])).stdout.split('\n');
    const addresses = listed.filter((l) => l.trim() !== '' && !l.includes('tentative')).length;
    await waitFor(`zebra to send bgpd ${addresses} interface addresses`, async () => {
      const shown = (await run(FRR.vtysh, ['--vty_socket', this.runDir, '-d', 'zebra', '-c', 'show zebra client'], { timeoutMs: 5_000 })).stdout;
      const sent = addressAddsTo('bgp', shown);
      return sent !== undefined && sent >= addresses ? true : undefined;
    }, { timeoutMs: 15_000, intervalMs: 100 });
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (this.bgpd) await stopDaemon(this.bgpd, signal);
    if (this.zebra) await stopDaemon(this.zebra, signal);
  }

  /** Runs configuration commands in `router bgp ASN` through vtysh, as an operator would. */
  async configureBgp(lines: string[]): Promise<string> {
    const args = ['--vty_socket', this.runDir, '-d', 'bgpd', '-c', 'configure terminal', '-c', `router bgp ${this.spec.asn}`];
    for (const l of lines) args.push('-c', l);
    return (await run(FRR.vtysh, args, { timeoutMs: 5_000 })).stdout;
  }

  private async vtysh(command: string): Promise<string> {
    const r = await run(FRR.vtysh, ['--vty_socket', this.runDir, '-d', 'bgpd', '-c', command], { timeoutMs: 5_000 });
    return r.stdout;
  }

  private address(label: string): string {
    const s = this.spec.sessions.find((x) => x.label === label);
    if (s === undefined) throw new Error(`frr: no session ${label}`);
    return s.remoteAddress;
  }

  private async neighbor(label: string): Promise<FrrNeighbor> {
    const address = this.address(label);
    const all = JSON.parse(await this.vtysh(`show bgp neighbors ${address} json`)) as Record<string, FrrNeighbor>;
    const n = all[address];
    if (n === undefined) throw new Error(`frr: neighbor ${address} missing from show bgp neighbors`);
    return n;
  }

  async session(label: string): Promise<SessionStatus> {
    const n = await this.neighbor(label);
    const state = n.bgpState ?? 'unknown';
    return { established: state === 'Established', state, lastError: describe(n) };
  }

  async routes(label: string, family: Family): Promise<RouteInfo[]> {
    const address = this.address(label);
    const afi = family === 'ipv4-unicast' ? 'ipv4' : 'ipv6';
    const table = JSON.parse(await this.vtysh(`show bgp ${afi} unicast json`)) as { routes?: Record<string, FrrPath[]> };
    const routes: RouteInfo[] = [];
    for (const [prefix, paths] of Object.entries(table.routes ?? {})) {
      for (const p of paths) {
        if (p.peerId !== address) continue;
        routes.push({ prefix, nextHop: globalNextHop(p.nexthops), asPath: (p.path?.match(/\d+/g) ?? []).map(Number) });
      }
    }
    return routes;
  }

  async routeDetails(family: Family): Promise<RouteDetail[]> {
    const afi = family === 'ipv4-unicast' ? 'ipv4' : 'ipv6';
    const table = JSON.parse(await this.vtysh(`show bgp ${afi} unicast json`)) as { routes?: Record<string, FrrPath[]> };
    const routes: RouteDetail[] = [];
    for (const prefix of Object.keys(table.routes ?? {})) {
      const detail = JSON.parse(await this.vtysh(`show bgp ${afi} unicast ${prefix} json`)) as { paths?: FrrDetailedPath[] };
      for (const p of detail.paths ?? []) {
        const from = p.peer?.peerId ?? '';
        if (from === '' || from === '0.0.0.0' || from === '::') continue; // locally originated
        routes.push({
          prefix,
          nextHop: globalNextHop(p.nexthops),
          asPath: (p.aspath?.string?.match(/\d+/g) ?? []).map(Number),
          from,
          originatorId: p.originatorId,
          clusterList: p.clusterList?.list ?? [],
          stale: p.stale === true,
        });
      }
    }
    return routes;
  }

  /** The last NOTIFICATION the neighbor sent us: from show, or (when a failed reconnect has
   *  already replaced show's "last reset") from bgpd's log. */
  async notificationReport(label: string): Promise<string> {
    const shown = describe(await this.neighbor(label));
    if (/notification/i.test(shown)) return shown;
    const marker = `%NOTIFICATION: received from neighbor ${this.address(label)} `;
    const logged = (await readFile(this.bgpdLog, 'utf8').catch(() => '')).split('\n').filter((l) => l.includes(marker)).at(-1);
    // FRR: %NOTIFICATION: received from neighbor A 6/2 (Cease/Administrative Shutdown) "text"
    const m = logged?.match(/ (\d+\/\d+) \(([^)]*)\)(?: "(.*)")?/);
    return m ? `BGP Notification received: ${m[2]} (${m[1]})${m[3] !== undefined ? ` "${m[3]}"` : ''}` : shown;
  }

  logs(): string[] {
    return [this.bgpdLog, this.zebraLog];
  }
}

/** The "Intf Addr" Add count (interface addresses zebra has sent) of one client in zebra's
 *  `show zebra client`, or undefined when the client has not connected yet. */
export function addressAddsTo(client: string, shown: string): number | undefined {
  const section = shown.split(/^Client: /m).find((b) => /^\S+/.exec(b)?.[0] === client);
  const m = section?.match(/^Intf Addr\s+(\d+)/m);
  return m ? Number(m[1]) : undefined;
}

/** "BGP Notification received: Cease/Administrative Shutdown (0602) "text"" from the JSON fields. */
function describe(n: FrrNeighbor): string {
  if (n.lastResetDueTo === undefined) return '';
  let text = n.lastResetDueTo;
  if (n.lastNotificationReason !== undefined) text += `: ${n.lastNotificationReason}`;
  if (n.lastErrorCodeSubcode !== undefined) text += ` (${n.lastErrorCodeSubcode})`;
  if (n.lastShutdownDescription !== undefined) text += ` "${n.lastShutdownDescription}"`;
  return text;
}
