// SPDX-License-Identifier: Apache-2.0
// BMP (RFC 7854) exporter: Tern connects out to each configured monitoring station and reports
// its peers — Initiation, Peer Up for every Established session, Route Monitoring for every
// UPDATE received (pre-policy Adj-RIB-In, as it came off the wire), Peer Down with the reason,
// optional periodic Statistics Reports, and Termination on stop. It only reads the daemon's
// events and RIB; it never blocks BGP: writes go through a bounded per-station queue, live
// messages over the bound are dropped and counted, and the station is then resynchronized by
// reconnecting (Initiation, Peer Up and each peer's current Adj-RIB-In, End-of-RIB). Route
// Mirroring, post-policy (L flag) and Adj-RIB-Out monitoring (RFC 8671) are not implemented.
import net from 'node:net';
import { hostname } from 'node:os';
import type { Daemon, PeerEntry } from '../daemon.ts';
import type { BmpConfig } from '../config/types.ts';
import type { Logger } from './log.ts';
import type { SessionDown } from '../bgp/session/peer-session.ts';
import { encodeOpen } from '../bgp/messages/open.ts';
import { encodeNotification } from '../bgp/messages/notification.ts';
import { buildUpdates, encodeUpdate, endOfRib } from '../bgp/messages/update.ts';
import { attributesForAnnounce } from '../bgp/messages/route-view.ts';
import { FAMILIES, afiSafiOf, type CodecContext, type DecodedUpdate, type Family, type Nlri } from '../bgp/messages/types.ts';
import type { RouteAttributes } from '../bgp/messages/route-view.ts';
import { ipToBytes } from '../util/ip.ts';
import {
  BmpPeerDownReason,
  BmpPeerFlag,
  BmpPeerType,
  BmpStatType,
  BmpTerminationReason,
  ZERO_DISTINGUISHER,
  encodeInitiation,
  encodePeerDown,
  encodePeerUp,
  encodeRouteMonitoring,
  encodeStatisticsReport,
  encodeTermination,
  type BmpPeerHeader,
  type BmpStat,
} from './bmp-codec.ts';

/** One monitoring station (the config's `bmp[]` item). */
export type BmpCollectorConfig = BmpConfig;

export interface BmpExporterOptions {
  sysName?: string;
  sysDescr?: string;
  /** Bytes of live messages a station may have queued before new ones are dropped. */
  queueLimitBytes?: number;
  /** Reconnect back-off, ms: doubles from min to max. */
  backoff?: { minMs: number; maxMs: number };
}

export interface BmpStationStatus {
  name: string;
  address: string;
  port: number;
  connected: boolean;
  connects: number;
  messagesSent: number;
  bytesSent: number;
  /** Live messages dropped because the queue was full. */
  dropped: number;
  queuedBytes: number;
}

const DEFAULT_QUEUE_LIMIT = 16 * 1024 * 1024;
const DEFAULT_BACKOFF = { minMs: 1000, maxMs: 60_000 };
/** Hand frames to the socket while its own buffer is below this. */
const SOCKET_HIGH_WATER = 256 * 1024;
const STOP_GRACE_MS = 2000;

type EventListener = Parameters<Daemon['events']['on']>[1];

/** What the exporter remembers about a peer it reported up. */
interface PeerMonitor {
  header: Omit<BmpPeerHeader, 'timestampMs'>;
  /** The session's codec context turned around: re-encodes received UPDATEs as they were. */
  rxCtx: CodecContext;
  families: Family[];
  upAt: number;
  peerUp: Uint8Array;
}

/** The context that re-encodes what the peer sent us: its ADD-PATH receive families are "send" here. */
function receiveContext(ctx: CodecContext): CodecContext {
  return { ...ctx, addPathSend: ctx.addPathReceive };
}

export class BmpExporter {
  private readonly daemon: Daemon;
  private readonly log: Logger;
  private readonly stations: BmpStation[];
  private readonly monitors = new Map<PeerEntry, PeerMonitor>();
  private readonly sysName: string;
  private readonly sysDescr: string;
  private readonly listeners: [string, EventListener][] = [];

  constructor(daemon: Daemon, collectors: readonly BmpCollectorConfig[], log: Logger, opts: BmpExporterOptions = {}) {
    this.daemon = daemon;
    this.log = log.child({ module: 'bmp' });
    this.sysName = opts.sysName ?? hostname();
    this.sysDescr = opts.sysDescr ?? `Tern BGP daemon, router id ${daemon.config.routerId}, AS ${daemon.config.asn}`;
    this.stations = collectors.map((c) => new BmpStation(c, this, this.log.child({ station: c.name }), opts));
  }

