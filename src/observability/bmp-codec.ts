// SPDX-License-Identifier: Apache-2.0
// BMP (RFC 7854) message codec: the common header, the per-peer header, and the messages a
// monitored router sends (Initiation, Peer Up, Route Monitoring, Statistics Report, Peer Down,
// Termination). The decoder exists for tests and the tiny test collector; it reads only what
// Tern sends and throws plain Errors (BMP is an export format here, never an input Tern acts
// on, so there is no NOTIFICATION to map a fault to). No I/O: see bmp.ts for the exporter.
//
// Common header (RFC 7854 §4.1):   Version (1) = 3 | Message Length (4) | Message Type (1)
// Per-peer header (RFC 7854 §4.2): Peer Type (1) | Peer Flags (1) | Peer Distinguisher (8) |
//   Peer Address (16) | Peer AS (4) | Peer BGP ID (4) | Timestamp seconds (4) | microseconds (4)
import { Reader, Writer } from '../util/reader.ts';

export const BMP_VERSION = 3; // RFC 7854 §4.1: "version 3"
export const BMP_COMMON_HEADER_LENGTH = 6;
export const BMP_PER_PEER_HEADER_LENGTH = 42;
/** pmacct's default; RFC 7854 assigns no port ("the port is configured"). */
export const BMP_DEFAULT_PORT = 1790;

// RFC 7854 §10.1 (IANA "BMP Message Types")
export const BmpMessageType = {
  RouteMonitoring: 0,
  StatisticsReport: 1,
  PeerDown: 2,
  PeerUp: 3,
  Initiation: 4,
  Termination: 5,
  RouteMirroring: 6,
} as const;

// RFC 7854 §4.2 / §10.2
export const BmpPeerType = { Global: 0, RdInstance: 1, Local: 2 } as const;

// RFC 7854 §4.2: V = IPv6 peer address, L = post-policy Adj-RIB-In, A = 2-octet AS_PATH format.
export const BmpPeerFlag = { V: 0x80, L: 0x40, A: 0x20 } as const;

// RFC 7854 §4.3 / §10.5 (Initiation Information TLVs)
export const BmpInitiationTlv = { String: 0, SysDescr: 1, SysName: 2 } as const;

// RFC 7854 §4.5 / §10.6-10.7
export const BmpTerminationTlv = { String: 0, Reason: 1 } as const;
export const BmpTerminationReason = {
  AdministrativelyClosed: 0,
  Unspecified: 1,
  OutOfResources: 2,
  RedundantConnection: 3,
  PermanentlyAdministrativelyClosed: 4,
} as const;

// RFC 7854 §4.9 / §10.8
export const BmpPeerDownReason = {
  /** The local system closed the session; a NOTIFICATION PDU follows. */
  LocalNotification: 1,
  /** The local system closed the session without a NOTIFICATION; a 2-octet FSM event code follows. */
  LocalNoNotification: 2,
  /** The remote system closed the session with a NOTIFICATION; the PDU follows. */
  RemoteNotification: 3,
  /** The remote system closed the session without a NOTIFICATION; no data. */
  RemoteNoData: 4,
  /** Information for this peer will no longer be sent (configuration); no data. */
  PeerDeconfigured: 5,
} as const;

// RFC 7854 §4.8 / §10.4 (the ones Tern reports)
export const BmpStatType = {
  RejectedByInboundPolicy: 0, // 32-bit counter
  DuplicatePrefixAdvertisements: 1,
  DuplicateWithdraws: 2,
  ClusterListLoop: 3,
  AsPathLoop: 4,
  OriginatorIdLoop: 5,
  AsConfedLoop: 6,
  AdjRibInRoutes: 7, // 64-bit gauge
  LocRibRoutes: 8, // 64-bit gauge
  AdjRibInRoutesPerAfiSafi: 9, // AFI (2) SAFI (1) 64-bit gauge
  LocRibRoutesPerAfiSafi: 10,
  TreatAsWithdrawUpdates: 11,
  TreatAsWithdrawPrefixes: 12,
  DuplicateUpdates: 13,
} as const;

