// SPDX-License-Identifier: Apache-2.0
// A small MRT (RFC 6396) reader for BGP4MP / BGP4MP_ET message records — the format of RIPE RIS
// and RouteViews "updates" dumps — used as real-world test input for the UPDATE codec.
// Reads MESSAGE, MESSAGE_AS4, their _LOCAL variants and the RFC 8050 _ADDPATH subtypes; every
// other record (TABLE_DUMP*, STATE_CHANGE, ...) is counted and skipped. Gzip input is inflated
// with node:zlib. Errors are plain Errors: this is a file reader, not a protocol decoder.
//
// Common header: Timestamp (4) | Type (2) | Subtype (2) | Length (4) [| Microseconds (4) for _ET]
// BGP4MP_MESSAGE(_AS4): Peer AS (2|4) | Local AS (2|4) | Interface (2) | AFI (2) |
//                       Peer IP (4|16) | Local IP (4|16) | BGP message (with its 19-byte header)
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';

export const MrtType = {
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