  start(): void {
    this.on('peerUp', (entry: PeerEntry) => this.onPeerUp(entry));
    this.on('update', (entry: PeerEntry, decoded: DecodedUpdate) => this.onUpdate(entry, decoded));
    this.on('peerDown', (entry: PeerEntry, _reason: string, info?: SessionDown) => this.onPeerDown(entry, info));
    for (const s of this.stations) s.connect();
  }

  /** RFC 7854 §4.5: Termination to every connected station, then close. */
  async stop(): Promise<void> {
    for (const [event, fn] of this.listeners) this.daemon.events.off(event, fn);
    this.listeners.length = 0;
    await Promise.all(this.stations.map((s) => s.stop(encodeTermination(BmpTerminationReason.AdministrativelyClosed, 'Tern is shutting down'))));
  }

  status(): BmpStationStatus[] {
    return this.stations.map((s) => s.status());
  }

  /** A listener that never throws: the daemon's other listeners (the RIB among them) must still run. */
  private on(event: string, fn: EventListener): void {
    const guarded: EventListener = (...args) => {
      try {
        fn(...args);
      } catch (err) {
        this.log.error({ err, event }, 'BMP exporter failed on a daemon event');
      }
    };
    this.daemon.events.on(event, guarded);
    this.listeners.push([event, guarded]);
  }

  // ===== Daemon events =====
  private onPeerUp(entry: PeerEntry): void {
    const monitor = this.monitorFor(entry);
    if (!monitor) return;
    this.monitors.set(entry, monitor);
    this.broadcast(monitor.peerUp);
  }

  private onUpdate(entry: PeerEntry, decoded: DecodedUpdate): void {
    const monitor = this.monitors.get(entry);
    if (!monitor || !this.stations.some((s) => s.connected)) return;
    // RFC 7854 §4.6: "Following the common BMP header and per-peer header is a BGP Update PDU."
    const update = encodeUpdate(decoded.message, monitor.rxCtx);
    this.broadcast(encodeRouteMonitoring({ ...monitor.header, timestampMs: Date.now() }, update));
  }

  private onPeerDown(entry: PeerEntry, info: SessionDown | undefined): void {
    const monitor = this.monitors.get(entry);
    if (!monitor) return;
    this.monitors.delete(entry);
    const { reason, data } = peerDownReason(info);
    this.broadcast(encodePeerDown({ ...monitor.header, timestampMs: Date.now() }, reason, data));
  }

  private broadcast(frame: Uint8Array): void {
    for (const s of this.stations) s.sendLive(frame);
  }

  // ===== Building messages =====
  private monitorFor(entry: PeerEntry): PeerMonitor | undefined {
    const { session, config } = entry;
    const remoteOpen = session.info.remoteOpen;
    const negotiated = session.info.negotiated;
    const conn = session.connections.find((c) => c.state === 'Established');
    if (!remoteOpen || !negotiated || !conn) return undefined;
    const address = ipToBytes(config.address.split('%')[0]!) ?? new Uint8Array(4);
    const local = splitEndpoint(conn.local);
    const remote = splitEndpoint(conn.remote);
    const ctx = session.ctx;
    const header: Omit<BmpPeerHeader, 'timestampMs'> = {
      type: BmpPeerType.Global,
      // RFC 7854 §4.2: V for an IPv6 peer address; A when the session uses 2-octet AS_PATHs.
      flags: (address.length === 16 ? BmpPeerFlag.V : 0) | (ctx.as4 ? 0 : BmpPeerFlag.A),
      distinguisher: ZERO_DISTINGUISHER,
      address,
      asn: config.asn,
      bgpId: remoteOpen.bgpId,
    };
    const upAt = session.info.uptimeSince ?? Date.now();
    const peerUp = encodePeerUp(
      { ...header, timestampMs: upAt },
      {
        localAddress: ipToBytes(local.address) ?? new Uint8Array(address.length),
        localPort: local.port,
        remotePort: remote.port,
        sentOpen: session.sentOpen,
        // The decoded OPEN re-encoded: the same capabilities, possibly packed differently.
        receivedOpen: encodeOpen(remoteOpen),
      },
    );
    return { header, rxCtx: receiveContext(ctx), families: negotiated.families, upAt, peerUp };
  }

  /**
   * RFC 7854 §5: after (re)connecting, "the Peer Up ... and the ... Route Monitoring messages
   * ... provide a snapshot" of each monitored peer: Peer Up, its Adj-RIB-In (pre-policy, as
   * received), then End-of-RIB per family.
   */
  snapshot(): Uint8Array[] {
    const frames: Uint8Array[] = [];
    for (const [entry, monitor] of this.monitors) {
      frames.push(monitor.peerUp);
      const header: BmpPeerHeader = { ...monitor.header, timestampMs: Date.now() };
      for (const update of this.adjInUpdates(entry, monitor)) frames.push(encodeRouteMonitoring(header, update));
      for (const family of monitor.families) frames.push(encodeRouteMonitoring(header, endOfRib(family, monitor.rxCtx)));
    }
    return frames;
  }