export interface BmpPeerHeader {
  /** BmpPeerType. */
  type: number;
  /** BmpPeerFlag bits. */
  flags: number;
  /** 8 octets; RFC 7854 §4.2: zero for a Global Instance Peer. */
  distinguisher: Uint8Array;
  /** 4 (IPv4) or 16 (IPv6) octets. */
  address: Uint8Array;
  asn: number;
  bgpId: number;
  /** When the event happened, ms since the epoch (sent as seconds + microseconds). */
  timestampMs: number;
}

export interface BmpTlv {
  type: number;
  value: Uint8Array;
}

export interface BmpPeerUp {
  /** 4 or 16 octets. */
  localAddress: Uint8Array;
  localPort: number;
  remotePort: number;
  /** Whole BGP OPEN messages, 19-octet header included. */
  sentOpen: Uint8Array;
  receivedOpen: Uint8Array;
  information?: BmpTlv[];
}

/** One statistic: a 32-bit counter, a 64-bit gauge, or a per-AFI/SAFI 64-bit gauge. */
export type BmpStat =
  | { type: number; kind: 'counter'; value: number }
  | { type: number; kind: 'gauge'; value: number }
  | { type: number; kind: 'afi-safi-gauge'; afi: number; safi: number; value: number };

export const ZERO_DISTINGUISHER: Uint8Array = new Uint8Array(8);
const text = new TextEncoder();

export function stringTlv(type: number, value: string): BmpTlv {
  return { type, value: text.encode(value) };
}

// ===== Encoding =====

/** RFC 7854 §4.1: the common header around `body`. */
function withBmpHeader(type: number, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(BMP_COMMON_HEADER_LENGTH + body.length);
  const view = new DataView(out.buffer);
  out[0] = BMP_VERSION;
  // "Total length of the message in bytes (including headers, data, and encapsulated messages, if any)."
  view.setUint32(1, out.length);
  out[5] = type;
  out.set(body, BMP_COMMON_HEADER_LENGTH);
  return out;
}

/** A 4-octet address in the last 4 octets of a 16-octet field, 12 zeros before (RFC 7854 §4.2, §4.10). */
function writeAddress16(w: Writer, address: Uint8Array): void {
  if (address.length !== 4 && address.length !== 16) throw new RangeError(`BMP address of ${address.length} octets`);
  for (let i = address.length; i < 16; i++) w.u8(0);
  w.bytes(address);
}

export function writePerPeerHeader(w: Writer, p: BmpPeerHeader): void {
  if (p.distinguisher.length !== 8) throw new RangeError('BMP peer distinguisher must be 8 octets');
  w.u8(p.type).u8(p.flags).bytes(p.distinguisher);
  writeAddress16(w, p.address);
  const ms = Math.max(0, Math.floor(p.timestampMs));
  w.u32(p.asn >>> 0).u32(p.bgpId >>> 0).u32(Math.floor(ms / 1000)).u32((ms % 1000) * 1000);
}

function writeTlvs(w: Writer, tlvs: readonly BmpTlv[]): void {
  for (const t of tlvs) w.u16(t.type).u16(t.value.length).bytes(t.value);
}

/** RFC 7854 §4.3: "The initiation message MUST contain" sysDescr and sysName TLVs. */
export function encodeInitiation(sysName: string, sysDescr: string, extra: readonly BmpTlv[] = []): Uint8Array {
  const w = new Writer(128);
  writeTlvs(w, [stringTlv(BmpInitiationTlv.SysDescr, sysDescr), stringTlv(BmpInitiationTlv.SysName, sysName), ...extra]);
  return withBmpHeader(BmpMessageType.Initiation, w.finish());
}

