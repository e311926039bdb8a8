// SPDX-License-Identifier: Apache-2.0
// One configured BGP peer: runs the FSM (src/bgp/fsm/) over up to two TCP connections (ours and
// the peer's, RFC 4271 §6.8), decodes what arrives, carries out the FSM's actions (send, timers,
// connect, close), arbitrates collisions, and reports to the daemon through events:
//   'state'(from, to), 'established'(Negotiated), 'update'(DecodedUpdate),
//   'routeRefresh'(RouteRefreshMessage), 'down'(reason).
// It does not select routes or keep a RIB; UPDATEs it sends arrive already encoded.
import { EventEmitter } from 'node:events';
import type net from 'node:net';
import type { Logger } from 'pino';
import {
  DEFAULT_FSM_CONFIG,
  admitIncoming,
  initialState,
  othersOnEstablished,
  resolveCollision,
  step,
  type Admission,
  type ConnectionView,
  type Direction,
  type FsmAction,
  type FsmConfig,
  type FsmEvent,
  type FsmState,
  type SessionState,
} from '../fsm/index.ts';
import { AddPathDirection } from '../messages/capabilities.ts';
import { BgpNotificationError } from '../messages/errors.ts';
import { CeaseSubcode, FsmErrorSubcode, MessageType, NotificationCode, OpenErrorSubcode } from '../messages/iana.ts';
import { decodeMessage, encodeMessage, messageTypeName, type Decoded } from '../messages/index.ts';
import { encodeKeepalive } from '../messages/keepalive.ts';
import { buildOpen, negotiate, peerAsnOf, validateOpen, type Negotiated } from '../messages/negotiate.ts';
import { describeNotification, encodeNotification, shutdownNotification } from '../messages/notification.ts';
import {
  DEFAULT_CONTEXT,
  type Capability,
  type CodecContext,
  type DecodedUpdate,
  type Family,
  type NotificationMessage,
  type OpenMessage,
  type RouteRefreshMessage,
} from '../messages/types.ts';
import { Connection, type ConnectionHost } from './connection.ts';
import { applyGtsm, socketFd, type TransportSecurity } from './transport.ts';

export type AddPathMode = 'rx' | 'tx' | 'both';

/** The second argument of the 'down' event. */
export interface SessionDown {
  reason: string;
  notificationSent?: NotificationMessage;
  notificationReceived?: NotificationMessage;
}

export interface PeerSessionOptions {
  name: string;
  address: string;
  /** Default 179. */
  port?: number;
  localAddress?: string;
  /** The peer's AS. */
  asn: number;
  passive: boolean;
  /** Seconds; default 90 (RFC 4271 §10). */
  holdTime?: number;
  keepalive?: number;
  /** Seconds; default 120 (RFC 4271 §10). Calico uses 3..5. */
  connectRetry?: number;
  families: Family[];
  local: { asn: number; routerId: number };
  logger: Logger;
  addPaths?: AddPathMode;
  /** Advertise the RFC 4724 capability with this restart time (seconds). */
  gracefulRestart?: { restartTime: number };
  /** TCP MD5 (RFC 2385), GTSM (RFC 5082), bind-to-device for link-local peers. */
  security?: TransportSecurity;
  /** Error back-off (BIRD `error wait time`), seconds; defaults 5 and 60. */
  errorWait?: { min: number; max: number };
  /** Uniform [0,1) for timer jitter; default Math.random. */
  random?: () => number;
  /** RFC 9687 send hold time, seconds; default max(480, 2 × hold time). */
  sendHoldTime?: number;
}

export interface PeerSessionInfo {
  uptimeSince?: number;
  lastError?: string;
  negotiated?: Negotiated;
  remoteOpen?: OpenMessage;
  messagesIn: Record<string, number>;
  messagesOut: Record<string, number>;
}

