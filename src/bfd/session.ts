// SPDX-License-Identifier: Apache-2.0
// The RFC 5880 state machine of one BFD session in asynchronous mode, as pure functions over an
// immutable record: reception (§6.8.6), detection-time expiry (§6.8.4), the packet to send and
// the jittered transmit interval (§6.8.7), timer changes with Poll Sequences (§6.8.3), and
// administrative down. It never touches sockets or clocks; service.ts runs the timers and the
// UDP sockets. Demand mode and the Echo function are not implemented (we never ask for them; a
// peer in Demand mode is honoured by not sending periodic packets, §6.8.7).
import { BfdDiag, BfdState, type BfdControlFields, type BfdControlPacket, type BfdStateValue } from './packet.ts';

/** RFC 5880 §6.8.3: "When bfd.SessionState is not Up, the system MUST set bfd.DesiredMinTxInterval to a value of not less than one second". */
export const SLOW_TX_US = 1_000_000;

export interface BfdSessionConfig {
  /** bfd.LocalDiscr: nonzero and unique on this system (§6.8.1). */
  localDiscriminator: number;
  /** Microseconds, used once Up. */
  desiredMinTxUs: number;
  requiredMinRxUs: number;
  detectMult: number;
}

export interface BfdSession {
  readonly config: BfdSessionConfig;
  /** bfd.SessionState. */
  readonly state: BfdStateValue;
  readonly remoteState: BfdStateValue;
  /** bfd.RemoteDiscr: 0 until the peer is heard. */
  readonly remoteDiscriminator: number;
  readonly localDiag: number;
  readonly remoteDemand: boolean;
  /** bfd.RemoteMinRxInterval, µs: "MUST be initialized to 1" (§6.8.1). */
  readonly remoteMinRxUs: number;
  /** The peer's last Desired Min TX Interval, µs (for the detection time). */
  readonly remoteDesiredMinTxUs: number;
  readonly remoteDetectMult: number;
  /** bfd.DesiredMinTxInterval as advertised now, µs. */
  readonly desiredMinTxUs: number;
  /** The Desired Min TX actually used for transmitting (lags an increase until the poll ends, §6.8.3). */
  readonly txBasisUs: number;
  /** A Poll Sequence is in progress: P is set until a packet with F arrives (§6.8.3). */
  readonly polling: boolean;
}

export type BfdAction =
  | { type: 'sendFinal' } // answer a Poll at once (§6.8.6 "If the Poll (P) bit is set, send a BFD Control packet ... with the Final (F) bit set")
  | { type: 'stateChange'; from: BfdStateValue; to: BfdStateValue; diag: number };

export interface BfdStep {
  session: BfdSession;
  actions: BfdAction[];
}

export function newSession(config: BfdSessionConfig): BfdSession {
  if (config.localDiscriminator === 0) throw new RangeError('bfd.LocalDiscr must be nonzero (RFC 5880 §6.8.1)');
  const slow = Math.max(config.desiredMinTxUs, SLOW_TX_US);
  return {
    config,
    state: BfdState.Down, // §6.8.1: "MUST be initialized to Down"
    remoteState: BfdState.Down,
    remoteDiscriminator: 0,
    localDiag: BfdDiag.None,
    remoteDemand: false,
    remoteMinRxUs: 1,
    remoteDesiredMinTxUs: 0,
    remoteDetectMult: 0,
    desiredMinTxUs: slow,
    txBasisUs: slow,
    polling: false,
  };
}

/** A new state, with the §6.8.3 rate change that goes with entering or leaving Up. */
function enter(s: BfdSession, to: BfdStateValue, diag: number, actions: BfdAction[]): BfdSession {
  if (s.state === to) return s;
  actions.push({ type: 'stateChange', from: s.state, to, diag });
  if (to === BfdState.Up) {
    // Faster now: a decrease may be used at once, but it still needs a Poll Sequence (§6.8.3).
    const desired = s.config.desiredMinTxUs;
    return { ...s, state: to, localDiag: BfdDiag.None, desiredMinTxUs: desired, txBasisUs: Math.min(desired, s.txBasisUs), polling: s.polling || desired !== s.desiredMinTxUs };
  }
  // Not Up: back to at least one second. Nothing to poll with a peer we no longer hear, so the
  // new rate applies at once (as BIRD does below Init).
  const slow = Math.max(s.config.desiredMinTxUs, SLOW_TX_US);
  return { ...s, state: to, localDiag: diag, desiredMinTxUs: slow, txBasisUs: slow, polling: false };
}

/**
 * RFC 5880 §6.8.6 for a packet that passed decodeControl() and was matched to this session
 * (by Your Discriminator, or by address when that is zero), and the TTL check of RFC 5881 §5.
 */