/** RFC 7854 §4.5: the Reason TLV, and a free-text String TLV when `message` is given. */
export function encodeTermination(reason: number, message?: string): Uint8Array {
  const w = new Writer(64);
  const reasonValue = new Uint8Array([reason >> 8, reason & 0xff]);
  const tlvs: BmpTlv[] = message ? [stringTlv(BmpTerminationTlv.String, message)] : [];
  tlvs.push({ type: BmpTerminationTlv.Reason, value: reasonValue });
  writeTlvs(w, tlvs);
  return withBmpHeader(BmpMessageType.Termination, w.finish());
}

/** RFC 7854 §4.10. */
export function encodePeerUp(peer: BmpPeerHeader, up: BmpPeerUp): Uint8Array {
  const w = new Writer(128 + up.sentOpen.length + up.receivedOpen.length);
  writePerPeerHeader(w, peer);
  writeAddress16(w, up.localAddress);
  w.u16(up.localPort).u16(up.remotePort).bytes(up.sentOpen).bytes(up.receivedOpen);
  writeTlvs(w, up.information ?? []);
  return withBmpHeader(BmpMessageType.PeerUp, w.finish());
}

/** RFC 7854 §4.6: the per-peer header followed by one whole BGP UPDATE PDU. */
export function encodeRouteMonitoring(peer: BmpPeerHeader, update: Uint8Array): Uint8Array {
  const w = new Writer(BMP_PER_PEER_HEADER_LENGTH + update.length);
  writePerPeerHeader(w, peer);
  w.bytes(update);
  return withBmpHeader(BmpMessageType.RouteMonitoring, w.finish());
}

/** RFC 7854 §4.9: reason 1 and 3 carry a NOTIFICATION PDU, 2 a 2-octet FSM event code, 4 and 5 nothing. */
export function encodePeerDown(peer: BmpPeerHeader, reason: number, data: Uint8Array = new Uint8Array(0)): Uint8Array {
  const w = new Writer(BMP_PER_PEER_HEADER_LENGTH + 1 + data.length);
  writePerPeerHeader(w, peer);
  w.u8(reason).bytes(data);
  return withBmpHeader(BmpMessageType.PeerDown, w.finish());
}

/** RFC 7854 §4.8: Stats Count, then Type (2) | Length (2) | Data per statistic. */
export function encodeStatisticsReport(peer: BmpPeerHeader, stats: readonly BmpStat[]): Uint8Array {
  const w = new Writer(BMP_PER_PEER_HEADER_LENGTH + 4 + stats.length * 15);
  writePerPeerHeader(w, peer);
  w.u32(stats.length);
  for (const s of stats) {
    if (s.kind === 'counter') w.u16(s.type).u16(4).u32(s.value >>> 0);
    else if (s.kind === 'gauge') w.u16(s.type).u16(8).bytes(u64(s.value));
    else w.u16(s.type).u16(11).u16(s.afi).u8(s.safi).bytes(u64(s.value));
  }
  return withBmpHeader(BmpMessageType.StatisticsReport, w.finish());
}

function u64(value: number): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(Math.max(0, Math.floor(value))));
  return out;
}

// ===== Decoding (tests, test collector) =====

export type BmpMessage =
  | { type: 0; peer: BmpPeerHeader; update: Uint8Array }
  | { type: 1; peer: BmpPeerHeader; stats: BmpStat[] }
  | { type: 2; peer: BmpPeerHeader; reason: number; data: Uint8Array }
  | ({ type: 3; peer: BmpPeerHeader } & BmpPeerUp)
  | { type: 4 | 5; tlvs: BmpTlv[] }
  | { type: number; raw: Uint8Array };

const overrun = (): Error => new Error('BMP: message truncated');

/** Length of the complete message at buf[offset], or undefined when more bytes are needed. */
export function bmpFrameLength(buf: Uint8Array, offset = 0): number | undefined {
  if (buf.length - offset < BMP_COMMON_HEADER_LENGTH) return undefined;
  if (buf[offset] !== BMP_VERSION) throw new Error(`BMP: version ${buf[offset]} (expected ${BMP_VERSION})`);
  const length = new DataView(buf.buffer, buf.byteOffset, buf.byteLength).getUint32(offset + 1);
  if (length < BMP_COMMON_HEADER_LENGTH) throw new Error(`BMP: message length ${length} is shorter than the header`);
  return buf.length - offset >= length ? length : undefined;
}

