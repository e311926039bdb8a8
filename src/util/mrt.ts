// SPDX-License-Identifier: Apache-2.0
// A small MRT (RFC 6396) reader for BGP4MP / BGP4MP_ET message records — the format of RIPE RIS
// and RouteViews "updates" dumps — used as real-world test input for the UPDATE codec.
// Reads MESSAGE, MESSAGE_AS4, their _LOCAL variants and the RFC 8050 _ADDPATH subtypes; every
// other record (TABLE_DUMP*, STATE_CHANGE, ...) is counted and skipped. Gzip input is inflated
// with node:zlib. Errors are plain Errors: this is a file reader, not a protocol decoder.
// Also reads TABLE_DUMP_V2 RIB dumps (readMrtTableDump: PEER_INDEX_TABLE, RIB_IPV4/IPV6_UNICAST
// and their RFC 8050 _ADDPATH subtypes; multicast and RIB_GENERIC are skipped) and turns a RIB
// entry's attributes into RouteAttributes (mrtRibAttributes).
//
// Common header: Timestamp (4) | Type (2) | Subtype (2) | Length (4) [| Microseconds (4) for _ET]
// BGP4MP_MESSAGE(_AS4): Peer AS (2|4) | Local AS (2|4) | Interface (2) | AFI (2) |
//                       Peer IP (4|16) | Local IP (4|16) | BGP message (with its 19-byte header)
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { decodeAttributes } from '../bgp/messages/attributes/decode.ts';
import { ProblemList } from '../bgp/messages/attributes/problems.ts';
import { AttrFlag, AttrType } from '../bgp/messages/iana.ts';
import { routeAttributes, type RouteAttributes } from '../bgp/messages/route-view.ts';
import { DEFAULT_CONTEXT, afiSafiOf, type CodecContext, type Family, type Nlri } from '../bgp/messages/types.ts';

export const MrtType = {
  TableDumpV2: 13, // RFC 6396 §4.3
  Bgp4mp: 16, // RFC 6396 §4.4
  Bgp4mpEt: 17, // RFC 6396 §4.5: extended timestamp
} as const;

export const Bgp4mpSubtype = {
  Message: 1, // RFC 6396 §4.4.2
  MessageAs4: 4, // RFC 6396 §4.4.3
  MessageLocal: 6, // RFC 6396 §4.4.6
  MessageAs4Local: 7, // RFC 6396 §4.4.7
  MessageAddPath: 8, // RFC 8050 §3
  MessageAs4AddPath: 9, // RFC 8050 §3
  MessageLocalAddPath: 10, // RFC 8050 §3
  MessageAs4LocalAddPath: 11, // RFC 8050 §3
} as const;

const AS4_SUBTYPES = new Set<number>([4, 7, 9, 11]);
const ADDPATH_SUBTYPES = new Set<number>([8, 9, 10, 11]);
const MESSAGE_SUBTYPES = new Set<number>([1, 4, 6, 7, 8, 9, 10, 11]);
const COMMON_HEADER_LENGTH = 12;
const AFI_IPV6 = 2;

export interface MrtBgpMessage {
  timestamp: number;
  microseconds?: number;
  type: number;
  subtype: number;
  peerAs: number;
  localAs: number;
  interfaceIndex: number;
  afi: number;
  peerAddress: Uint8Array;
  localAddress: Uint8Array;
  /** The record's ASNs are 4 octets (the session negotiated RFC 6793). */
  as4: boolean;
  /** RFC 8050: NLRI in the message carry ADD-PATH ids. */
  addPath: boolean;
  /** The whole BGP message, including its 19-byte header. */
  message: Uint8Array;
}

export interface MrtReadResult {
  messages: MrtBgpMessage[];
  /** Records of other types/subtypes, skipped. */
  skipped: number;
}

