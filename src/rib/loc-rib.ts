// SPDX-License-Identifier: Apache-2.0
// The Loc-RIB: every destination with its candidate paths (from all peers and local sources)
// and the decision process's verdict. Adding or removing a path re-runs the decision for that
// destination only, and says whether what we would advertise (best or ECMP set) changed.
import type { Family, Nlri } from '../bgp/messages/types.ts';
import { decide } from './decision.ts';
import { KeyNlri, prefixKey } from './prefix-key.ts';
import type { Decision, DecisionContext, Destination, Path } from './types.ts';

const EMPTY: Decision = { multipath: [], reasons: new Map() };

/**
 * A destination is its own decision: the verdict's fields are read through it (one object per
 * prefix, not two: docs/performance.md), and `decision` is the destination itself. It changes
 * whenever the destination does: read what you need, do not keep it to compare with later.
 *
 * Most destinations have one eligible path (a full table from one feeder, a Calico block). Such a
 * destination holds the path itself, and no array and no verdict: 48 heap bytes, where fields for
 * the key, the paths array, best, multipath and reasons took 128. `paths` and `multipath` make a
 * one-element array for it at each read; the hot readers use `pathCount` and `best`.
 */
class LocDestination implements Destination, Decision {
  /** A KeyNlri: the key is read from it. */
  readonly nlri: KeyNlri;
  /** The one path, or the candidate paths when there are none or several. */
  held: Path | readonly Path[];
  /** decide()'s verdict; undefined when `held` is one eligible path, which is then best. */
  verdict: Decision | undefined = undefined;

  constructor(nlri: KeyNlri, path: Path) {
    this.nlri = nlri;
    this.held = path;
  }

  get key(): string {
    return this.nlri.key;
  }

  /** The prefix's (a field of its own would be 8 bytes a destination). */
  get family(): Family {
    return this.nlri.family;
  }

  get paths(): readonly Path[] {
    const held = this.held;
    return isPathList(held) ? held : [held];
  }

  get pathCount(): number {
    const held = this.held;
    return isPathList(held) ? held.length : 1;
  }

  get decision(): Decision {
    return this;
  }

  get best(): Path | undefined {
    const verdict = this.verdict;
    return verdict === undefined ? (this.held as Path) : verdict.best;
  }

  get multipath(): readonly Path[] {
    const verdict = this.verdict;
    return verdict === undefined ? [this.held as Path] : verdict.multipath;
  }

  get reasons(): Map<Path, string> {
    return this.verdict?.reasons ?? EMPTY.reasons;
  }
}

function isFrom(path: Path, peerId: number, key: string): boolean {
  return path.peer?.id === peerId && path.source === 'bgp' && prefixKey(path.nlri) === key;
}

function isPathList(held: Path | readonly Path[]): held is readonly Path[] {
  return Array.isArray(held);
}

export class LocRib {
  private readonly dests = new Map<string, LocDestination>();
  private readonly ctx: DecisionContext;
  /** The destination key pathFrom last looked up, and what it found there (undefined: none).
   *  A received route is looked up (its peer's earlier path) and then put in or taken out of
   *  the same destination: the second lookup uses this, one hash-table probe a route instead of
   *  two. Every change to the table forgets it. */
  private probedKey: string | undefined;
  private probed: LocDestination | undefined;

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

  /** The path of `destKey` from BGP peer `peerId` whose NLRI has key `key` (with its ADD-PATH
   *  path id, if any): a received route found where it lives (adj-rib-in.ts). */
  pathFrom(destKey: string, peerId: number, key: string): Path | undefined {
    const dest = this.dests.get(destKey);
    this.probedKey = destKey;
    this.probed = dest;
    if (!dest) return undefined;
    const held = dest.held;
    if (!isPathList(held)) return isFrom(held, peerId, key) ? held : undefined;
    for (const path of held) if (isFrom(path, peerId, key)) return path;
    return undefined;
  }

