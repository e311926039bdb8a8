// SPDX-License-Identifier: Apache-2.0
// One peer's Adj-RIB-In (RFC 4271 §3.2): the routes it sent, as received, and what import made of
// each. A route import accepted is one object, its entry and its Loc-RIB path at once (and,
// alone at its prefix, the Loc-RIB's destination too); it lives in the Loc-RIB only, and is found
// there by key (the destination, then its paths from this peer). What import rejected is kept here, in a table of its own. A full table from one feeder
// then costs one hash table, not two: an UPDATE's prefix is looked up in one table, and a route
// costs 21 heap bytes less (1M routes, 4 alternating pairs: announce −12 %, withdrawal −8 % CPU;
// docs/performance.md). The peer's accepted routes are also a list through them, in the order
// they came, so that a session's end, `show`, BMP and graceful restart walk the peer's routes,
// not the whole Loc-RIB; the per-family counts are counters.
import type { Family, Nlri } from '../bgp/messages/types.ts';
import type { RouteAttributes } from '../bgp/messages/route-view.ts';
import type { LocRib } from './loc-rib.ts';
import { destKeyOfKey, type KeyNlri } from './prefix-key.ts';
import type { Attrs, Decision, Destination, Path, PeerRef } from './types.ts';

/** One entry of a peer's Adj-RIB-In: the route as received, and what import made of it. An
 *  entry is replaced, not edited, when import decides again (reimport). */
export interface AdjInEntry {
  readonly nlri: Nlri;
  readonly family: Family;
  /** Attributes as received (pre-policy). */
  readonly raw: RouteAttributes;
  /** The accepted path (post-policy), or undefined when rejected. */
  readonly path: Path | undefined;
  /** Why import rejected it. */
  readonly rejected: string | undefined;
  stale: boolean;
  readonly receivedAt: number;
}

/** What an UPDATE brought for one family, shared by its routes: when it arrived (a number field
 *  of a route's own would be a separate heap object per route: V8 boxes a time in milliseconds)
 *  and its attributes as received. */
export interface Arrival {
  readonly at: number;
  readonly raw: RouteAttributes;
  /** The peer it came from. */
  readonly peer: PeerRef;
}

/**
 * A route import accepted: its Adj-RIB-In entry and its Loc-RIB path are one object, so a full
 * table from one feeder costs one object per route here, not two (docs/performance.md). What
 * follows from the others is a getter, not a field.
 */
export class AcceptedRoute implements Path, AdjInEntry, Destination, Decision {
  /** The prefix as received (with its path id, if any), kept by its key. */
  readonly nlri: KeyNlri;
  readonly attrs: Attrs;
  stale: boolean;
  readonly arrival: Arrival;
  /** The peer's accepted routes are a list through them (AdjRibIn), in the order they came. */
  previousOfPeer: AcceptedRoute | undefined = undefined;
  nextOfPeer: AcceptedRoute | undefined = undefined;

  constructor(nlri: KeyNlri, attrs: Attrs, stale: boolean, arrival: Arrival) {
    this.nlri = nlri;
    this.attrs = attrs;
    this.stale = stale;
    this.arrival = arrival;
  }

  get peer(): PeerRef {
    return this.arrival.peer;
  }

  /** Without a path id, the Adj-RIB-In key itself: no second string. */
  get destKey(): string {
    return this.nlri.key;
  }

  get raw(): RouteAttributes {
    return this.arrival.raw;
  }

  get receivedAt(): number {
    return this.arrival.at;
  }

  get source(): 'bgp' {
    return 'bgp';
  }

  get family(): Family {
    return this.nlri.family;
  }

  get path(): Path {
    return this;
  }

  get rejected(): undefined {
    return undefined;
  }

  // A route received without a path id, alone at its prefix, is its own Loc-RIB destination and
  // that destination's decision (loc-rib.ts): one path, best, and the whole ECMP set.

  get key(): string {
    return this.destKey;
  }

  get paths(): readonly Path[] {
    return [this];
  }

  get pathCount(): number {
    return 1;
  }

  get decision(): Decision {
    return this;
  }

  get best(): Path {
    return this;
  }

  get multipath(): readonly Path[] {
    return [this];
  }

  get reasons(): Map<Path, string> {
    return NO_REASONS;
  }
}

/** A decision of one path has no losers. */
const NO_REASONS: Map<Path, string> = new Map();

/** An accepted route received with a path id (RFC 7911): its destination key is a string of its
 *  own, kept rather than cut from the Adj-RIB-In key at every read. */
export class AcceptedPathIdRoute extends AcceptedRoute {
  private readonly ownDestKey: string;

  constructor(nlri: KeyNlri, attrs: Attrs, stale: boolean, arrival: Arrival) {
    super(nlri, attrs, stale, arrival);
    this.ownDestKey = nlri.destKey;
  }

  override get destKey(): string {
    return this.ownDestKey;
  }
}

/** The Adj-RIB-In of one peer. Keys are prefix keys of the NLRI as received (with the ADD-PATH
 *  path id). */
export class AdjRibIn {
  /** Routes import rejected, kept for `show` and `explain`. */
  private readonly rejected = new Map<string, AdjInEntry>();
  /** Routes import accepted (paths of this peer in the Loc-RIB): their number, per family, and
   *  the list through them, which walks the peer's routes without walking the Loc-RIB. */
  accepted = 0;
  private readonly acceptedIn = new Map<Family, number>();
  private first: AcceptedRoute | undefined = undefined;
  private last: AcceptedRoute | undefined = undefined;
  /** Some accepted route may be stale (graceful restart marked them): `counts` must look. */
  private staleMayExist = false;
  private readonly loc: LocRib;
  private readonly peerId: number;

