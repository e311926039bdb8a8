// SPDX-License-Identifier: Apache-2.0
// The Loc-RIB: every destination with its candidate paths (from all peers and local sources)
// and the decision process's verdict. Adding or removing a path re-runs the decision for that
// destination only, and says whether what we would advertise (best or ECMP set) changed.
import type { Family, Nlri } from '../bgp/messages/types.ts';
import { decide } from './decision.ts';
import type { Decision, DecisionContext, Destination, Path } from './types.ts';

const EMPTY: Decision = { multipath: [], reasons: new Map() };

export class LocRib {
  private readonly dests = new Map<string, Destination>();
  private readonly ctx: DecisionContext;

  constructor(ctx: DecisionContext) {
    this.ctx = ctx;
  }

  get size(): number {
    return this.dests.size;
  }

  get(destKey: string): Destination | undefined {
    return this.dests.get(destKey);
  }

  values(): IterableIterator<Destination> {
    return this.dests.values();
  }

  /**
   * Put `path` in its destination, replacing `replaces` (the same source's earlier path) if
   * given. Returns the destination when its advertised result changed.
   */
  upsert(path: Path, family: Family, prefix: Nlri, replaces?: Path): Destination | undefined {
    let dest = this.dests.get(path.destKey);
    if (!dest) {
      dest = { key: path.destKey, family, nlri: prefix, paths: [], decision: EMPTY };
      this.dests.set(path.destKey, dest);
    }
    const i = replaces ? dest.paths.indexOf(replaces) : -1;
    if (i >= 0) dest.paths[i] = path;
    else dest.paths.push(path);
    return this.redecide(dest) ? dest : undefined;
  }

  /** Remove a path; returns the destination when its advertised result changed. */
  remove(path: Path): Destination | undefined {
    const dest = this.dests.get(path.destKey);
    if (!dest) return undefined;
    const i = dest.paths.indexOf(path);
    if (i < 0) return undefined;
    dest.paths.splice(i, 1);
    const changed = this.redecide(dest);
    if (dest.paths.length === 0) this.dests.delete(dest.key);
    return changed ? dest : undefined;
  }

  /** Re-run the decision (e.g. a path's stale flag or a tie-break input changed). */
  refresh(destKey: string): Destination | undefined {
    const dest = this.dests.get(destKey);
    return dest && this.redecide(dest) ? dest : undefined;
  }

  private redecide(dest: Destination): boolean {
    const before = dest.decision;
    dest.decision = dest.paths.length ? decide(dest.paths, this.ctx) : EMPTY;
    return before.best !== dest.decision.best || !sameSet(before.multipath, dest.decision.multipath);
  }
}

function sameSet(a: Path[], b: Path[]): boolean {
  if (a.length !== b.length) return false;
  for (const p of a) if (!b.includes(p)) return false;
  return true;
}
