// SPDX-License-Identifier: Apache-2.0
// Bounds-checked host-byte-order (little-endian) reader and a growable writer for netlink.
// Netlink headers, struct fields and integer attributes are in host order (x86-64 and arm64
// are little-endian; big-endian hosts are out of scope), while address attributes are plain
// network-order bytes that we copy and never interpret. The BGP Reader is big-endian, hence
// this small separate one. Every short read throws NetlinkDecodeError, never RangeError.
import { NetlinkDecodeError } from './errors.ts';

export class LeReader {
  readonly buf: Uint8Array;
  offset: number;
  readonly end: number;
  private readonly view: DataView;

  /** `view`: a DataView over `buf` to share (sub-readers of one datagram need not make their own). */
  constructor(buf: Uint8Array, start = 0, end = buf.length, view?: DataView) {
    if (start < 0 || end > buf.length || start > end) throw new NetlinkDecodeError(`bad window ${start}..${end}`, start);
    this.buf = buf;
    this.offset = start;
    this.end = end;
    this.view = view ?? new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  get remaining(): number {
    return this.end - this.offset;
  }

  need(n: number, what: string): void {
    if (n < 0 || this.offset + n > this.end) {
      throw new NetlinkDecodeError(`${what}: need ${n} bytes, ${this.remaining} left`, this.offset);
    }
  }

  u8(what = 'u8'): number {
    this.need(1, what);
    return this.buf[this.offset++]!;
  }

  u16(what = 'u16'): number {
    this.need(2, what);
    const v = this.view.getUint16(this.offset, true);
    this.offset += 2;
    return v;
  }

  u32(what = 'u32'): number {
    this.need(4, what);
    const v = this.view.getUint32(this.offset, true);
    this.offset += 4;
    return v;
  }

  i32(what = 'i32'): number {
    this.need(4, what);
    const v = this.view.getInt32(this.offset, true);
    this.offset += 4;
    return v;
  }

  /** A view (not a copy) of the next n bytes; copy what outlives the datagram. */
  bytes(n: number, what = 'bytes'): Uint8Array {
    this.need(n, what);
    const v = this.buf.subarray(this.offset, this.offset + n);
    this.offset += n;
    return v;
  }

  skip(n: number, what = 'skip'): void {
    this.need(n, what);
    this.offset += n;
  }

  /** Skips alignment padding; a final message or attribute may end without its padding. */
  skipPadding(n: number): void {
    this.offset += Math.min(n, this.remaining);
  }

  /** A reader over the next n bytes, which this reader skips. */
  sub(n: number, what: string): LeReader {
    this.need(n, what);
    const r = new LeReader(this.buf, this.offset, this.offset + n, this.view);
    this.offset += n;
    return r;
  }
}

/** netlink.h NLMSG_ALIGN / NLA_ALIGN: round up to 4 bytes. */
export function align4(n: number): number {
  return (n + 3) & ~3;
}

export class LeWriter {
  private buf: Uint8Array;
  private view: DataView;
  length = 0;

  /** `capacity`: the bytes expected, when known (a batch of 256 route requests grew a 256-byte
   *  buffer six times). */
  constructor(capacity = 256) {
    this.buf = new Uint8Array(capacity);
    this.view = new DataView(this.buf.buffer);
  }

  private reserve(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.length + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  u8(v: number): void {
    checkUint(v, 0xff, 'u8');
    this.reserve(1);
    this.buf[this.length++] = v;
  }

  u16(v: number): void {
    checkUint(v, 0xffff, 'u16');
    this.reserve(2);
    this.view.setUint16(this.length, v, true);
    this.length += 2;
  }

  u32(v: number): void {
    checkUint(v, 0xffffffff, 'u32');
    this.reserve(4);
    this.view.setUint32(this.length, v, true);
    this.length += 4;
  }

  i32(v: number): void {
    if (!Number.isInteger(v) || v < -0x80000000 || v > 0x7fffffff) throw new RangeError(`i32 out of range: ${v}`);
    this.reserve(4);
    this.view.setInt32(this.length, v, true);
    this.length += 4;
  }

  bytes(b: Uint8Array): void {
    const n = b.length;
    this.reserve(n);
    // An address (4 or 16 bytes) is copied faster by hand than by TypedArray#set's call.
    if (n <= 16) for (let i = 0; i < n; i++) this.buf[this.length + i] = b[i]!;
    else this.buf.set(b, this.length);
    this.length += n;
  }

  /** Zero padding up to the next 4-byte boundary (the buffer is zero-filled on growth). */
  pad4(): void {
    const padded = align4(this.length);
    if (padded === this.length) return;
    this.reserve(padded - this.length);
    this.buf.fill(0, this.length, padded);
    this.length = padded;
  }

  patchU16(at: number, v: number): void {
    checkUint(v, 0xffff, 'u16 length');
    this.view.setUint16(at, v, true);
  }

  patchU32(at: number, v: number): void {
    this.view.setUint32(at, v, true);
  }

  patchU8(at: number, v: number): void {
    checkUint(v, 0xff, 'u8');
    this.buf[at] = v;
  }

  /** Overwrites bytes already written at `at` with `b`. */
  patchBytes(at: number, b: Uint8Array): void {
    if (at + b.length > this.length) throw new RangeError(`patch of ${b.length} bytes at ${at} past the ${this.length} written`);
    for (let i = 0; i < b.length; i++) this.buf[at + i] = b[i]!;
  }

  /** Sets `bits` in the u16 already written at `at` (a header's flags). */
  orU16(at: number, bits: number): void {
    this.view.setUint16(at, this.view.getUint16(at, true) | bits, true);
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.length);
  }

  /** The bytes written, without a copy: for a writer that is not written to again. */
  written(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }
}

function checkUint(v: number, max: number, what: string): void {
  if (!Number.isInteger(v) || v < 0 || v > max) throw new RangeError(`${what} out of range: ${v}`);
}
