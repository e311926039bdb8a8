// SPDX-License-Identifier: Apache-2.0
// Interning of route attributes (OpenBGPD rde_attr.c, holo AttrSets): routes with identical
// attributes share one frozen object, so a million routes cost as many attribute objects as
// there are distinct attribute sets, and equality is identity. The key is built from the values,
// never from object identity. Entries are reference counted and freed at zero.
import type { RouteAttributes } from '../bgp/messages/route-view.ts';
import type { Attrs } from './types.ts';

export function attrsKey(a: RouteAttributes): string {
  let k = `${a.origin ?? '-'}|`;
  for (const s of a.asPath) k += `${s.type}:${s.asns.join(',')};`;
  k += `|${a.nextHop ? hex(a.nextHop) : '-'}|${a.linkLocalNextHop ? hex(a.linkLocalNextHop) : '-'}`;
  k += `|${a.med ?? '-'}|${a.localPref ?? '-'}|${a.atomicAggregate ? 1 : 0}`;
  k += `|${a.aggregator ? `${a.aggregator.asn}@${hex(a.aggregator.address)}` : '-'}`;
  k += `|${a.communities.join(',')}|${a.largeCommunities.map((c) => c.join(':')).join(',')}`;
  k += `|${a.extendedCommunities.map(hex).join(',')}|${a.originatorId ?? '-'}|${a.clusterList.join(',')}`;
  for (const u of a.unknown) k += `|u${u.code}.${u.flags}.${u.kind === 'unknown' ? hex(u.value) : u.kind}`;
  return k;
}

export class AttrsTable {
  private readonly table = new Map<string, { attrs: Attrs; refs: number }>();
  /** The last argument and its entry: every NLRI of one UPDATE brings the same object. */
  private lastInput?: Readonly<RouteAttributes>;
  private lastEntry?: { attrs: Attrs; refs: number };

  /** The shared object for these attributes (the argument is copied, never kept). */
  intern(a: Readonly<RouteAttributes>): Attrs {
    if (a === this.lastInput && this.lastEntry && this.table.get(this.lastEntry.attrs.key) === this.lastEntry) {
      this.lastEntry.refs++;
      return this.lastEntry.attrs;
    }
    const entry = this.internSlow(a);
    this.lastInput = a;
    this.lastEntry = entry;
    return entry.attrs;
  }

  private internSlow(a: Readonly<RouteAttributes>): { attrs: Attrs; refs: number } {
    const key = attrsKey(a);
    const hit = this.table.get(key);
    if (hit) {
      hit.refs++;
      return hit;
    }
    const attrs: Attrs = Object.freeze({
      ...a,
      asPath: a.asPath.map((s) => ({ type: s.type, asns: [...s.asns] })),
      communities: [...a.communities],
      largeCommunities: a.largeCommunities.map((c) => [...c] as [number, number, number]),
      extendedCommunities: [...a.extendedCommunities],
      clusterList: [...a.clusterList],
      unknown: [...a.unknown],
      key,
    });
    const entry = { attrs, refs: 1 };
    this.table.set(key, entry);
    return entry;
  }

  /** Drop one reference; the entry goes when none are left. */
  release(a: Attrs): void {
    const hit = this.table.get(a.key);
    if (!hit) return;
    if (--hit.refs <= 0) this.table.delete(a.key);
  }

  get size(): number {
    return this.table.size;
  }
}

/** A mutable copy, for policy actions and export rewrites to edit. */
export function cloneAttributes(a: RouteAttributes): RouteAttributes {
  return {
    ...a,
    asPath: a.asPath.map((s) => ({ type: s.type, asns: [...s.asns] })),
    communities: [...a.communities],
    largeCommunities: a.largeCommunities.map((c) => [...c] as [number, number, number]),
    extendedCommunities: [...a.extendedCommunities],
    clusterList: [...a.clusterList],
    unknown: [...a.unknown],
  };
}

function hex(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) s += (b[i]! < 16 ? '0' : '') + b[i]!.toString(16);
  return s;
}
