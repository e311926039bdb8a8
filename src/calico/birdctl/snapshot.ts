// SPDX-License-Identifier: Apache-2.0
// Reads the daemon into the BIRD view (model.ts) for one address family, as Calico's bird
// (IPv4) and bird6 (IPv6) each show their own sessions and routes:
//  - protocols: static1 (originated routes), kernel1, device1, direct1 (kernel sync), in the
//    order Calico's bird.cfg declares them, then one per peer whose address is of the family,
//    named as configured (Calico mode names them Mesh_10_0_0_3, Node_..., Global_...);
//  - routes: every Loc-RIB path of the family, in BIRD's FIB order, the best of a network first.
// It does not change the daemon; the only state it keeps is when each peer's protocol state
// (BIRD's up/start/down) last changed, which the daemon does not record.
import { networkInterfaces } from 'node:os';
import type { Daemon, PeerEntry } from '../../daemon.ts';
import type { Capability, Family } from '../../bgp/messages/types.ts';
import type { PolicyRef } from '../../config/types.ts';
import type { Destination, Path } from '../../rib/types.ts';
import { CapabilityCode } from '../../bgp/messages/iana.ts';
import { AddPathDirection } from '../../bgp/messages/capabilities.ts';
import { prefixToString } from '../../bgp/messages/nlri.ts';
import { bytesToIp, ipToBytes, u32ToDotted } from '../../util/ip.ts';
import { inPrefix } from '../../kernel-sync/interfaces.ts';
import { isPeerDisabled } from '../../control/peer-ops.ts';
import { bgpInfo } from './format.ts';
import { bgpAttributeLines, birdFibHash } from './route-attrs.ts';
import type { BirdProtocol, BirdRoute, BirdSnapshot, ProtoState, RouteChangeStats, RouteDest } from './model.ts';

/** Calico's BIRD: `BIRD v0.3.3+birdv1.6.8` (calicoctl and the probes only need "BIRD" and "ready"). */
export const CALICO_BIRD_VERSION = 'v0.3.3+birdv1.6.8';
/** bgp_template's description in Calico's bird.cfg, shown for peers without their own. */
export const CALICO_PEER_DESCRIPTION = 'Connection to BGP peer';

/** BIRD's default preferences (nest/route.h DEF_PREF_*). */
const PREFERENCE = { direct: 240, static: 200, bgp: 100, kernel: 10, device: 240 } as const;

export type BirdFamily = 'ipv4' | 'ipv6';

const FAMILY: Record<BirdFamily, Family> = { ipv4: 'ipv4-unicast', ipv6: 'ipv6-unicast' };

/** Keeps what the daemon does not: when each peer's protocol state last changed. */
export class ProtocolClock {
  private readonly changed = new Map<string, number>();
  private reconfigured: number;
  private readonly daemon: Daemon;
  private readonly onState = (entry: PeerEntry, from: string, to: string): void => {
    // BIRD's `since` moves with the protocol state (start ⇄ up), not with every FSM step.
    if ((from === 'Established') !== (to === 'Established')) this.changed.set(entry.config.name, Date.now());
  };
  private readonly onReload = (): void => {
    this.reconfigured = Date.now();
  };

  constructor(daemon: Daemon) {
    this.daemon = daemon;
    this.reconfigured = daemon.startedAt;
    daemon.events.on('peerState', this.onState);
    daemon.events.on('reload', this.onReload);
  }

  since(name: string): number {
    return this.changed.get(name) ?? this.daemon.startedAt;
  }

  get reconfiguredAt(): number {
    return this.reconfigured;
  }

  dispose(): void {
    this.daemon.events.off('peerState', this.onState);
    this.daemon.events.off('reload', this.onReload);
  }
}

export function peerFamily(entry: PeerEntry): BirdFamily {
  return ipToBytes(entry.config.address.split('%')[0]!)?.length === 16 ? 'ipv6' : 'ipv4';
}

export function buildSnapshot(daemon: Daemon, clock: ProtocolClock, family: BirdFamily, version = CALICO_BIRD_VERSION, now = Date.now()): BirdSnapshot {
  const fam = FAMILY[family];
  const routes = routesOf(daemon, fam, now);
  const peers = [...daemon.peers.values()].filter((p) => peerFamily(p) === family);
  return {
    family,
    status: {
      version,
      routerId: daemon.config.routerId,
      now,
      bootedAt: daemon.startedAt,
      reconfiguredAt: clock.reconfiguredAt,
      ...(daemon.speaker.recovering ? { gracefulRestart: grStatus(daemon, peers, now) } : {}),
    },
    protocols: [...localProtocols(daemon, fam, routes), ...peers.map((p) => peerProtocol(daemon, clock, p, fam, now))],
    routes,
  };
}

