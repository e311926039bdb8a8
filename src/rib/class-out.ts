// SPDX-License-Identifier: Apache-2.0
// The Adj-RIB-Out of an update group (export class, export-class.ts): the second half of update
// groups (FRR's update-group "adj-out" + subgroup, rustbgpd's shared outbound table). The class
// keeps ONE table of what its members should have — one node per out key (prefix, or prefix and
// our ADD-PATH path id) — in a list ordered by the version of the node's last change. Each member
// is a Reader: the highest version it has been sent, and nothing per route. Sending to a member
// is a walk of the list from its version; a change is recorded once per class, however many
// members share it (issue 5: "the work per update must not grow with the number of clients").
//
// What a single member has may differ from the class answer only by exclusion: split horizon,
// ORIGINATOR_ID = its router id (RFC 4456 §8) and a next hop that is its own address (RFC 4271
// §5.1.3) withhold a route the class announces. The node remembers the readers it is withheld
// from (usually none, or the one peer it came from), so those peers are neither sent the route
// nor, later, a withdrawal of what they never had.
import type { Family, Nlri } from '../bgp/messages/types.ts';
import type { KeyNlri } from './prefix-key.ts';
import { PrefixTable } from './prefix-table.ts';
import type { Attrs, Path } from './types.ts';

/** Changes for one peer, one family: withdrawals, and announcements grouped by attribute set
 *  (the packer fills each UPDATE with as many prefixes of a group as fit). */
export interface OutBatch {
  family: Family;
  withdrawals: Nlri[];
  announcements: { attrs: Attrs; nlri: Nlri[] }[];
  /** Nodes announced with the class answer, which no other live node of the class table carries:
   *  each is an UPDATE of its own, encoded once for the class (`node.use.encoded`). A Calico
   *  reflector's blocks are all like this (each node's next hop is its own). */
  singles: OutNode[];
  prefixes: number;
  /** The class version the batch reaches: once every member has read past it, no member takes
   *  this batch's lists again, and the class forgets their encodings (EncodeCache.forget). */
  upTo: number;
}

/** An UPDATE announcing one prefix under one attribute set, and the codec settings it was
 *  encoded for. */
export interface SingleEncoding {
  readonly nlri: Nlri;
  readonly as4: boolean;
  readonly maxMessageSize: number;
  readonly addPath: boolean;
  readonly extendedNextHopIpv4: boolean;
  readonly frames: Uint8Array[];
}

/** The live nodes of a class table that carry one attribute set as their class answer. While
 *  there is one, a member's batch cannot group its prefix with another, so its UPDATE is encoded
 *  once (`encoded`) and members skip grouping and the encode cache. */
export interface AttrsUse {
  readonly attrs: Attrs;
  count: number;
  encoded: SingleEncoding | undefined;
  /** The answer's NEXT_HOP as an int32, when it is an IPv4 address (else compare `attrs.nextHop`):
   *  what a member's exclusion check compares with its own address. Kept here, once per answer,
   *  not on each node (8 bytes a route): a full table shares one, and a Calico reflector's few
   *  thousand stay in cache. */
  readonly nextHopV4: number | undefined;
}

/**
 * One out key of a class table. Made by an object literal, not `new`: V8 may then allocate the
 * nodes straight in the old generation once it sees them survive (allocation-site pretenuring,
 * which never applies to `new C()`): 1M routes, 225 → 170 MB promoted by the young collector.
 */
