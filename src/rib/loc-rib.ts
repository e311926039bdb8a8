// SPDX-License-Identifier: Apache-2.0
// The Loc-RIB: every destination with its candidate paths (from all peers and local sources)
// and the decision process's verdict. Adding or removing a path re-runs the decision for that
// destination only, and says whether what we would advertise (best or ECMP set) changed.
import type { Family, Nlri } from '../bgp/messages/types.ts';
import { decide } from './decision.ts';
import type { Decision, DecisionContext, Destination, Path } from './types.ts';

const EMPTY: Decision = { multipath: [], reasons: new Map() };

/**
 * A destination is its own decision: the verdict's fields live on it (one object per prefix, not
 * two: docs/performance.md), and `decision` is the destination itself. It changes whenever the
 * destination does: read what you need, do not keep it to compare with later.
 */
class LocDestination implements Destination, Decision {
  readonly key: string;
  readonly nlri: Nlri;
  paths: readonly Path[];
  best: Path | undefined = undefined;
  multipath: readonly Path[] = EMPTY.multipath;
  reasons: Map<Path, string> = EMPTY.reasons;

  constructor(key: string, nlri: Nlri, path: Path) {
    this.key = key;
    this.nlri = nlri;
    this.paths = [path];
  }

  /** The prefix's (a field of its own would be 8 bytes a destination). */
  get family(): Family {
    return this.nlri.family;
  }

  get decision(): Decision {
    return this;
  }
}

export class LocRib {
  private readonly dests = new Map<string, LocDestination>();
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
  upsert(path: Path, prefix: Nlri, replaces?: Path): Destination | undefined {
    let dest = this.dests.get(path.destKey);
    if (!dest) {
      dest = new LocDestination(path.destKey, prefix, path);
      this.dests.set(path.destKey, dest);
    } else {
      // Copy on write, to the exact length: a decision may share the array (decide), and an
      // array grown by push keeps room for 16 more paths a destination almost never gets.
      const i = replaces ? dest.paths.indexOf(replaces) : -1;
      dest.paths = i >= 0 ? replaced(dest.paths, i, path) : dest.paths.concat(path);
    }
    return this.redecide(dest) ? dest : undefined;
  }

  /** Remove a path; returns the destination when its advertised result changed. */
  remove(path: Path): Destination | undefined {
    const dest = this.dests.get(path.destKey);
    if (!dest) return undefined;
    const i = dest.paths.indexOf(path);
    if (i < 0) return undefined;
    dest.paths = removed(dest.paths, i);
    const changed = this.redecide(dest);
    if (dest.paths.length === 0) this.dests.delete(dest.key);
    return changed ? dest : undefined;
  }

  /** Re-run the decision (e.g. a path's stale flag or a tie-break input changed). */
  refresh(destKey: string): Destination | undefined {
    const dest = this.dests.get(destKey);
    return dest && this.redecide(dest) ? dest : undefined;
  }

  private redecide(dest: LocDestination): boolean {
    const { best, multipath, paths } = dest;
    // One eligible path (a full table from one feeder, a Calico block): what decide() would say,
    // without making its verdict object once per route.
    if (paths.length === 1 && paths[0]!.ineligible === undefined) {
      dest.best = paths[0];
      dest.multipath = paths;
      dest.reasons = EMPTY.reasons;
      return best !== dest.best || !sameSet(multipath, paths);
    }
    const now = paths.length ? decide(paths, this.ctx) : EMPTY;
    dest.best = now.best;
    dest.multipath = now.multipath;
    dest.reasons = now.reasons;
    return best !== now.best || !sameSet(multipath, now.multipath);
  }
}

function sameSet(a: readonly Path[], b: readonly Path[]): boolean {
  if (a.length !== b.length) return false;
  for (const p of a) if (!b.includes(p)) return false;
  return true;
}

function replaced(paths: readonly Path[], i: number, path: Path): Path[] {
  const copy = paths.slice();
  copy[i] = path;
  return copy;
}

function removed(paths: readonly Path[], i: number): Path[] {
  const copy = new Array<Path>(paths.length - 1);
  for (let j = 0, k = 0; j < paths.length; j++) if (j !== i) copy[k++] = paths[j]!;
  return copy;
}
