// SPDX-License-Identifier: Apache-2.0
// A bounds-checked reader over untrusted bytes. Every read checks what is left; running out
// calls the caller's `overrun` factory, so each message type maps a short read to its own
// NOTIFICATION (holo's ReadOutOfBounds per message type). It never reads past `end`.

export type OverrunFactory = () => Error;

export class Reader {
  readonly buf: Uint8Array;
  offset: number;
  readonly end: number;
  private readonly view: DataView;
  private readonly overrun: OverrunFactory;

  constructor(buf: Uint8Array, overrun: OverrunFactory, start = 0, end = buf.length) {
    if (start < 0 || end > buf.length || start > end) throw overrun();
    this.buf = buf;
    this.offset = start;
    this.end = end;
    this.overrun = overrun;
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  get remaining(): number {
    return this.end - this.offset;
  }

  need(n: number): void {
    if (n < 0 || this.offset + n > this.end) throw this.overrun();
  }

  u8(): number {
    this.need(1);
    return this.buf[this.offset++]!;
  }

  u16(): number {
    this.need(2);
    const v = this.view.getUint16(this.offset);
    this.offset += 2;
    return v;
  }

  u32(): number {
    this.need(4);
    const v = this.view.getUint32(this.offset);
    this.offset += 4;
    return v;
  }

  /** A view (not a copy) of the next n bytes. */
  bytes(n: number): Uint8Array {
    this.need(n);
    const v = this.buf.subarray(this.offset, this.offset + n);
    this.offset += n;
    return v;
  }

  /** A reader over the next n bytes, which this reader skips; it may use another overrun factory. */
  sub(n: number, overrun: OverrunFactory = this.overrun): Reader {
    // The caller's factory names what overran (e.g. one capability), so it reports this too.
    if (n < 0 || this.offset + n > this.end) throw overrun();
    const r = new Reader(this.buf, overrun, this.offset, this.offset + n);
    this.offset += n;
    return r;
  }

  skip(n: number): void {
    this.need(n);
    this.offset += n;
  }
}

/** A growable big-endian byte writer for encoders. */
export class Writer {
  private buf: Uint8Array;
  private view: DataView;
  length = 0;

  constructor(initial = 256) {
    this.buf = new Uint8Array(initial);
    this.view = new DataView(this.buf.buffer);
  }

  private ensure(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.length + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  u8(v: number): this {
    this.ensure(1);
    this.buf[this.length++] = v & 0xff;
    return this;
  }

  u16(v: number): this {
    this.ensure(2);
    this.view.setUint16(this.length, v);
    this.length += 2;
    return this;
  }

  u32(v: number): this {
    this.ensure(4);
    this.view.setUint32(this.length, v >>> 0);
    this.length += 4;
    return this;
  }

  bytes(b: Uint8Array): this {
    const n = b.length;
    this.ensure(n);
    // A prefix's or an address's few bytes are copied faster by hand than by TypedArray#set's
    // call (a million withdrawn prefixes: 190 ms of set calls).
    if (n <= 16) for (let i = 0; i < n; i++) this.buf[this.length + i] = b[i]!;
    else this.buf.set(b, this.length);
    this.length += n;
    return this;
  }

  /** Reserve n bytes to patch later (lengths); returns their offset. */
  reserve(n: number): number {
    this.ensure(n);
    const at = this.length;
    this.buf.fill(0, at, at + n);
    this.length += n;
    return at;
  }

  setU8(at: number, v: number): void {
    this.buf[at] = v & 0xff;
  }

  setU16(at: number, v: number): void {
    this.view.setUint16(at, v);
  }

  /** The written bytes (a copy, so the writer can be reused). */
  finish(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

export function toHex(b: Uint8Array, max = Infinity): string {
  const n = Math.min(b.length, max);
  let s = '';
  for (let i = 0; i < n; i++) s += b[i]!.toString(16).padStart(2, '0');
  return n < b.length ? `${s}…(${b.length} bytes)` : s;
}

export function fromHex(hex: string): Uint8Array {
  const clean = hex.replace(/[^0-9a-fA-F]/g, '');
  if (clean.length % 2 !== 0) throw new Error(`odd-length hex string (${clean.length} digits)`);
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(i * 2, i * 2 + 2), 16);
  return out;
}
