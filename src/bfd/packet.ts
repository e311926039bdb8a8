// SPDX-License-Identifier: Apache-2.0
// The BFD Control packet (RFC 5880 §4.1) and the reception checks of §6.8.6 that need nothing but
// the packet: version, length, Detect Mult, Multipoint, discriminators, authentication. It encodes
// and decodes only; session state lives in session.ts, sockets in service.ts. Echo packets and
// authentication sections are not produced (Tern runs single-hop async mode without auth): a
// packet with the A bit is discarded, as §6.8.6 requires when no authentication is configured.
// Decoding never throws: a packet to discard comes back as a value that says which rule applies.

/** RFC 5880 §4.1 "Sta": AdminDown 0, Down 1, Init 2, Up 3. */
export const BfdState = { AdminDown: 0, Down: 1, Init: 2, Up: 3 } as const;
export type BfdStateValue = (typeof BfdState)[keyof typeof BfdState];
export const BFD_STATE_NAMES: Readonly<Record<BfdStateValue, string>> = { 0: 'AdminDown', 1: 'Down', 2: 'Init', 3: 'Up' };

/** RFC 5880 §4.1 Diagnostic codes (IANA "BFD Diagnostic Codes"). */
export const BfdDiag = {
  None: 0,
  ControlDetectionTimeExpired: 1,
  EchoFunctionFailed: 2,
  NeighborSignaledSessionDown: 3,
  ForwardingPlaneReset: 4,
  PathDown: 5,
  ConcatenatedPathDown: 6,
  AdministrativelyDown: 7,
  ReverseConcatenatedPathDown: 8,
} as const;
export type BfdDiagValue = (typeof BfdDiag)[keyof typeof BfdDiag];

/** RFC 5880 §4.1: "the version number of the protocol ... This document defines protocol version 1." */
export const BFD_VERSION = 1;
/** RFC 5880 §4.1: 24 octets without authentication. */
export const BFD_CONTROL_LENGTH = 24;
/** RFC 5881 §4: "BFD Control packets MUST be transmitted in UDP packets with destination port 3784". */
export const BFD_CONTROL_PORT = 3784;
/** RFC 5881 §4: "The source port MUST be in the range 49152 through 65535." */
export const BFD_SOURCE_PORT_MIN = 49152;
export const BFD_SOURCE_PORT_MAX = 65535;

export interface BfdControlPacket {
  diag: number;
  state: BfdStateValue;
  poll: boolean;
  final: boolean;
  /** C: Control Plane Independent. */
  controlPlaneIndependent: boolean;
  /** A: an Authentication Section follows. */
  authPresent: boolean;
  /** D: Demand mode. */
  demand: boolean;
  /** M: Multipoint, reserved (must be zero). */
  multipoint: boolean;
  detectMult: number;
  myDiscriminator: number;
  yourDiscriminator: number;
  /** Microseconds. */
  desiredMinTxInterval: number;
  /** Microseconds. */
  requiredMinRxInterval: number;
  /** Microseconds; 0: the sender does not support the Echo function. */
  requiredMinEchoRxInterval: number;
}

/** Fields a sender sets; flags default to clear. */
export type BfdControlFields = Pick<BfdControlPacket, 'state' | 'detectMult' | 'myDiscriminator' | 'yourDiscriminator' | 'desiredMinTxInterval' | 'requiredMinRxInterval'> &
  Partial<Omit<BfdControlPacket, 'state' | 'detectMult' | 'myDiscriminator' | 'yourDiscriminator' | 'desiredMinTxInterval' | 'requiredMinRxInterval'>>;

