// SPDX-License-Identifier: Apache-2.0
// A small libpcap reader for tests and offline tools: the classic pcap file format (not
// pcapng), the link layers BGP captures come in (Ethernet with 802.1Q/802.1ad tags, BSD
// loopback, Cisco HDLC, Linux cooked SLL/SLL2, raw IP; MPLS label stacks skipped), IPv4/IPv6 (no fragment reassembly) and
// TCP, with per-direction stream reassembly by sequence number. It does not checksum, follow
// TCP state, or handle sequence wrap-around across more than 2 GiB of one flow.
// Input is trusted-ish test data: malformed packets are skipped, a malformed file throws Error.
import { bytesToIpv4, bytesToIpv6 } from './ip.ts';

export interface PcapPacket {
  /** Capture time in microseconds since the epoch. */
  timestampMicros: number;
  /** The captured bytes (possibly fewer than were on the wire). */
  data: Uint8Array;
}

export interface PcapFile {
  /** LINKTYPE_* value from the file header. */
  linkType: number;
  packets: PcapPacket[];
}

export const LinkType = {
  Null: 0, // BSD loopback: 4-octet address family in the capturing host's byte order
  Ethernet: 1,
  Raw: 101, // raw IPv4 or IPv6
  CiscoHdlc: 104,
  LinuxSll: 113,
  Ipv4: 228,
  Ipv6: 229,
  LinuxSll2: 276,
} as const;

const MAGIC_MICROS = 0xa1b2c3d4;
const MAGIC_NANOS = 0xa1b23c4d;
const FILE_HEADER_LENGTH = 24;
const RECORD_HEADER_LENGTH = 16;

// ===== pcap file =====

export function readPcap(file: Uint8Array): PcapFile {
  if (file.length < FILE_HEADER_LENGTH) throw new Error('pcap: file shorter than its header');
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const magicBig = view.getUint32(0, false);
  const magicLittle = view.getUint32(0, true);
  const little = magicLittle === MAGIC_MICROS || magicLittle === MAGIC_NANOS;
  if (!little && magicBig !== MAGIC_MICROS && magicBig !== MAGIC_NANOS) {
    throw new Error(`pcap: unknown magic 0x${magicBig.toString(16)} (pcapng is not supported)`);
  }
  const nanos = (little ? magicLittle : magicBig) === MAGIC_NANOS;
  const linkType = view.getUint32(20, little) & 0x0fffffff; // upper bits: FCS info
  const packets: PcapPacket[] = [];
  let offset = FILE_HEADER_LENGTH;
  while (offset + RECORD_HEADER_LENGTH <= file.length) {
    const seconds = view.getUint32(offset, little);
    const fraction = view.getUint32(offset + 4, little);
    const capturedLength = view.getUint32(offset + 8, little);
    const start = offset + RECORD_HEADER_LENGTH;
    if (start + capturedLength > file.length) throw new Error(`pcap: record at ${offset} overruns the file`);
    packets.push({ timestampMicros: seconds * 1e6 + (nanos ? Math.floor(fraction / 1000) : fraction), data: file.subarray(start, start + capturedLength) });
    offset = start + capturedLength;
  }
  return { linkType, packets };
}

// ===== Link and network layers =====

const EtherType = { Ipv4: 0x0800, Ipv6: 0x86dd, Vlan: 0x8100, QinQ: 0x88a8, Vlan9100: 0x9100, Mpls: 0x8847, MplsMulticast: 0x8848 } as const;
const MPLS_BOTTOM_OF_STACK = 0x01; // in the third octet of each 4-octet label entry
const IP_PROTO_TCP = 6;
const IPV6_EXTENSION_HEADERS = new Set([0, 43, 60]); // hop-by-hop, routing, destination options
const IPV6_FRAGMENT = 44;

