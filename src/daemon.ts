// SPDX-License-Identifier: Apache-2.0
// Wiring: one PeerSession per configured peer, a listener that hands incoming connections to
// the session of their address, the store of received routes, originated routes sent on every
// Established, and the control socket. Protocol logic lives in bgp/; this file only connects.
import type { Socket } from 'node:net';
import type { TernConfig, PeerConfig } from './config/types.ts';
import type { Logger } from './observability/log.ts';
import { PeerSession } from './bgp/session/peer-session.ts';
import { Listener } from './bgp/session/listener.ts';
import type { Negotiated } from './bgp/messages/negotiate.ts';
import type { DecodedUpdate, Family, RouteRefreshMessage } from './bgp/messages/types.ts';
import { FAMILIES, familyOf } from './bgp/messages/types.ts';
import { RouteRefreshSubtype } from './bgp/messages/iana.ts';
import { encodeRouteRefresh } from './bgp/messages/route-refresh.ts';
import { capabilityToString } from './bgp/messages/capabilities.ts';
import { ReceivedRoutes } from './rib/received-routes.ts';
import { encodeOriginated } from './originate.ts';
import { ControlServer, CommandError } from './control/server.ts';
import { routeView, type PeerView, type RouteView } from './control/views.ts';
import { ipToBytes, u32ToDotted } from './util/ip.ts';

interface PeerEntry {
  config: PeerConfig;
  session: PeerSession;
  routesSent: number;
}

export class Daemon {
  readonly config: TernConfig;
  readonly log: Logger;
  readonly routes = new ReceivedRoutes();
  private readonly peers = new Map<string, PeerEntry>();
  private listener?: Listener;
  private control?: ControlServer;
  private readonly startedAt = Date.now();
  private stopping?: Promise<void>;

  constructor(config: TernConfig, log: Logger) {
    this.config = config;
    this.log = log;
  }

  async start(): Promise<void> {
    const { config } = this;
    if (config.listen.enabled) {
      this.listener = new Listener(config.listen.addresses, config.listen.port, (socket) => this.onIncoming(socket), this.log);
      await this.listener.listen();
    }
    this.control = new ControlServer(config.control.socket, (command, args) => this.command(command, args), this.log);
    await this.control.listen();
    for (const peer of config.peers) this.addPeer(peer);
    this.log.info({ routerId: config.routerId, asn: config.asn, peers: config.peers.length, listen: config.listen }, 'tern started');
  }

  /** Stops every session with Cease / Administrative Shutdown (RFC 9003 text) and closes sockets. */
  stop(reason = 'Tern is shutting down'): Promise<void> {
    this.stopping ??= this.shutdown(reason);
    return this.stopping;
  }

  private async shutdown(reason: string): Promise<void> {
    await Promise.allSettled([...this.peers.values()].map((p) => p.session.stop(reason)));
    await this.listener?.close();
    await this.control?.close();
    this.log.info({ reason }, 'tern stopped');
  }

  private addPeer(config: PeerConfig): void {
    const session = new PeerSession({
      name: config.name,
      address: config.address,
      port: config.port,
      localAddress: config.localAddress,
      asn: config.asn,
      passive: config.passive,
      holdTime: config.holdTime,
      keepalive: config.keepalive,
      connectRetry: config.connectRetry,
      families: config.families,
      addPaths: config.addPaths,
      gracefulRestart: config.gracefulRestart,
      local: { asn: this.config.asn, routerId: this.config.routerIdNum },
      logger: this.log.child({ peer: config.name, peerAddress: config.address, peerAs: config.asn }),
    });
    const entry: PeerEntry = { config, session, routesSent: 0 };
    this.peers.set(config.name, entry);
    session.on('established', (negotiated: Negotiated) => this.onEstablished(entry, negotiated));
    session.on('update', (decoded: DecodedUpdate) => this.onUpdate(entry, decoded));
    session.on('routeRefresh', (msg: RouteRefreshMessage) => this.onRouteRefresh(entry, msg));
    session.on('down', (reason: string) => this.onDown(entry, reason));
    session.start();
  }

  private onIncoming(socket: Socket): void {
    const remote = (socket.remoteAddress ?? '').replace(/^::ffff:/, '');
    const entry = [...this.peers.values()].find((p) => sameAddress(p.config.address, remote));
    if (!entry) {
      this.log.warn({ remote, port: socket.remotePort }, 'connection from an address that is not a configured peer: closed');
      socket.destroy();
      return;
    }
    entry.session.acceptIncoming(socket);
  }

  private onEstablished(entry: PeerEntry, negotiated: Negotiated): void {
    const { session } = entry;
    try {
      const { frames, routes } = encodeOriginated(this.config.originate, {
        localAsn: this.config.asn,
        ctx: negotiated.ctx,
        families: negotiated.families,
        localAddress: session.localAddress ?? entry.config.localAddress ?? '',
      });
      session.send(frames);
      entry.routesSent = routes;
      this.log.info({ peer: entry.config.name, routes, families: negotiated.families }, 'initial routes sent');
    } catch (err) {
      this.log.error({ err, peer: entry.config.name }, 'could not encode originated routes');
    }
  }