export interface OutNode {
  /** The Loc-RIB's own KeyNlri (with our path id under ADD-PATH), whose key is the node's out key
   *  (the prefix, or the prefix and our ADD-PATH path id): members of a class then batch the same
   *  objects, which the encode cache recognises. */
  readonly nlri: KeyNlri;
  /** What the class sends; null: withdrawn (a tombstone, kept until every reader is past it). */
  attrs: Attrs | null;
  /** The Loc-RIB path the answer was computed from (per-member exclusions look at its source). */
  path: Path | undefined;
  /** The version of its last change; -1 once purged, out of the list and the table (`inList`). */
  version: number;
  /** Version at which the key entered the table: no reader could have had it before. */
  readonly createdVersion: number;
  prev: OutNode | undefined;
  next: OutNode | undefined;
  /** Readers this (live) route is withheld from: they have nothing for the key. */
  withheld: Reader | Reader[] | undefined;
  // What a member's own answer depends on (see PersonalAnswer), copied from `path` whenever it
  // changes, so that a member's check reads the node and its `use` (the answer's next hop), not
  // the path. Following the path to its attributes and next hop, per node and per member, was a
  // cache miss each: a third of a 1000-client Calico reflector's CPU (docs/performance.md).
  /** The peer the path came from; -1 for a local route. */
  sourcePeerId: number;
  /** The path's ORIGINATOR_ID (RFC 4456). */
  originatorId: number | undefined;
  /** The live nodes sharing `attrs` (undefined for a tombstone); also the answer's next hop. */
  use: AttrsUse | undefined;
}

/** In its class's list and table: not purged. */
function inList(node: OutNode): boolean {
  return node.version >= 0;
}

/** One member's position in its class table. */
export class Reader {
  /** Every node at or below this version (at the time it was read) has been delivered. */
  version = -1;
  /** The highest version ever delivered (route refresh resets `version`, never this). */
  maxVersion = -1;
  /** Where the last walk stopped; checked before use, since nodes move. */
  hint: OutNode | undefined;
  /** Route refresh (RFC 2918 §4): nodes at or below rewindUpTo are sent again for these families only. */
  rewindUpTo = -1;
  rewindFamilies: Set<Family> | undefined;
  /** Withdrawals owed from the member's previous class (its export inputs changed). */
  readonly owed = new Map<string, Nlri>();
  /** Live nodes withheld from this reader, per family (for its count of routes sent). */
  readonly withheldLive = new Map<Family, number>();
  active = true;
  /** In its table's list of readers to wake at the next change (it had read everything). */
  caughtUp = false;

  /** `joinVersion`: the class version when the member joined; tombstones up to it are skipped. */
  readonly peerId: number;
  readonly joinVersion: number;

  constructor(peerId: number, joinVersion: number) {
    this.peerId = peerId;
    this.joinVersion = joinVersion;
  }
}

/** A member's own answer for a node: undefined when the class answer applies. */
export type PersonalAnswer = (node: OutNode) => Attrs | null | undefined;

/**
 * A take ends at the end of a chunk of this many versions (or at its limit). Members that read at
 * different paces then still cut the table at the same places, so their batches hold the same
 * NLRI lists and the class encodes each once (the encode cache). Cut by each member's own limit,
 * ten monitors of a full table that fell behind differently encoded it ten times.
 */
const CHUNK_VERSIONS = 1024;

/** Nodes walked per take without sending anything before the walk yields (skips are cheap). */
const SKIP_FACTOR = 8;
/** Tombstones that make the class look for ones every reader has passed, whatever the number of
 *  takes since it last looked. */
const MIN_PURGE = 256;

export class ClassAdjRibOut {
  private readonly table = new PrefixTable<OutNode>();
  private head: OutNode | undefined;
  private tail: OutNode | undefined;
  private version = 0;
  private readonly live = new Map<Family, number>();
  /** Nodes that became tombstones, in version order (purge looks at the front). */
  private tombstones: OutNode[] = [];
  private tombstoneHead = 0;
  private purgeAt = MIN_PURGE;
  private takesSinceScan = 0;
  /** Readers that had read everything when they last looked: the only ones a change must wake.
   *  The others have something to read already, and their sessions keep reading until they
   *  catch up; waking every member at every change cost 1000 × 1000 calls when 1000 Calico
   *  nodes announced their blocks to one update group. */
  private caughtUp: Reader[] = [];
  /** Per class answer, the live nodes carrying it (see AttrsUse). */
  private readonly uses = new Map<Attrs, AttrsUse>();
  /** The family of every node ever staged (undefined: none yet; null: more than one). While
   *  there is one, a take reads no node's family: that read was two cache misses a node (its
   *  KeyNlri, then the key string), 0.5 s of a 1M withdrawal (docs/performance.md). */
  private onlyFamily: Family | null | undefined = undefined;

  get currentVersion(): number {
    return this.version;
  }

  get size(): number {
    return this.table.size;
  }