/** Offset of the IP header inside a frame of the given link type, or undefined when not IP. */
function ipOffset(linkType: number, d: Uint8Array): number | undefined {
  switch (linkType) {
    case LinkType.Ethernet:
      return etherPayload(d, 12);
    case LinkType.Null:
      return d.length >= 4 ? 4 : undefined; // the IP version nibble tells v4 from v6
    case LinkType.CiscoHdlc:
      return afterEtherType(d, u16(d, 2), 4);
    case LinkType.LinuxSll:
      return afterEtherType(d, u16(d, 14), 16);
    case LinkType.LinuxSll2:
      return afterEtherType(d, u16(d, 0), 20);
    case LinkType.Raw:
    case LinkType.Ipv4:
    case LinkType.Ipv6:
      return 0;
    default:
      return undefined;
  }
}

/** Skips any 802.1Q / 802.1ad tags after the MAC addresses. */
function etherPayload(d: Uint8Array, typeAt: number): number | undefined {
  let at = typeAt;
  while (at + 2 <= d.length) {
    const type = u16(d, at);
    if (type === EtherType.Vlan || type === EtherType.QinQ || type === EtherType.Vlan9100) {
      at += 4;
      continue;
    }
    return afterEtherType(d, type, at + 2);
  }
  return undefined;
}

/** Where the IP header starts for a payload of this EtherType at `at` (MPLS labels skipped). */
function afterEtherType(d: Uint8Array, type: number | undefined, at: number): number | undefined {
  if (at > d.length) return undefined;
  if (type === EtherType.Ipv4 || type === EtherType.Ipv6) return at;
  if (type !== EtherType.Mpls && type !== EtherType.MplsMulticast) return undefined;
  // RFC 3032 §2.1: label entries until the bottom-of-stack bit; the IP version nibble follows.
  for (let entry = at; entry + 4 <= d.length; entry += 4) {
    if ((d[entry + 2]! & MPLS_BOTTOM_OF_STACK) !== 0) return entry + 4;
  }
  return undefined;
}

function u16(d: Uint8Array, at: number): number | undefined {
  return at + 2 <= d.length ? (d[at]! << 8) | d[at + 1]! : undefined;
}

function u32(d: Uint8Array, at: number): number {
  return ((d[at]! << 24) | (d[at + 1]! << 16) | (d[at + 2]! << 8) | d[at + 3]!) >>> 0;
}

interface IpPayload {
  src: string;
  dst: string;
  protocol: number;
  payload: Uint8Array;
}

function parseIp(d: Uint8Array): IpPayload | undefined {
  const version = (d[0] ?? 0) >> 4;
  if (version === 4) return parseIpv4(d);
  if (version === 6) return parseIpv6(d);
  return undefined;
}

function parseIpv4(d: Uint8Array): IpPayload | undefined {
  if (d.length < 20) return undefined;
  const headerLength = (d[0]! & 0x0f) * 4;
  const totalLength = u16(d, 2)!;
  const fragment = u16(d, 6)! & 0x3fff; // MF flag + offset: fragments are not reassembled
  if (headerLength < 20 || totalLength < headerLength || fragment !== 0) return undefined;
  // Trim link-layer padding (Ethernet pads short frames) and tolerate a truncated capture.
  const end = Math.min(totalLength, d.length);
  return { src: bytesToIpv4(d, 12), dst: bytesToIpv4(d, 16), protocol: d[9]!, payload: d.subarray(headerLength, end) };
}

function parseIpv6(d: Uint8Array): IpPayload | undefined {
  if (d.length < 40) return undefined;
  const end = Math.min(40 + u16(d, 4)!, d.length);
  let next = d[6]!;
  let at = 40;
  while (IPV6_EXTENSION_HEADERS.has(next)) {
    if (at + 2 > end) return undefined;
    next = d[at]!;
    at += (d[at + 1]! + 1) * 8;
  }
  if (next === IPV6_FRAGMENT || at > end) return undefined;
  return { src: bytesToIpv6(d, 8), dst: bytesToIpv6(d, 24), protocol: next, payload: d.subarray(at, end) };
}

// ===== TCP =====