function grStatus(daemon: Daemon, peers: PeerEntry[], now: number): { waitingFor: number; timerLeft: number; timerTotal: number } {
  const total = daemon.config.gracefulRestart.deferralTime;
  const waiting = peers.filter((p) => p.config.gracefulRestart && p.session.state !== 'Established').length + (daemon.config.kernel?.program ? 1 : 0);
  return { waitingFor: waiting, timerLeft: Math.max(0, Math.ceil(total - (now - daemon.startedAt) / 1000)), timerTotal: total };
}

// ===== Protocols =====
function policyName(ref: PolicyRef | undefined): string {
  if (!ref) return 'REJECT';
  switch (ref.kind) {
    case 'all':
      return 'ACCEPT';
    case 'none':
      return 'REJECT';
    case 'named':
      return ref.name;
    default:
      return '(unnamed)';
  }
}

function simpleStats(imported: number, exported: number): RouteChangeStats {
  return { importUpdates: [imported, 0, 0, 0, imported], importWithdraws: [0, 0, 0, 0], exportUpdates: [exported, 0, 0, exported], exportWithdraws: [0, 0] };
}

function localProtocols(daemon: Daemon, family: Family, routes: BirdRoute[]): BirdProtocol[] {
  const since = daemon.startedAt;
  const count = (proto: string) => ({ imported: routes.filter((r) => r.proto === proto).length, preferred: routes.filter((r) => r.proto === proto && r.primary).length });
  const kernel = daemon.config.kernel;
  const programmed = daemon.kernel ? [...daemon.kernel.programmed.values()].filter((p) => p.family === family && p.state === 'installed').length : 0;
  const recovering = daemon.speaker.recovering && !!kernel?.program;
  const make = (name: string, kind: BirdProtocol['kind'], preference: number, outputFilter: string, exported: number, state: ProtoState = 'up', grRecovery?: string): BirdProtocol => {
    const c = count(name);
    return {
      name, kind, table: 'master', state, since, info: '', preference, inputFilter: 'ACCEPT', outputFilter,
      ...(grRecovery ? { grRecovery } : {}),
      routes: { imported: c.imported, exported, preferred: c.preferred },
      stats: simpleStats(c.imported, exported),
    };
  };
  return [
    make('static1', 'Static', PREFERENCE.static, 'REJECT', 0),
    make('kernel1', 'Kernel', PREFERENCE.kernel, kernel?.program ? policyName(kernel.export) : 'REJECT', programmed, recovering ? 'wait' : 'up', recovering ? 'waiting' : undefined),
    make('device1', 'Device', PREFERENCE.device, 'REJECT', 0),
    make('direct1', 'Direct', PREFERENCE.direct, 'REJECT', 0),
  ];
}

/** BIRD's last-error classes (proto/bgp/bgp.c bgp_err_classes) over Tern's last error text. */
export function birdLastError(text: string | undefined): string | undefined {
  if (!text) return undefined;
  const m = /^(received|sent) (.*)$/.exec(text);
  if (m) return `${m[1] === 'received' ? 'Received' : 'BGP Error'}: ${m[2]}`;
  if (text === 'connection failed') return 'Socket: Connection failed';
  if (text === 'connection closed by peer') return 'Socket: Connection closed';
  if (text === 'stopped') return undefined;
  return `Error: ${text}`;
}

