// SPDX-License-Identifier: Apache-2.0
// The RFC 4271 §8.2.2 state machine for ONE transport connection, as a pure function
// `step(state, event, now) -> { state, actions }`. It decides; the session driver acts (sockets,
// timers, encoding). No `net`, no `setTimeout`, no `Date.now()`, no Math.random: time comes in
// as `now` (ms), randomness through config.random. Connection collision (§6.8) between two
// such machines is collision.ts.
//
// Deliberate choices, each marked at its line:
// - Timer events for a timer that is not running are stale (the driver raced a stop) and ignored.
// - Connect + TcpConnectionFails goes to Active and retries after ConnectRetryTime (the RFC's
//   DelayOpen branch) rather than to Idle: retrying is what an operator expects, and Calico sets
//   ConnectRetryTime to a few seconds for exactly this.
// - Passive peers wait in Active with no ConnectRetryTimer: they never connect out.
// - Every error that ends a connection leads to Idle with a jittered, doubling IdleHoldTimer
//   (RFC 4271 §8.1.1 DampPeerOscillations; BIRD's error wait time), then an automatic restart.
// - A NOTIFICATION received in OpenSent closes the connection without answering it (the peer has
//   already closed, RFC 4271 §6.4), as OpenConfirm and Established do in the RFC text.
import { BgpNotificationError } from '../messages/errors.ts';
import { CeaseSubcode, FsmErrorSubcode, NotificationCode, notificationName } from '../messages/iana.ts';
import type { NotificationMessage } from '../messages/types.ts';
import {
  COLLISION_RESOLUTION,
  HOLD_TIMER_EXPIRED,
  SEND_HOLD_TIMER_EXPIRED,
  ceaseNotification,
  jitter,
  nextIdleHoldTime,
  notificationOf,
  sendHoldTime,
} from './timers.ts';
import type { DownInfo, FsmAction, FsmEvent, FsmEventType, FsmState, NegotiatedTimers, SessionState, TimerKind } from './types.ts';

export interface Transition<N extends NegotiatedTimers = NegotiatedTimers> {
  state: SessionState<N>;
  actions: FsmAction<N>[];
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

// The timer whose expiry each timer event reports.
const TIMER_OF_EVENT: Partial<Record<FsmEventType, TimerKind>> = {
  ConnectRetryTimer_Expires: 'connectRetry',
  HoldTimer_Expires: 'hold',
  KeepaliveTimer_Expires: 'keepalive',
  IdleHoldTimer_Expires: 'idleHold',
  SendHoldTimer_Expires: 'sendHold',
};

/** RFC 6608 §3: the FSM Error subcode for an unexpected message in each state that has one. */
const UNEXPECTED_MESSAGE_SUBCODE: Partial<Record<FsmState, (typeof FsmErrorSubcode)[keyof typeof FsmErrorSubcode]>> = {
  OpenSent: FsmErrorSubcode.UnexpectedMessageInOpenSent,
  OpenConfirm: FsmErrorSubcode.UnexpectedMessageInOpenConfirm,
  Established: FsmErrorSubcode.UnexpectedMessageInEstablished,
};

/** RFC 4486 §4 / RFC 9003: what ManualStop sends when the caller gives no NOTIFICATION. */
const ADMINISTRATIVE_SHUTDOWN = ceaseNotification(CeaseSubcode.AdministrativeShutdown);

// ===== The transition under construction =====
class Tx<N extends NegotiatedTimers> {
  readonly s: Mutable<SessionState<N>>;
  readonly timers: Partial<Record<TimerKind, number>>;
  readonly actions: FsmAction<N>[] = [];
  readonly now: number;
  private readonly from: FsmState;

  constructor(s: SessionState<N>, now: number) {
    this.timers = { ...s.timers };
    this.s = { ...s, timers: this.timers };
    this.now = now;
    this.from = s.state;
  }

  done(): Transition<N> {
    return { state: this.s, actions: this.actions };
  }

  go(state: FsmState): void {
    this.s.state = state;
  }

  emit(action: FsmAction<N>): void {
    this.actions.push(action);
  }

  setTimer(timer: TimerKind, seconds: number): void {
    this.timers[timer] = this.now + seconds * 1000;
    this.emit({ type: 'setTimer', timer, seconds });
  }

  /** Emits stopTimer only for a running timer, so action lists stay exact. */
  stopTimer(timer: TimerKind): void {
    if (this.timers[timer] === undefined) return;
    delete this.timers[timer];
    this.emit({ type: 'stopTimer', timer });
  }

