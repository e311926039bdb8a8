// SPDX-License-Identifier: Apache-2.0
// Prefix keys built from wire bytes, never objects: a short latin1 string of
// family, length, the masked address bytes and (for ADD-PATH) the path id. Cheap to hash in a
// Map and collision-free, unlike BigInt keys (see node-ecosystem.md §0).
import type { Family, Nlri } from '../bgp/messages/types.ts';
import type { SelfEncodingNlri } from '../bgp/messages/nlri.ts';
import type { Writer } from '../util/reader.ts';

const FAMILY_TAG: Record<Family, number> = { 'ipv4-unicast': 0x34 /* '4' */, 'ipv6-unicast': 0x36 /* '6' */ };

export function prefixKey(n: Nlri): string {
  if (n instanceof KeyNlri) return n.key;
  const a = n.address;
  const length = n.length;
  const full = length >> 3;
  const rest = length & 7;
  const tag = FAMILY_TAG[n.family];
  // Bits past the prefix length are not part of the prefix (RFC 4271 §4.3): mask them off.
  const last = rest ? (a[full] ?? 0) & (0xff << (8 - rest)) & 0xff : 0;
  // One String.fromCharCode call makes one flat string; appending char by char made a chain of
  // cons strings that every Map lookup had to flatten first (1M IPv4 keys: 107 → 65 ms).
  let key: string;
  switch (full + (rest ? 1 : 0)) {
    case 0: key = String.fromCharCode(tag, length); break;
    case 1: key = String.fromCharCode(tag, length, rest ? last : a[0] ?? 0); break;
    case 2: key = String.fromCharCode(tag, length, a[0] ?? 0, rest ? last : a[1] ?? 0); break;
    case 3: key = String.fromCharCode(tag, length, a[0] ?? 0, a[1] ?? 0, rest ? last : a[2] ?? 0); break;
    case 4: key = String.fromCharCode(tag, length, a[0] ?? 0, a[1] ?? 0, a[2] ?? 0, rest ? last : a[3] ?? 0); break;
    default: {
      const codes = [tag, length];
      for (let i = 0; i < full; i++) codes.push(a[i] ?? 0);
      if (rest) codes.push(last);
      key = String.fromCharCode(...codes);
    }
  }
  return n.pathId === undefined ? key : keyWithPathId(key, n.pathId);
}

/** The key of a destination's prefix with a path id (RFC 7911). */
export function keyWithPathId(destKey: string, pathId: number): string {
  return destKey + '#' + pathId.toString(36);
}

const FAMILY_OF_TAG: Record<string, Family> = { '4': 'ipv4-unicast', '6': 'ipv6-unicast' };

/** The NLRI a key was made from (address bytes masked, as in the key): prefixKey's inverse. */
export function nlriFromKey(key: string): Nlri {
  const family = FAMILY_OF_TAG[key[0]!] ?? 'ipv4-unicast';
  const length = key.charCodeAt(1);
  const octets = (length + 7) >> 3;
  const address = new Uint8Array(octets);
  for (let i = 0; i < octets; i++) address[i] = key.charCodeAt(2 + i);
  const rest = key.slice(addressEnd(key));
  return rest.length > 1 ? { family, length, address, pathId: parseInt(rest.slice(1), 36) } : { family, length, address };
}

/** The key without its path id: the destination's (the key itself when it has none). */
export function destKeyOfKey(key: string): string {
  const end = addressEnd(key);
  return key.length > end ? key.slice(0, end) : key;
}

/** Where a key's address octets end. After them: nothing, or '#' and the path id in base 36. */
function addressEnd(key: string): number {
  return 2 + ((key.charCodeAt(1) + 7) >> 3);
}

/**
 * A prefix the RIB keeps: its key, and the NLRI's fields read from it. A decoded NLRI is an
 * object plus a typed-array view of its address (~140 heap bytes, two objects the young
 * collector copies twice); this is one object of ~32 bytes, shared by the Adj-RIB-In entry, the
 * Loc-RIB destination, the class Adj-RIB-Out and the kernel record. `address` is made on each
 * read: the hot readers (prefixKey, encodePrefixes) use the key instead.
 */
export class KeyNlri implements SelfEncodingNlri {
  /** prefixKey of the NLRI (with its path id, if any). */
  readonly key: string;

  constructor(key: string) {
    this.key = key;
  }

  /** The NLRI `n` kept by its key (itself if it already is). */
  static of(n: Nlri): KeyNlri {
    return n instanceof KeyNlri ? n : new KeyNlri(prefixKey(n));
  }

  get family(): Family {
    return this.key.charCodeAt(0) === 0x36 ? 'ipv6-unicast' : 'ipv4-unicast';
  }

  get length(): number {
    return this.key.charCodeAt(1);
  }

  /** The address octets (ceil(length / 8), bits past the length cleared): a new array each read. */
  get address(): Uint8Array {
    return this.addressInto(new Uint8Array((this.key.charCodeAt(1) + 7) >> 3));
  }

  /** `out` with the address octets at its start (as many as fit; the rest left as they are). */
  addressInto(out: Uint8Array): Uint8Array {
    const octets = Math.min((this.key.charCodeAt(1) + 7) >> 3, out.length);
    for (let i = 0; i < octets; i++) out[i] = this.key.charCodeAt(2 + i);
    return out;
  }

  get pathId(): number | undefined {
    const end = addressEnd(this.key);
    return this.key.length > end + 1 ? parseInt(this.key.slice(end + 1), 36) : undefined;
  }

  /** The key without its path id: the destination's (a new string each read when it has one). */
  get destKey(): string {
    return destKeyOfKey(this.key);
  }

  /** RFC 4271 §4.3 / RFC 7911 §3: [path id,] length, then the prefix octets: the key's. */
  encodeTo(w: Writer, addPath: boolean): void {
    const key = this.key;
    const length = key.charCodeAt(1);
    if (addPath) w.u32(this.pathId ?? 0); // RFC 7911 §3: 0 when the path has none
    w.u8(length);
    const end = addressEnd(key);
    for (let i = 2; i < end; i++) w.u8(key.charCodeAt(i));
  }

  /** The plain NLRI: what a decoded one looks like (for JSON, spreads and comparisons). */
  plain(): Nlri {
    return nlriFromKey(this.key);
  }

  toJSON(): Nlri {
    return this.plain();
  }
}
