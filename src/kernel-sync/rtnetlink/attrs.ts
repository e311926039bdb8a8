// SPDX-License-Identifier: Apache-2.0
// rtattr / nlattr TLVs (netlink.h struct nlattr: u16 nla_len including the 4-byte header,
// u16 nla_type; payload padded to NLA_ALIGNTO 4). Reading yields raw TLVs with their datagram
// offset for error messages; typed getters check the payload size. Writing appends one TLV
// or a nest whose length is patched when it closes. Nothing here knows route/link/addr types.
import { NLA_F_NESTED, NLA_HDRLEN, NLA_TYPE_MASK } from './constants.ts';
import { NetlinkDecodeError } from './errors.ts';
import { LeReader, LeWriter, align4 } from './le.ts';

export interface RawAttr {
  /** nla_type with NLA_F_NESTED / NLA_F_NET_BYTEORDER masked off. */
  type: number;
  /** A view into the datagram: copy anything that outlives it. */
  value: Uint8Array;
  /** Offset of the attribute header in the datagram. */
  offset: number;
  /** The datagram, so nested attributes keep true offsets. */
  buf: Uint8Array;
}

/** Reads TLVs until the reader is exhausted. nla_len < 4 or past the end is garbled input. */
export function readAttrs(r: LeReader, what: string): RawAttr[] {
  const out: RawAttr[] = [];
  while (r.remaining > 0) {
    const offset = r.offset;
    const len = r.u16(`${what} attribute length`);
    const type = r.u16(`${what} attribute type`) & NLA_TYPE_MASK;
    if (len < NLA_HDRLEN) throw new NetlinkDecodeError(`${what} attribute ${type} has nla_len ${len} < 4`, offset);
    const value = r.bytes(len - NLA_HDRLEN, `${what} attribute ${type} payload`);
    r.skipPadding(align4(len) - len);
    out.push({ type, value, offset, buf: r.buf });
  }
  return out;
}

/** Reads the TLVs nested in one attribute's payload. */
export function readNested(a: RawAttr, what: string): RawAttr[] {
  const start = a.offset + NLA_HDRLEN;
  return readAttrs(new LeReader(a.buf, start, start + a.value.length), what);
}

export function attrU8(a: RawAttr, what: string): number {
  expectSize(a, 1, what);
  return a.value[0]!;
}

export function attrU16(a: RawAttr, what: string): number {
  expectSize(a, 2, what);
  return a.value[0]! | (a.value[1]! << 8);
}

export function attrU32(a: RawAttr, what: string): number {
  expectSize(a, 4, what);
  return new DataView(a.value.buffer, a.value.byteOffset, 4).getUint32(0, true);
}

/** NUL-terminated (NLA_NUL_STRING / NLA_STRING) text; bytes after the first NUL are ignored. */
export function attrString(a: RawAttr): string {
  const nul = a.value.indexOf(0);
  return new TextDecoder().decode(nul < 0 ? a.value : a.value.subarray(0, nul));
}

/** A copy of an address attribute whose size must match the message's family (4 or 16 bytes). */
export function attrAddress(a: RawAttr, size: number, what: string): Uint8Array {
  expectSize(a, size, what);
  return a.value.slice();
}

function expectSize(a: RawAttr, size: number, what: string): void {
  if (a.value.length !== size) {
    throw new NetlinkDecodeError(`${what} payload is ${a.value.length} bytes, expected ${size}`, a.offset);
  }
}

export function writeAttr(w: LeWriter, type: number, value: Uint8Array): void {
  w.u16(NLA_HDRLEN + value.length);
  w.u16(type);
  w.bytes(value);
  w.pad4();
}

export function writeAttrU32(w: LeWriter, type: number, value: number): void {
  w.u16(NLA_HDRLEN + 4);
  w.u16(type);
  w.u32(value);
}

export function writeAttrU8(w: LeWriter, type: number, value: number): void {
  w.u16(NLA_HDRLEN + 1);
  w.u16(type);
  w.u8(value);
  w.pad4();
}

export function writeAttrString(w: LeWriter, type: number, value: string): void {
  const text = new TextEncoder().encode(value);
  const withNul = new Uint8Array(text.length + 1);
  withNul.set(text);
  writeAttr(w, type, withNul);
}

/** Writes a nest header, runs `body`, then patches nla_len. Sets NLA_F_NESTED like modern iproute2. */
export function writeNest(w: LeWriter, type: number, body: () => void): void {
  const start = w.length;
  w.u16(0);
  w.u16(type | NLA_F_NESTED);
  body();
  w.patchU16(start, w.length - start);
  w.pad4();
}