  get(key: string): OutNode | undefined {
    return this.table.get(key);
  }

  liveCount(family: Family): number {
    return this.live.get(family) ?? 0;
  }

  /** Every node (live and tombstone), in no particular order. */
  nodes(): IterableIterator<OutNode> {
    return this.table.values();
  }

  /**
   * Record that `nlri` (its key) should now carry `attrs` (null: withdrawn), computed from `path`. Returns
   * whether members have something new to read. `touchesMember` says whether a path's source may
   * make it personal for a member of the class; when neither the old nor the new source does and
   * the answer is the same, nothing is re-sent.
   */
  stage(nlri: KeyNlri, attrs: Attrs | null, path: Path | undefined, touchesMember: (p: Path | undefined) => boolean): boolean {
    const key = nlri.key;
    const node = this.table.get(key);
    if (!node) {
      if (attrs === null) return false;
      const version = ++this.version;
      const created: OutNode = { nlri, attrs, path, version, createdVersion: version, prev: undefined, next: undefined, withheld: undefined, sourcePeerId: -1, originatorId: undefined, use: undefined };
      const family = nlri.family;
      if (this.onlyFamily === undefined) this.onlyFamily = family;
      else if (this.onlyFamily !== family) this.onlyFamily = null;
      setSource(created, path, attrs);
      this.setUse(created, attrs);
      this.table.set(key, created);
      this.bumpLive(family, 1);
      this.append(created);
      return true;
    }
    if (node.attrs === attrs && (attrs === null || samePersonalSource(node.path, path) || (!touchesMember(node.path) && !touchesMember(path)))) {
      setSource(node, path, attrs);
      return false;
    }
    const wasLive = node.attrs !== null;
    if (wasLive !== (attrs !== null)) this.liveChanged(node, attrs !== null);
    setSource(node, path, attrs);
    this.setUse(node, attrs);
    this.unlink(node);
    node.version = ++this.version;
    this.append(node);
    if (attrs === null) this.tombstones.push(node);
    return true;
  }

  /** Count the node among the users of its new class answer (and not of its old one). */
  private setUse(node: OutNode, attrs: Attrs | null): void {
    const old = node.use;
    if (old !== undefined && old.attrs === attrs) return;
    if (old !== undefined && --old.count === 0) this.uses.delete(old.attrs);
    if (attrs === null) {
      node.use = undefined;
      return;
    }
    let use = this.uses.get(attrs);
    if (use === undefined) {
      use = { attrs, count: 0, encoded: undefined, nextHopV4: ipv4Number(attrs.nextHop) };
      this.uses.set(attrs, use);
    }
    use.count++;
    node.use = use;
  }

  /** A new member: it reads every live node; tombstones from before it joined are skipped. */
  join(peerId: number): Reader {
    const reader = new Reader(peerId, this.version);
    this.markCaughtUp(reader);
    return reader;
  }

  /** The readers to tell that there is something new: those that had read everything and now
   *  have something pending. Each is returned once, until a take finds it caught up again. */
  wake(): Reader[] {
    const woken: Reader[] = [];
    const still: Reader[] = [];
    for (const r of this.caughtUp) {
      if (!r.active) r.caughtUp = false;
      else if (this.hasPending(r)) {
        r.caughtUp = false;
        woken.push(r);
      } else still.push(r);
    }
    this.caughtUp = still;
    return woken;
  }

  private markCaughtUp(reader: Reader): void {
    if (reader.caughtUp) return;
    reader.caughtUp = true;
    this.caughtUp.push(reader);
  }

  leave(reader: Reader): void {
    reader.active = false;
  }

  /** RFC 2918 §4: send `family` again to this reader. */
  rewind(reader: Reader, family: Family): void {
    reader.rewindUpTo = Math.max(reader.rewindUpTo, reader.version);
    (reader.rewindFamilies ??= new Set()).add(family);
    reader.version = -1;
    reader.hint = undefined;
  }

  hasPending(reader: Reader): boolean {
    return reader.owed.size > 0 || (this.tail !== undefined && this.tail.version > reader.version);
  }