  constructor(loc: LocRib, peerId: number) {
    this.loc = loc;
    this.peerId = peerId;
  }

  get size(): number {
    return this.accepted + this.rejected.size;
  }

  get(key: string): AdjInEntry | undefined {
    if (this.rejected.size !== 0) {
      const entry = this.rejected.get(key);
      if (entry !== undefined) return entry;
    }
    if (this.accepted === 0) return undefined;
    const path = this.loc.pathFrom(destKeyOfKey(key), this.peerId, key);
    return path instanceof AcceptedRoute ? path : undefined;
  }

  /** Import rejected the route under `key` (the caller takes an accepted one out: `drop`). */
  reject(key: string, entry: AdjInEntry): void {
    this.rejected.set(key, entry);
  }

  /** Import accepted `route` under `key`, in place of `replaces` (the caller puts it in the
   *  Loc-RIB, in its place there too). */
  accept(key: string, route: AcceptedRoute, replaces: AcceptedRoute | undefined): void {
    if (this.rejected.size !== 0) this.rejected.delete(key);
    if (replaces === undefined) {
      route.previousOfPeer = this.last;
      if (this.last) this.last.nextOfPeer = route;
      else this.first = route;
      this.last = route;
      this.count(route.nlri.family, 1);
      return;
    }
    // Where the route it replaces was: the list stays in the order the prefixes first came.
    const { previousOfPeer: previous, nextOfPeer: next } = replaces;
    route.previousOfPeer = previous;
    route.nextOfPeer = next;
    if (previous) previous.nextOfPeer = route;
    else this.first = route;
    if (next) next.previousOfPeer = route;
    else this.last = route;
    replaces.previousOfPeer = replaces.nextOfPeer = undefined;
  }

  /** An accepted route is gone (the caller takes it out of the Loc-RIB). */
  drop(route: AcceptedRoute): void {
    const { previousOfPeer: previous, nextOfPeer: next } = route;
    if (previous) previous.nextOfPeer = next;
    else this.first = next;
    if (next) next.previousOfPeer = previous;
    else this.last = previous;
    route.previousOfPeer = route.nextOfPeer = undefined;
    this.count(route.nlri.family, -1);
  }

  /** The route under `key` is gone (a rejected one is forgotten; an accepted one: `drop`). */
  forget(key: string): void {
    if (this.rejected.size !== 0) this.rejected.delete(key);
  }

  private count(family: Family, by: 1 | -1): void {
    this.accepted += by;
    this.acceptedIn.set(family, (this.acceptedIn.get(family) ?? 0) + by);
  }

  /** Graceful restart marked accepted routes stale. */
  markedStale(): void {
    this.staleMayExist = true;
  }

  /**
   * Per family: routes received, accepted, rejected and stale, from counters; the accepted ones
   * are only walked while some may be stale (graceful restart). Metrics, `show` and BMP ask this
   * per peer.
   */
  counts(): Map<Family, { received: number; accepted: number; rejected: number; stale: number }> {
    const out = new Map<Family, { received: number; accepted: number; rejected: number; stale: number }>();
    const of = (family: Family): { received: number; accepted: number; rejected: number; stale: number } => {
      let c = out.get(family);
      if (!c) out.set(family, (c = { received: 0, accepted: 0, rejected: 0, stale: 0 }));
      return c;
    };
    for (const [family, n] of this.acceptedIn) if (n > 0) Object.assign(of(family), { received: n, accepted: n });
    for (const e of this.rejected.values()) {
      const c = of(e.family);
      c.received++;
      c.rejected++;
      if (e.stale) c.stale++;
    }
    if (this.staleMayExist) {
      let stale = 0;
      for (let route = this.first; route; route = route.nextOfPeer) {
        if (!route.stale) continue;
        of(route.family).stale++;
        stale++;
      }
      this.staleMayExist = stale > 0;
    }
    return out;
  }

  /** Every entry with its key: the accepted routes in the order they came, then the rejected
   *  ones. Take a copy first to change the Adj-RIB-In while reading. */
  *entries(): IterableIterator<[string, AdjInEntry]> {
    for (let route = this.first; route; route = route.nextOfPeer) yield [route.nlri.key, route];
    yield* this.rejected.entries();
  }

  /** The entries, as `entries` walks them (no pair made per route: graceful restart and BMP walk
   *  a full table this way). */
  *values(): IterableIterator<AdjInEntry> {
    for (let route = this.first; route; route = route.nextOfPeer) yield route;
    yield* this.rejected.values();
  }

  *keys(): IterableIterator<string> {
    for (let route = this.first; route; route = route.nextOfPeer) yield route.nlri.key;
    yield* this.rejected.keys();
  }

  [Symbol.iterator](): IterableIterator<[string, AdjInEntry]> {
    return this.entries();
  }

  /** The entries for one destination: its prefix with and without ADD-PATH path ids. */
  forDest(destKey: string): AdjInEntry[] {
    const found: AdjInEntry[] = [];
    if (this.accepted !== 0) for (const path of this.loc.pathsAt(destKey)) if (path instanceof AcceptedRoute && path.peer.id === this.peerId) found.push(path);
    for (const [key, entry] of this.rejected) if (destKeyOfKey(key) === destKey) found.push(entry);
    return found;
  }
}
