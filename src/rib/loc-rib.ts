// SPDX-License-Identifier: Apache-2.0
// The Loc-RIB: every destination with its candidate paths (from all peers and local sources)
// and the decision process's verdict. Adding or removing a path re-runs the decision for that
// destination only, and says whether what we would advertise (best or ECMP set) changed.
import type { Family, Nlri } from '../bgp/messages/types.ts';
import { decide } from './decision.ts';
import { KeyNlri, prefixKey } from './prefix-key.ts';
import { AcceptedRoute } from './adj-rib-in.ts';
import { PrefixTable } from './prefix-table.ts';
import type { Decision, DecisionContext, Destination, Path } from './types.ts';

const EMPTY: Decision = { multipath: [], reasons: new Map() };

/**
 * A destination is its own decision: the verdict's fields are read through it (one object per
 * prefix, not two: docs/performance.md), and `decision` is the destination itself. It changes
 * whenever the destination does: read what you need, do not keep it to compare with later.
 *
 * Most destinations have one eligible path (a full table from one feeder, a Calico block). When
 * that path is a received route, the route stands for its destination and there is no object of
 * this class (see `Entry` below). Otherwise (a local route, a path with an ADD-PATH id) the
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

  constructor(nlri: KeyNlri, held: Path | readonly Path[]) {
    this.nlri = nlri;
    this.held = held;
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

/**
 * What the Loc-RIB table holds for a prefix. Most prefixes have one path, a route received without
 * a path id (a full table from one feeder, a Calico block): the table holds that route itself,
 * which reads as its own destination (adj-rib-in.ts, `AcceptedRoute`): no destination object, 48
 * heap bytes and one object a route fewer for the collector to copy. A second path, an ineligible
 * one or one with a path id makes a `LocDestination`.
 */
type Entry = LocDestination | AcceptedRoute;

/** A path that can stand alone as its destination: an eligible route received without a path id. */
function standsAlone(path: Path): path is AcceptedRoute {
  return path.ineligible === undefined && path.constructor === AcceptedRoute;
}

/** The path or paths an entry holds. */
function heldBy(entry: Entry): Path | readonly Path[] {
  return entry instanceof LocDestination ? entry.held : entry;
}

/** A destination whose last path went, for the listeners that hear of it: no paths, no best. */
function emptied(nlri: KeyNlri): LocDestination {
  const dest = new LocDestination(nlri, []);
  dest.verdict = EMPTY;
  return dest;
}

export class LocRib {
  private readonly dests = new PrefixTable<Entry>();
  private readonly ctx: DecisionContext;
  /** The destination key pathFrom last looked up, and what it found there (undefined: none).
   *  A received route is looked up (its peer's earlier path) and then put in or taken out of
   *  the same destination: the second lookup uses this, one hash-table probe a route instead of
   *  two. Every change to the table forgets it. */
  private probedKey: string | undefined;
  private probed: Entry | undefined;

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
    const held = heldBy(dest);
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
    const entry = this.lookup(path.destKey);
    if (!entry) {
      this.probedKey = undefined;
      if (standsAlone(path)) {
        this.dests.set(path.destKey, path);
        return path; // its one path is best: a change
      }
      const created = new LocDestination(KeyNlri.of(prefix), path);
      this.dests.set(path.destKey, created);
      if (path.ineligible === undefined) return created; // its one path is best: a change
      created.verdict = decide([path], this.ctx); // no best, as before: no change
      return undefined;
    }
    if (!(entry instanceof LocDestination)) {
      // A route standing alone: replaced by the same peer's next one, it is a new best.
      this.probedKey = undefined;
      if (entry === replaces && standsAlone(path)) {
        this.dests.set(path.destKey, path);
        return path;
      }
      // Another path joins it (or its replacement cannot stand alone): a destination object.
      const dest = new LocDestination(entry.nlri, entry === replaces ? path : [entry, path]);
      this.dests.set(path.destKey, dest);
      return this.redecide(dest, entry, undefined) ? dest : undefined;
    }
    const dest = entry;
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
    const entry = this.lookup(path.destKey);
    if (!entry) return undefined;
    if (!(entry instanceof LocDestination)) {
      if (entry !== path) return undefined;
      this.dests.delete(path.destKey);
      this.probedKey = undefined;
      return emptied(entry.nlri); // it was best: a change
    }
    const dest = entry;
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
  private lookup(destKey: string): Entry | undefined {
    return destKey === this.probedKey ? this.probed : this.dests.get(destKey);
  }

  /** Re-run the decision (e.g. a path's stale flag or a tie-break input changed). */
  refresh(destKey: string): Destination | undefined {
    const dest = this.dests.get(destKey);
    // A route standing alone is eligible and its destination's only path: still best.
    if (!(dest instanceof LocDestination)) return undefined;
    return this.redecide(dest, dest.held, dest.verdict) ? dest : undefined;
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
