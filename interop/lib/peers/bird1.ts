// SPDX-License-Identifier: Apache-2.0
// BIRD 1.6 peer driver. BIRD 1.6 is two programs, `bird` (IPv4) and `bird6` (IPv6), each with
// its own config, control socket and `birdc`/`birdc6`, as Calico runs it. So a session carries
// exactly one family over its own transport: a dual-stack session (IPv6 routes over an IPv4
// session) is impossible and the lab reports that case as skipped. The binaries come from the
// Debian `bird` package unpacked into interop/.cache/bird1 (scripts/install-peers.sh), because
// that package conflicts with bird2.
import { writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run, startDaemon, stopDaemon, type DaemonProcess } from '../proc.ts';
import { waitFor } from '../wait.ts';
import type { Family, PeerDriver, PeerSpec, RouteDetail, RouteInfo, SessionSpec, SessionStatus } from '../types.ts';
import {
  BIRD_FAST_TIMERS,
  BIRD_GR_WAIT,
  birdAddPaths,
  birdc,
  birdDetailsByAddress,
  birdProtocolOptions,
  birdSymbol,
  lastReceivedInLog,
  familyOfPrefix,
  parseBirdProtocol,
  parseBirdRouteDetails,
  parseBirdRoutes,
} from './bird-common.ts';

export const BIRD1_ROOT = fileURLToPath(new URL('../../.cache/bird1/usr/sbin/', import.meta.url));
export const BIRD1 = {
  daemon4: join(BIRD1_ROOT, 'bird'),
  daemon6: join(BIRD1_ROOT, 'bird6'),
  client4: join(BIRD1_ROOT, 'birdc'),
  client6: join(BIRD1_ROOT, 'birdc6'),
};

export const BIRD1_DUAL_STACK_SKIP =
  'BIRD 1.6 runs IPv4 and IPv6 as separate bird/bird6 processes (as in Calico): it cannot carry both families on one session';

export function bird1Installed(): boolean {
  return Object.values(BIRD1).every((p) => existsSync(p));
}

function bird1Config(routerId: string, statics: string[], sessions: SessionSpec[], clusterId: string | undefined): string {
  const out = [`router id ${routerId};`, 'log stderr all;', 'protocol device { scan time 10; }'];
  if (sessions.some((s) => s.gracefulRestart === true)) out.push(BIRD_GR_WAIT);
  if (statics.length > 0) out.push(`protocol static static1 { ${statics.map((p) => `route ${p} blackhole;`).join(' ')} }`);
  for (const s of sessions) {
    const ibgp = s.localAsn === s.remoteAsn;
    out.push(
      `protocol bgp ${birdSymbol(s.label)} {`,
      `  local ${s.localAddress} as ${s.localAsn};`,
      `  neighbor ${s.remoteAddress} as ${s.remoteAsn};${ibgp ? ' direct;' : ''}`,
      `  import all; export all;${s.keepNextHop === true ? '' : ' next hop self;'}${ibgp ? ' gateway direct;' : ''}${birdAddPaths(s.addPaths)}`,
      `  connect delay time 1; ${BIRD_FAST_TIMERS}`,
      birdProtocolOptions({ ...s, clusterId }),
      '}',
    );
  }
  return out.filter((l) => l !== '').join('\n') + '\n';
}

interface Bird1Instance {
  family: Family;
  daemon: string;
  client: string;
  conf: string;
  socket: string;
  log: string;
  proc?: DaemonProcess;
}

export class Bird1Peer implements PeerDriver {
  readonly spec: PeerSpec;
  private readonly instances: Bird1Instance[];

  constructor(spec: PeerSpec) {
    this.spec = spec;
    for (const s of spec.sessions) {
      if (s.kind === 'dual') throw new Error(BIRD1_DUAL_STACK_SKIP);
    }
    mkdirSync(spec.workDir, { recursive: true });
    const make = (family: Family, suffix: string, daemon: string, client: string): Bird1Instance => {
      const conf = join(spec.workDir, `bird${suffix}.conf`);
      const sessions = spec.sessions.filter((s) => s.families[0] === family);
      writeFileSync(conf, bird1Config(spec.routerId, spec.prefixes[family], sessions, spec.clusterId));
      return { family, daemon, client, conf, socket: join(spec.workDir, `bird${suffix}.ctl`), log: join(spec.workDir, `bird${suffix}.log`) };
    };
    this.instances = [make('ipv4-unicast', '', BIRD1.daemon4, BIRD1.client4), make('ipv6-unicast', '6', BIRD1.daemon6, BIRD1.client6)];
  }

  async version(): Promise<string> {
    const r = await run(BIRD1.daemon4, ['--version'], { check: false });
    return (r.stdout + r.stderr).trim();
  }

  async start(opts: { recovery?: boolean } = {}): Promise<void> {
    await Promise.all(
      this.instances.map(async (i) => {
        const pid = i.socket.replace(/\.ctl$/, '.pid');
        const args = ['-f', '-c', i.conf, '-s', i.socket, '-P', pid, ...(opts.recovery === true ? ['-R'] : [])];
        i.proc = startDaemon(`bird1-${this.spec.relation}-${i.family}`, i.daemon, args, i.log, this.spec.namespace);
        await waitFor(`${i.daemon} control socket`, async () => {
          if (!i.proc?.isRunning()) throw new Error(`exited; see ${i.log}`);
          await birdc(i.client, i.socket, ['show', 'status']);
          return true;
        }, { timeoutMs: 10_000, intervalMs: 200 });
      }),
    );
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    await Promise.all(this.instances.map((i) => (i.proc ? stopDaemon(i.proc, signal) : undefined)));
  }

  private instanceFor(label: string): Bird1Instance {
    const session = this.spec.sessions.find((s) => s.label === label);
    const inst = this.instances.find((i) => i.family === session?.families[0]);
    if (session === undefined || inst === undefined) throw new Error(`bird1: no session ${label}`);
    return inst;
  }

  async session(label: string): Promise<SessionStatus> {
    const i = this.instanceFor(label);
    const protocol = birdSymbol(label);
    return parseBirdProtocol(await birdc(i.client, i.socket, ['show', 'protocols', 'all', protocol]), protocol);
  }

  async routes(label: string, family: Family): Promise<RouteInfo[]> {
    const i = this.instanceFor(label);
    const out = await birdc(i.client, i.socket, ['show', 'route', 'all', 'protocol', birdSymbol(label)]);
    return parseBirdRoutes(out).filter((r) => familyOfPrefix(r.prefix) === family);
  }

  async routeDetails(family: Family): Promise<RouteDetail[]> {
    const i = this.instances.find((x) => x.family === family);
    if (i === undefined) return [];
    const out = await birdc(i.client, i.socket, ['show', 'route', 'all']);
    return birdDetailsByAddress(parseBirdRouteDetails(out), this.spec.sessions);
  }

  async notificationReport(label: string): Promise<string> {
    const live = (await this.session(label)).lastError;
    if (live.startsWith('Received:')) return live;
    return lastReceivedInLog(this.instanceFor(label).log, birdSymbol(label)) ?? live;
  }

  logs(): string[] {
    return this.instances.map((i) => i.log);
  }
}