  /** The timer fired: it is no longer running (no action, the driver knows). */
  expired(timer: TimerKind): void {
    delete this.timers[timer];
  }

  stopConnectionTimers(): void {
    for (const t of ['connectRetry', 'hold', 'keepalive', 'sendHold'] as const) this.stopTimer(t);
  }

  // ----- Entering Connect / Active -----
  /** RFC 4271 §8.2.2 Idle, Events 1/3 (and 4/5 when passive). */
  start(manual: boolean): void {
    this.s.started = true;
    this.stopTimer('idleHold');
    // RFC 4271 §8.2.2 Idle: ManualStart "sets ConnectRetryCounter to zero".
    if (manual) {
      this.s.connectRetryCounter = 0;
      this.s.idleHoldTime = 0;
    }
    if (this.s.config.passive) {
      // Passive: wait in Active for the peer; never connect out, so no ConnectRetryTimer.
      this.go('Active');
      return;
    }
    this.setTimer('connectRetry', jitter(this.s.config.connectRetryTime, this.s.config.random));
    this.emit({ type: 'connect' });
    this.go('Connect');
  }

  /** TCP up (Events 16/17) in Connect or Active: send OPEN, large hold timer, OpenSent. */
  openSent(): void {
    this.stopTimer('connectRetry');
    this.emit({ type: 'send', message: 'open' });
    // RFC 4271 §8.2.2: "sets the HoldTimer to a large value ... A HoldTimer value of 4 minutes is suggested".
    this.setTimer('hold', this.s.config.openSentHoldTime);
    // RFC 9687 §4: the SendHoldTimer runs from OpenSent on (hold time not yet negotiated: use ours).
    this.setTimer('sendHold', this.s.config.sendHoldTime ?? sendHoldTime(this.s.config.holdTime));
    this.go('OpenSent');
  }

  /** TCP failed; wait in Active and retry later (passive: just wait). */
  retryLater(reason: string): void {
    this.stopConnectionTimers();
    this.emit({ type: 'close' });
    this.reportDown({ reason });
    this.resetConnection();
    if (!this.s.config.passive) this.setTimer('connectRetry', jitter(this.s.config.connectRetryTime, this.s.config.random));
    this.go('Active');
  }

  // ----- Leaving a connection -----
  /**
   * Tear the connection down to Idle. `backoff`: an error, so restart automatically after the
   * idle hold time (RFC 4271 §8.1.1 DampPeerOscillations); false for ManualStop and collisions.
   */
  drop(opts: { reason: string; sent?: NotificationMessage; received?: NotificationMessage; backoff: boolean; peerEnded?: boolean }): void {
    this.stopConnectionTimers();
    this.emit(opts.sent ? { type: 'close', notification: opts.sent } : { type: 'close' });
    this.reportDown(opts);
    // RFC 4271 §8.2.2: "increments the ConnectRetryCounter by 1" on every error exit.
    if (opts.backoff) this.s.connectRetryCounter += 1;
    if (opts.backoff && this.s.started) {
      // A working session the peer ended (restart, shutdown): reconnect soon, without growing
      // the back-off. Anything else is an error: back off (RFC 4271 §8.1.1 DampPeerOscillations).
      const quick = opts.peerEnded === true && this.from === 'Established';
      const wait = quick ? this.s.config.connectDelay : nextIdleHoldTime(this.s, this.now);
      if (!quick) this.s.idleHoldTime = wait;
      // A session that stayed up for errorForget forgets earlier errors (BIRD `error forget time`).
      else if (this.s.establishedAt !== undefined && this.now - this.s.establishedAt >= this.s.config.errorForget * 1000) this.s.idleHoldTime = 0;
      this.setTimer('idleHold', jitter(wait, this.s.config.random));
    }
    this.resetConnection();
    this.go('Idle');
  }

  /** An error we report with a NOTIFICATION, then back off. */
  fail(notification: NotificationMessage, reason?: string): void {
    this.drop({ reason: reason ?? `sent ${notificationName(notification.code, notification.subcode)}`, sent: notification, backoff: true });
  }

  failWith(error: BgpNotificationError): void {
    this.fail(notificationOf(error), `sent ${error.message}`);
  }

  /** RFC 6608: FSM Error with the subcode for this state. */
  unexpected(what: string): void {
    const subcode = UNEXPECTED_MESSAGE_SUBCODE[this.from] ?? FsmErrorSubcode.Unspecific;
    this.failWith(BgpNotificationError.fsmError(subcode, `unexpected ${what} in ${this.from}`));
  }