/** The file's bytes, gunzipped when they start with the gzip magic. */
export function readMrtFile(path: string): Uint8Array {
  const raw = readFileSync(path);
  const bytes = raw[0] === 0x1f && raw[1] === 0x8b ? gunzipSync(raw) : raw;
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export function readMrtMessages(data: Uint8Array): MrtReadResult {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const messages: MrtBgpMessage[] = [];
  let skipped = 0;
  let off = 0;
  while (off < data.length) {
    if (data.length - off < COMMON_HEADER_LENGTH) throw new Error(`MRT: truncated record header at offset ${off}`);
    const timestamp = view.getUint32(off);
    const type = view.getUint16(off + 4);
    const subtype = view.getUint16(off + 6);
    const length = view.getUint32(off + 8);
    const bodyStart = off + COMMON_HEADER_LENGTH;
    const end = bodyStart + length;
    if (end > data.length) throw new Error(`MRT: record at offset ${off} overruns the file`);
    off = end;
    if ((type !== MrtType.Bgp4mp && type !== MrtType.Bgp4mpEt) || !MESSAGE_SUBTYPES.has(subtype)) {
      skipped++;
      continue;
    }
    messages.push(parseBgp4mpMessage(data, view, timestamp, type, subtype, bodyStart, end));
  }
  return { messages, skipped };
}

function parseBgp4mpMessage(data: Uint8Array, view: DataView, timestamp: number, type: number, subtype: number, start: number, end: number): MrtBgpMessage {
  let at = start;
  let microseconds: number | undefined;
  if (type === MrtType.Bgp4mpEt) {
    microseconds = view.getUint32(at); // RFC 6396 §3: counted in Length
    at += 4;
  }
  const as4 = AS4_SUBTYPES.has(subtype);
  const asSize = as4 ? 4 : 2;
  const need = (n: number): void => {
    if (at + n > end) throw new Error(`MRT: BGP4MP record at ${start} is truncated`);
  };
  need(2 * asSize + 4);
  const peerAs = as4 ? view.getUint32(at) : view.getUint16(at);
  const localAs = as4 ? view.getUint32(at + asSize) : view.getUint16(at + asSize);
  at += 2 * asSize;
  const interfaceIndex = view.getUint16(at);
  const afi = view.getUint16(at + 2);
  at += 4;
  const addrSize = afi === AFI_IPV6 ? 16 : 4;
  need(2 * addrSize);
  const peerAddress = data.subarray(at, at + addrSize);
  const localAddress = data.subarray(at + addrSize, at + 2 * addrSize);
  at += 2 * addrSize;
  const message = data.subarray(at, end);
  const out: MrtBgpMessage = { timestamp, type, subtype, peerAs, localAs, interfaceIndex, afi, peerAddress, localAddress, as4, addPath: ADDPATH_SUBTYPES.has(subtype), message };
  if (microseconds !== undefined) out.microseconds = microseconds;
  return out;
}

// ===== TABLE_DUMP_V2 (RFC 6396 §4.3, RFC 8050 §4) =====
//
// PEER_INDEX_TABLE: Collector BGP ID (4) | View Name Length (2) | View Name | Peer Count (2) |
//   per peer: Peer Type (1: bit 0 IPv6 address, bit 1 4-octet AS) | Peer BGP ID (4) |
//   Peer IP (4|16) | Peer AS (2|4)
// RIB_*: Sequence Number (4) | Prefix Length (1) | Prefix (ceil(len/8)) | Entry Count (2) |
//   per entry: Peer Index (2) | Originated Time (4) | [Path Identifier (4), _ADDPATH only] |
//   Attribute Length (2) | BGP Attributes

export const TableDumpV2Subtype = {
  PeerIndexTable: 1,
  RibIpv4Unicast: 2,
  RibIpv4Multicast: 3,
  RibIpv6Unicast: 4,
  RibIpv6Multicast: 5,
  RibGeneric: 6,
  RibIpv4UnicastAddPath: 8, // RFC 8050 §4
  RibIpv4MulticastAddPath: 9,
  RibIpv6UnicastAddPath: 10,
  RibIpv6MulticastAddPath: 11,
  RibGenericAddPath: 12,
} as const;

/** PEER_INDEX_TABLE Peer Type bits (RFC 6396 §4.3.1). */
export const MrtPeerTypeBit = { Ipv6: 0x01, As4: 0x02 } as const;

const RIB_SUBTYPES: ReadonlyMap<number, { family: Family; addPath: boolean }> = new Map([
  [TableDumpV2Subtype.RibIpv4Unicast, { family: 'ipv4-unicast', addPath: false }],
  [TableDumpV2Subtype.RibIpv6Unicast, { family: 'ipv6-unicast', addPath: false }],
  [TableDumpV2Subtype.RibIpv4UnicastAddPath, { family: 'ipv4-unicast', addPath: true }],
  [TableDumpV2Subtype.RibIpv6UnicastAddPath, { family: 'ipv6-unicast', addPath: true }],
]);

export interface MrtPeerIndexEntry {
  bgpId: number;
  /** 4 or 16 octets. */
  address: Uint8Array;
  asn: number;
  as4: boolean;
}

export interface MrtPeerIndexTable {
  timestamp: number;
  collectorBgpId: number;
  viewName: string;
  peers: MrtPeerIndexEntry[];
}

export interface MrtRibEntry {
  peerIndex: number;
  originatedTime: number;
  /** RFC 8050: present in the _ADDPATH subtypes. */
  pathId?: number;
  /** The entry's path attributes as stored (AS_PATH with 4-octet ASNs, abbreviated MP_REACH). */
  attributes: Uint8Array;
}

export interface MrtRibRecord {
  timestamp: number;
  subtype: number;
  sequence: number;
  /** The prefix, without path id. */
  nlri: Nlri;
  addPath: boolean;
  entries: MrtRibEntry[];
  /** The PEER_INDEX_TABLE in force for this record (a file may hold several dumps). */
  peerIndexTable: MrtPeerIndexTable;
}

export interface MrtTableDump {
  /** The last PEER_INDEX_TABLE of the file. */
  peerIndexTable?: MrtPeerIndexTable;
  ribs: MrtRibRecord[];
  /** Records of other types or subtypes, skipped. */
  skipped: number;
}

/** Every TABLE_DUMP_V2 record of `data`; the PEER_INDEX_TABLE must come before RIB records. */
export function readMrtTableDump(data: Uint8Array): MrtTableDump {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const out: MrtTableDump = { ribs: [], skipped: 0 };
  let off = 0;
  while (off < data.length) {
    if (data.length - off < COMMON_HEADER_LENGTH) throw new Error(`MRT: truncated record header at offset ${off}`);
    const timestamp = view.getUint32(off);
    const type = view.getUint16(off + 4);
    const subtype = view.getUint16(off + 6);
    const end = off + COMMON_HEADER_LENGTH + view.getUint32(off + 8);
    if (end > data.length) throw new Error(`MRT: record at offset ${off} overruns the file`);
    const cursor = new Cursor(data, view, off + COMMON_HEADER_LENGTH, end);
    off = end;
    const rib = RIB_SUBTYPES.get(subtype);
    if (type === MrtType.TableDumpV2 && subtype === TableDumpV2Subtype.PeerIndexTable) {
      out.peerIndexTable = readPeerIndexTable(cursor, timestamp);
    } else if (type === MrtType.TableDumpV2 && rib) {
      if (!out.peerIndexTable) throw new Error('MRT: RIB record before the PEER_INDEX_TABLE');
      out.ribs.push(readRibRecord(cursor, timestamp, subtype, rib.family, rib.addPath, out.peerIndexTable));
    } else {
      out.skipped++;
    }
  }
  return out;
}

/** Bounds-checked reads inside one record. */
class Cursor {
  readonly data: Uint8Array;
  private readonly view: DataView;
  at: number;
  readonly end: number;

  constructor(data: Uint8Array, view: DataView, at: number, end: number) {
    this.data = data;
    this.view = view;
    this.at = at;
    this.end = end;
  }

  need(n: number): void {
    if (this.at + n > this.end) throw new Error(`MRT: TABLE_DUMP_V2 record truncated at offset ${this.at}`);
  }

  u8(): number {
    this.need(1);
    return this.data[this.at++]!;
  }

  u16(): number {
    this.need(2);
    const v = this.view.getUint16(this.at);
    this.at += 2;
    return v;
  }

  u32(): number {
    this.need(4);
    const v = this.view.getUint32(this.at);
    this.at += 4;
    return v;
  }

  bytes(n: number): Uint8Array {
    this.need(n);
    const v = this.data.slice(this.at, this.at + n);
    this.at += n;
    return v;
  }
}

function readPeerIndexTable(c: Cursor, timestamp: number): MrtPeerIndexTable {
  const collectorBgpId = c.u32();
  const viewName = new TextDecoder().decode(c.bytes(c.u16()));
  const count = c.u16();
  const peers: MrtPeerIndexEntry[] = [];
  for (let i = 0; i < count; i++) {
    const peerType = c.u8();
    const bgpId = c.u32();
    const address = c.bytes(peerType & MrtPeerTypeBit.Ipv6 ? 16 : 4);
    const as4 = (peerType & MrtPeerTypeBit.As4) !== 0;
    peers.push({ bgpId, address, asn: as4 ? c.u32() : c.u16(), as4 });
  }
  return { timestamp, collectorBgpId, viewName, peers };
}

function readRibRecord(c: Cursor, timestamp: number, subtype: number, family: Family, addPath: boolean, peerIndexTable: MrtPeerIndexTable): MrtRibRecord {
  const peerCount = peerIndexTable.peers.length;
  const sequence = c.u32();
  const length = c.u8();
  if (length > (family === 'ipv4-unicast' ? 32 : 128)) throw new Error(`MRT: prefix length ${length} in RIB record ${sequence}`);
  const nlri: Nlri = { family, length, address: c.bytes(Math.ceil(length / 8)) };
  const count = c.u16();
  const entries: MrtRibEntry[] = [];
  for (let i = 0; i < count; i++) {
    const peerIndex = c.u16();
    if (peerIndex >= peerCount) throw new Error(`MRT: RIB record ${sequence} names peer ${peerIndex} of ${peerCount}`);
    const originatedTime = c.u32();
    const pathId = addPath ? c.u32() : undefined;
    const attributes = c.bytes(c.u16());
    entries.push(pathId === undefined ? { peerIndex, originatedTime, attributes } : { peerIndex, originatedTime, pathId, attributes });
  }
  if (c.at !== c.end) throw new Error(`MRT: RIB record ${sequence} has ${c.end - c.at} trailing octets`);
  return { timestamp, subtype, sequence, nlri, addPath, entries, peerIndexTable };
}

/** RIB entry attributes are decoded as from a 4-octet-AS iBGP session (RFC 6396 §4.3.4). */
const RIB_CONTEXT: CodecContext = {
  ...DEFAULT_CONTEXT,
  as4: true,
  maxMessageSize: 65535,
  peerType: 'ibgp',
  families: new Set<Family>(['ipv4-unicast', 'ipv6-unicast']),
  loopbackNextHop: true,
};

/**
 * A RIB entry's attributes as RouteAttributes. RFC 6396 §4.3.4: "the MP_REACH_NLRI attribute
 * ... only [carries] the Next Hop Address Length and Next Hop Address fields"; some writers
 * store the whole attribute, so both forms are read. Malformed attributes throw.
 */
export function mrtRibAttributes(attributes: Uint8Array, nlri: Nlri): RouteAttributes {
  const expanded = expandMpReach(attributes, nlri.family);
  const problems = new ProblemList();
  const decoded = decodeAttributes(expanded, 0, expanded.length, RIB_CONTEXT, problems, { nlriFieldPresent: false, seen: new Uint8Array(256) });
  if (problems.list.length) throw new Error(`MRT: RIB entry attributes: ${problems.list.map((p) => p.reason).join('; ')}`);
  for (const a of decoded) if (a.kind === 'mp-reach') a.nlri = [nlri];
  return routeAttributes({ type: 'update', withdrawn: [], attributes: decoded, nlri: [] }, nlri.family, RIB_CONTEXT);
}

/** Rewrite an abbreviated MP_REACH_NLRI (length + next hop) into the full RFC 4760 form without NLRI. */
function expandMpReach(attrs: Uint8Array, family: Family): Uint8Array {
  const parts: Uint8Array[] = [];
  let off = 0;
  while (off < attrs.length) {
    const flags = attrs[off]!;
    const extended = (flags & AttrFlag.ExtendedLength) !== 0;
    const headerLength = extended ? 4 : 3;
    if (off + headerLength > attrs.length) throw new Error('MRT: RIB entry attribute header truncated');
    const code = attrs[off + 1]!;
    const length = extended ? (attrs[off + 2]! << 8) | attrs[off + 3]! : attrs[off + 2]!;
    const value = attrs.subarray(off + headerLength, off + headerLength + length);
    if (value.length !== length) throw new Error(`MRT: RIB entry attribute ${code} overruns the entry`);
    off += headerLength + length;
    const abbreviated = code === AttrType.MpReachNlri && length > 0 && value[0] === length - 1;
    if (!abbreviated) {
      parts.push(attrs.subarray(off - headerLength - length, off));
      continue;
    }
    const full = new Uint8Array(4 + 4 + length);
    full[0] = flags | AttrFlag.ExtendedLength;
    full[1] = code;
    full[2] = (4 + length) >> 8;
    full[3] = (4 + length) & 0xff;
    const { afi, safi } = afiSafiOf(family);
    full[4] = afi >> 8;
    full[5] = afi & 0xff;
    full[6] = safi;
    full.set(value, 7); // next-hop length and next hop; the reserved octet stays 0
    parts.push(full);
  }
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
