// SPDX-License-Identifier: Apache-2.0
// One transport connection to a peer: its TCP socket, stream framing, the outgoing priority
// queue with write backpressure, the timers its FSM asks for, and the RFC 9687 send hold
// watchdog. It turns socket happenings into FSM events for its host (PeerSession) and never
// decides anything itself: the FSM (src/bgp/fsm/) does, and PeerSession arbitrates collisions.
import net from 'node:net';
import type { Logger } from 'pino';
import type { Direction, FsmEvent, SessionState, TimerKind } from '../fsm/index.ts';
import { BgpNotificationError } from '../messages/errors.ts';
import { FrameAssembler } from '../messages/header.ts';
import type { Negotiated } from '../messages/negotiate.ts';
import { DEFAULT_CONTEXT, type CodecContext } from '../messages/types.ts';
import { SendQueue, type SendClass } from './send-queue.ts';
import { connectSecure, needsNativeSocket, type TransportSecurity } from './transport.ts';

/** How long a closing socket may take to flush its NOTIFICATION before it is destroyed. */
export const CLOSE_FLUSH_TIMEOUT_MS = 1000;

/**
 * Longest run of received messages handled in one go before the event loop gets a turn. libuv
 * hands a busy socket up to 32 reads (2 MB) per loop iteration; a full table arriving that way
 * kept the loop busy for seconds, long enough for other peers' hold timers to expire (a 1M-prefix
 * feed blocked it for 9 s; see bench/liveness.ts). Past this budget the socket is paused (TCP
 * flow control pushes back on the peer) and the rest continues after timers and other I/O ran.
 */
export const INPUT_SLICE_MS = 20;

const EVENT_OF_TIMER: Record<TimerKind, FsmEvent<Negotiated>['type']> = {
  connectRetry: 'ConnectRetryTimer_Expires',
  hold: 'HoldTimer_Expires',
  keepalive: 'KeepaliveTimer_Expires',
  idleHold: 'IdleHoldTimer_Expires',
  sendHold: 'SendHoldTimer_Expires',
};

export interface ConnectionHost {
  /** Feed an event to this connection's FSM. */
  onEvent(conn: Connection, event: FsmEvent<Negotiated>): void;
  /** One whole message arrived (a view valid only during the call). */
  onFrame(conn: Connection, frame: Uint8Array): void;
  /** Everything queued has been handed to the kernel: the producer may send more. */
  onDrained?(conn: Connection): void;
}

export interface ConnectTarget {
  host: string;
  port: number;
  localAddress?: string;
  /** MD5 key, GTSM, device: the socket is then made by the native addon (transport.ts). */
  security?: TransportSecurity;
}

export class Connection {
  /** Counts secure connects so a late result of a superseded one is ignored. */
  private secureAttempt = 0;
  readonly id: number;
  direction: Direction;
  fsm: SessionState<Negotiated>;
  ctx: CodecContext = DEFAULT_CONTEXT;
  private socket?: net.Socket;
  /** True once the TCP handshake finished (outgoing) or from the start (incoming). */
  private connected = false;
  private readonly assembler = new FrameAssembler();
  private readonly queue = new SendQueue();
  private readonly timers = new Map<TimerKind, NodeJS.Timeout>();
  /** Waiting for 'drain': socket.write returned false. */
  private blocked = false;
  private sendHoldSeconds?: number;
  private sendHoldWatchdog?: NodeJS.Timeout;
  private readonly host: ConnectionHost;
  private readonly log: Logger;
  private readonly closing = new Set<Promise<void>>();
  /** Received messages not yet handed to the host (see INPUT_SLICE_MS), for `inboxSocket` only. */
  private inbox: Uint8Array[] = [];
  private inboxHead = 0;
  private inboxSocket?: net.Socket;
  /** The socket closed while messages were still queued: report it after them. */
  private closeAfterInbox = false;
  private drainScheduled = false;

  constructor(id: number, direction: Direction, fsm: SessionState<Negotiated>, host: ConnectionHost, log: Logger) {
    this.id = id;
    this.direction = direction;
    this.fsm = fsm;
    this.host = host;
    this.log = log;
  }