  private *adjInUpdates(entry: PeerEntry, monitor: PeerMonitor): Generator<Uint8Array> {
    // Routes that arrived in one UPDATE share one attribute object: one group, few UPDATEs.
    const groups = new Map<RouteAttributes, { family: Family; nlri: Nlri[] }>();
    for (const e of this.daemon.rib.adjIn(entry.ref.id)) {
      const group = groups.get(e.raw) ?? { family: e.family, nlri: [] };
      group.nlri.push(e.nlri);
      groups.set(e.raw, group);
    }
    for (const [raw, { family, nlri }] of groups) {
      yield* buildUpdates({ withdrawn: [], attributes: attributesForAnnounce(raw, family, nlri, monitor.rxCtx), nlri }, monitor.rxCtx);
    }
  }

  /** RFC 7854 §4.8 statistics for every monitored peer. */
  statistics(): Uint8Array[] {
    const frames: Uint8Array[] = [];
    for (const [entry, monitor] of this.monitors) {
      let rejected = 0;
      let total = 0;
      const perFamily = new Map<Family, number>();
      for (const [family, n] of this.daemon.rib.adjInCounts(entry.ref.id)) {
        total += n.received;
        rejected += n.rejected;
        perFamily.set(family, n.received);
      }
      const stats: BmpStat[] = [
        { type: BmpStatType.RejectedByInboundPolicy, kind: 'counter', value: rejected },
        { type: BmpStatType.AdjRibInRoutes, kind: 'gauge', value: total },
        { type: BmpStatType.LocRibRoutes, kind: 'gauge', value: this.daemon.rib.acceptedCount(entry.ref.id) },
      ];
      for (const family of FAMILIES) {
        const count = perFamily.get(family);
        if (count !== undefined) stats.push({ type: BmpStatType.AdjRibInRoutesPerAfiSafi, kind: 'afi-safi-gauge', ...afiSafiOf(family), value: count });
      }
      frames.push(encodeStatisticsReport({ ...monitor.header, timestampMs: Date.now() }, stats));
    }
    return frames;
  }

  initiation(): Uint8Array {
    return encodeInitiation(this.sysName, this.sysDescr);
  }
}

/**
 * RFC 7854 §4.9: a NOTIFICATION we sent → reason 1 with the PDU; one we received → 3 with the
 * PDU; no NOTIFICATION either way (the TCP connection ended) → 4, "the remote system closed the
 * session without a notification message".
 */
export function peerDownReason(info: SessionDown | undefined): { reason: number; data: Uint8Array } {
  if (info?.notificationSent) return { reason: BmpPeerDownReason.LocalNotification, data: encodeNotification(info.notificationSent) };
  if (info?.notificationReceived) return { reason: BmpPeerDownReason.RemoteNotification, data: encodeNotification(info.notificationReceived) };
  return { reason: BmpPeerDownReason.RemoteNoData, data: new Uint8Array(0) };
}

function splitEndpoint(endpoint: string | undefined): { address: string; port: number } {
  if (!endpoint) return { address: '', port: 0 };
  const at = endpoint.lastIndexOf(':');
  return { address: endpoint.slice(0, at).replace(/^::ffff:/, ''), port: Number(endpoint.slice(at + 1)) || 0 };
}

interface Queued {
  frame: Uint8Array;
  /** Part of a resync snapshot: not subject to the live-message bound. */
  snapshot: boolean;
}

/** One monitoring station: a TCP connection with back-off, and its bounded queue. */
class BmpStation {
  private readonly cfg: BmpCollectorConfig;
  private readonly exporter: BmpExporter;
  private readonly log: Logger;
  private readonly queueLimit: number;
  private readonly backoff: { minMs: number; maxMs: number };
  private socket?: net.Socket;
  private up = false;
  private stopped = false;
  private delayMs: number;
  private reconnectTimer?: NodeJS.Timeout;
  private statsTimer?: NodeJS.Timeout;
  private queue: Queued[] = [];
  private head = 0;
  private liveBytes = 0;
  private queuedBytes = 0;
  /** A live message was dropped: the station's view is incomplete until a resync. */
  private lost = false;
  private counters = { connects: 0, messagesSent: 0, bytesSent: 0, dropped: 0 };

  constructor(cfg: BmpCollectorConfig, exporter: BmpExporter, log: Logger, opts: BmpExporterOptions) {
    this.cfg = cfg;
    this.exporter = exporter;
    this.log = log;
    this.queueLimit = opts.queueLimitBytes ?? DEFAULT_QUEUE_LIMIT;
    this.backoff = opts.backoff ?? DEFAULT_BACKOFF;
    this.delayMs = this.backoff.minMs;
  }

