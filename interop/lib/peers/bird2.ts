// SPDX-License-Identifier: Apache-2.0
// BIRD 2.0 peer driver: writes bird.conf (static routes + one BGP protocol per session, explicit
// `import all; export all;` because RFC 8212 makes eBGP default-deny in BIRD 2), runs `bird -f`
// in the peer's namespace and queries it with `birdc`. The config writer is also used by the
// BIRD 2 stand-in DUT. It does not install anything in the kernel (no kernel protocol).
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { run, startDaemon, stopDaemon, type DaemonProcess } from '../proc.ts';
import { waitFor } from '../wait.ts';
import type { Family, PeerDriver, PeerSpec, RouteDetail, RouteInfo, SessionStatus } from '../types.ts';
import {
  BIRD_FAST_TIMERS,
  BIRD_GR_WAIT,
  birdDetailsByAddress,
  birdAddPaths,
  birdProtocolOptions,
  birdSecurityOptions,
  parseBirdRouteDetails,
  birdc,
  birdSymbol,
  lastReceivedInLog,
  familyOfPrefix,
  parseBirdProtocol,
  parseBirdRoutes,
  type BirdRouteDetail,
  type BirdSessionConfig,
} from './bird-common.ts';

export const BIRD2 = { daemon: '/usr/sbin/bird', client: '/usr/sbin/birdc' };

/** BIRD 2's BFD timers for `bfd on` sessions (one `protocol bfd` for every interface). */
export interface BirdBfdTimers {
  minRxMs: number;
  minTxMs: number;
  multiplier: number;
}

export const DEFAULT_BIRD_BFD: BirdBfdTimers = { minRxMs: 100, minTxMs: 100, multiplier: 3 };

export function bird2Config(routerId: string, statics: Record<Family, string[]>, sessions: BirdSessionConfig[], bfd: BirdBfdTimers = DEFAULT_BIRD_BFD): string {
  const out = [`router id ${routerId};`, 'log stderr all;', 'protocol device { scan time 10; }', ''];
  if (sessions.some((s) => s.bfd === true)) {
    out.push(`protocol bfd { interface "*" { min rx interval ${bfd.minRxMs} ms; min tx interval ${bfd.minTxMs} ms; idle tx interval 1000 ms; multiplier ${bfd.multiplier}; }; }`);
  }
  if (sessions.some((s) => s.gracefulRestart === true)) out.push(BIRD_GR_WAIT);
  if (statics['ipv4-unicast'].length > 0) {
    out.push(`protocol static static4 { ipv4; ${statics['ipv4-unicast'].map((p) => `route ${p} blackhole;`).join(' ')} }`);
  }
  if (statics['ipv6-unicast'].length > 0) {
    out.push(`protocol static static6 { ipv6; ${statics['ipv6-unicast'].map((p) => `route ${p} blackhole;`).join(' ')} }`);
  }
  for (const s of sessions) {
    const ibgp = s.localAsn === s.remoteAsn;
    // iBGP next hops are on the shared subnet: resolve them directly (no IGP in the lab).
    const gateway = ibgp ? ' gateway direct;' : '';
    const addPaths = birdAddPaths(s.addPaths);
    const channels: string[] = [];
    if (s.families.includes('ipv4-unicast')) {
      channels.push(`  ipv4 { import all; export all;${s.keepNextHop === true ? '' : ' next hop self;'}${gateway}${addPaths} };`);
    }
    if (s.families.includes('ipv6-unicast')) {
      const nh = s.remoteAddress.includes(':') ? 'next hop self;' : `next hop address ${s.nextHop6 ?? ''};`;
      channels.push(`  ipv6 { import all; export all; ${s.keepNextHop === true ? '' : nh}${gateway}${addPaths} };`);
    }
    out.push(
      `protocol bgp ${s.protocol} {`,
      `  local ${s.localAddress} as ${s.localAsn};`,
      `  neighbor ${s.remoteAddress} as ${s.remoteAsn};${ibgp ? ' direct;' : ''}`,
      `  connect delay time 1; ${BIRD_FAST_TIMERS}`,
      birdProtocolOptions(s),
      birdSecurityOptions(s),
      s.bfd === true ? '  bfd on;' : '',
      ...channels,
      '}',
    );
  }
  return out.filter((l) => l !== '').join('\n') + '\n';
}

/** Runs one BIRD 2 process with a private control socket; shared by the peer and the stand-in. */
export class Bird2Process {
  readonly socket: string;
  readonly logFile: string;
  private readonly confFile: string;
  private proc: DaemonProcess | undefined;
  readonly name: string;
  readonly namespace: string;
  readonly workDir: string;

  constructor(name: string, namespace: string, workDir: string, config: string) {
    this.name = name;
    this.namespace = namespace;
    this.workDir = workDir;
    mkdirSync(workDir, { recursive: true });
    this.socket = join(workDir, 'bird.ctl');
    this.logFile = join(workDir, 'bird.log');
    this.confFile = join(workDir, 'bird.conf');
    writeFileSync(this.confFile, config);
  }