  get hasSocket(): boolean {
    return this.socket !== undefined;
  }

  get localAddress(): string | undefined {
    return this.socket?.localAddress?.replace(/^::ffff:/, '');
  }

  get localEndpoint(): string | undefined {
    return this.socket ? `${this.socket.localAddress}:${this.socket.localPort}` : undefined;
  }

  get remoteEndpoint(): string | undefined {
    return this.socket ? `${this.socket.remoteAddress}:${this.socket.remotePort}` : undefined;
  }

  /** Largest message accepted from now on (RFC 8654 after negotiation). */
  setCodecContext(ctx: CodecContext): void {
    this.ctx = ctx;
    this.assembler.maxMessageSize = ctx.maxMessageSize;
  }

  // ===== Socket lifecycle =====
  /** Outgoing TCP connection; TcpConnectionConfirmed or TcpConnectionFails follows. */
  connect(target: ConnectTarget): void {
    this.dropSocket();
    this.direction = 'outgoing';
    if (needsNativeSocket(target.security)) return this.connectSecure(target);
    const options: net.TcpNetConnectOpts = { host: target.host, port: target.port };
    if (target.localAddress) options.localAddress = target.localAddress;
    const socket = net.connect(options);
    this.watch(socket);
    socket.once('connect', () => {
      if (this.socket !== socket) return;
      this.connected = true;
      socket.setNoDelay(true);
      this.log.debug({ local: `${socket.localAddress}:${socket.localPort}` }, 'tcp connected');
      this.host.onEvent(this, { type: 'TcpConnectionConfirmed' });
    });
  }

  /** The socket is created with its options set before the SYN, then handed to Node. */
  private connectSecure(target: ConnectTarget): void {
    const attempt = ++this.secureAttempt;
    connectSecure({ host: target.host, port: target.port, ...(target.localAddress ? { localAddress: target.localAddress } : {}) }, target.security!)
      .then((socket) => {
        if (attempt !== this.secureAttempt) return void socket.destroy(); // superseded or dropped meanwhile
        this.watch(socket);
        this.connected = true;
        socket.setNoDelay(true);
        this.log.debug({ local: `${socket.localAddress}:${socket.localPort}` }, 'tcp connected (MD5/GTSM socket)');
        this.host.onEvent(this, { type: 'TcpConnectionConfirmed' });
      })
      .catch((err: NodeJS.ErrnoException) => {
        if (attempt !== this.secureAttempt) return;
        const routine = err.code === 'ECONNREFUSED' || err.code === 'ETIMEDOUT' || err.code === 'EHOSTUNREACH' || err.code === 'ENETUNREACH';
        this.log[routine ? 'info' : 'warn']({ err: err.message, code: err.code }, 'socket error');
        this.host.onEvent(this, { type: 'TcpConnectionFails' });
      });
  }

  /** An incoming socket handed over by the listener; the caller feeds TcpConnectionConfirmed. */
  attach(socket: net.Socket): void {
    this.dropSocket();
    this.direction = 'incoming';
    this.connected = true;
    socket.setNoDelay(true);
    this.watch(socket);
  }

  private watch(socket: net.Socket): void {
    this.socket = socket;
    this.blocked = false;
    this.assembler.maxMessageSize = this.ctx.maxMessageSize;
    socket.on('data', (chunk: Buffer) => this.socketOnData(socket, chunk));
    socket.on('drain', () => this.socketOnDrain(socket));
    socket.on('error', (err) => {
      const code = (err as NodeJS.ErrnoException).code;
      // A peer that is not up yet refuses or ignores our SYN: routine, retried by the FSM.
      const routine = code === 'ECONNREFUSED' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH' || code === 'ETIMEDOUT';
      this.log[routine ? 'info' : 'warn']({ err: err.message, code }, 'socket error');
    });
    socket.on('close', () => this.socketOnClose(socket));
  }

