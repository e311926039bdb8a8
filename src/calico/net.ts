// SPDX-License-Identifier: Apache-2.0
// Small address helpers for the Calico compiler: canonical text (as Go's net.IP.String()
// prints it, which is what confd puts in peer names and BIRD lines), CIDR parsing and
// containment. Not a general IP library: no zones, no IPv4-mapped forms.
import { bytesToIp, ipToBytes } from '../util/ip.ts';

export type IpFamily = 4 | 6;

export interface Cidr {
  bytes: Uint8Array;
  length: number;
  family: IpFamily;
}

/** Canonical text of an address, or undefined if it is not one. */
export function canonicalIp(text: string): string | undefined {
  const b = ipToBytes(text.trim());
  return b ? bytesToIp(b) : undefined;
}

export function ipFamily(text: string): IpFamily | undefined {
  const b = ipToBytes(text);
  if (!b) return undefined;
  return b.length === 4 ? 4 : 6;
}

/** "10.0.0.5/24" → {bytes of 10.0.0.5, 24}; a bare address is a host prefix. */
export function parseCidr(text: string): Cidr | undefined {
  const [addr = '', len] = text.trim().split('/');
  const bytes = ipToBytes(addr);
  if (!bytes) return undefined;
  const max = bytes.length * 8;
  const length = len === undefined ? max : Number(len);
  if (!Number.isInteger(length) || length < 0 || length > max || (len !== undefined && !/^\d+$/.test(len))) return undefined;
  return { bytes, length, family: bytes.length === 4 ? 4 : 6 };
}

/** The network of a CIDR (host bits cleared), in canonical text: "10.0.0.5/24" → "10.0.0.0/24". */
export function networkOf(c: Cidr): string {
  const out = new Uint8Array(c.bytes);
  for (let bit = c.length; bit < out.length * 8; bit++) out[bit >> 3]! &= ~(0x80 >> (bit & 7));
  return `${bytesToIp(out)}/${c.length}`;
}

/** Canonical CIDR text with host bits cleared, or undefined. */
export function canonicalCidr(text: string): string | undefined {
  const c = parseCidr(text);
  return c ? networkOf(c) : undefined;
}

/** Does `inner` (address or prefix) lie inside `outer` (BIRD's `net ~ P`, Go's IPNet.Contains)? */
export function cidrContains(outer: Cidr, inner: Cidr): boolean {
  if (outer.family !== inner.family || inner.length < outer.length) return false;
  for (let bit = 0; bit < outer.length; bit++) {
    const mask = 0x80 >> (bit & 7);
    if (((outer.bytes[bit >> 3]! ^ inner.bytes[bit >> 3]!) & mask) !== 0) return false;
  }
  return true;
}

/** Peer IP text with separators replaced, as in confd's peer names: `.`/`:` → `_`. */
export function nameSuffix(ip: string): string {
  return ip.replace(/[.:]/g, '_');
}

/** Go's `ip > other` on the textual form: plain code-unit comparison, not numeric. */
export function ipStringGreater(a: string, b: string): boolean {
  return a > b;
}