  /** The peer's NOTIFICATION ends the connection; never answered (RFC 4271 §6.4). */
  notified(notification: NotificationMessage): void {
    // Only a Cease is the peer choosing to stop; other codes report an error it found in us.
    const peerEnded = notification.code === NotificationCode.Cease;
    this.drop({ reason: `received ${notificationName(notification.code, notification.subcode)}`, received: notification, backoff: true, peerEnded });
  }

  manualStop(notification: NotificationMessage | undefined): void {
    this.s.started = false;
    this.stopTimer('idleHold');
    // A NOTIFICATION only makes sense once our OPEN is out (OpenSent and later).
    const connected = this.from === 'OpenSent' || this.from === 'OpenConfirm' || this.from === 'Established';
    const sent = connected ? (notification ?? ADMINISTRATIVE_SHUTDOWN) : undefined;
    this.drop(sent ? { reason: 'stopped', sent, backoff: false } : { reason: 'stopped', backoff: false });
    this.s.connectRetryCounter = 0; // RFC 4271 §8.2.2: ManualStop "sets the ConnectRetryCounter to zero"
  }

  private reportDown(info: { reason: string; sent?: NotificationMessage; received?: NotificationMessage }): void {
    const connected = this.from === 'OpenSent' || this.from === 'OpenConfirm' || this.from === 'Established';
    if (!connected) return;
    const down: DownInfo = { reason: info.reason, wasEstablished: this.from === 'Established' };
    if (info.sent) down.sent = info.sent;
    if (info.received) down.received = info.received;
    this.emit({ type: 'down', down });
  }

  private resetConnection(): void {
    delete this.s.negotiated;
    delete this.s.establishedAt;
  }

  // ----- Hold and keepalive -----
  restartHoldTimer(): void {
    const hold = this.s.negotiated?.holdTime ?? 0;
    // RFC 4271 §4.2: a zero Hold Time means no hold timer at all.
    if (hold > 0) this.setTimer('hold', hold);
  }