  private socketOnData(socket: net.Socket, chunk: Buffer): void {
    if (this.socket !== socket) return;
    let frames: Uint8Array[];
    try {
      frames = this.assembler.push(chunk);
    } catch (err) {
      // RFC 4271 §6.1: bad marker, length or type in a header.
      if (err instanceof BgpNotificationError) this.host.onEvent(this, { type: 'BGPHeaderErr', error: err });
      else this.log.error({ err }, 'framing failed');
      return;
    }
    if (this.inboxSocket !== socket) this.clearInbox();
    this.inboxSocket = socket;
    for (const frame of frames) this.inbox.push(frame);
    // A slice is already scheduled (socket paused): the new frames wait their turn.
    if (!this.drainScheduled) this.drainInbox(socket);
  }

  /** Hands queued messages to the host for at most INPUT_SLICE_MS, then yields (socket paused). */
  private drainInbox(socket: net.Socket): void {
    const deadline = performance.now() + INPUT_SLICE_MS;
    while (this.inboxHead < this.inbox.length) {
      if (this.socket !== socket || this.inboxSocket !== socket) return this.clearInbox(); // an earlier frame closed the connection
      const frame = this.inbox[this.inboxHead++]!;
      this.host.onFrame(this, frame);
      if (this.inboxHead < this.inbox.length && performance.now() >= deadline) {
        socket.pause();
        this.drainScheduled = true;
        setImmediate(() => {
          this.drainScheduled = false;
          if (this.inboxSocket === socket) this.drainInbox(socket);
        });
        return;
      }
    }
    const closeNow = this.closeAfterInbox && this.inboxSocket === socket;
    this.clearInbox();
    if (closeNow) this.socketOnClose(socket);
    else if (this.socket === socket && socket.isPaused()) socket.resume();
  }

  private clearInbox(): void {
    this.inbox = [];
    this.inboxHead = 0;
    this.inboxSocket = undefined;
    this.closeAfterInbox = false;
  }

  private socketOnDrain(socket: net.Socket): void {
    if (this.socket !== socket) return;
    this.blocked = false;
    this.sendHoldProgress();
    this.flush();
  }

  private socketOnClose(socket: net.Socket): void {
    if (this.socket !== socket) return; // we closed it on the FSM's orders
    if (this.inboxSocket === socket && this.inboxHead < this.inbox.length) {
      // Messages that arrived before the close (a NOTIFICATION, say) are handled first.
      this.closeAfterInbox = true;
      return;
    }
    this.socket = undefined;
    this.connected = false;
    this.queue.clear();
    this.stopSendHoldWatchdog();
    this.host.onEvent(this, { type: 'TcpConnectionFails' });
  }

  /** Forget the current socket without telling the FSM (it already knows). */
  private dropSocket(): void {
    this.secureAttempt++; // a secure connect still in flight is abandoned
    const socket = this.socket;
    if (!socket) return;
    this.socket = undefined;
    this.connected = false;
    this.queue.clear();
    this.stopSendHoldWatchdog();
    socket.destroy();
  }

  /**
   * Close on the FSM's orders: write the NOTIFICATION (ahead of anything queued; queued
   * UPDATEs are dropped), end the socket once flushed, destroy it after a short timeout if the
   * peer does not read. Resolves when the socket is closed.
   */
  close(notificationFrame?: Uint8Array): Promise<void> {
    this.secureAttempt++; // a secure connect still in flight is abandoned
    const socket = this.socket;
    this.socket = undefined;
    this.queue.clear();
    this.stopSendHoldWatchdog();
    if (!socket) return Promise.resolve();
    const wasConnected = this.connected;
    this.connected = false;
    socket.removeAllListeners('data');
    const closed = new Promise<void>((resolve) => {
      if (socket.destroyed) return resolve();
      const timer = setTimeout(() => socket.destroy(), CLOSE_FLUSH_TIMEOUT_MS);
      socket.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
    });
    if (!wasConnected) socket.destroy();
    else if (notificationFrame) socket.end(notificationFrame);
    else socket.end();
    this.closing.add(closed);
    void closed.then(() => this.closing.delete(closed));
    return closed;
  }

