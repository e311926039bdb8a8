// SPDX-License-Identifier: Apache-2.0
// Adj-RIB-Out for one peer: what we have told it (per family, keyed by prefix and, with
// ADD-PATH, our path id) and what we still have to tell it. Staging a change for a prefix that
// is already queued replaces the queued one; staging what the peer already has is a no-op.
// Batches group announcements by interned attributes, so prefixes that share attributes travel
// in as few UPDATEs as fit (the packer encodes them).
import type { Family, Nlri } from '../bgp/messages/types.ts';
import { nlriFromKey } from './prefix-key.ts';
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
  /** What the peer has: attributes per key. The NLRI is the key's own (prefix-key.ts
   *  nlriFromKey), so a full table costs one Map entry per prefix, no object. */
  private readonly sent = new Map<string, Attrs>();
  private readonly staged = new Map<string, Staged>();
  private readonly sentByFamily = new Map<Family, number>();

  /** Record that `outKey` should now carry `attrs` (or be withdrawn: null). */
  stage(outKey: string, family: Family, nlri: Nlri, attrs: Attrs | null): void {
    const have = this.sent.get(outKey);
    if ((attrs === null && !have) || (attrs !== null && have === attrs)) {
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
    const attrs = this.sent.get(outKey);
    return attrs ? { nlri: nlriFromKey(outKey), attrs } : undefined;
  }

  count(family?: Family): number {
    if (!family) return this.sent.size;
    return this.sentByFamily.get(family) ?? 0;
  }

  *entries(family?: Family): Generator<[string, Sent & { family: Family }]> {
    for (const [key, attrs] of this.sent) {
      const nlri = nlriFromKey(key);
      if (!family || nlri.family === family) yield [key, { nlri, attrs, family: nlri.family }];
    }
  }

  /** Queue everything already sent for `family` again (route refresh, RFC 2918 §4). */
  restageAll(family: Family): void {
    for (const [key, attrs] of this.sent) {
      if (this.staged.has(key)) continue;
      const nlri = nlriFromKey(key);
      if (nlri.family === family) this.staged.set(key, { nlri, family, attrs });
    }
  }

  /** Withdraw every key the peer has or will have (of `families`) for which `keep` says no. */
  withdrawWhere(families: ReadonlySet<Family>, keep: (outKey: string) => boolean): void {
    for (const [key, s] of [...this.staged]) if (s.attrs !== null && families.has(s.family) && !keep(key)) this.stage(key, s.family, s.nlri, null);
    for (const key of [...this.sent.keys()]) {
      if (this.staged.has(key) || keep(key)) continue;
      const nlri = nlriFromKey(key);
      if (families.has(nlri.family)) this.stage(key, nlri.family, nlri, null);
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
      this.sent.set(key, s.attrs);
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
