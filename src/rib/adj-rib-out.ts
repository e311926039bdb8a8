// SPDX-License-Identifier: Apache-2.0
// Adj-RIB-Out for one peer: what we have told it (per family, keyed by prefix and, with
// ADD-PATH, our path id) and what we still have to tell it. Staging a change for a prefix that
// is already queued replaces the queued one; staging what the peer already has is a no-op.
// Batches group announcements by interned attributes, so prefixes that share attributes travel
// in as few UPDATEs as fit (the packer encodes them).
import type { Family, Nlri } from '../bgp/messages/types.ts';
import type { Attrs } from './types.ts';

export interface OutBatch {
  family: Family;
  withdrawals: Nlri[];
  announcements: { attrs: Attrs; nlri: Nlri[] }[];
  prefixes: number;
}

interface Sent {
  nlri: Nlri;
  attrs: Attrs;
}

interface Staged {
  nlri: Nlri;
  family: Family;
  /** null: withdraw. */
  attrs: Attrs | null;
}

export class AdjRibOut {
  private readonly sent = new Map<string, Sent>();
  private readonly staged = new Map<string, Staged>();
  private readonly sentByFamily = new Map<Family, number>();

  /** Record that `outKey` should now carry `attrs` (or be withdrawn: null). */
  stage(outKey: string, family: Family, nlri: Nlri, attrs: Attrs | null): void {
    const have = this.sent.get(outKey);
    if ((attrs === null && !have) || (attrs !== null && have?.attrs === attrs)) {
      this.staged.delete(outKey); // back to what the peer has: drop anything queued
      return;
    }
    this.staged.set(outKey, { nlri, family, attrs });
  }

  get pending(): number {
    return this.staged.size;
  }

  /** What the peer was told for this key (undefined: nothing, or withdrawn). */
  current(outKey: string): Sent | undefined {
    return this.sent.get(outKey);
  }

  count(family?: Family): number {
    if (!family) return this.sent.size;
    return this.sentByFamily.get(family) ?? 0;
  }

  *entries(family?: Family): Generator<[string, Sent & { family: Family }]> {
    for (const [key, s] of this.sent) {
      const f = s.nlri.family;
      if (!family || f === family) yield [key, { ...s, family: f }];
    }
  }

  /** Queue everything already sent for `family` again (route refresh, RFC 2918 §4). */
  restageAll(family: Family): void {
    for (const [key, s] of this.sent) {
      if (s.nlri.family === family && !this.staged.has(key)) this.staged.set(key, { nlri: s.nlri, family, attrs: s.attrs });
    }
  }

  /**
   * Take up to `limit` staged changes of one family (withdrawals first, as BIRD does: they free
   * the peer's memory first), mark them sent, and group announcements by attributes.
   */
  take(limit: number): OutBatch | undefined {
    const first = this.staged.values().next();
    if (first.done) return undefined;
    const family = first.value.family;
    const batch: OutBatch = { family, withdrawals: [], announcements: [], prefixes: 0 };
    const groups = new Map<Attrs, Nlri[]>();
    for (const [key, s] of this.staged) {
      if (batch.prefixes >= limit) break;
      if (s.family !== family) continue;
      this.staged.delete(key);
      batch.prefixes++;
      const had = this.sent.has(key);
      if (s.attrs === null) {
        if (had) {
          this.sent.delete(key);
          this.bump(family, -1);
        }
        batch.withdrawals.push(s.nlri);
        continue;
      }
      this.sent.set(key, { nlri: s.nlri, attrs: s.attrs });
      if (!had) this.bump(family, 1);
      let group = groups.get(s.attrs);
      if (!group) groups.set(s.attrs, (group = []));
      group.push(s.nlri);
    }
    for (const [attrs, nlri] of groups) batch.announcements.push({ attrs, nlri });
    return batch;
  }

  clear(): void {
    this.sent.clear();
    this.staged.clear();
    this.sentByFamily.clear();
  }

  private bump(family: Family, by: number): void {
    this.sentByFamily.set(family, (this.sentByFamily.get(family) ?? 0) + by);
  }
}