  /** Resolves when every socket this connection closed has finished closing. */
  async closed(): Promise<void> {
    await Promise.all([...this.closing]);
  }

  // ===== Sending =====
  /**
   * Run `fn` (which enqueues several messages) with the socket corked: the writes leave as one
   * writev when it ends, not one system call and write request per UPDATE (docs/performance.md).
   */
  corked(fn: () => void): void {
    const socket = this.socket;
    socket?.cork();
    try {
      fn();
    } finally {
      socket?.uncork();
    }
  }

  enqueue(kind: SendClass, frame: Uint8Array): void {
    if (!this.socket || !this.connected) return;
    this.queue.push(kind, frame);
    this.flush();
  }

  /** Write while the socket accepts; the rest waits for 'drain' in our priority queue. */
  private flush(): void {
    const socket = this.socket;
    if (!socket || !this.connected) return;
    const written = (err?: Error | null): void => {
      // Bytes reached the kernel: progress for the send hold timer.
      if (!err && this.socket === socket) this.sendHoldProgress();
    };
    // Corked: after a 'drain' the frames still queued leave as one writev, not one system call
    // per UPDATE (with 1000 clients that was most of the CPU of a burst, docs/performance.md).
    socket.cork();
    try {
      while (!this.blocked && this.queue.length > 0) {
        const next = this.queue.shift()!;
        if (!socket.write(next.frame, written)) this.blocked = true;
      }
    } finally {
      socket.uncork();
    }
    this.armSendHold();
    if (!this.blocked && this.queue.length === 0) this.host.onDrained?.(this);
  }

  get pendingBytes(): number {
    return this.queue.pendingBytes + (this.socket?.writableLength ?? 0);
  }

  // ===== Timers =====
  setTimer(kind: TimerKind, seconds: number): void {
    this.stopTimer(kind);
    if (kind === 'sendHold') {
      // RFC 9687 §4: the timer measures time without progress while data waits to be sent.
      this.sendHoldSeconds = seconds;
      this.sendHoldProgress();
      return;
    }
    const timer = setTimeout(() => {
      this.timers.delete(kind);
      this.host.onEvent(this, { type: EVENT_OF_TIMER[kind] } as FsmEvent<Negotiated>);
    }, Math.max(0, Math.round(seconds * 1000)));
    this.timers.set(kind, timer);
  }

  stopTimer(kind: TimerKind): void {
    if (kind === 'sendHold') {
      this.sendHoldSeconds = undefined;
      this.stopSendHoldWatchdog();
      return;
    }
    const timer = this.timers.get(kind);
    if (timer) clearTimeout(timer);
    this.timers.delete(kind);
  }

  stopAllTimers(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    this.sendHoldSeconds = undefined;
    this.stopSendHoldWatchdog();
  }

  /** Bytes left: restart the watchdog from now (or stop it when nothing is pending). */
  private sendHoldProgress(): void {
    this.stopSendHoldWatchdog();
    this.armSendHold();
  }

  /** Start the watchdog if output is pending and it is not already running. */
  private armSendHold(): void {
    if (this.sendHoldSeconds === undefined || this.sendHoldWatchdog || this.pendingBytes === 0) return;
    this.sendHoldWatchdog = setTimeout(() => {
      this.sendHoldWatchdog = undefined;
      this.log.warn({ pendingBytes: this.pendingBytes, seconds: this.sendHoldSeconds }, 'peer is not reading (RFC 9687 send hold timer)');
      this.host.onEvent(this, { type: 'SendHoldTimer_Expires' });
    }, this.sendHoldSeconds * 1000);
  }

  private stopSendHoldWatchdog(): void {
    if (this.sendHoldWatchdog) clearTimeout(this.sendHoldWatchdog);
    this.sendHoldWatchdog = undefined;
  }

  /** Tear everything down immediately (no NOTIFICATION). */
  destroy(): void {
    this.stopAllTimers();
    this.dropSocket();
  }
}