  sendKeepalive(): void {
    this.emit({ type: 'send', message: 'keepalive' });
    const keepalive = this.s.negotiated?.keepaliveTime ?? 0;
    if (keepalive > 0) this.setTimer('keepalive', jitter(keepalive, this.s.config.random));
  }
}

// ===== The transition function =====
export function step<N extends NegotiatedTimers>(s: SessionState<N>, e: FsmEvent<N>, now: number): Transition<N> {
  const timer = TIMER_OF_EVENT[e.type];
  // Stale timer event: the driver stopped the timer after it had already fired. Ignored.
  if (timer !== undefined && s.timers[timer] === undefined) return { state: s, actions: [] };
  const tx = new Tx<N>(s, now);
  if (timer !== undefined) tx.expired(timer);

  switch (s.state) {
    // ----- RFC 4271 §8.2.2 Idle: refuse connections, wait for a start -----
    case 'Idle':
      switch (e.type) {
        case 'ManualStart':
          tx.start(true);
          break;
        case 'AutomaticStart':
          // Back-off in force: an automatic start waits for the IdleHoldTimer.
          if (s.timers.idleHold === undefined) tx.start(false);
          break;
        case 'IdleHoldTimer_Expires':
          if (s.started) tx.start(false);
          break;
        case 'ManualStop':
          tx.s.started = false;
          tx.stopTimer('idleHold');
          break;
        case 'TcpConnectionConfirmed':
          // "the local system ... refuses all incoming BGP connections" in Idle.
          tx.emit({ type: 'close' });
          break;
        case 'ConnectRetryTimer_Expires':
        case 'HoldTimer_Expires':
        case 'KeepaliveTimer_Expires':
        case 'SendHoldTimer_Expires':
        case 'TcpConnectionFails':
        case 'BGPOpen':
        case 'BGPHeaderErr':
        case 'BGPOpenMsgErr':
        case 'OpenCollisionDump':
        case 'NotifMsgVerErr':
        case 'NotifMsg':
        case 'KeepAliveMsg':
        case 'UpdateMsg':
        case 'UpdateMsgErr':
        case 'RouteRefreshMsg':
          // "Any other event ... received in the Idle state does not cause change in the state".
          break;
        default: {
          const _exhaustive: never = e;
          return _exhaustive;
        }
      }
      break;

    // ----- Connect: outgoing TCP connection in progress -----
    // ----- Active: listening (and, unless passive, waiting to retry) -----
    case 'Connect':
    case 'Active':
      switch (e.type) {
        case 'ManualStart':
        case 'AutomaticStart':
          break; // "Events 1, 3-7 are ignored in the Connect [and Active] state"
        case 'ManualStop':
          tx.manualStop(undefined);
          break;
        case 'ConnectRetryTimer_Expires':
          // Connect: "drops the TCP connection, restarts the ConnectRetryTimer, ... initiates a TCP connection".
          // Active: "restarts the ConnectRetryTimer, initiates a TCP connection, ... changes its state to Connect".
          if (s.state === 'Connect') tx.emit({ type: 'close' });
          tx.setTimer('connectRetry', jitter(s.config.connectRetryTime, s.config.random));
          tx.emit({ type: 'connect' });
          tx.go('Connect');
          break;
        case 'TcpConnectionConfirmed':
          tx.openSent();
          break;
        case 'TcpConnectionFails':
          // Deviation (see header): retry after ConnectRetryTime from Active instead of dropping to Idle.
          tx.retryLater('connection failed');
          break;
        case 'HoldTimer_Expires':
        case 'KeepaliveTimer_Expires':
        case 'IdleHoldTimer_Expires':
        case 'SendHoldTimer_Expires':
        case 'BGPOpen':
        case 'BGPHeaderErr':
        case 'BGPOpenMsgErr':
        case 'OpenCollisionDump':
        case 'NotifMsgVerErr':
        case 'NotifMsg':
        case 'KeepAliveMsg':
        case 'UpdateMsg':
        case 'UpdateMsgErr':
        case 'RouteRefreshMsg':
          // "In response to any other event ... releases all BGP resources, drops the TCP
          // connection, increments the ConnectRetryCounter by 1, performs peer oscillation
          // damping ..., and changes its state to Idle." No OPEN sent yet: no NOTIFICATION.
          tx.drop({ reason: `unexpected ${e.type} in ${s.state}`, backoff: true });
          break;
        default: {
          const _exhaustive: never = e;
          return _exhaustive;
        }
      }
      break;

    // ----- OpenSent: our OPEN is out, waiting for theirs -----
    case 'OpenSent':
      switch (e.type) {
        case 'ManualStart':
        case 'AutomaticStart':
          break;
        case 'ManualStop':
          tx.manualStop(e.notification);
          break;
        case 'HoldTimer_Expires':
          tx.fail(HOLD_TIMER_EXPIRED, 'hold timer expired'); // RFC 4271 §6.5
          break;
        case 'SendHoldTimer_Expires':
          tx.fail(SEND_HOLD_TIMER_EXPIRED, 'send hold timer expired'); // RFC 9687 §4
          break;
        case 'TcpConnectionConfirmed':
          // "a second TCP connection may be in progress. This second TCP connection is tracked
          // per Connection Collision processing" — collision.ts, not this machine.
          break;
        case 'TcpConnectionFails':
          // "closes the BGP connection, restarts the ConnectRetryTimer, continues to listen ...
          // and changes its state to Active."
          tx.retryLater('connection closed by peer');
          break;
        case 'BGPOpen':
          tx.stopTimer('connectRetry');
          tx.s.negotiated = e.negotiated;
          tx.emit({ type: 'negotiated', negotiated: e.negotiated });
          // "sends a KEEPALIVE message, sets a KeepaliveTimer ... sets the HoldTimer according
          // to the negotiated value (see Section 4.2)"; §4.2: zero means neither timer runs.
          tx.sendKeepalive();
          if (e.negotiated.holdTime > 0) tx.restartHoldTimer();
          else tx.stopTimer('hold');
          tx.setTimer('sendHold', tx.s.config.sendHoldTime ?? sendHoldTime(e.negotiated.holdTime));
          tx.go('OpenConfirm');
          break;
        case 'BGPHeaderErr':
        case 'BGPOpenMsgErr':
          tx.failWith(e.error); // "sends a NOTIFICATION message with the appropriate error code"
          break;
        case 'OpenCollisionDump':
          tx.drop({ reason: 'connection collision', sent: COLLISION_RESOLUTION, backoff: false });
          break;
        case 'NotifMsgVerErr':
        case 'NotifMsg':
          tx.notified(e.notification);
          break;
        case 'KeepAliveMsg':
        case 'UpdateMsg':
        case 'UpdateMsgErr':
        case 'RouteRefreshMsg':
          tx.unexpected(e.type); // RFC 6608 subcode 1
          break;
        case 'ConnectRetryTimer_Expires':
        case 'KeepaliveTimer_Expires':
        case 'IdleHoldTimer_Expires':
          // Not running in OpenSent, so only reachable through a forged state; RFC: FSM Error.
          tx.unexpected(e.type);
          break;
        default: {
          const _exhaustive: never = e;
          return _exhaustive;
        }
      }
      break;

    // ----- OpenConfirm: OPENs exchanged, waiting for their KEEPALIVE -----
    case 'OpenConfirm':
      switch (e.type) {
        case 'ManualStart':
        case 'AutomaticStart':
          break;
        case 'ManualStop':
          tx.manualStop(e.notification);
          break;
        case 'HoldTimer_Expires':
          tx.fail(HOLD_TIMER_EXPIRED, 'hold timer expired');
          break;
        case 'SendHoldTimer_Expires':
          tx.fail(SEND_HOLD_TIMER_EXPIRED, 'send hold timer expired');
          break;
        case 'KeepaliveTimer_Expires':
          tx.sendKeepalive(); // "sends a KEEPALIVE message, restarts the KeepaliveTimer"
          break;
        case 'TcpConnectionConfirmed':
          break; // tracked by collision processing
        case 'TcpConnectionFails':
          tx.drop({ reason: 'connection closed by peer', backoff: true, peerEnded: true });
          break;
        case 'BGPOpen':
          // A second OPEN on the same connection (collisions between connections are collision.ts).
          tx.unexpected('OPEN'); // RFC 6608 subcode 2
          break;
        case 'BGPHeaderErr':
        case 'BGPOpenMsgErr':
          tx.failWith(e.error);
          break;
        case 'OpenCollisionDump':
          tx.drop({ reason: 'connection collision', sent: COLLISION_RESOLUTION, backoff: false });
          break;
        case 'NotifMsgVerErr':
        case 'NotifMsg':
          tx.notified(e.notification);
          break;
        case 'KeepAliveMsg':
          // "restarts the HoldTimer and changes its state to Established".
          tx.restartHoldTimer();
          tx.s.establishedAt = now;
          tx.go('Established');
          tx.emit({ type: 'established' });
          break;
        case 'UpdateMsg':
        case 'UpdateMsgErr':
        case 'RouteRefreshMsg':
          tx.unexpected(e.type); // RFC 6608 subcode 2
          break;
        case 'ConnectRetryTimer_Expires':
        case 'IdleHoldTimer_Expires':
          tx.unexpected(e.type);
          break;
        default: {
          const _exhaustive: never = e;
          return _exhaustive;
        }
      }
      break;

    // ----- Established: UPDATEs flow -----
    case 'Established':
      switch (e.type) {
        case 'ManualStart':
        case 'AutomaticStart':
          break;
        case 'ManualStop':
          tx.manualStop(e.notification);
          break;
        case 'HoldTimer_Expires':
          tx.fail(HOLD_TIMER_EXPIRED, 'hold timer expired');
          break;
        case 'SendHoldTimer_Expires':
          tx.fail(SEND_HOLD_TIMER_EXPIRED, 'send hold timer expired');
          break;
        case 'KeepaliveTimer_Expires':
          tx.sendKeepalive();
          break;
        case 'TcpConnectionConfirmed':
          break; // §6.8: the newer connection is closed by collision processing
        case 'TcpConnectionFails':
          tx.drop({ reason: 'connection closed by peer', backoff: true, peerEnded: true });
          break;
        case 'BGPOpen':
          tx.unexpected('OPEN'); // RFC 6608 subcode 3
          break;
        case 'BGPHeaderErr':
        case 'BGPOpenMsgErr':
        case 'UpdateMsgErr':
          tx.failWith(e.error);
          break;
        case 'OpenCollisionDump':
          tx.drop({ reason: 'connection collision', sent: COLLISION_RESOLUTION, backoff: false });
          break;
        case 'NotifMsgVerErr':
        case 'NotifMsg':
          tx.notified(e.notification);
          break;
        case 'KeepAliveMsg':
          tx.restartHoldTimer(); // "restarts its HoldTimer, if the negotiated HoldTime value is non-zero"
          break;
        case 'UpdateMsg':
          tx.restartHoldTimer();
          if (e.update) tx.emit({ type: 'deliverUpdate', update: e.update });
          break;
        case 'RouteRefreshMsg':
          // RFC 4271 §6.5: only KEEPALIVE and UPDATE restart the hold timer.
          tx.emit({ type: 'deliverRouteRefresh', message: e.message });
          break;
        case 'ConnectRetryTimer_Expires':
        case 'IdleHoldTimer_Expires':
          tx.unexpected(e.type);
          break;
        default: {
          const _exhaustive: never = e;
          return _exhaustive;
        }
      }
      break;

    default: {
      const _exhaustive: never = s.state;
      return _exhaustive;
    }
  }
  return tx.done();
}