/** How far along each state is, for reporting one state for two connections. */
const PROGRESS: Record<FsmState, number> = { Idle: 0, Active: 1, Connect: 2, OpenSent: 3, OpenConfirm: 4, Established: 5 };
const BGP_PORT = 179;
const ADD_PATH_BITS: Record<AddPathMode, number> = { tx: AddPathDirection.Send, rx: AddPathDirection.Receive, both: AddPathDirection.Both };

export class PeerSession extends EventEmitter implements ConnectionHost {
  readonly name: string;
  readonly info: PeerSessionInfo = { messagesIn: {}, messagesOut: {} };
  private readonly opts: PeerSessionOptions;
  private readonly log: Logger;
  private readonly fsmConfig: FsmConfig;
  private localOpen: OpenMessage;
  private localOpenFrame: Uint8Array;
  private restarting = false;
  private conns: Connection[] = [];
  private nextConnId = 1;
  private reported: FsmState = 'Idle';
  private stopped = true;
  /** Bumped by every stop(), so a BFD-triggered restart never undoes a later stop. */
  private stopGeneration = 0;

  constructor(opts: PeerSessionOptions) {
    super();
    this.opts = opts;
    this.name = opts.name;
    this.log = opts.logger;
    const holdTime = opts.holdTime ?? DEFAULT_FSM_CONFIG.holdTime;
    this.fsmConfig = {
      ...DEFAULT_FSM_CONFIG,
      passive: opts.passive,
      holdTime,
      connectRetryTime: opts.connectRetry ?? DEFAULT_FSM_CONFIG.connectRetryTime,
      errorWaitMin: opts.errorWait?.min ?? DEFAULT_FSM_CONFIG.errorWaitMin,
      errorWaitMax: opts.errorWait?.max ?? DEFAULT_FSM_CONFIG.errorWaitMax,
      random: opts.random ?? Math.random,
      ...(opts.sendHoldTime !== undefined ? { sendHoldTime: opts.sendHoldTime } : {}),
    };
    this.localOpen = this.buildLocalOpen();
    this.localOpenFrame = encodeMessage(this.localOpen, DEFAULT_CONTEXT);
  }

  private buildLocalOpen(): OpenMessage {
    const opts = this.opts;
    const holdTime = this.fsmConfig.holdTime;
    const addPath = opts.addPaths ? opts.families.map((family) => ({ family, sendReceive: ADD_PATH_BITS[opts.addPaths!] })) : undefined;
    // RFC 4724 §3-4: while we recover from a restart (`tern run --graceful-restart`, as BIRD's
    // -R) both the Restart State bit and the Forwarding State bits are set: the routes we
    // installed survive our restart (they are never flushed on exit), so helpers keep ours until
    // our End-of-RIB. On a fresh start neither is set and helpers flush whatever they kept.
    const gracefulRestart = opts.gracefulRestart
      ? {
          restartTime: opts.gracefulRestart.restartTime,
          restarting: this.restarting,
          notification: false,
          families: opts.families.map((family) => ({ family, forwardingState: this.restarting })),
        }
      : undefined;
    return buildOpen({
      asn: opts.local.asn,
      bgpId: opts.local.routerId,
      holdTime,
      families: opts.families,
      // RFC 8654: offered always; used only when the peer offers it too.
      extendedMessage: true,
      ...(addPath ? { addPath } : {}),
      ...(gracefulRestart ? { gracefulRestart } : {}),
    });
  }

  /** RFC 4724 §4.1: the Restart State (R) bit in OPENs sent from now on. */
  setRestarting(restarting: boolean): void {
    if (this.restarting === restarting) return;
    this.restarting = restarting;
    this.localOpen = this.buildLocalOpen();
    this.localOpenFrame = encodeMessage(this.localOpen, DEFAULT_CONTEXT);
  }

  /** The peer's Graceful Restart capability from its current OPEN, if any. */
  get peerGracefulRestart(): Extract<Capability, { kind: 'graceful-restart' }> | undefined {
    return this.info.remoteOpen?.capabilities.find((c): c is Extract<Capability, { kind: 'graceful-restart' }> => c.kind === 'graceful-restart');
  }