function peerProtocol(daemon: Daemon, clock: ProtocolClock, entry: PeerEntry, family: Family, now: number): BirdProtocol {
  const { config, session, ref } = entry;
  const fsm = session.state;
  const disabled = isPeerDisabled(entry);
  const established = fsm === 'Established';
  const state: ProtoState = disabled ? 'down' : established ? 'up' : 'start';
  // bgp_state_dsc: an idle passive session shows as Passive (Tern waits for the peer in Active).
  const bgpState = disabled ? 'Down' : !established && config.passive && (fsm === 'Idle' || fsm === 'Active') ? 'Passive' : fsm;
  const lastError = established ? undefined : birdLastError(session.info.lastError);
  const counted = daemon.rib.adjInCounts(ref.id).get(family);
  const received = counted?.received ?? 0;
  const rejected = counted?.rejected ?? 0;
  const accepted = received - rejected;
  let preferred = 0;
  for (const d of daemon.rib.loc.values()) if (d.family === family && d.decision.best?.peer?.id === ref.id) preferred++;
  const exported = daemon.rib.sentCount(ref.id, family);
  const grPending = daemon.speaker.recovering && !!config.gracefulRestart && !established;
  return {
    name: config.name,
    kind: 'BGP',
    table: 'master',
    state,
    since: clock.since(config.name),
    info: bgpInfo(bgpState, state === 'down', lastError),
    description: config.description ?? CALICO_PEER_DESCRIPTION,
    preference: PREFERENCE.bgp,
    inputFilter: policyName(config.import),
    outputFilter: policyName(config.export),
    ...(grPending ? { grRecovery: 'pending' } : {}),
    routes: { imported: accepted, exported, preferred },
    stats: { importUpdates: [received, rejected, 0, 0, accepted], importWithdraws: [0, 0, 0, 0], exportUpdates: [exported, 0, 0, exported], exportWithdraws: [0, 0] },
    bgp: {
      state: bgpState,
      neighborAddress: config.address,
      neighborAs: config.asn,
      ...(established ? { session: sessionDetail(entry, family, now) } : {}),
      ...(lastError ? { lastError } : {}),
    },
  };
}

function familyCodes(family: Family): { afi: number; safi: number } {
  return family === 'ipv4-unicast' ? { afi: 1, safi: 1 } : { afi: 2, safi: 1 };
}

/** "Neighbor caps" (bgp_show_proto_info): what the peer's OPEN offered, in BIRD's order. */
export function neighborCaps(caps: readonly Capability[], family: Family): string {
  const has = (code: number) => caps.some((c) => c.code === code);
  const { afi, safi } = familyCodes(family);
  const gr = caps.find((c): c is Extract<Capability, { kind: 'graceful-restart' }> => c.kind === 'graceful-restart');
  const addPath = caps.find((c): c is Extract<Capability, { kind: 'add-path' }> => c.kind === 'add-path')?.families.find((f) => f.afi === afi && f.safi === safi);
  const words = [
    has(CapabilityCode.RouteRefresh) || has(CapabilityCode.RouteRefreshCisco) ? 'refresh' : '',
    has(CapabilityCode.EnhancedRouteRefresh) ? 'enhanced-refresh' : '',
    gr ? (gr.families.length > 0 ? 'restart-able' : 'restart-aware') : '',
    has(CapabilityCode.LongLivedGracefulRestart) ? 'llgr-aware' : '',
    has(CapabilityCode.FourOctetAs) ? 'AS4' : '',
    addPath && addPath.sendReceive & AddPathDirection.Receive ? 'add-path-rx' : '',
    addPath && addPath.sendReceive & AddPathDirection.Send ? 'add-path-tx' : '',
    has(CapabilityCode.ExtendedMessage) ? 'ext-messages' : '',
  ];
  return words.filter((w) => w !== '').join(' ');
}

function sessionDetail(entry: PeerEntry, family: Family, now: number): NonNullable<NonNullable<BirdProtocol['bgp']>['session']> {
  const { session, ref } = entry;
  const info = session.info;
  const n = info.negotiated;
  const ap = n?.addPath.find((a) => a.family === family);
  const words = [
    ref.type === 'ibgp' ? 'internal' : 'external',
    // BIRD runs iBGP sessions multihop unless `direct` (Calico's bird.cfg says `multihop`).
    ref.type === 'ibgp' ? 'multihop' : '',
    ref.rrClient ? 'route-reflector' : '',
    n?.as4 ? 'AS4' : '',
    ap?.receive ? 'add-path-rx' : '',
    ap?.send ? 'add-path-tx' : '',
    n?.extendedMessage ? 'ext-messages' : '',
  ];
  const hold = n?.holdTime ?? 0;
  const keepalive = n?.keepaliveTime ?? 0;
  // Tern's timers are not exposed; keepalives arrive every `keepalive` seconds, so the time
  // since the last one is the uptime modulo that period.
  const elapsed = info.uptimeSince ? Math.floor((now - info.uptimeSince) / 1000) : 0;
  const sinceKeepalive = keepalive > 0 ? elapsed % keepalive : 0;
  return {
    neighborId: info.remoteOpen ? u32ToDotted(info.remoteOpen.bgpId) : '0.0.0.0',
    neighborCaps: neighborCaps(info.remoteOpen?.capabilities ?? [], family),
    session: words.filter((w) => w !== '').join(' '),
    sourceAddress: (session.localAddress ?? '').replace(/^::ffff:/, ''),
    holdTimer: [Math.max(0, hold - sinceKeepalive), hold],
    keepaliveTimer: [Math.max(0, keepalive - sinceKeepalive), keepalive],
  };
}

