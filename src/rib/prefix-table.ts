// SPDX-License-Identifier: Apache-2.0
// A Map from prefix keys (prefix-key.ts) that keeps IPv4 prefixes under small integers. A Map
// keyed by strings compares a probe with the key strings of its hash chain, each a separate heap
// object: a cache miss apiece in a table of a full BGP table (a new key is compared with every
// key of its chain). Small integers are hashed and compared in the table itself. 1M IPv4 /32s,
// micro-benchmark: lookups and inserts 2.2× faster with the numbers; made from the key string at
// each call, as here, 1.3–1.5×. The Loc-RIB and the class Adj-RIB-Out use it (docs/performance.md).
// Keys and values in, keys out, are the same as with a Map<string, V>; only the order of
// iteration differs (IPv4 /32s, other IPv4 prefixes, then the rest, each in insertion order).

const IPV4_TAG = 0x34; // prefixKey's family tag for IPv4 ('4')

/** The prefix length of an IPv4 key without a path id (tag, length, and exactly the octets the
 *  length covers); -1 for any other key. */
function plainIpv4Length(key: string): number {
  const length = key.charCodeAt(1);
  return key.charCodeAt(0) === IPV4_TAG && length <= 32 && key.length === 2 + ((length + 7) >> 3) ? length : -1;
}

/** An IPv4 /32's number: its address as an int32 (every value is taken, hence its own table). */
function hostNumber(key: string): number {
  return (key.charCodeAt(2) << 24) | (key.charCodeAt(3) << 16) | (key.charCodeAt(4) << 8) | key.charCodeAt(5);
}

/** A shorter IPv4 prefix's number: 2^length + the address's first `length` bits, as an int32
 *  (the prefixes of one length fill [2^length, 2^(length+1)); /31s wrap to the negatives). */
function netNumber(key: string, length: number): number {
  if (length === 0) return 1;
  const octets = (length + 7) >> 3;
  let address = 0;
  for (let i = 0; i < 4; i++) address = (address << 8) | (i < octets ? key.charCodeAt(2 + i) : 0);
  return ((address >>> (32 - length)) + (1 << length)) | 0;
}

function hostKey(n: number): string {
  return String.fromCharCode(IPV4_TAG, 32, (n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255);
}

/** netNumber's inverse. */
function netKey(n: number): string {
  const length = n < 0 ? 31 : 31 - Math.clz32(n);
  const bits = length === 0 ? 0 : ((n - (1 << length)) << (32 - length)) >>> 0;
  const codes = [IPV4_TAG, length];
  for (let i = 0; i < (length + 7) >> 3; i++) codes.push((bits >>> (24 - 8 * i)) & 255);
  return String.fromCharCode(...codes);
}

export class PrefixTable<V> implements Iterable<[string, V]> {
  /** IPv4 /32s by address. */
  private readonly hosts = new Map<number, V>();
  /** Other IPv4 prefixes without a path id, by netNumber. */
  private readonly nets = new Map<number, V>();
  /** IPv6 prefixes and keys with a path id. */
  private readonly others = new Map<string, V>();

  get size(): number {
    return this.hosts.size + this.nets.size + this.others.size;
  }

  get(key: string): V | undefined {
    const length = plainIpv4Length(key);
    if (length < 0) return this.others.get(key);
    return length === 32 ? this.hosts.get(hostNumber(key)) : this.nets.get(netNumber(key, length));
  }

  has(key: string): boolean {
    const length = plainIpv4Length(key);
    if (length < 0) return this.others.has(key);
    return length === 32 ? this.hosts.has(hostNumber(key)) : this.nets.has(netNumber(key, length));
  }

  set(key: string, value: V): this {
    const length = plainIpv4Length(key);
    if (length < 0) this.others.set(key, value);
    else if (length === 32) this.hosts.set(hostNumber(key), value);
    else this.nets.set(netNumber(key, length), value);
    return this;
  }

  delete(key: string): boolean {
    const length = plainIpv4Length(key);
    if (length < 0) return this.others.delete(key);
    return length === 32 ? this.hosts.delete(hostNumber(key)) : this.nets.delete(netNumber(key, length));
  }

  clear(): void {
    this.hosts.clear();
    this.nets.clear();
    this.others.clear();
  }

  *values(): IterableIterator<V> {
    yield* this.hosts.values();
    yield* this.nets.values();
    yield* this.others.values();
  }

  *keys(): IterableIterator<string> {
    for (const n of this.hosts.keys()) yield hostKey(n);
    for (const n of this.nets.keys()) yield netKey(n);
    yield* this.others.keys();
  }

  *entries(): IterableIterator<[string, V]> {
    for (const [n, v] of this.hosts) yield [hostKey(n), v];
    for (const [n, v] of this.nets) yield [netKey(n), v];
    yield* this.others;
  }

  [Symbol.iterator](): IterableIterator<[string, V]> {
    return this.entries();
  }
}