/** Decode one whole BMP message (common header included). */
export function decodeBmpMessage(frame: Uint8Array): BmpMessage {
  const length = bmpFrameLength(frame);
  if (length !== frame.length) throw new Error(`BMP: frame of ${frame.length} octets, header says ${String(length)}`);
  const type = frame[5]!;
  const r = new Reader(frame, overrun, BMP_COMMON_HEADER_LENGTH);
  switch (type) {
    case BmpMessageType.RouteMonitoring:
      return { type, peer: readPerPeerHeader(r), update: r.bytes(r.remaining) };
    case BmpMessageType.StatisticsReport:
      return { type, peer: readPerPeerHeader(r), stats: readStats(r) };
    case BmpMessageType.PeerDown:
      return { type, peer: readPerPeerHeader(r), reason: r.u8(), data: r.bytes(r.remaining) };
    case BmpMessageType.PeerUp:
      return { type, peer: readPerPeerHeader(r), ...readPeerUp(r) };
    case BmpMessageType.Initiation:
    case BmpMessageType.Termination:
      return { type, tlvs: readTlvs(r) };
    default:
      return { type, raw: frame.subarray(BMP_COMMON_HEADER_LENGTH) };
  }
}

function readAddress16(r: Reader, ipv6: boolean): Uint8Array {
  const field = r.bytes(16);
  return ipv6 ? field.slice() : field.slice(12);
}

export function readPerPeerHeader(r: Reader): BmpPeerHeader {
  const type = r.u8();
  const flags = r.u8();
  const distinguisher = r.bytes(8).slice();
  const address = readAddress16(r, (flags & BmpPeerFlag.V) !== 0);
  const asn = r.u32();
  const bgpId = r.u32();
  const seconds = r.u32();
  const micros = r.u32();
  return { type, flags, distinguisher, address, asn, bgpId, timestampMs: seconds * 1000 + Math.floor(micros / 1000) };
}

function readBgpPdu(r: Reader): Uint8Array {
  r.need(19);
  const length = (r.buf[r.offset + 16]! << 8) | r.buf[r.offset + 17]!;
  return r.bytes(length).slice();
}

function readPeerUp(r: Reader): BmpPeerUp {
  const field = r.bytes(16);
  // The local address's family is not flagged: an IPv4 address has 12 leading zero octets.
  const localAddress = field.subarray(0, 12).every((b) => b === 0) ? field.slice(12) : field.slice();
  const localPort = r.u16();
  const remotePort = r.u16();
  const sentOpen = readBgpPdu(r);
  const receivedOpen = readBgpPdu(r);
  return { localAddress, localPort, remotePort, sentOpen, receivedOpen, information: readTlvs(r) };
}

function readTlvs(r: Reader): BmpTlv[] {
  const tlvs: BmpTlv[] = [];
  while (r.remaining > 0) {
    const type = r.u16();
    const length = r.u16();
    tlvs.push({ type, value: r.bytes(length).slice() });
  }
  return tlvs;
}

function readStats(r: Reader): BmpStat[] {
  const count = r.u32();
  const stats: BmpStat[] = [];
  for (let i = 0; i < count; i++) {
    const type = r.u16();
    const length = r.u16();
    const data = r.sub(length);
    if (length === 4) stats.push({ type, kind: 'counter', value: data.u32() });
    else if (length === 8) stats.push({ type, kind: 'gauge', value: data.u32() * 2 ** 32 + data.u32() });
    else if (length === 11) stats.push({ type, kind: 'afi-safi-gauge', afi: data.u16(), safi: data.u8(), value: data.u32() * 2 ** 32 + data.u32() });
    else throw new Error(`BMP: statistic ${type} of ${length} octets`);
  }
  return stats;
}