// ===== Routes =====
type IfaceResolver = (address: Uint8Array) => string | undefined;

function ifaceResolver(daemon: Daemon): IfaceResolver {
  const k = daemon.kernel;
  let osTable: { name: string; address: Uint8Array; length: number }[] | undefined;
  return (address) => {
    const a = k?.ifaces.onLink(address);
    const name = a ? k?.ifaces.byIndex(a.index)?.name : undefined;
    if (name) return name;
    // Without kernel sync: the host's interfaces, as the OS reports them.
    osTable ??= Object.entries(networkInterfaces()).flatMap(([ifname, list]) =>
      (list ?? []).flatMap((i) => {
        const bytes = ipToBytes(i.address.split('%')[0]!);
        const length = Number(i.cidr?.split('/')[1]);
        return bytes && Number.isInteger(length) && length < bytes.length * 8 ? [{ name: ifname, address: bytes, length }] : [];
      }),
    );
    let best: { name: string; length: number } | undefined;
    for (const i of osTable) if (inPrefix(address, i.address, i.length) && (!best || i.length > best.length)) best = i;
    return best?.name;
  };
}

function protoName(path: Path): string {
  switch (path.source) {
    case 'bgp':
      return path.peer?.name ?? 'bgp';
    case 'originated':
      return 'static1';
    case 'kernel':
      return 'kernel1';
    default:
      return 'direct1';
  }
}

function routeOf(path: Path, primary: boolean, resolve: IfaceResolver): BirdRoute {
  const nh = path.attrs.nextHop;
  const gateway = (iface: string | undefined): RouteDest => (nh && iface ? { kind: 'via', gateway: bytesToIp(nh), iface } : { kind: 'unreachable' });
  const { family, length, address } = path.nlri;
  const base = { prefix: prefixToString({ family, length, address }), address, proto: protoName(path), since: path.receivedAt, primary };
  switch (path.source) {
    case 'bgp': {
      const iface = nh && !path.ineligible ? resolve(nh) : undefined;
      const dest = gateway(iface);
      const from = path.peer && nh && bytesToIp(nh) !== path.peer.addressText ? path.peer.addressText : undefined;
      const asPath = path.attrs.asPath;
      const lastSeg = asPath[asPath.length - 1];
      const originAs = lastSeg?.asns[lastSeg.asns.length - 1];
      return {
        ...base, dest, preference: PREFERENCE.bgp, type: 'BGP unicast univ',
        ...(from ? { from } : {}),
        bgp: { ...(dest.kind === 'via' ? { igpMetric: 0 } : {}), ...(originAs !== undefined ? { originAs } : {}), origin: 'ie?'[path.attrs.origin ?? 2] ?? '?', attributes: bgpAttributeLines(path.attrs) },
      };
    }
    case 'originated':
      return { ...base, dest: path.blackhole ? { kind: 'blackhole' } : nh ? gateway(resolve(nh)) : { kind: 'unreachable' }, preference: PREFERENCE.static, type: 'static unicast univ' };
    case 'kernel': {
      const dest: RouteDest = nh && path.interface ? { kind: 'via', gateway: bytesToIp(nh), iface: path.interface } : path.interface ? { kind: 'dev', iface: path.interface } : { kind: 'blackhole' };
      return { ...base, dest, preference: PREFERENCE.kernel, type: 'inherit unicast univ' };
    }
    default:
      return { ...base, dest: path.interface ? { kind: 'dev', iface: path.interface } : { kind: 'unreachable' }, preference: PREFERENCE.direct, type: 'device unicast univ' };
  }
}

function destinationRoutes(dest: Destination, resolve: IfaceResolver): BirdRoute[] {
  const best = dest.decision.best;
  const ordered = best ? [best, ...dest.paths.filter((p) => p !== best)] : [...dest.paths];
  return ordered.map((p) => routeOf(p, p === best, resolve));
}

function routesOf(daemon: Daemon, family: Family, _now: number): BirdRoute[] {
  const resolve = ifaceResolver(daemon);
  const dests = [...daemon.rib.loc.values()].filter((d) => d.family === family && d.pathCount > 0);
  // BIRD walks its FIB in hash order (nest/rt-fib.c); a network's routes stay together.
  const order = new Map(dests.map((d) => [d, birdFibHash(d.nlri.address, family)]));
  dests.sort((a, b) => order.get(a)! - order.get(b)! || a.nlri.length - b.nlri.length);
  return dests.flatMap((d) => destinationRoutes(d, resolve));
}