  /** Nodes not yet read (an upper bound of the changes to send: some may be skipped). */
  pending(reader: Reader): number {
    let n = reader.owed.size;
    for (let node = this.tail; node && node.version > reader.version; node = node.prev) n++;
    return n;
  }

  /** What the reader has (or is about to have) for `key`: the class answer unless withheld. */
  current(reader: Reader, key: string): Attrs | undefined {
    const node = this.table.get(key);
    if (!node || node.attrs === null || reader.owed.has(key) || isWithheld(node, reader)) return undefined;
    return node.attrs;
  }

  /**
   * Routes the reader has of `family` (or of all families), counting changes it has not read
   * yet as if it had: the class's live routes, less those withheld from it, corrected for the
   * unread nodes whose exclusion changes (a walk of its unread changes only).
   */
  sentCount(reader: Reader, personal: PersonalAnswer, family?: Family): number {
    let n = 0;
    for (const [f, c] of this.live) if (!family || f === family) n += c - (reader.withheldLive.get(f) ?? 0);
    for (let node = this.tail; node && node.version > reader.version; node = node.prev) {
      if (node.attrs === null || (family && node.nlri.family !== family)) continue;
      const withheld = isWithheld(node, reader);
      const own = personal(node);
      if (own === null && !withheld) n--;
      else if (own !== null && withheld) n++;
    }
    return n;
  }

  /**
   * Up to `limit` changes for the reader, of one family: owed withdrawals first, then the list
   * from its version. Undefined when it has nothing left; an empty batch when the walk skipped
   * nodes (withheld, or already sent) and should go on in another turn.
   */
  take(reader: Reader, limit: number, personal: PersonalAnswer): OutBatch | undefined {
    const batch = this.takeSome(reader, limit, personal);
    if (!this.hasPending(reader)) this.markCaughtUp(reader);
    return batch;
  }

  private takeSome(reader: Reader, limit: number, personal: PersonalAnswer): OutBatch | undefined {
    if (reader.owed.size) return this.takeOwed(reader, limit);
    let node = this.start(reader);
    if (!node) return undefined;
    const mixed = this.onlyFamily === null;
    const family = this.onlyFamily ?? node.nlri.family;
    const batch: OutBatch = { family, withdrawals: [], announcements: [], singles: [], prefixes: 0, upTo: reader.version };
    const groups = new Groups(batch.announcements);
    const chunkEnd = Math.ceil(node.version / CHUNK_VERSIONS) * CHUNK_VERSIONS;
    let walked = 0;
    while (node && node.version <= chunkEnd && batch.prefixes < limit && walked < limit * SKIP_FACTOR) {
      if (mixed && node.nlri.family !== family) break; // one family per batch: the next take starts here
      const attrs = this.deliver(reader, node, family, personal);
      if (attrs === null) batch.withdrawals.push(node.nlri);
      else if (attrs !== undefined) {
        // The class answer, which no other node carries: nothing to group it with.
        if (attrs === node.attrs && node.use!.count === 1) batch.singles.push(node);
        else groups.add(attrs, node.nlri);
      }
      if (attrs !== undefined) batch.prefixes++;
      reader.version = node.version;
      if (node.version > reader.maxVersion) reader.maxVersion = node.version;
      walked++;
      node = node.next;
    }
    reader.hint = node;
    batch.upTo = reader.version;
    if (reader.rewindFamilies && reader.version >= reader.rewindUpTo) {
      reader.rewindFamilies = undefined;
      reader.rewindUpTo = -1;
    }
    return batch;
  }

  /**
   * Drop tombstones every reader has passed (`readers`: the members now). Finding the slowest
   * reader costs a look at every member, so it is done once per `readers.size` takes (or when
   * tombstones pile up), never once per take: O(1) per take, and a table whose members have all
   * read a mass withdrawal frees it at their next take, not at the next churn. `lookAnyway`:
   * look on that schedule even with no tombstones waiting (the caller has something else to
   * forget that every member has read: its encodings). Returns the slowest active member's
   * version when it looked (Infinity with none), else undefined.
   */
  maybePurge(readers: ReadonlyMap<number, Reader>, lookAnyway = false): number | undefined {
    const q = this.tombstones;
    const waiting = q.length - this.tombstoneHead;
    if (waiting === 0 && !lookAnyway) return undefined;
    if (++this.takesSinceScan < readers.size && waiting < this.purgeAt) return undefined;
    this.takesSinceScan = 0;
    let min = Infinity;
    for (const r of readers.values()) if (r.active) min = Math.min(min, r.version);
    if (waiting !== 0) this.purge(min);
    return min;
  }