  /** `recovery`: `bird -R`, a graceful restart (R and F bits in its OPEN, RFC 4724 §3). */
  async start(opts: { recovery?: boolean } = {}): Promise<void> {
    const args = ['-f', '-c', this.confFile, '-s', this.socket, '-P', join(this.workDir, 'bird.pid')];
    if (opts.recovery === true) args.push('-R');
    this.proc = startDaemon(this.name, BIRD2.daemon, args, this.logFile, this.namespace);
    await waitFor(`${this.name} control socket`, async () => {
      if (!this.proc?.isRunning()) throw new Error(`bird exited; see ${this.logFile}`);
      await birdc(BIRD2.client, this.socket, ['show', 'status']);
      return true;
    }, { timeoutMs: 10_000, intervalMs: 200 });
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | string | null> {
    return this.proc ? stopDaemon(this.proc, signal) : null;
  }

  /** The process id (for SIGSTOP/SIGCONT in fault tests); undefined when not running. */
  get pid(): number | undefined {
    return this.proc?.isRunning() ? this.proc.child.pid : undefined;
  }

  /** Rewrites bird.conf and applies it with `birdc configure` (BIRD restarts only what changed). */
  async reconfigure(config: string): Promise<string> {
    writeFileSync(this.confFile, config);
    return birdc(BIRD2.client, this.socket, ['configure']);
  }

  async protocol(protocol: string): Promise<SessionStatus> {
    return parseBirdProtocol(await birdc(BIRD2.client, this.socket, ['show', 'protocols', 'all', protocol]), protocol);
  }

  async routes(protocol: string, family: Family): Promise<RouteInfo[]> {
    const out = await birdc(BIRD2.client, this.socket, ['show', 'route', 'all', 'protocol', protocol]);
    return parseBirdRoutes(out).filter((r) => familyOfPrefix(r.prefix) === family);
  }

  /** Every BGP path in the master tables, with the protocol it came from. */
  async routeDetails(family: Family): Promise<BirdRouteDetail[]> {
    const out = await birdc(BIRD2.client, this.socket, ['show', 'route', 'all']);
    return parseBirdRouteDetails(out).filter((r) => familyOfPrefix(r.prefix) === family);
  }

  /** Raw `show protocols all NAME` (capabilities, graceful restart state). */
  protocolText(protocol: string): Promise<string> {
    return birdc(BIRD2.client, this.socket, ['show', 'protocols', 'all', protocol]);
  }
}

export class Bird2Peer implements PeerDriver {
  private readonly bird: Bird2Process;
  readonly spec: PeerSpec;

  constructor(spec: PeerSpec) {
    this.spec = spec;
    const sessions: BirdSessionConfig[] = spec.sessions.map((s) => ({
      protocol: birdSymbol(s.label),
      localAddress: s.localAddress,
      remoteAddress: s.remoteAddress,
      localAsn: s.localAsn,
      remoteAsn: s.remoteAsn,
      families: s.families,
      nextHop6: spec.ipv6Address,
      rrClient: s.rrClient,
      clusterId: spec.clusterId,
      addPaths: s.addPaths,
      gracefulRestart: s.gracefulRestart,
      keepNextHop: s.keepNextHop,
      password: s.password,
      ttlSecurity: s.ttlSecurity,
      bfd: s.bfd,
      holdTime: s.holdTime,
    }));
    this.birdSessions = sessions;
    const config = bird2Config(spec.routerId, spec.prefixes, sessions);
    this.bird = new Bird2Process(`bird2-${spec.relation}`, spec.namespace, spec.workDir, config);
  }

  private readonly birdSessions: BirdSessionConfig[];

  /** The running process (pid for SIGSTOP/SIGCONT). */
  get process(): Bird2Process {
    return this.bird;
  }

  /**
   * Changes one session's BIRD options (a new MD5 key, ...) and applies them with `birdc
   * configure`, as an operator would. Returns birdc's answer.
   */
  async reconfigure(label: string, change: Partial<Pick<BirdSessionConfig, 'password' | 'ttlSecurity' | 'bfd' | 'holdTime'>>): Promise<string> {
    const s = this.birdSessions.find((x) => x.protocol === birdSymbol(label));
    if (s === undefined) throw new Error(`bird2: no session ${label}`);
    Object.assign(s, change);
    return this.bird.reconfigure(bird2Config(this.spec.routerId, this.spec.prefixes, this.birdSessions));
  }

  async version(): Promise<string> {
    const r = await run(BIRD2.daemon, ['--version'], { check: false });
    return (r.stdout + r.stderr).trim();
  }

  start(opts?: { recovery?: boolean }): Promise<void> {
    return this.bird.start(opts);
  }

  async stop(signal?: NodeJS.Signals): Promise<void> {
    await this.bird.stop(signal);
  }

  session(label: string): Promise<SessionStatus> {
    return this.bird.protocol(birdSymbol(label));
  }

  routes(label: string, family: Family): Promise<RouteInfo[]> {
    return this.bird.routes(birdSymbol(label), family);
  }

  async routeDetails(family: Family): Promise<RouteDetail[]> {
    return birdDetailsByAddress(await this.bird.routeDetails(family), this.spec.sessions);
  }

  /** Raw `show protocols all` for a session: capabilities and graceful restart state. */
  protocolText(label: string): Promise<string> {
    return this.bird.protocolText(birdSymbol(label));
  }

  async notificationReport(label: string): Promise<string> {
    const live = (await this.session(label)).lastError;
    if (live.startsWith('Received:')) return live;
    return lastReceivedInLog(this.bird.logFile, birdSymbol(label)) ?? live;
  }

  logs(): string[] {
    return [this.bird.logFile];
  }
}