  /** The OPEN we send, whole message (BMP Peer Up reports it, RFC 7854 §4.10). */
  get sentOpen(): Uint8Array {
    return this.localOpenFrame;
  }

  /** Bytes queued for the Established connection and not yet taken by the kernel. */
  get pendingBytes(): number {
    return this.established()?.pendingBytes ?? 0;
  }

  // ===== Public API =====
  get state(): FsmState {
    return this.reported;
  }

  /** The established connection's codec context (DEFAULT_CONTEXT before). */
  get ctx(): CodecContext {
    return this.established()?.ctx ?? DEFAULT_CONTEXT;
  }

  /** Our address on the established (or most advanced) connection. */
  get localAddress(): string | undefined {
    return (this.established() ?? this.conns.find((c) => c.hasSocket))?.localAddress;
  }

  /** The connections to this peer right now (one, or two during a collision), for show and tests. */
  get connections(): (ConnectionView & { local?: string; remote?: string })[] {
    return this.conns.map((c) => ({ ...this.view(c), local: c.localEndpoint, remote: c.remoteEndpoint }));
  }

  /** RFC 4271 §8.1.2 ManualStart (passive peers: ManualStart_with_PassiveTcpEstablishment). */
  start(): void {
    this.stopped = false;
    if (this.conns.length === 0) this.conns.push(this.newConnection('outgoing', initialState<Negotiated>(this.fsmConfig)));
    this.dispatch(this.conns[0]!, { type: 'ManualStart' });
  }

  /**
   * ManualStop: Cease / Administrative Shutdown with the RFC 9003 text on every connection past
   * OpenSent, then close. Resolves when the sockets are closed.
   */
  async stop(reason?: string, custom?: NotificationMessage): Promise<void> {
    this.stopped = true;
    this.stopGeneration++;
    const notification = custom ?? (reason ? shutdownNotification(CeaseSubcode.AdministrativeShutdown, reason) : undefined);
    const conns = [...this.conns];
    for (const conn of conns) this.dispatch(conn, notification ? { type: 'ManualStop', notification } : { type: 'ManualStop' });
    await Promise.all(conns.map((c) => c.closed()));
    for (const conn of conns) conn.stopAllTimers();
  }

  /**
   * BFD declared the path down (RFC 5882 §4.2, RFC 9384): end every connection with Cease / BFD
   * Down (no waiting for the hold timer), then start again as after any failure. Nothing happens
   * when the session is stopped, or stopped again while this runs (a shutdown wins).
   */
  async bfdDown(): Promise<void> {
    if (this.stopped || this.conns.every((c) => c.fsm.state === 'Idle' || c.fsm.state === 'Active' || c.fsm.state === 'Connect')) return;
    const stopping = this.stop(undefined, { type: 'notification', code: NotificationCode.Cease, subcode: CeaseSubcode.BfdDown, data: new Uint8Array(0) });
    const generation = this.stopGeneration; // stop() bumped it synchronously
    await stopping;
    if (generation === this.stopGeneration) this.start();
  }

  /** A TCP connection from this peer's address, handed over by the Listener (§6.8 applies). */
  acceptIncoming(socket: net.Socket): void {
    socket.on('error', () => {}); // errors are logged by the Connection once attached
    if (!this.secureIncoming(socket)) return;
    const remote = `${socket.remoteAddress}:${socket.remotePort}`;
    if (!this.stopped) this.wakeForIncoming();
    const admission: Admission = this.stopped ? { kind: 'reject', reason: 'session stopped' } : admitIncoming(this.views());
    switch (admission.kind) {
      case 'reject':
        this.log.info({ remote, reason: admission.reason }, 'incoming connection refused');
        if (admission.notification) {
          this.countOut('NOTIFICATION');
          socket.end(encodeNotification(admission.notification));
          setTimeout(() => socket.destroy(), 1000).unref();
        } else socket.destroy();
        return;
      case 'attach': {
        const conn = this.conns.find((c) => c.id === admission.id)!;
        this.log.debug({ remote, conn: conn.id }, 'incoming connection accepted');
        conn.attach(socket);
        this.dispatch(conn, { type: 'TcpConnectionConfirmed' });
        return;
      }
      case 'second': {
        // A second connection while ours is in progress: both run until an OPEN decides (§6.8).
        const waiting: SessionState<Negotiated> = { ...initialState<Negotiated>(this.fsmConfig), state: 'Active', started: true };
        const conn = this.newConnection('incoming', waiting);
        this.conns.push(conn);
        this.log.debug({ remote, conn: conn.id }, 'incoming connection accepted alongside ours');
        conn.attach(socket);
        this.dispatch(conn, { type: 'TcpConnectionConfirmed' });
        return;
      }
      default: {
        const _exhaustive: never = admission;
        return _exhaustive;
      }
    }
  }