  /** The paths of one destination (none when it is not in the Loc-RIB). */
  pathsAt(destKey: string): readonly Path[] {
    return this.dests.get(destKey)?.paths ?? [];
  }

  /**
   * Put `path` in its destination, replacing `replaces` (the same source's earlier path) if
   * given. Returns the destination when its advertised result changed.
   */
  upsert(path: Path, prefix: Nlri, replaces?: Path): Destination | undefined {
    const dest = this.lookup(path.destKey);
    if (!dest) {
      const created = new LocDestination(KeyNlri.of(prefix), path);
      this.dests.set(path.destKey, created);
      this.probedKey = undefined;
      if (path.ineligible === undefined) return created; // its one path is best: a change
      created.verdict = decide([path], this.ctx); // no best, as before: no change
      return undefined;
    }
    const { held, verdict } = dest;
    // Copy on write, to the exact length: a verdict may share the array (decide), and an array
    // grown by push keeps room for 16 more paths a destination almost never gets.
    if (!isPathList(held)) dest.held = held === replaces ? path : [held, path];
    else {
      const i = replaces ? held.indexOf(replaces) : -1;
      dest.held = i >= 0 ? replaced(held, i, path) : held.concat(path);
    }
    return this.redecide(dest, held, verdict) ? dest : undefined;
  }

  /** Remove a path; returns the destination when its advertised result changed. */
  remove(path: Path): Destination | undefined {
    const dest = this.lookup(path.destKey);
    if (!dest) return undefined;
    const { held, verdict } = dest;
    if (!isPathList(held)) {
      if (held !== path) return undefined;
      // The last path: the destination goes. It had a best unless that path was ineligible.
      dest.held = [];
      dest.verdict = EMPTY;
      this.dests.delete(path.destKey);
      this.probedKey = undefined;
      return verdict === undefined || verdict.best !== undefined ? dest : undefined;
    }
    const i = held.indexOf(path);
    if (i < 0) return undefined;
    dest.held = held.length === 2 ? held[1 - i]! : removed(held, i);
    const changed = this.redecide(dest, held, verdict);
    if (dest.pathCount === 0) {
      this.dests.delete(path.destKey);
      this.probedKey = undefined;
    }
    return changed ? dest : undefined;
  }

  /** The destination under `destKey`: the one pathFrom just found, or a lookup. */
  private lookup(destKey: string): LocDestination | undefined {
    return destKey === this.probedKey ? this.probed : this.dests.get(destKey);
  }

  /** Re-run the decision (e.g. a path's stale flag or a tie-break input changed). */
  refresh(destKey: string): Destination | undefined {
    const dest = this.dests.get(destKey);
    return dest && this.redecide(dest, dest.held, dest.verdict) ? dest : undefined;
  }

  /** Decide again, now that `oldHeld` and `oldVerdict` became what the destination holds; true
   *  when the best path or the ECMP set changed. */
  private redecide(dest: LocDestination, oldHeld: Path | readonly Path[], oldVerdict: Decision | undefined): boolean {
    // Without a verdict, the one path held was best and the whole ECMP set.
    const oldBest = oldVerdict === undefined ? (oldHeld as Path) : oldVerdict.best;
    const held = dest.held;
    // One eligible path: what decide() would say, without making its verdict object.
    if (!isPathList(held) && held.ineligible === undefined) {
      dest.verdict = undefined;
      return oldBest !== held || (oldVerdict !== undefined && oldVerdict.multipath.length !== 1);
    }
    const paths = isPathList(held) ? held : [held];
    const now = paths.length ? decide(paths, this.ctx) : EMPTY;
    dest.verdict = now;
    // The best is in its ECMP set: with the same best, sets of one are the same set.
    if (oldBest !== now.best) return true;
    return oldVerdict === undefined ? now.multipath.length !== 1 : !sameSet(oldVerdict.multipath, now.multipath);
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