  /** Drop the tombstones (in version order) at or below `min`, the slowest member's version. */
  private purge(min: number): void {
    const q = this.tombstones;
    let i = this.tombstoneHead;
    for (; i < q.length; i++) {
      const node = q[i]!;
      if (!inList(node) || node.attrs !== null) continue; // revived or already gone
      if (node.version > min) break;
      this.unlink(node);
      node.version = -1;
      this.table.delete(node.nlri.key);
    }
    // Copy the rest only when most of the queue is gone: the copy then costs less than the purge.
    if (i > q.length / 2) {
      this.tombstones = q.slice(i);
      this.tombstoneHead = 0;
    } else this.tombstoneHead = i;
    this.purgeAt = Math.max(MIN_PURGE, 2 * (this.tombstones.length - this.tombstoneHead));
  }

  // ===== Delivery =====
  /**
   * What to send the reader for `node` (of `family`): attributes, null (withdraw) or undefined (nothing).
   * Keeps the node's withheld list true.
   */
  private deliver(reader: Reader, node: OutNode, family: Family, personal: PersonalAnswer): Attrs | null | undefined {
    const tomb = node.attrs === null;
    // A route refresh re-sends only its families' live routes among what was sent before.
    if (node.version <= reader.rewindUpTo && (tomb || !reader.rewindFamilies?.has(family))) return undefined;
    const withheld = isWithheld(node, reader);
    if (tomb) return withheld || node.version <= reader.joinVersion ? undefined : null;
    const own = personal(node);
    if (own === null) {
      if (withheld) return undefined;
      this.addWithheld(node, reader, family);
      // The reader cannot have the route when the key is newer than anything it was ever sent,
      // or when it has not changed since the reader joined (first pass). Otherwise it may have
      // an earlier answer: withdraw it.
      return reader.maxVersion < node.createdVersion || node.version <= reader.joinVersion ? undefined : null;
    }
    if (withheld) this.removeWithheld(node, reader, family);
    return own ?? node.attrs;
  }

  private addWithheld(node: OutNode, reader: Reader, family: Family): void {
    const w = node.withheld;
    // Readers of members that left stay in these lists until the next change: dropped here, so
    // a flapping peer does not make a route's list grow with every session.
    if (w === undefined || (!Array.isArray(w) && !w.active)) node.withheld = reader;
    else if (Array.isArray(w)) {
      const live = w.filter((r) => r.active);
      live.push(reader);
      node.withheld = live.length === 1 ? live[0] : live;
    } else node.withheld = [w, reader];
    bump(reader.withheldLive, family, 1);
  }

  private removeWithheld(node: OutNode, reader: Reader, family: Family): void {
    const w = node.withheld;
    if (w === reader) node.withheld = undefined;
    else if (Array.isArray(w)) {
      const rest = w.filter((r) => r !== reader && r.active);
      node.withheld = rest.length === 0 ? undefined : rest.length === 1 ? rest[0] : rest;
    }
    bump(reader.withheldLive, family, -1);
  }

  /** A node turned live or dead: readers it is withheld from count it (or not) among their
   *  withheld live routes; their "has nothing" stays true either way. */
  private liveChanged(node: OutNode, nowLive: boolean): void {
    const by = nowLive ? 1 : -1;
    this.bumpLive(node.nlri.family, by);
    const w = node.withheld;
    if (w === undefined) return;
    for (const r of Array.isArray(w) ? w : [w]) bump(r.withheldLive, node.nlri.family, by);
  }

  private takeOwed(reader: Reader, limit: number): OutBatch {
    let family: Family | undefined;
    const withdrawals: Nlri[] = [];
    for (const [key, nlri] of reader.owed) {
      if (withdrawals.length >= limit) break;
      family ??= nlri.family;
      if (nlri.family !== family) continue;
      reader.owed.delete(key);
      withdrawals.push(nlri);
    }
    // The reader's own withdrawals: no other member takes these lists; forgotten once every
    // member has read what the class has now.
    return { family: family!, withdrawals, announcements: [], singles: [], prefixes: withdrawals.length, upTo: this.version };
  }