export function receive(s: BfdSession, p: BfdControlPacket): BfdStep {
  const actions: BfdAction[] = [];
  let next: BfdSession = s;
  // "If the Final (F) bit is set and there is a Poll Sequence in progress, the Poll Sequence is terminated."
  if (p.final && s.polling) next = { ...next, polling: false, txBasisUs: next.desiredMinTxUs };
  next = {
    ...next,
    remoteDiscriminator: p.myDiscriminator, // "Set bfd.RemoteDiscr to the value of My Discriminator."
    remoteState: p.state, // "Set bfd.RemoteSessionState to the value of the State (Sta) field."
    remoteDemand: p.demand, // "Set bfd.RemoteDemandMode to the value of the Demand (D) bit."
    remoteMinRxUs: p.requiredMinRxInterval, // "Set bfd.RemoteMinRxInterval to the value of Required Min RX Interval."
    remoteDesiredMinTxUs: p.desiredMinTxInterval,
    remoteDetectMult: p.detectMult,
  };
  // "If bfd.SessionState is AdminDown: Discard the packet"
  if (next.state === BfdState.AdminDown) return { session: next, actions };
  if (p.state === BfdState.AdminDown) {
    // "If received state is AdminDown: If bfd.SessionState is not Down: Set bfd.LocalDiag to 3
    // (Neighbor signaled session down) Set bfd.SessionState to Down"
    if (next.state !== BfdState.Down) next = enter(next, BfdState.Down, BfdDiag.NeighborSignaledSessionDown, actions);
  } else if (next.state === BfdState.Down) {
    // "If received State is Down: Set bfd.SessionState to Init / Else if received State is Init: Set bfd.SessionState to Up"
    if (p.state === BfdState.Down) next = enter(next, BfdState.Init, BfdDiag.None, actions);
    else if (p.state === BfdState.Init) next = enter(next, BfdState.Up, BfdDiag.None, actions);
  } else if (next.state === BfdState.Init) {
    // "If received State is Init or Up: Set bfd.SessionState to Up"
    if (p.state === BfdState.Init || p.state === BfdState.Up) next = enter(next, BfdState.Up, BfdDiag.None, actions);
  } else if (p.state === BfdState.Down) {
    // (bfd.SessionState is Up) "If received State is Down: Set bfd.LocalDiag to 3 ... Set bfd.SessionState to Down"
    next = enter(next, BfdState.Down, BfdDiag.NeighborSignaledSessionDown, actions);
  }
  if (p.poll) actions.push({ type: 'sendFinal' });
  return { session: next, actions };
}

/**
 * §6.8.4: "If ... a period of time equal to the Detection Time passes without receiving a BFD
 * Control packet from the remote system, and bfd.SessionState is Init or Up, the session has gone
 * down -- the local system MUST set bfd.SessionState to Down and bfd.LocalDiag to 1". §6.8.1:
 * bfd.RemoteDiscr "MUST be reset to zero ... if the Detection Time expires".
 */
export function detectionExpired(s: BfdSession): BfdStep {
  const actions: BfdAction[] = [];
  let next = s;
  if (s.state === BfdState.Init || s.state === BfdState.Up) next = enter(s, BfdState.Down, BfdDiag.ControlDetectionTimeExpired, actions);
  return { session: { ...next, remoteDiscriminator: 0, remoteState: BfdState.Down, remoteMinRxUs: 1 }, actions };
}

/** Administrative down (peer removed, shutdown): §6.8.16, Diag 7; packets say AdminDown. */
export function adminDown(s: BfdSession): BfdStep {
  const actions: BfdAction[] = [];
  const next = enter(s, BfdState.AdminDown, BfdDiag.AdministrativelyDown, actions);
  return { session: next, actions };
}

/**
 * §6.8.4 asynchronous mode: "the Detection Time ... is equal to the value of Detect Mult received
 * from the remote system, multiplied by the agreed transmit interval of the remote system (the
 * greater of bfd.RequiredMinRxInterval and the last received Desired Min TX Interval)". Milliseconds;
 * 0 while nothing has been heard.
 */
export function detectionTimeMs(s: BfdSession): number {
  if (s.remoteDetectMult === 0) return 0;
  return (s.remoteDetectMult * Math.max(s.config.requiredMinRxUs, s.remoteDesiredMinTxUs)) / 1000;
}

/**
 * §6.8.7: the next periodic transmission, ms, or undefined when none may be sent: "MUST NOT
 * transmit BFD Control packets if bfd.RemoteDiscr is zero and the system is taking the Passive
 * role" (we are Active), "MUST NOT periodically transmit ... if bfd.RemoteMinRxInterval is zero",
 * nor when the peer is in Demand mode and both are Up. The interval is "the greater of
 * bfd.DesiredMinTxInterval and bfd.RemoteMinRxInterval ... reduced by a random jitter amount ...
 * not more than 25%, ... not more than 10% [reduction ... and no less than 25%] if bfd.DetectMult is 1".
 */
export function transmitIntervalMs(s: BfdSession, random: () => number): number | undefined {
  if (s.remoteMinRxUs === 0) return undefined;
  if (s.remoteDemand && s.state === BfdState.Up && s.remoteState === BfdState.Up && !s.polling) return undefined;
  const base = Math.max(s.txBasisUs, s.remoteMinRxUs) / 1000;
  const r = Math.min(Math.max(random(), 0), 1);
  // DetectMult 1: "MUST NOT be more than 90% ... and MUST NOT be less than 75%".
  const factor = s.config.detectMult === 1 ? 0.75 + 0.15 * r : 0.75 + 0.25 * r;
  return base * factor;
}

/** The Control packet to send now; `final` answers a Poll (P and F are never both set, §6.8.7). */
export function controlPacket(s: BfdSession, opts: { final?: boolean } = {}): BfdControlFields {
  return {
    diag: s.localDiag,
    state: s.state,
    poll: !opts.final && s.polling,
    final: opts.final === true,
    detectMult: s.config.detectMult,
    myDiscriminator: s.config.localDiscriminator,
    yourDiscriminator: s.remoteDiscriminator,
    desiredMinTxInterval: s.desiredMinTxUs,
    requiredMinRxInterval: s.config.requiredMinRxUs,
    requiredMinEchoRxInterval: 0, // §6.8.1: no Echo function
  };
}
