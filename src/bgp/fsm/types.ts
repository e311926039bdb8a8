// SPDX-License-Identifier: Apache-2.0
// The vocabulary of the RFC 4271 §8 state machine: states, events (with their §8.1 names and
// numbers), actions, configuration and the per-connection state record. Types and a
// constructor only: the transition function is fsm.ts, timer arithmetic is timers.ts.
//
// One SessionState describes ONE transport connection (RFC 4271 §8: "one FSM per connection");
// two connections to the same peer during a collision are two SessionStates, arbitrated by
// collision.ts (§6.8). Nothing here touches sockets, clocks or Math.random.
import type { BgpNotificationError } from '../messages/errors.ts';
import type { DecodedUpdate, NotificationMessage, OpenMessage, RouteRefreshMessage } from '../messages/types.ts';

export type FsmState = 'Idle' | 'Connect' | 'Active' | 'OpenSent' | 'OpenConfirm' | 'Established';
export const FSM_STATES: readonly FsmState[] = ['Idle', 'Connect', 'Active', 'OpenSent', 'OpenConfirm', 'Established'];

/**
 * Timers the FSM asks the driver to run. `sendHold` (RFC 9687) is special: the driver only lets
 * it run while output is pending and restarts it whenever bytes leave (see session/).
 */
export type TimerKind = 'connectRetry' | 'hold' | 'keepalive' | 'idleHold' | 'sendHold';
export const TIMER_KINDS: readonly TimerKind[] = ['connectRetry', 'hold', 'keepalive', 'idleHold', 'sendHold'];

/** The part of the OPEN negotiation the FSM needs; the codec's Negotiated carries more. */
export interface NegotiatedTimers {
  /** Negotiated hold time in seconds: 0, or ≥ 3 (RFC 4271 §4.2). */
  holdTime: number;
  /** Seconds between KEEPALIVEs; 0 when holdTime is 0. */
  keepaliveTime: number;
}

// ===== Events (RFC 4271 §8.1; numbers in comments) =====
export type FsmEvent<N extends NegotiatedTimers = NegotiatedTimers> =
  | { type: 'ManualStart' } // Event 1, or Event 4 ManualStart_with_PassiveTcpEstablishment when config.passive
  | { type: 'ManualStop'; notification?: NotificationMessage } // Event 2; default Cease/2 (RFC 4486, RFC 9003 text)
  | { type: 'AutomaticStart' } // Event 3, or Event 5 when config.passive
  | { type: 'ConnectRetryTimer_Expires' } // Event 9
  | { type: 'HoldTimer_Expires' } // Event 10
  | { type: 'KeepaliveTimer_Expires' } // Event 11
  | { type: 'IdleHoldTimer_Expires' } // Event 13 (back-off, RFC 4271 §8.1.1 DampPeerOscillations)
  | { type: 'SendHoldTimer_Expires' } // RFC 9687 §4 SendHoldTimer_Expires
  | { type: 'TcpConnectionConfirmed' } // Event 16 Tcp_CR_Acked (outgoing) / Event 17 TcpConnectionConfirmed (incoming)
  | { type: 'TcpConnectionFails' } // Event 18
  | { type: 'BGPOpen'; open: OpenMessage; negotiated: N } // Event 19: an OPEN that passed validateOpen
  | { type: 'BGPHeaderErr'; error: BgpNotificationError } // Event 21
  | { type: 'BGPOpenMsgErr'; error: BgpNotificationError } // Event 22 (decode or validation failure)
  | { type: 'OpenCollisionDump' } // Event 23: collision.ts chose this connection to close
  | { type: 'NotifMsgVerErr'; notification: NotificationMessage } // Event 24
  | { type: 'NotifMsg'; notification: NotificationMessage } // Event 25
  | { type: 'KeepAliveMsg' } // Event 26
  | { type: 'UpdateMsg'; update?: DecodedUpdate } // Event 27 (undecoded when it arrives before Established)
  | { type: 'UpdateMsgErr'; error: BgpNotificationError } // Event 28 (also ROUTE-REFRESH errors, RFC 7313 §5)
  | { type: 'RouteRefreshMsg'; message: RouteRefreshMessage }; // RFC 2918 §4 (not numbered by RFC 4271)

export type FsmEventType = FsmEvent['type'];
export const FSM_EVENT_TYPES: readonly FsmEventType[] = [
  'ManualStart',
  'ManualStop',
  'AutomaticStart',
  'ConnectRetryTimer_Expires',
  'HoldTimer_Expires',
  'KeepaliveTimer_Expires',
  'IdleHoldTimer_Expires',
  'SendHoldTimer_Expires',
  'TcpConnectionConfirmed',
  'TcpConnectionFails',
  'BGPOpen',
  'BGPHeaderErr',
  'BGPOpenMsgErr',
  'OpenCollisionDump',
  'NotifMsgVerErr',
  'NotifMsg',
  'KeepAliveMsg',
  'UpdateMsg',
  'UpdateMsgErr',
  'RouteRefreshMsg',
];