export function encodeControl(p: BfdControlFields): Uint8Array {
  const out = new Uint8Array(BFD_CONTROL_LENGTH);
  const view = new DataView(out.buffer);
  out[0] = (BFD_VERSION << 5) | ((p.diag ?? 0) & 0x1f);
  out[1] =
    ((p.state & 0x3) << 6) |
    (p.poll ? 0x20 : 0) |
    (p.final ? 0x10 : 0) |
    (p.controlPlaneIndependent ? 0x08 : 0) |
    (p.authPresent ? 0x04 : 0) |
    (p.demand ? 0x02 : 0) |
    (p.multipoint ? 0x01 : 0);
  out[2] = p.detectMult & 0xff;
  out[3] = BFD_CONTROL_LENGTH;
  view.setUint32(4, p.myDiscriminator >>> 0);
  view.setUint32(8, p.yourDiscriminator >>> 0);
  view.setUint32(12, p.desiredMinTxInterval >>> 0);
  view.setUint32(16, p.requiredMinRxInterval >>> 0);
  view.setUint32(20, (p.requiredMinEchoRxInterval ?? 0) >>> 0);
  return out;
}

/** Why a received packet is discarded (RFC 5880 §6.8.6, in the order the RFC lists the rules). */
export type BfdDiscard =
  | 'short'
  | 'bad-version'
  | 'bad-length'
  | 'length-exceeds-payload'
  | 'zero-detect-mult'
  | 'multipoint'
  | 'zero-my-discriminator'
  | 'zero-your-discriminator'
  | 'auth-not-configured';

export type BfdDecodeResult = { ok: true; packet: BfdControlPacket } | { ok: false; discard: BfdDiscard };

/**
 * RFC 5880 §6.8.6 checks that need no session. (The Your Discriminator lookup and the TTL check
 * of RFC 5881 §5 belong to the receiver.) Authentication is never configured here, so "If the A
 * bit is set and no authentication is in use (bfd.AuthType is zero), the packet MUST be discarded."
 */
export function decodeControl(bytes: Uint8Array): BfdDecodeResult {
  if (bytes.length < BFD_CONTROL_LENGTH) return { ok: false, discard: 'short' };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const b0 = bytes[0]!;
  const b1 = bytes[1]!;
  // "If the version number is not correct (1), the packet MUST be discarded."
  if (b0 >> 5 !== BFD_VERSION) return { ok: false, discard: 'bad-version' };
  const authPresent = (b1 & 0x04) !== 0;
  const length = bytes[3]!;
  // "If the Length field is less than the minimum correct value (24 if the A bit is clear, or 26
  // if the A bit is set), the packet MUST be discarded."
  if (length < (authPresent ? 26 : BFD_CONTROL_LENGTH)) return { ok: false, discard: 'bad-length' };
  // "If the Length field is greater than the payload of the encapsulating protocol, the packet MUST be discarded."
  if (length > bytes.length) return { ok: false, discard: 'length-exceeds-payload' };
  const packet: BfdControlPacket = {
    diag: b0 & 0x1f,
    state: (b1 >> 6) as BfdStateValue,
    poll: (b1 & 0x20) !== 0,
    final: (b1 & 0x10) !== 0,
    controlPlaneIndependent: (b1 & 0x08) !== 0,
    authPresent,
    demand: (b1 & 0x02) !== 0,
    multipoint: (b1 & 0x01) !== 0,
    detectMult: bytes[2]!,
    myDiscriminator: view.getUint32(4),
    yourDiscriminator: view.getUint32(8),
    desiredMinTxInterval: view.getUint32(12),
    requiredMinRxInterval: view.getUint32(16),
    requiredMinEchoRxInterval: view.getUint32(20),
  };
  // "If the Detect Mult field is zero, the packet MUST be discarded."
  if (packet.detectMult === 0) return { ok: false, discard: 'zero-detect-mult' };
  // "If the Multipoint (M) bit is nonzero, the packet MUST be discarded."
  if (packet.multipoint) return { ok: false, discard: 'multipoint' };
  // "If the My Discriminator field is zero, the packet MUST be discarded."
  if (packet.myDiscriminator === 0) return { ok: false, discard: 'zero-my-discriminator' };
  // "If the Your Discriminator field is zero and the State field is not Down or AdminDown, the packet MUST be discarded."
  if (packet.yourDiscriminator === 0 && packet.state !== BfdState.Down && packet.state !== BfdState.AdminDown) {
    return { ok: false, discard: 'zero-your-discriminator' };
  }
  if (authPresent) return { ok: false, discard: 'auth-not-configured' };
  return { ok: true, packet };
}
