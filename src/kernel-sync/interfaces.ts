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

/**
 * What a link or address message changed, as bits: nothing (0: the kernel repeats a link's state
 * on every flag or counter change, an address's on every flag change, such as the end of IPv6
 * duplicate address detection); the table (CHANGED); which next hops may now resolve otherwise
 * (RESOLVES_V4, RESOLVES_V6 for IPv6 outside fe80::/10, RESOLVES_V6_LINK_LOCAL inside: an
 * address whose subnet holds such next hops came or went, or its link went up, down or away); and
 * whether the link's name came, went or changed (NAMED: the tunnel device is found by name).
 * Calico makes a veth per pod, with an IPv6 link-local address: that changes how no IPv4 next
 * hop resolves, nor any IPv6 one outside fe80::/10.
 */
export const IFACE_CHANGE = { CHANGED: 1, RESOLVES_V4: 2, RESOLVES_V6: 4, RESOLVES_V6_LINK_LOCAL: 8, NAMED: 16 } as const;

const LINK_LOCAL = new Uint8Array([0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);

/** The RESOLVES_* bits of a next hop: which changes may change how it resolves. */
export function nextHopBits(nextHop: Uint8Array): number {
  if (nextHop.length === 4) return IFACE_CHANGE.RESOLVES_V4;
  return inPrefix(nextHop, LINK_LOCAL, 10) ? IFACE_CHANGE.RESOLVES_V6_LINK_LOCAL : IFACE_CHANGE.RESOLVES_V6;
}

/** The RESOLVES_* bits of an address/length: the next hops it is (isLocal), or whose subnet
 *  holds them (onLink). An IPv6 subnet may hold next hops inside fe80::/10, outside it, or both. */
function addressBits(address: Uint8Array, prefixLength: number): number {
  if (address.length === 4) return IFACE_CHANGE.RESOLVES_V4;
  const linkLocal = inPrefix(address, LINK_LOCAL, 10);
  const onlyLinkLocal = linkLocal && prefixLength >= 10;
  const someLinkLocal = linkLocal || inPrefix(LINK_LOCAL, address, prefixLength);
  return (onlyLinkLocal ? 0 : IFACE_CHANGE.RESOLVES_V6) | (someLinkLocal ? IFACE_CHANGE.RESOLVES_V6_LINK_LOCAL : 0);
}

export class InterfaceTable {
  private readonly links = new Map<number, Interface>();
  private readonly addrs = new Map<string, InterfaceAddress>();
  private changes = 0;

  /** Bumped by every change: what was resolved against the table holds while it is unchanged. */
  get generation(): number {
    return this.changes;
  }

  /** Applies a link message; returns what it changed (IFACE_CHANGE bits; 0 for a repeat). */
  applyLink(kind: 'new' | 'del', m: LinkMessage): number {
    const previous = this.links.get(m.index);
    if (kind === 'del') {
      // Its addresses go with it, also those heard of before the link itself.
      const resolves = this.resolvesOn(m.index);
      let removed = false;
      for (const [k, a] of this.addrs) {
        if (a.index !== m.index) continue;
        this.addrs.delete(k);
        removed = true;
      }
      if (!previous && !removed) return 0;
      this.changes++;
      this.links.delete(m.index);
      return IFACE_CHANGE.CHANGED | (previous ? IFACE_CHANGE.NAMED : 0) | resolves;
    }
    const link: Interface = { index: m.index, name: m.name ?? previous?.name ?? `if${m.index}`, up: (m.flags & IFF_UP) !== 0, loopback: (m.flags & IFF_LOOPBACK) !== 0 };
    if (previous && previous.name === link.name && previous.up === link.up && previous.loopback === link.loopback) return 0;
    this.changes++;
    this.links.set(m.index, link);
    // Next hops resolve on the subnets of up links: a link going up or down (or new and up)
    // changes that for the next hops its addresses are or hold (a new link usually has none yet).
    const resolves = (previous?.up ?? false) !== link.up ? this.resolvesOn(m.index) : 0;
    return IFACE_CHANGE.CHANGED | (previous?.name !== link.name ? IFACE_CHANGE.NAMED : 0) | resolves;
  }

  /** Applies an address message; returns what it changed (IFACE_CHANGE bits; 0 for a repeat). */
  applyAddr(kind: 'new' | 'del', m: AddrMessage): number {
    // IFA_LOCAL is the interface's own address on point-to-point links; IFA_ADDRESS otherwise.
    const address = m.local ?? m.address;
    if (!address) return 0;
    const key = `${m.index}/${m.family}/${hex(address)}/${m.prefixLength}`;
    if (kind === 'del') {
      if (!this.addrs.delete(key)) return 0;
    } else {
      if (this.addrs.has(key)) return 0; // the same address, index and length: nothing a lookup reads changed
      this.addrs.set(key, { index: m.index, family: m.family, address, prefixLength: m.prefixLength });
    }
    this.changes++;
    return IFACE_CHANGE.CHANGED | addressBits(address, m.prefixLength);
  }

  /** The RESOLVES_* bits of a link's addresses. */
  private resolvesOn(index: number): number {
    let bits = 0;
    for (const a of this.addrs.values()) if (a.index === index) bits |= addressBits(a.address, a.prefixLength);
    return bits;
  }

  /** Everything a lookup reads, as one string: equal signatures, equal answers. */
  signature(): string {
    const links = [...this.links.values()].map((l) => `${l.index}:${l.name}:${l.up ? 1 : 0}${l.loopback ? 1 : 0}`);
    return `${links.sort().join(',')}|${[...this.addrs.keys()].sort().join(',')}`;
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
