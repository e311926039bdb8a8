// SPDX-License-Identifier: Apache-2.0
// A set of prefixes, precomputed for policy matching: per family and prefix length, a Set of the
// network part (a number for IPv4, a latin1 string of the masked bytes for IPv6). "Exactly P" is
// one lookup; "inside some P" is one lookup per distinct length in the set (at most 33 or 129),
// whatever the number of prefixes. Built once at compile time; no text is parsed per route.
import type { Family } from '../bgp/messages/types.ts';
import { ipToBytes } from '../util/ip.ts';

interface FamilyTable {
  /** Distinct prefix lengths present, ascending. */
  lengths: number[];
  byLength: Map<number, Set<number | string>>;
}

export class PrefixSet {
  private readonly tables = new Map<number, FamilyTable>();

  /** From canonical CIDR text (validated by config); throws on text that is not a prefix. */
  static of(prefixes: readonly string[]): PrefixSet {
    const set = new PrefixSet();
    for (const p of prefixes) set.add(p);
    return set;
  }

  add(cidr: string): void {
    const slash = cidr.lastIndexOf('/');
    const bytes = ipToBytes(cidr.slice(0, slash));
    const length = Number(cidr.slice(slash + 1));
    if (!bytes || !Number.isInteger(length) || length < 0 || length > bytes.length * 8) throw new Error(`not a prefix: ${cidr}`);
    let table = this.tables.get(bytes.length);
    if (!table) {
      table = { lengths: [], byLength: new Map() };
      this.tables.set(bytes.length, table);
    }
    let keys = table.byLength.get(length);
    if (!keys) {
      keys = new Set();
      table.byLength.set(length, keys);
      table.lengths.push(length);
      table.lengths.sort((a, b) => a - b);
    }
    keys.add(networkKey(bytes, length, bytes.length));
  }

  /** The prefix `address`/`length` is one of the set's prefixes. */
  hasExact(address: Uint8Array, length: number, width: number): boolean {
    const keys = this.tables.get(width)?.byLength.get(length);
    return keys !== undefined && keys.has(networkKey(address, length, width));
  }

  /** The prefix `address`/`length` equals or lies inside one of the set's prefixes. */
  covers(address: Uint8Array, length: number, width: number): boolean {
    const table = this.tables.get(width);
    if (!table) return false;
    for (const l of table.lengths) {
      if (l > length) break;
      if (table.byLength.get(l)!.has(networkKey(address, l, width))) return true;
    }
    return false;
  }
}

/** Address width in bytes of a family: 4 or 16. */
export function familyWidth(family: Family): number {
  return family === 'ipv4-unicast' ? 4 : 16;
}

/**
 * The first `length` bits of `address` as a key: for width 4 (IPv4) an unsigned number, for
 * width 16 a latin1 string. Missing bytes (an NLRI holds only ceil(length/8)) count as zero.
 */
function networkKey(address: Uint8Array, length: number, width: number): number | string {
  if (width === 4) {
    const n = (((address[0] ?? 0) << 24) | ((address[1] ?? 0) << 16) | ((address[2] ?? 0) << 8) | (address[3] ?? 0)) >>> 0;
    return length === 0 ? 0 : (n & (0xffffffff << (32 - length))) >>> 0;
  }
  let key = '';
  const full = length >> 3;
  for (let i = 0; i < full; i++) key += String.fromCharCode(address[i] ?? 0);
  const rest = length & 7;
  if (rest) key += String.fromCharCode((address[full] ?? 0) & (0xff << (8 - rest)) & 0xff);
  return key;
}
