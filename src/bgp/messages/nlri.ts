// SPDX-License-Identifier: Apache-2.0
// Prefix (NLRI) encoding for the UPDATE Withdrawn Routes and NLRI fields and for the
// MP_REACH/MP_UNREACH attributes (RFC 4271 §4.3, RFC 4760 §5), with the optional ADD-PATH
// path identifier (RFC 7911 §3). Also the text form of a prefix for config, logs and the CLI.
// It does not know about families Tern does not speak (labels, route distinguishers): those
// stay raw bytes in the MP attributes.
//
//   +---------------------------+
//   | Path Identifier (4 octets)|  only when ADD-PATH was negotiated for this direction
//   +---------------------------+
//   |   Length (1 octet)        |  in bits
//   +---------------------------+
//   |   Prefix (variable)       |  ceil(Length / 8) octets, trailing bits irrelevant
//   +---------------------------+
import { BgpNotificationError } from './errors.ts';
import type { Family, Nlri } from './types.ts';
import type { Reader, Writer } from '../../util/reader.ts';
import { bytesToIpv4, bytesToIpv6, ipv4ToBytes, ipv6ToBytes } from '../../util/ip.ts';

const PATH_ID_LENGTH = 4; // RFC 7911 §3

export function maxPrefixLength(family: Family): number {
  return family === 'ipv4-unicast' ? 32 : 128;
}

/**
 * Decode prefixes until the reader is exhausted. RFC 4271 §6.3 / RFC 7606 §5.3: a length beyond
 * the family's maximum, or a prefix that overruns the field, is an Invalid Network Field (the MP
 * attribute decoders map it to their own subcode).
 */
export function decodePrefixes(r: Reader, family: Family, addPath: boolean): Nlri[] {
  const out: Nlri[] = [];
  const max = maxPrefixLength(family);
  // One copy of the whole field, and every address a view into it: the frame buffer is reused
  // by the session layer, and one ArrayBuffer per UPDATE is cheaper than one per prefix. (The
  // RIB keeps a prefix by its key, src/rib/prefix-key.ts KeyNlri: these die with the UPDATE.)
  const fieldStart = r.offset;
  const field = r.buf.slice(fieldStart, r.end);
  const buf = r.buf;
  while (r.offset < r.end) {
    let pathId: number | undefined;
    if (addPath) {
      if (r.end - r.offset < PATH_ID_LENGTH + 1) throw BgpNotificationError.invalidNetworkField(`${family}: truncated ADD-PATH prefix`);
      pathId = r.u32();
    }
    const length = buf[r.offset++]!;
    if (length > max) throw BgpNotificationError.invalidNetworkField(`${family}: prefix length ${length} > ${max}`);
    const octets = (length + 7) >> 3;
    if (r.offset + octets > r.end) throw BgpNotificationError.invalidNetworkField(`${family}: /${length} prefix overruns the field`);
    const address = field.subarray(r.offset - fieldStart, r.offset - fieldStart + octets);
    r.offset += octets;
    out.push(pathId === undefined ? { family, length, address } : { family, length, address, pathId });
  }
  return out;
}

/** Bytes one prefix takes on the wire. */
export function prefixWireLength(n: Nlri, addPath: boolean): number {
  return (addPath ? PATH_ID_LENGTH : 0) + 1 + ((n.length + 7) >> 3);
}

/** An NLRI that writes its own wire form: the RIB's stored prefixes (src/rib/prefix-key.ts
 *  KeyNlri) hold their bytes in their key, and reading `address` would make an array per read. */
export interface SelfEncodingNlri extends Nlri {
  encodeTo(w: Writer, addPath: boolean): void;
}

export function encodePrefixes(w: Writer, prefixes: Nlri[], addPath: boolean): void {
  for (const n of prefixes) {
    if ((n as Partial<SelfEncodingNlri>).encodeTo !== undefined) {
      (n as SelfEncodingNlri).encodeTo(w, addPath);
      continue;
    }
    // RFC 7911 §3: with ADD-PATH every NLRI carries a path id; 0 when the caller has none.
    if (addPath) w.u32(n.pathId ?? 0);
    w.u8(n.length);
    const octets = (n.length + 7) >> 3;
    if (n.address.length === octets) w.bytes(n.address);
    else for (let i = 0; i < octets; i++) w.u8(n.address[i] ?? 0);
  }
}

/** "10.0.0.0/24", "2001:db8::/32"; bits past the length are masked for display. */
export function prefixToString(n: Nlri): string {
  const size = n.family === 'ipv4-unicast' ? 4 : 16;
  const full = new Uint8Array(size);
  full.set(n.address.subarray(0, Math.min(size, n.address.length)));
  maskTrailingBits(full, n.length);
  const text = size === 4 ? bytesToIpv4(full) : bytesToIpv6(full);
  return n.pathId === undefined ? `${text}/${n.length}` : `${text}/${n.length} (path ${n.pathId})`;
}

/** "10.1.0.0/26" → Nlri with ceil(len/8) address bytes and host bits cleared; undefined if invalid. */
export function parsePrefix(text: string): Nlri | undefined {
  const slash = text.indexOf('/');
  if (slash < 0) return undefined;
  const addrText = text.slice(0, slash);
  const lenText = text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(lenText)) return undefined;
  const length = Number(lenText);
  const v4 = ipv4ToBytes(addrText);
  const bytes = v4 ?? ipv6ToBytes(addrText);
  if (!bytes) return undefined;
  const family: Family = v4 ? 'ipv4-unicast' : 'ipv6-unicast';
  if (length > maxPrefixLength(family)) return undefined;
  const address = bytes.slice(0, (length + 7) >> 3);
  maskTrailingBits(address, length);
  return { family, length, address };
}

function maskTrailingBits(bytes: Uint8Array, length: number): void {
  for (let i = 0; i < bytes.length; i++) {
    const bitsHere = length - i * 8;
    if (bitsHere >= 8) continue;
    bytes[i] = bitsHere <= 0 ? 0 : bytes[i]! & (0xff << (8 - bitsHere));
  }
}

/** Two prefixes are the same route key (family, length, masked bits, path id). */
export function samePrefix(a: Nlri, b: Nlri): boolean {
  return a.family === b.family && a.length === b.length && a.pathId === b.pathId && prefixToString(a) === prefixToString(b);
}