  /**
   * RFC 2918 §4: on a ROUTE-REFRESH for a negotiated family, re-advertise our Adj-RIB-Out for it
   * (here: the originated routes). RFC 7313 §4: with enhanced route refresh, bracket the answer
   * with BoRR and EoRR. A request for a family not negotiated is ignored (RFC 2918 §4). BoRR/EoRR
   * sent *to* us mark a refresh of the peer's routes; the plain store needs no stale marking.
   */
  private onRouteRefresh(entry: PeerEntry, msg: RouteRefreshMessage): void {
    const negotiated = entry.session.info.negotiated;
    const family = familyOf(msg.afi, msg.safi);
    if (!negotiated || !family || !negotiated.families.includes(family) || msg.subtype !== RouteRefreshSubtype.Normal) return;
    const { frames } = encodeOriginated(this.config.originate, {
      localAsn: this.config.asn,
      ctx: negotiated.ctx,
      families: [family],
      localAddress: entry.session.localAddress ?? entry.config.localAddress ?? '',
      endOfRib: false,
    });
    const enhanced = negotiated.enhancedRouteRefresh;
    const marker = (subtype: number) => encodeRouteRefresh({ type: 'route-refresh', afi: msg.afi, safi: msg.safi, subtype });
    entry.session.send(enhanced ? [marker(RouteRefreshSubtype.BeginningOfRouteRefresh), ...frames, marker(RouteRefreshSubtype.EndOfRouteRefresh)] : frames);
    this.log.info({ peer: entry.config.name, family, enhanced }, 'route refresh answered');
  }

  private onUpdate(entry: PeerEntry, decoded: DecodedUpdate): void {
    const result = this.routes.apply(entry.config.name, decoded, entry.session.ctx, Date.now());
    if (decoded.problems.length) {
      this.log.warn({ peer: entry.config.name, action: decoded.action, problems: decoded.problems }, 'UPDATE with errors (RFC 7606)');
    }
    this.log.trace({ peer: entry.config.name, ...result }, 'update applied');
  }

  private onDown(entry: PeerEntry, reason: string): void {
    const dropped = this.routes.dropPeer(entry.config.name);
    entry.routesSent = 0;
    this.log.info({ peer: entry.config.name, reason, routesDropped: dropped }, 'session down');
  }

  // ===== Control commands =====
  private command(command: string, args: Record<string, unknown>): unknown {
    switch (command) {
      case 'show peers':
        return this.peerViews();
      case 'show routes':
        return this.routeViews(args);
      case 'show status':
        return {
          routerId: this.config.routerId,
          asn: this.config.asn,
          uptimeSeconds: Math.floor((Date.now() - this.startedAt) / 1000),
          peers: this.peers.size,
          pid: process.pid,
        };
      default:
        throw new CommandError(`unknown command "${command}" (known: show peers, show routes, show status)`);
    }
  }

  peerViews(): PeerView[] {
    return [...this.peers.values()].map((p) => this.peerView(p));
  }

  private peerView({ config, session, routesSent }: PeerEntry): PeerView {
    const info = session.info;
    const n = info.negotiated;
    const established = session.state === 'Established';
    return {
      name: config.name,
      address: config.address,
      asn: config.asn,
      state: session.state,
      uptimeSeconds: established && info.uptimeSince ? Math.floor((Date.now() - info.uptimeSince) / 1000) : 0,
      families: established && n ? n.families : config.families,
      routesReceived: this.routes.count(config.name),
      routesSent: established ? routesSent : 0,
      lastError: info.lastError ?? null,
      description: config.description,
      localAddress: session.localAddress ?? null,
      remoteRouterId: info.remoteOpen ? u32ToDotted(info.remoteOpen.bgpId) : null,
      holdTime: established && n ? n.holdTime : null,
      keepaliveTime: established && n ? n.keepaliveTime : null,
      passive: config.passive,
      peerType: config.asn === this.config.asn ? 'ibgp' : 'ebgp',
      capabilities: info.remoteOpen ? info.remoteOpen.capabilities.map(capabilityToString) : [],
      messagesReceived: { ...info.messagesIn },
      messagesSent: { ...info.messagesOut },
    };
  }

  routeViews(args: Record<string, unknown>): RouteView[] {
    const family = args.family;
    const peer = args.peer;
    if (family !== undefined && !FAMILIES.includes(family as Family))
      throw new CommandError(`unknown family "${String(family)}" (use ${FAMILIES.join(' or ')})`);
    if (peer !== undefined && (typeof peer !== 'string' || !this.peers.has(peer)))
      throw new CommandError(`no peer named "${String(peer)}" (peers: ${[...this.peers.keys()].join(', ') || 'none'})`);
    const views: RouteView[] = [];
    for (const r of this.routes.routes({ family: family as Family | undefined, peer: peer as string | undefined })) views.push(routeView(r));
    return views.sort((a, b) => a.prefix.localeCompare(b.prefix, 'en', { numeric: true }) || a.peer.localeCompare(b.peer));
  }
}

function sameAddress(configured: string, remote: string): boolean {
  const a = ipToBytes(configured.split('%')[0]!);
  const b = ipToBytes(remote.split('%')[0]!);
  return !!a && !!b && a.length === b.length && a.every((x, i) => x === b[i]);
}