// ===== Actions =====
/** Why a connection went down, for logs, `info.lastError` and the 'down' event. */
export interface DownInfo {
  reason: string;
  /** The NOTIFICATION we sent, if any. */
  sent?: NotificationMessage;
  /** The NOTIFICATION the peer sent, if any. */
  received?: NotificationMessage;
  /** True when the connection had reached Established (routes must be withdrawn). */
  wasEstablished: boolean;
}

export type FsmAction<N extends NegotiatedTimers = NegotiatedTimers> =
  | { type: 'send'; message: 'open' | 'keepalive' } // the driver owns the encoded local OPEN
  | { type: 'setTimer'; timer: TimerKind; seconds: number } // (re)start; seconds already jittered
  | { type: 'stopTimer'; timer: TimerKind }
  | { type: 'connect' } // open an outgoing TCP connection
  | { type: 'close'; notification?: NotificationMessage } // write the NOTIFICATION (if any), flush, end
  | { type: 'negotiated'; negotiated: N }
  | { type: 'established' }
  | { type: 'down'; down: DownInfo }
  | { type: 'deliverUpdate'; update: DecodedUpdate }
  | { type: 'deliverRouteRefresh'; message: RouteRefreshMessage };

// ===== Configuration and state =====
export interface FsmConfig {
  /** Wait in Active for the peer to connect; never connect out (Calico's `passive on`). */
  passive: boolean;
  /** ConnectRetryTime, seconds (RFC 4271 §10 suggests 120; Calico uses 3..5). */
  connectRetryTime: number;
  /** RFC 4271 §8.2.2: "the HoldTimer ... set to a large value ... suggested 4 minutes". */
  openSentHoldTime: number;
  /** Configured hold time (what our OPEN says); used for the OpenSent send hold timer. */
  holdTime: number;
  /** Back-off after errors (BIRD `error wait time min,max`), seconds. */
  errorWaitMin: number;
  errorWaitMax: number;
  /** An Established period this long (seconds) forgets earlier errors (BIRD `error forget time`). */
  errorForget: number;
  /**
   * Wait (seconds) before reconnecting after an Established session was ended by the peer
   * (connection closed, or a Cease): a restarting peer is back in seconds, so this is short,
   * as BIRD's `connect delay time 1` in Calico's configs. Errors still back off.
   */
  connectDelay: number;
  /** Uniform [0,1) source for RFC 4271 §10 jitter; inject a seeded one in tests. */
  random: () => number;
  /**
   * RFC 9687 SendHoldTime override, seconds (`peers[].sendHoldTime`). Unset: the RFC's "8 minutes
   * or 2 times the HoldTime, whichever is longer" (timers.ts sendHoldTime).
   */
  sendHoldTime?: number;
}

export const DEFAULT_FSM_CONFIG: Omit<FsmConfig, 'random'> = Object.freeze({
  passive: false,
  connectRetryTime: 120, // RFC 4271 §10
  openSentHoldTime: 240, // RFC 4271 §8.2.2 "suggested value ... 4 minutes"
  holdTime: 90, // RFC 4271 §10
  errorWaitMin: 5,
  errorWaitMax: 60,
  errorForget: 300, // BIRD's default error forget time
  connectDelay: 1, // Calico's BIRD: `connect delay time 1`
});

export interface SessionState<N extends NegotiatedTimers = NegotiatedTimers> {
  readonly state: FsmState;
  readonly config: FsmConfig;
  /** Started by ManualStart and not stopped since: errors lead to an automatic restart. */
  readonly started: boolean;
  /** RFC 4271 §8.1.1 ConnectRetryCounter. */
  readonly connectRetryCounter: number;
  /** Current back-off in seconds (0 = none yet); doubles per error up to errorWaitMax. */
  readonly idleHoldTime: number;
  /** Running timers: deadline in ms on the caller's clock. Absent = not running. */
  readonly timers: Readonly<Partial<Record<TimerKind, number>>>;
  /** Set on BGPOpen, cleared when the connection goes down. */
  readonly negotiated?: N;
  /** When this connection reached Established (ms), for errorForget. */
  readonly establishedAt?: number;
}

export function initialState<N extends NegotiatedTimers = NegotiatedTimers>(config: FsmConfig): SessionState<N> {
  return { state: 'Idle', config, started: false, connectRetryCounter: 0, idleHoldTime: 0, timers: {} };
}