  get connected(): boolean {
    return this.up;
  }

  status(): BmpStationStatus {
    return { name: this.cfg.name, address: this.cfg.address, port: this.cfg.port, connected: this.up, ...this.counters, queuedBytes: this.queuedBytes };
  }

  connect(): void {
    if (this.stopped) return;
    const socket = net.connect({ host: this.cfg.address, port: this.cfg.port });
    this.socket = socket;
    socket.setNoDelay(true);
    socket.on('connect', () => this.onConnect(socket));
    // RFC 7854 §3.3: the monitoring station sends nothing; whatever arrives is read and ignored.
    socket.on('data', () => {});
    socket.on('drain', () => this.pump());
    socket.on('error', (err) => this.log.debug({ err: err.message }, 'BMP connection error'));
    socket.on('close', () => this.onClose(socket));
  }

  private onConnect(socket: net.Socket): void {
    if (socket !== this.socket) return;
    this.up = true;
    this.lost = false;
    this.delayMs = this.backoff.minMs;
    this.counters.connects++;
    this.log.info({ address: this.cfg.address, port: this.cfg.port }, 'BMP session up');
    // RFC 7854 §4.3: "The initiation message ... MUST be sent as the first message".
    this.enqueue(this.exporter.initiation(), true);
    for (const frame of this.exporter.snapshot()) this.enqueue(frame, true);
    if (this.cfg.statisticsInterval > 0) {
      this.statsTimer = setInterval(() => {
        for (const frame of this.exporter.statistics()) this.sendLive(frame);
      }, this.cfg.statisticsInterval * 1000);
      this.statsTimer.unref();
    }
    this.pump();
  }

  private onClose(socket: net.Socket): void {
    if (socket !== this.socket) return;
    if (this.up) this.log.warn({ address: this.cfg.address, port: this.cfg.port }, 'BMP session down');
    this.up = false;
    this.socket = undefined;
    clearInterval(this.statsTimer);
    this.queue = [];
    this.head = 0;
    this.queuedBytes = 0;
    this.liveBytes = 0;
    if (this.stopped) return;
    // Exponential back-off with jitter, so a station that is down costs little.
    const delay = this.delayMs * (0.75 + Math.random() * 0.5);
    this.delayMs = Math.min(this.backoff.maxMs, this.delayMs * 2);
    this.reconnectTimer = setTimeout(() => this.connect(), delay);
    this.reconnectTimer.unref();
  }

  /** A live message: dropped (and counted) when the queue is over its bound or the station is down. */
  sendLive(frame: Uint8Array): void {
    if (!this.up) return; // the snapshot after the next connect carries the state
    if (this.lost || this.liveBytes + frame.length > this.queueLimit) {
      this.counters.dropped++;
      if (!this.lost) this.log.warn({ queuedBytes: this.queuedBytes }, 'BMP queue full: dropping messages; the station will be resynchronized');
      this.lost = true;
      this.pump(); // resynchronizes at once when nothing is left to send
      return;
    }
    this.enqueue(frame, false);
    this.pump();
  }

  private enqueue(frame: Uint8Array, snapshot: boolean): void {
    this.queue.push({ frame, snapshot });
    this.queuedBytes += frame.length;
    if (!snapshot) this.liveBytes += frame.length;
  }

  private pump(): void {
    const socket = this.socket;
    if (!socket || !this.up) return;
    while (this.head < this.queue.length && socket.writableLength < SOCKET_HIGH_WATER) {
      const { frame, snapshot } = this.queue[this.head++]!;
      this.queuedBytes -= frame.length;
      if (!snapshot) this.liveBytes -= frame.length;
      this.counters.messagesSent++;
      this.counters.bytesSent += frame.length;
      socket.write(frame);
    }
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    // Once what was queued is out, a station that missed messages starts over (§5 resync).
    if (this.lost && this.head === this.queue.length && socket.writableLength === 0) {
      this.log.info('BMP: resynchronizing the station after dropped messages');
      socket.destroy();
    }
  }

  async stop(termination: Uint8Array): Promise<void> {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    clearInterval(this.statsTimer);
    const socket = this.socket;
    if (!socket) return;
    if (!this.up) {
      socket.destroy();
      return;
    }
    // Whatever is queued goes first, then Termination, then the connection closes (§4.5).
    for (let i = this.head; i < this.queue.length; i++) socket.write(this.queue[i]!.frame);
    this.queue = [];
    this.head = 0;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        socket.destroy();
        resolve();
      }, STOP_GRACE_MS);
      socket.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      socket.end(termination);
    });
  }
}