  /**
   * A peer that ended a working session (a restart) and now calls back finds us in Idle for the
   * short connect delay: end that wait now rather than refuse it. Error back-offs still refuse
   * (RFC 4271 §8.1.1 DampPeerOscillations): idleHoldTime is non-zero only after errors.
   */
  private wakeForIncoming(): void {
    const idle = this.conns.find((c) => c.fsm.state === 'Idle' && c.fsm.started && c.fsm.idleHoldTime === 0 && c.fsm.timers.idleHold !== undefined);
    if (idle && this.conns.every((c) => c.fsm.state === 'Idle')) {
      this.log.debug({ conn: idle.id }, 'incoming connection ends the connect delay');
      idle.stopTimer('idleHold');
      this.dispatch(idle, { type: 'IdleHoldTimer_Expires' });
    }
  }

  /**
   * RFC 5082 on an accepted connection: from now on segments below the minimum TTL are dropped by
   * the kernel, and ours leave with TTL 255. (MD5 is enforced on the listening socket.)
   */
  private secureIncoming(socket: net.Socket): boolean {
    const hops = this.opts.security?.ttlSecurity;
    if (!hops) return true;
    const fd = socketFd(socket);
    // An IPv4 peer on a dual-stack listener arrives as ::ffff:a.b.c.d: its packets are IPv4.
    const ipv6 = socket.remoteFamily === 'IPv6' && !(socket.remoteAddress ?? '').startsWith('::ffff:');
    try {
      if (fd === undefined) throw new Error('no file descriptor');
      applyGtsm(fd, ipv6 ? 'ipv6' : 'ipv4', hops);
      return true;
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'could not apply TTL security to an incoming connection: refused');
      socket.destroy();
      return false;
    }
  }

  /** Queue whole encoded UPDATE frames; false when no connection is Established. */
  send(frames: Uint8Array[]): boolean {
    const conn = this.established();
    if (!conn) return false;
    const updates: Uint8Array[] = [];
    conn.corked(() => {
      for (const frame of frames) {
        const refresh = frame[18] === MessageType.RouteRefresh;
        this.countOut(refresh ? 'ROUTE-REFRESH' : 'UPDATE');
        // RFC 7313 §4: BoRR and EoRR (subtype, octet 21, not 0) bracket the UPDATEs: they keep
        // their place among them; a plain request may go ahead.
        if (refresh && frame[21] === 0) conn.enqueue('route-refresh', frame);
        else updates.push(frame);
      }
      // One buffer for the batch: one socket write request, not one per UPDATE (a batch to a
      // route-reflector client is often a thousand small UPDATEs; docs/performance.md).
      if (updates.length === 1) conn.enqueue('update', updates[0]!);
      else if (updates.length > 1) conn.enqueue('update', Buffer.concat(updates));
    });
    return true;
  }

  // ===== Connection host: events and frames from the sockets =====
  onEvent(conn: Connection, event: FsmEvent<Negotiated>): void {
    if (!this.conns.includes(conn)) return;
    this.dispatch(conn, event);
  }

  onDrained(conn: Connection): void {
    if (conn === this.established()) this.emit('drain');
  }

  onFrame(conn: Connection, frame: Uint8Array): void {
    const type = frame[18];
    // An UPDATE before Established is an FSM error (RFC 6608); no context to decode it with yet.
    if (type === MessageType.Update && conn.fsm.state !== 'Established') {
      this.countIn('UPDATE');
      this.dispatch(conn, { type: 'UpdateMsg' });
      return;
    }
    // RFC 4271 §8.2.2 Established: an OPEN, valid (Event 19) or not (Event 22), is answered with
    // a Finite State Machine Error (RFC 6608 §3 subcode 3), before any OPEN validation runs.
    if (type === MessageType.Open && conn.fsm.state === 'Established') {
      this.countIn('OPEN');
      this.dispatch(conn, { type: 'BGPOpenMsgErr', error: BgpNotificationError.fsmError(FsmErrorSubcode.UnexpectedMessageInEstablished, 'OPEN in Established') });
      return;
    }
    let decoded: Decoded;
    try {
      decoded = decodeMessage(frame, conn.ctx);
    } catch (err) {
      this.onDecodeError(conn, type, err);
      return;
    }
    const msg = decoded.message;
    this.countIn(messageTypeName(msg));
    this.log.trace({ conn: conn.id, type: messageTypeName(msg), length: frame.length }, 'message in');
    switch (msg.type) {
      case 'open':
        this.onOpen(conn, msg);
        return;
      case 'update':
        this.dispatch(conn, { type: 'UpdateMsg', update: decoded as DecodedUpdate });
        return;
      case 'notification':
        this.log.warn({ conn: conn.id, notification: describeNotification(msg) }, 'NOTIFICATION received');
        // RFC 4271 §8.1.2 Event 24: an OPEN Message Error / Unsupported Version Number.
        if (msg.code === NotificationCode.OpenMessageError && msg.subcode === OpenErrorSubcode.UnsupportedVersionNumber) {
          this.dispatch(conn, { type: 'NotifMsgVerErr', notification: msg });
        } else this.dispatch(conn, { type: 'NotifMsg', notification: msg });
        return;
      case 'keepalive':
        this.dispatch(conn, { type: 'KeepAliveMsg' });
        return;
      case 'route-refresh':
        this.dispatch(conn, { type: 'RouteRefreshMsg', message: msg });
        return;
      default: {
        const _exhaustive: never = msg;
        return _exhaustive;
      }
    }
  }

  private onDecodeError(conn: Connection, type: number | undefined, err: unknown): void {
    if (!(err instanceof BgpNotificationError)) {
      // A codec bug, not the peer's fault: still end the connection cleanly.
      this.log.error({ conn: conn.id, err }, 'decoder failed');
      this.dispatch(conn, { type: 'UpdateMsgErr', error: BgpNotificationError.cease(CeaseSubcode.Unspecific, undefined, 'internal decoder error') });
      return;
    }
    this.log.warn({ conn: conn.id, error: err.message }, 'malformed message');
    if (err.code === NotificationCode.MessageHeaderError) this.dispatch(conn, { type: 'BGPHeaderErr', error: err });
    else if (type === MessageType.Open) this.dispatch(conn, { type: 'BGPOpenMsgErr', error: err });
    else this.dispatch(conn, { type: 'UpdateMsgErr', error: err }); // UPDATE, and ROUTE-REFRESH (RFC 7313 §5)
  }

  /** RFC 4271 §6.2 validation, negotiation, then §6.8 collision detection. */
  private onOpen(conn: Connection, open: OpenMessage): void {
    try {
      validateOpen(open, { localAsn: this.opts.local.asn, peerAsn: this.opts.asn, localBgpId: this.opts.local.routerId });
    } catch (err) {
      if (err instanceof BgpNotificationError) this.dispatch(conn, { type: 'BGPOpenMsgErr', error: err });
      else this.onDecodeError(conn, MessageType.Open, err);
      return;
    }
    const peerType = this.opts.asn === this.opts.local.asn ? 'ibgp' : 'ebgp';
    const negotiated = negotiate(this.localOpen, open, peerType, this.opts.keepalive);
    if (conn.fsm.state === 'OpenSent') {
      const losers = resolveCollision({
        local: { bgpId: this.opts.local.routerId, asn: this.opts.local.asn },
        remote: { bgpId: open.bgpId, asn: peerAsnOf(open) },
        receivedOn: this.view(conn),
        conns: this.views(),
      });
      for (const id of losers) {
        const loser = this.conns.find((c) => c.id === id);
        if (!loser) continue;
        this.log.info({ loser: loser.id, direction: loser.direction }, 'connection collision: closing one connection (RFC 4271 §6.8)');
        this.dispatch(loser, { type: 'OpenCollisionDump' });
      }
      if (losers.includes(conn.id)) return;
    }
    this.info.remoteOpen = open;
    this.dispatch(conn, { type: 'BGPOpen', open, negotiated });
  }

  // ===== Running the FSM =====
  private dispatch(conn: Connection, event: FsmEvent<Negotiated>): void {
    const from = conn.fsm.state;
    const { state, actions } = step(conn.fsm, event, Date.now());
    conn.fsm = state;
    if (from !== state.state) this.log.debug({ conn: conn.id, direction: conn.direction, event: event.type, from, to: state.state }, 'fsm transition');
    const later: (() => void)[] = [];
    for (const action of actions) this.execute(conn, action, later);
    this.afterTransition(conn);
    // Listeners run after the FSM step is complete; a throwing listener must not unwind into
    // a socket callback (it would crash the process) or leave a half-applied transition.
    for (const emit of later) {
      try {
        emit();
      } catch (err) {
        this.log.error({ err }, 'session event listener threw');
      }
    }
  }

  private execute(conn: Connection, action: FsmAction<Negotiated>, later: (() => void)[]): void {
    switch (action.type) {
      case 'send':
        this.log.trace({ conn: conn.id, type: action.message === 'open' ? 'OPEN' : 'KEEPALIVE' }, 'message out');
        if (action.message === 'open') {
          this.countOut('OPEN');
          conn.enqueue('open', this.localOpenFrame);
        } else {
          this.countOut('KEEPALIVE');
          conn.enqueue('keepalive', encodeKeepalive());
        }
        return;
      case 'setTimer':
        conn.setTimer(action.timer, action.seconds);
        return;
      case 'stopTimer':
        conn.stopTimer(action.timer);
        return;
      case 'connect':
        this.log.debug({ conn: conn.id, address: this.opts.address, port: this.port }, 'connecting');
        conn.connect({
          host: this.opts.address,
          port: this.port,
          ...(this.opts.localAddress ? { localAddress: this.opts.localAddress } : {}),
          ...(this.opts.security ? { security: this.opts.security } : {}),
        });
        return;
      case 'close':
        if (action.notification) {
          this.countOut('NOTIFICATION');
          // Our own administrative stop is routine; every other NOTIFICATION we send is a problem.
          const routine = action.notification.code === NotificationCode.Cease && action.notification.subcode === CeaseSubcode.AdministrativeShutdown;
          this.log[routine ? 'info' : 'warn']({ conn: conn.id, notification: describeNotification(action.notification) }, 'sending NOTIFICATION');
        }
        void conn.close(action.notification ? encodeNotification(action.notification) : undefined);
        return;
      case 'negotiated':
        // A session between speakers on one host may use loopback next hops (see decode.ts).
        conn.setCodecContext(isLoopback(this.opts.address) ? { ...action.negotiated.ctx, loopbackNextHop: true } : action.negotiated.ctx);
        return;
      case 'established':
        later.push(() => this.onEstablished(conn));
        return;
      case 'down':
        this.onDown(conn, action.down, later);
        return;
      case 'deliverUpdate':
        later.push(() => this.emit('update', action.update));
        return;
      case 'deliverRouteRefresh':
        later.push(() => this.emit('routeRefresh', action.message));
        return;
      default: {
        const _exhaustive: never = action;
        return _exhaustive;
      }
    }
  }

  private onEstablished(conn: Connection): void {
    if (conn.fsm.state !== 'Established') return; // a listener already tore it down
    const negotiated = conn.fsm.negotiated!;
    this.info.negotiated = negotiated;
    this.info.uptimeSince = Date.now();
    this.log.info({ holdTime: negotiated.holdTime, keepalive: negotiated.keepaliveTime, families: negotiated.families, direction: conn.direction }, 'session established');
    this.emit('established', negotiated);
  }

  private onDown(conn: Connection, down: { reason: string; sent?: NotificationMessage; received?: NotificationMessage; wasEstablished: boolean }, later: (() => void)[]): void {
    const detail = down.received ? `received ${describeNotification(down.received)}` : down.sent ? `sent ${describeNotification(down.sent)}` : down.reason;
    const collisionLoser = down.sent?.code === NotificationCode.Cease && down.sent.subcode === CeaseSubcode.ConnectionCollisionResolution;
    if (!collisionLoser) this.info.lastError = detail;
    this.log.info({ conn: conn.id, reason: detail, wasEstablished: down.wasEstablished }, 'connection down');
    if (down.wasEstablished) {
      this.info.uptimeSince = undefined;
      const info: SessionDown = { reason: detail, notificationSent: down.sent, notificationReceived: down.received };
      later.push(() => this.emit('down', detail, info));
    }
  }

  /** §6.8 bookkeeping after a transition, then report the session state. */
  private afterTransition(conn: Connection): void {
    // With one connection there is no other to dump or discard: not looked at on every UPDATE.
    if (conn.fsm.state === 'Established' && this.conns.length > 1) {
      const { dump, discard } = othersOnEstablished(this.views(), conn.id);
      for (const id of dump) {
        const other = this.conns.find((c) => c.id === id);
        if (other) this.dispatch(other, { type: 'OpenCollisionDump' });
      }
      for (const id of discard) this.discard(this.conns.find((c) => c.id === id));
    }
    // A connection that fell back to Idle/Active while another is alive has no future.
    const fellBack = conn.fsm.state === 'Idle' || conn.fsm.state === 'Active';
    if (fellBack && this.conns.length > 1 && this.conns.includes(conn)) this.discard(conn);
    this.reportState();
  }

  private discard(conn: Connection | undefined): void {
    if (!conn) return;
    this.conns = this.conns.filter((c) => c !== conn);
    conn.stopAllTimers();
    void conn.closed().then(() => conn.destroy());
    this.log.debug({ conn: conn.id, direction: conn.direction }, 'connection discarded');
  }

  private reportState(): void {
    let best: FsmState = 'Idle';
    for (const c of this.conns) if (PROGRESS[c.fsm.state] > PROGRESS[best]) best = c.fsm.state;
    if (best === this.reported) return;
    const from = this.reported;
    this.reported = best;
    this.log.info({ from, to: best }, 'state change');
    this.emit('state', from, best);
  }

  // ===== Helpers =====
  private newConnection(direction: Direction, fsm: SessionState<Negotiated>): Connection {
    const id = this.nextConnId++;
    return new Connection(id, direction, fsm, this, this.log.child({ conn: id }));
  }

  private established(): Connection | undefined {
    return this.conns.find((c) => c.fsm.state === 'Established');
  }

  private view(c: Connection): ConnectionView {
    return { id: c.id, direction: c.direction, state: c.fsm.state };
  }

  private views(): ConnectionView[] {
    return this.conns.map((c) => this.view(c));
  }

  private get port(): number {
    return this.opts.port ?? BGP_PORT;
  }

  private countIn(name: string): void {
    this.info.messagesIn[name] = (this.info.messagesIn[name] ?? 0) + 1;
  }

  private countOut(name: string): void {
    this.info.messagesOut[name] = (this.info.messagesOut[name] ?? 0) + 1;
  }
}

function isLoopback(address: string): boolean {
  return address.startsWith('127.') || address === '::1';
}