  // ===== The list =====
  /** The first node above the reader's version: its hint when still valid, else found from the
   *  tail (the walk back is no longer than the walk forward that follows). */
  private start(reader: Reader): OutNode | undefined {
    const tail = this.tail;
    if (!tail || tail.version <= reader.version) return undefined;
    const hint = reader.hint;
    if (hint && inList(hint) && hint.version > reader.version && (!hint.prev || hint.prev.version <= reader.version)) return hint;
    let node = tail;
    while (node.prev && node.prev.version > reader.version) node = node.prev;
    return node;
  }

  private append(node: OutNode): void {
    node.prev = this.tail;
    node.next = undefined;
    if (this.tail) this.tail.next = node;
    else this.head = node;
    this.tail = node;
  }

  /** Take a node out of the list (the caller appends it again, or purges it). */
  private unlink(node: OutNode): void {
    if (node.prev) node.prev.next = node.next;
    else this.head = node.next;
    if (node.next) node.next.prev = node.prev;
    else this.tail = node.prev;
    node.prev = node.next = undefined;
  }

  private bumpLive(family: Family, by: number): void {
    bump(this.live, family, by);
  }
}

function bump(m: Map<Family, number>, family: Family, by: number): void {
  m.set(family, (m.get(family) ?? 0) + by);
}

export function isWithheld(node: OutNode, reader: Reader): boolean {
  const w = node.withheld;
  return w === reader || (Array.isArray(w) && w.includes(reader));
}

/** Groups with more attribute sets than this are found through a Map; fewer, by a scan. */
const SCAN_GROUPS = 64;

/**
 * A batch's announcements grouped by attribute set, in order of first appearance. A take makes
 * one per member: for Calico's blocks (an attribute set each) every route is a new group, so a
 * group is an array of exactly one (`[]` and a push reserves 17 slots), and the first groups are
 * found by comparing pointers, without the Map (hashing an attribute set reads it from memory).
 */
class Groups {
  private readonly list: { attrs: Attrs; nlri: Nlri[] }[];
  private index: Map<Attrs, Nlri[]> | undefined;

  constructor(list: { attrs: Attrs; nlri: Nlri[] }[]) {
    this.list = list;
  }

  add(attrs: Attrs, nlri: Nlri): void {
    const group = this.find(attrs);
    if (group) {
      group.push(nlri);
      return;
    }
    const created = [nlri];
    this.list.push({ attrs, nlri: created });
    if (this.index) this.index.set(attrs, created);
    else if (this.list.length > SCAN_GROUPS) this.index = new Map(this.list.map((g) => [g.attrs, g.nlri]));
  }

  private find(attrs: Attrs): Nlri[] | undefined {
    if (this.index) return this.index.get(attrs);
    const list = this.list;
    for (let i = list.length - 1; i >= 0; i--) if (list[i]!.attrs === attrs) return list[i]!.nlri;
    return undefined;
  }
}

/** Give the node its answer, the path it came from, and their facts that members compare. */
function setSource(node: OutNode, path: Path | undefined, attrs: Attrs | null): void {
  node.attrs = attrs;
  node.path = path;
  node.sourcePeerId = path?.peer?.id ?? -1;
  node.originatorId = path?.attrs.originatorId;
}

/** A 4-byte address as an int32 (a small integer for V8, compared with ===); else undefined. */
export function ipv4Number(a: Uint8Array | undefined): number | undefined {
  return a !== undefined && a.length === 4 ? (a[0]! << 24) | (a[1]! << 16) | (a[2]! << 8) | a[3]! : undefined;
}

/** Same source as far as per-member exclusions can tell: the same peer and ORIGINATOR_ID. */
function samePersonalSource(a: Path | undefined, b: Path | undefined): boolean {
  if (a === b) return true;
  if (!a || !b) return false;
  return a.peer === b.peer && a.attrs.originatorId === b.attrs.originatorId;
}