export const TcpFlag = { Fin: 0x01, Syn: 0x02, Rst: 0x04, Psh: 0x08, Ack: 0x10 } as const;

export interface TcpSegment {
  /** Index of the packet in the capture. */
  packetIndex: number;
  src: string;
  dst: string;
  srcPort: number;
  dstPort: number;
  seq: number;
  flags: number;
  payload: Uint8Array;
}

/** The TCP segments of a capture, in capture order; non-TCP and malformed packets are skipped. */
export function tcpSegments(pcap: PcapFile): TcpSegment[] {
  const out: TcpSegment[] = [];
  pcap.packets.forEach((p, packetIndex) => {
    const at = ipOffset(pcap.linkType, p.data);
    if (at === undefined) return;
    const ip = parseIp(p.data.subarray(at));
    if (!ip || ip.protocol !== IP_PROTO_TCP || ip.payload.length < 20) return;
    const t = ip.payload;
    // Data offset counts 32-bit words and covers the options (MSS, SACK, timestamps, and the
    // RFC 2385 MD5 signature, kind 19), which are skipped whole.
    const dataOffset = (t[12]! >> 4) * 4;
    if (dataOffset < 20 || dataOffset > t.length) return;
    out.push({ packetIndex, src: ip.src, dst: ip.dst, srcPort: u16(t, 0)!, dstPort: u16(t, 2)!, seq: u32(t, 4), flags: t[13]!, payload: t.subarray(dataOffset) });
  });
  return out;
}

export interface TcpFlow {
  /** "src:port>dst:port", one direction of a connection. */
  key: string;
  src: string;
  dst: string;
  srcPort: number;
  dstPort: number;
  /** Index of the first packet of this flow in the capture. */
  firstPacketIndex: number;
  /**
   * The reassembled byte stream as contiguous runs: more than one when segments are missing
   * from the capture (a run after a gap may start in the middle of an application message).
   */
  runs: Uint8Array[];
}

/** Per-direction TCP streams ordered by first appearance, reassembled by sequence number. */
export function tcpFlows(segments: TcpSegment[]): TcpFlow[] {
  const groups = new Map<string, TcpSegment[]>();
  for (const s of segments) {
    const key = `${s.src}:${s.srcPort}>${s.dst}:${s.dstPort}`;
    const list = groups.get(key);
    if (list) list.push(s);
    else groups.set(key, [s]);
  }
  return [...groups].map(([key, list]) => {
    const first = list[0]!;
    return { key, src: first.src, dst: first.dst, srcPort: first.srcPort, dstPort: first.dstPort, firstPacketIndex: first.packetIndex, runs: reassemble(list) };
  });
}

/**
 * Orders one direction's payloads by sequence number (relative to the SYN, or to the first
 * segment seen when the capture starts mid-connection), drops retransmitted bytes, and splits
 * at holes.
 */
function reassemble(list: TcpSegment[]): Uint8Array[] {
  const syn = list.find((s) => (s.flags & TcpFlag.Syn) !== 0);
  const base = syn ? (syn.seq + 1) >>> 0 : list[0]!.seq;
  // Signed 32-bit distance from the base, so a segment just before it sorts first.
  const pieces = list
    .filter((s) => s.payload.length > 0)
    .map((s) => ({ at: (s.seq - base) | 0, payload: s.payload }))
    .sort((a, b) => a.at - b.at);
  const runs: Uint8Array[] = [];
  let current: Uint8Array[] = [];
  let end = pieces[0]?.at ?? 0;
  for (const p of pieces) {
    if (p.at > end && current.length > 0) {
      runs.push(concat(current));
      current = [];
    }
    if (current.length === 0 && p.at > end) end = p.at;
    const fresh = p.payload.subarray(Math.max(0, end - p.at));
    if (fresh.length === 0) continue; // wholly retransmitted
    current.push(fresh);
    end = p.at + p.payload.length;
  }
  if (current.length > 0) runs.push(concat(current));
  return runs;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
