// SPDX-License-Identifier: Apache-2.0
// The routes of one kernel table as kernel sync last heard them, split into those Tern owns
// (its protocol) and everybody else's. Longest-prefix lookups over the others resolve BGP next
// hops recursively (BIRD's `gateway recursive`). Keys are built from bytes: family, length,
// masked destination, metric — the kernel's own identity of a route (with the table).
import type { RouteMessage } from './rtnetlink/index.ts';

const HEX = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, '0'));

export function routeKey(family: number, dst: Uint8Array | undefined, dstLength: number, priority = 0): string {
  const size = family === 2 ? 4 : 16;
  let k = `${family}/${dstLength}/`;
  for (let i = 0; i < size; i++) {
    const bits = dstLength - i * 8;
    // Bits past the prefix length are not part of the destination: masked off.
    const byte = bits >= 8 ? (dst?.[i] ?? 0) : bits <= 0 ? 0 : (dst?.[i] ?? 0) & (0xff << (8 - bits)) & 0xff;
    k += HEX[byte]!;
  }
  return `${k}/${priority}`;
}

function lengthSlot(family: number, dstLength: number): number {
  return family === 2 ? Math.min(dstLength, 32) : 33 + Math.min(dstLength, 128);
}

export class KernelView {
  /** Routes of other protocols (Felix, static, connected...). */
  readonly others = new Map<string, RouteMessage>();
  /** Routes of Tern's protocol found in the kernel. */
  readonly owned = new Map<string, RouteMessage>();
  private readonly byPrefix = new Map<string, RouteMessage[]>();
  /** Longest-prefix matches by address, valid until other protocols' routes change: every route
   *  towards one next hop resolves it the same way (100k routes, one lookup; docs/kernel.md). */
  private readonly lookups = new Map<string, RouteMessage | undefined>();

  readonly protocol: number;
  private othersChanges = 0;
  /** Other protocols' routes per family and prefix length (index: family 2 → 0..32, 10 → 33..161):
   *  most of our routes have a length no other route has, and need no key built to check. */
  private readonly othersOfLength = new Uint32Array(33 + 129);

  constructor(protocol: number) {
    this.protocol = protocol;
  }

  /** Bumped by every change to other protocols' routes: a next hop resolved through them holds
   *  while it is unchanged. */
  get generation(): number {
    return this.othersChanges;
  }

  apply(kind: 'new' | 'del', r: RouteMessage): void {
    const key = routeKey(r.family, r.dst, r.dstLength, r.priority ?? 0);
    const table = r.protocol === this.protocol ? this.owned : this.others;
    if (table === this.others) {
      this.lookups.clear();
      this.othersChanges++;
    }
    if (kind === 'del') {
      const had = table.delete(key);
      if (table === this.others) {
        this.unindex(key, r);
        if (had) this.othersOfLength[lengthSlot(r.family, r.dstLength)]!--;
      }
    } else {
      const old = table.get(key);
      table.set(key, r);
      if (table === this.others) {
        if (old) this.unindex(key, old);
        else this.othersOfLength[lengthSlot(r.family, r.dstLength)]!++;
        this.index(r);
      }
    }
  }

  /** Has another protocol a route of this family and prefix length? Most of our routes have a
   *  length no other route has: no key (nor address) to build for them. */
  hasOthersOfLength(family: number, dstLength: number): boolean {
    return this.othersOfLength[lengthSlot(family, dstLength)] !== 0;
  }

  /** Another protocol's route that is the same kernel route as ours would be (family,
   *  destination, length, metric): we must not overwrite it. */
  otherWithSameKey(family: number, dst: Uint8Array | undefined, dstLength: number, priority: number): RouteMessage | undefined {
    if (this.othersOfLength[lengthSlot(family, dstLength)] === 0) return undefined;
    return this.others.get(routeKey(family, dst, dstLength, priority));
  }

  clear(): void {
    this.othersChanges++;
    this.othersOfLength.fill(0);
    this.others.clear();
    this.owned.clear();
    this.byPrefix.clear();
    this.lookups.clear();
  }

  /** Longest-prefix match among other protocols' unicast routes (lowest metric on ties). */
  lookup(address: Uint8Array): RouteMessage | undefined {
    const cacheKey = String.fromCharCode(...address);
    if (this.lookups.has(cacheKey)) return this.lookups.get(cacheKey);
    const found = this.longestMatch(address);
    if (this.lookups.size >= 4096) this.lookups.clear();
    this.lookups.set(cacheKey, found);
    return found;
  }

  private longestMatch(address: Uint8Array): RouteMessage | undefined {
    const family = address.length === 4 ? 2 : 10;
    for (let len = address.length * 8; len >= 0; len--) {
      const hits = this.byPrefix.get(routeKey(family, address, len));
      if (hits?.length) return hits.reduce((a, b) => ((a.priority ?? 0) <= (b.priority ?? 0) ? a : b));
    }
    return undefined;
  }

  private index(r: RouteMessage): void {
    const k = routeKey(r.family, r.dst, r.dstLength);
    const list = this.byPrefix.get(k);
    if (list) list.push(r);
    else this.byPrefix.set(k, [r]);
  }

  private unindex(key: string, r: RouteMessage): void {
    const k = routeKey(r.family, r.dst, r.dstLength);
    const list = this.byPrefix.get(k)?.filter((x) => routeKey(x.family, x.dst, x.dstLength, x.priority ?? 0) !== key);
    if (list?.length) this.byPrefix.set(k, list);
    else this.byPrefix.delete(k);
  }
}
