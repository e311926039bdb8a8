// SPDX-License-Identifier: Apache-2.0
// The kernel's interfaces and addresses as kernel sync last heard them (dump, then monitor): link
// index → name and state, and the subnets configured on each. Answers "which interface is this
// next hop directly on" and "which subnets are connected". No I/O: fed with decoded messages.
import type { AddrMessage, LinkMessage } from './rtnetlink/index.ts';

export const IFF_UP = 0x1;
export const IFF_LOOPBACK = 0x8;

export interface Interface {
  index: number;
  name: string;
  up: boolean;
  loopback: boolean;
}

export interface InterfaceAddress {
  index: number;
  family: 2 | 10;
  address: Uint8Array;
  prefixLength: number;
}

export class InterfaceTable {
  private readonly links = new Map<number, Interface>();
  private readonly addrs = new Map<string, InterfaceAddress>();
  private changes = 0;

  /** Bumped by every change: what was resolved against the table holds while it is unchanged. */
  get generation(): number {
    return this.changes;
  }

  applyLink(kind: 'new' | 'del', m: LinkMessage): void {
    this.changes++;
    if (kind === 'del') {
      this.links.delete(m.index);
      for (const [k, a] of this.addrs) if (a.index === m.index) this.addrs.delete(k);
      return;
    }
    const previous = this.links.get(m.index);
    this.links.set(m.index, { index: m.index, name: m.name ?? previous?.name ?? `if${m.index}`, up: (m.flags & IFF_UP) !== 0, loopback: (m.flags & IFF_LOOPBACK) !== 0 });
  }

  applyAddr(kind: 'new' | 'del', m: AddrMessage): void {
    this.changes++;
    // IFA_LOCAL is the interface's own address on point-to-point links; IFA_ADDRESS otherwise.
    const address = m.local ?? m.address;
    if (!address) return;
    const key = `${m.index}/${m.family}/${hex(address)}/${m.prefixLength}`;
    if (kind === 'del') this.addrs.delete(key);
    else this.addrs.set(key, { index: m.index, family: m.family, address, prefixLength: m.prefixLength });
  }

  clear(): void {
    this.changes++;
    this.links.clear();
    this.addrs.clear();
  }

  byIndex(index: number): Interface | undefined {
    return this.links.get(index);
  }

  byName(name: string): Interface | undefined {
    for (const l of this.links.values()) if (l.name === name) return l;
    return undefined;
  }

  addresses(): IterableIterator<InterfaceAddress> {
    return this.addrs.values();
  }

  /** The up interface with a subnet that contains `address` (longest prefix wins). */
  onLink(address: Uint8Array): InterfaceAddress | undefined {
    let best: InterfaceAddress | undefined;
    for (const a of this.addrs.values()) {
      if (a.address.length !== address.length || !this.links.get(a.index)?.up) continue;
      if (a.prefixLength === a.address.length * 8) continue; // a host address has no neighbours
      if (inPrefix(address, a.address, a.prefixLength) && (!best || a.prefixLength > best.prefixLength)) best = a;
    }
    return best;
  }

  /** Is `address` one of ours? */
  isLocal(address: Uint8Array): boolean {
    for (const a of this.addrs.values()) if (sameBytes(a.address, address)) return true;
    return false;
  }
}

export function inPrefix(address: Uint8Array, prefix: Uint8Array, length: number): boolean {
  if (address.length !== prefix.length) return false;
  for (let bit = 0; bit < length; bit++) {
    const mask = 0x80 >> (bit & 7);
    if ((address[bit >> 3]! & mask) !== (prefix[bit >> 3]! & mask)) return false;
  }
  return true;
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Glob match with `*` (any run) and `?` (one character), as interface patterns are written. */
export function globMatch(pattern: string, name: string): boolean {
  const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
  return re.test(name);
}

function hex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}
