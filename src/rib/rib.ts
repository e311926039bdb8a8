// SPDX-License-Identifier: Apache-2.0
// The RIB: Adj-RIB-In (before and after import policy) per peer, the Loc-RIB with the decision
// process, and Adj-RIB-Out per established peer, joined by the reflector rules and the policies.
//
//   UPDATE ─▶ Adj-RIB-In (pre) ─loop checks, import policy─▶ Path ─▶ Loc-RIB (decide)
//                                                                      │ best / ECMP changed
//   Adj-RIB-Out per export class ◀─mayExport, export policy, rewrite──┘
//        │ each member reads the class table from its own position (class-out.ts)
//        └─▶ per member: split horizon, ORIGINATOR_ID, next hop = the peer ─▶ batches to send
//
// No I/O and no timers: the speaker (src/speaker.ts) feeds it session events, asks it for
// batches to encode when a session can take more, and runs graceful-restart timers.
import type { CodecContext, DecodedUpdate, Family, Nlri } from '../bgp/messages/types.ts';
import { routeAttributes, type RouteAttributes } from '../bgp/messages/route-view.ts';
import { Origin } from '../bgp/messages/iana.ts';
import type { CompiledPolicy } from '../policy/types.ts';
import { importRejectReason, mayExport, rewriteForExport, type ReflectorConfig } from '../reflector/index.ts';
import { AcceptedPathIdRoute, AcceptedRoute, AdjRibIn, type AdjInEntry, type Arrival } from './adj-rib-in.ts';
import { AttrsTable } from './attrs.ts';
import { ipv4Number, isWithheld, type OutBatch, type OutNode, type PersonalAnswer, type Reader } from './class-out.ts';
import { classKey, ExportClass, type EncodeCache, type ExportMemoEntry } from './export-class.ts';
import { LocRib } from './loc-rib.ts';
import { KeyNlri, keyWithPathId, prefixKey } from './prefix-key.ts';
import type { Attrs, Destination, Path, PeerRef, RouteSource } from './types.ts';

export type { AdjInEntry } from './adj-rib-in.ts';

export interface RibPeerConfig {
  ref: PeerRef;
  importPolicy: CompiledPolicy;
  exportPolicy: CompiledPolicy;
  nextHopMode: 'self' | 'keep' | 'auto';
  /** Times our AS may appear in a received AS_PATH (Calico's numAllowedLocalASNumbers). */
  allowOwnAs: number;
  /** Our AS on this session when not the router's (BIRD `local as`, Calico localASNumber). */
  localAsn?: number;
}

/** What the RIB needs to know about an established session to fill its Adj-RIB-Out. */
export interface PeerUpInfo {
  families: Family[];
  /** Families where we send several paths per prefix (RFC 7911, negotiated). */
  addPathTx: ReadonlySet<Family>;
  /** Our addresses on this session: what "next hop self" means. */
  self: { ipv4?: Uint8Array; ipv6?: Uint8Array; ipv6LinkLocal?: Uint8Array };
  /** RFC 8950 negotiated: IPv4 routes may carry an IPv6 next hop. */
  extendedNextHopIpv4?: boolean;
}

/** What import makes of a received route (for `tern explain`). */
export interface ImportExplanation {
  accepted: boolean;
  /** Why it was rejected: a loop check or the import policy term. */
  reason?: string;
  /** The import policy rule that decided (absent when a loop check rejected first). */
  decidedBy?: string;
  /** Attributes after import policy (accepted only). */
  attrs?: RouteAttributes;
}

/** Whether a path goes to a peer, and as what (for `tern explain`). */
export interface ExportExplanation {
  sent: boolean;
  /** Why not: split horizon, RR rule, well-known community, export policy term, no next hop. */
  reason?: string;
  /** The export policy rule that decided (absent when mayExport refused first). */
  decidedBy?: string;
  /** The attributes that go on the wire (sent only). */
  attrs?: RouteAttributes;
}

export interface LocalRoute {
  nlri: Nlri;
  family: Family;
  source: Exclude<RouteSource, 'bgp'>;
  nextHop?: Uint8Array;
  interface?: string;
  blackhole?: boolean;
}

/** An export class's inputs: the members' config and session facts, with a neutral identity. */
interface ClassInputs {
  cfg: RibPeerConfig;
  info: PeerUpInfo;
}

type Class = ExportClass<ClassInputs>;

interface OutState extends PeerUpInfo {
  /** Peers with the same export inputs share export answers, outbound attribute sets, encoded
   *  UPDATEs and one Adj-RIB-Out (export-class.ts, class-out.ts). */
  cls: Class;
  /** This peer's position in the class's Adj-RIB-Out. */
  reader: Reader;
  /** This peer's own answer where the class answer names it (see personalAnswer). */
  personal: PersonalAnswer;
}

/** Sources sharing one attribute set that the memo remembers (more: computed every time). */
const MAX_MEMO_ENTRIES = 8;
const NO_NEXT_HOP = 'no usable next hop';

interface PeerState {
  cfg: RibPeerConfig;
  adjIn: AdjRibIn;
  out?: OutState;
}

export interface ApplyResult {
  announced: number;
  withdrawn: number;
  rejected: number;
}

export class Rib {
  readonly attrs = new AttrsTable();
  readonly loc: LocRib;
  /** Called when a peer has staged output to send. */
  onOutput: (peerId: number) => void = () => {};
  /** Consumers of Loc-RIB changes (kernel sync, monitoring): called with every destination whose
   *  best path or ECMP set changed (including destinations that lost their last path). */
  readonly destinationListeners: ((dest: Destination) => void)[] = [];
  private readonly peers = new Map<number, PeerState>();
  /** Export classes (update groups) by key: see export-class.ts. */
  private readonly classes = new Map<string, Class>();
  private readonly local = new Map<string, Path>();
  private reflector: ReflectorConfig;

  constructor(cfg: ReflectorConfig) {
    this.reflector = cfg;
    this.loc = new LocRib({ localAsn: cfg.localAsn, routerId: cfg.routerId });
  }

  // ===== Peers =====
  setPeer(cfg: RibPeerConfig): void {
    const state = this.peers.get(cfg.ref.id);
    if (state) {
      const oldRef = state.cfg.ref;
      state.cfg = cfg;
      if (state.out) this.switchClass(state, oldRef); // the export answer may have changed
    }
    else this.peers.set(cfg.ref.id, { cfg, adjIn: new AdjRibIn(this.loc, cfg.ref.id) });
  }

  peer(id: number): RibPeerConfig | undefined {
    return this.peers.get(id)?.cfg;
  }

  removePeer(id: number): void {
    this.withdrawAll(id);
    this.peers.delete(id);
  }

  /** Per family: the peer's routes received, accepted, rejected and stale (adj-rib-in.ts). */
  adjInCounts(id: number): Map<Family, { received: number; accepted: number; rejected: number; stale: number }> {
    return this.peers.get(id)?.adjIn.counts() ?? new Map();
  }

  acceptedCount(id: number): number {
    return this.peers.get(id)?.adjIn.accepted ?? 0;
  }

  // ===== Inbound =====
  applyUpdate(peerId: number, decoded: DecodedUpdate, ctx: CodecContext, now: number): ApplyResult {
    const state = this.peers.get(peerId);
    const result: ApplyResult = { announced: 0, withdrawn: 0, rejected: 0 };
    if (!state) return result;
    const { message, action } = decoded;
    const withdrawals: Nlri[] = [...message.withdrawn];
    const announcements = new Map<Family, Nlri[]>();
    if (message.nlri.length) announcements.set('ipv4-unicast', message.nlri);
    for (const a of message.attributes) {
      if (a.kind === 'mp-unreach') withdrawals.push(...a.withdrawn);
      else if (a.kind === 'mp-reach' && a.nlri.length) {
        const family = a.nlri[0]!.family;
        announcements.set(family, [...(announcements.get(family) ?? []), ...a.nlri]);
      }
    }
    const changed = new Set<Destination>();
    // Indexed loops over the prefixes: an array iterator's result object per prefix was ~40
    // bytes a route the young collector saw wherever the loop ran unoptimized.
    for (let i = 0; i < withdrawals.length; i++) if (this.removeIn(state, prefixKey(withdrawals[i]!), changed)) result.withdrawn++;
    for (const [family, nlri] of announcements) {
      // RFC 7606 §2 "treat-as-withdraw": the UPDATE's routes are withdrawn, not used.
      if (action === 'treat-as-withdraw' || action === 'afi-safi-disable') {
        for (let i = 0; i < nlri.length; i++) if (this.removeIn(state, prefixKey(nlri[i]!), changed)) result.withdrawn++;
        continue;
      }
      const raw = routeAttributes(message, family, ctx);
      const arrival: Arrival = { at: now, raw, peer: state.cfg.ref };
      // Every prefix of the UPDATE shares its attributes: with an import policy that never looks
      // at the prefix, the loop checks and the policy run once per UPDATE, not once per prefix.
      const shared = state.cfg.importPolicy.prefixIndependent;
      let verdict: ImportExplanation | undefined;
      for (let i = 0; i < nlri.length; i++) {
        const n = nlri[i]!;
        const key = prefixKey(n);
        const old = state.adjIn.get(key)?.path;
        if (!shared || !verdict) verdict = this.importVerdict(state, n, family, raw);
        if (this.importEntry(state, key, n, family, false, arrival, old, verdict, changed)) result.announced++;
        else result.rejected++;
      }
    }
    this.propagate(changed);
    return result;
  }

  /** Forget every route of a peer (session down without graceful restart). */
  withdrawAll(peerId: number): number {
    const state = this.peers.get(peerId);
    if (!state) return 0;
    const changed = new Set<Destination>();
    const n = state.adjIn.size;
    for (const key of [...state.adjIn.keys()]) this.removeIn(state, key, changed);
    this.propagate(changed);
    return n;
  }

  /** RFC 4724 §4.2 / RFC 7313 §4: mark a peer's routes of these families stale. */
  markStale(peerId: number, families: readonly Family[]): number {
    const state = this.peers.get(peerId);
    if (!state) return 0;
    let n = 0;
    for (const e of state.adjIn.values()) {
      if (!families.includes(e.family)) continue;
      e.stale = true;
      if (e.path) e.path.stale = true;
      n++;
    }
    if (n) state.adjIn.markedStale();
    return n;
  }

  /** Remove the peer's routes of `family` still stale (End-of-RIB, EoRR, or a timer). */
  sweepStale(peerId: number, family?: Family): number {
    const state = this.peers.get(peerId);
    if (!state) return 0;
    const changed = new Set<Destination>();
    let n = 0;
    for (const [key, e] of [...state.adjIn]) {
      if (!e.stale || (family && e.family !== family)) continue;
      this.removeIn(state, key, changed);
      n++;
    }
    this.propagate(changed);
    return n;
  }

  staleCount(peerId: number): number {
    let n = 0;
    for (const e of this.peers.get(peerId)?.adjIn.values() ?? []) if (e.stale) n++;
    return n;
  }

  /** Import policy changed: evaluate the peer's Adj-RIB-In again, no session reset. */
  reimport(peerId: number): void {
    const state = this.peers.get(peerId);
    if (!state) return;
    const changed = new Set<Destination>();
    // A copy: import may move a route into or out of the Loc-RIB, where accepted routes live.
    // Routes that shared an arrival share its copy naming the peer as configured now.
    const arrivals = new Map<Arrival, Arrival>();
    const ref = state.cfg.ref;
    for (const [key, e] of [...state.adjIn]) {
      let arrival: Arrival;
      if (!(e instanceof AcceptedRoute)) arrival = { at: e.receivedAt, raw: e.raw, peer: ref };
      else if (e.arrival.peer === ref) arrival = e.arrival;
      else {
        arrival = arrivals.get(e.arrival) ?? { ...e.arrival, peer: ref };
        arrivals.set(e.arrival, arrival);
      }
      this.importEntry(state, key, e.nlri, e.family, e.stale, arrival, e.path, this.importVerdict(state, e.nlri, e.family, e.raw), changed);
    }
    this.propagate(changed);
  }

  /** Store what import made of a received route under `key`, and give the Loc-RIB its path in
   *  place of `old` (the earlier path under the key). Returns whether it was accepted. Fields,
   *  not a record: this runs once per received prefix. */
  private importEntry(state: PeerState, key: string, nlri: Nlri, family: Family, stale: boolean, arrival: Arrival, old: Path | undefined, verdict: ImportExplanation, changed: Set<Destination>): boolean {
    // Kept as its key, not as decoded: the decoded NLRI and its address view die young.
    const kept = nlri instanceof KeyNlri ? nlri : new KeyNlri(key);
    if (!verdict.attrs) {
      state.adjIn.reject(key, { nlri: kept, family, raw: arrival.raw, path: undefined, rejected: verdict.reason, stale, receivedAt: arrival.at });
      if (old) this.dropPath(state, old, changed);
      return false;
    }
    // Without a path id the Adj-RIB-In key is the destination key: one string and one prefix
    // object, not two.
    const withId = nlri.pathId !== undefined;
    const route = new (withId ? AcceptedPathIdRoute : AcceptedRoute)(kept, this.attrs.intern(verdict.attrs), stale, arrival);
    state.adjIn.accept(key, route, old instanceof AcceptedRoute ? old : undefined);
    // The destination's prefix has no path id: under ADD-PATH, one of its own.
    const dest = this.loc.upsert(route, withId ? new KeyNlri(route.destKey) : kept, old);
    if (old) this.attrs.release(old.attrs);
    if (dest) changed.add(dest);
    return true;
  }

  /** Loop checks, then import policy: the attributes to keep, or why the route is rejected.
   *  The one code path for importEntry and explainImport. */
  private importVerdict(state: PeerState, nlri: Nlri, family: Family, raw: RouteAttributes): ImportExplanation {
    const { ref, importPolicy, allowOwnAs } = state.cfg;
    const loop = importRejectReason(raw, ref, { ...this.reflectorFor(state.cfg), allowOwnAs });
    if (loop) return { accepted: false, reason: loop };
    const verdict = importPolicy.evaluate(
      { nlri, family, attrs: raw, source: 'bgp', from: ref },
      { direction: 'import', peer: ref, localAsn: this.reflectorFor(state.cfg).localAsn },
    );
    if (verdict.accept) return { accepted: true, attrs: verdict.attrs, decidedBy: verdict.decidedBy };
    return { accepted: false, reason: `rejected by import policy (${verdict.decidedBy})`, decidedBy: verdict.decidedBy };
  }

  private removeIn(state: PeerState, key: string, changed: Set<Destination>): boolean {
    const entry = state.adjIn.get(key);
    if (!entry) return false;
    state.adjIn.forget(key);
    if (entry.path) this.dropPath(state, entry.path, changed);
    return true;
  }

  private dropPath(state: PeerState, path: Path, changed: Set<Destination>): void {
    if (path instanceof AcceptedRoute) state.adjIn.drop(path);
    const dest = this.loc.remove(path);
    this.attrs.release(path.attrs);
    if (dest) changed.add(dest);
  }

  // ===== Local routes (originated, kernel, connected) =====
  /** Replace the set of local routes of one source with `routes`. */
  setLocalRoutes(source: LocalRoute['source'], routes: LocalRoute[], now: number): void {
    const changed = new Set<Destination>();
    const wanted = new Map(routes.map((r) => [`${source}|${prefixKey(r.nlri)}`, r]));
    for (const [key, path] of [...this.local]) {
      if (path.source !== source) continue;
      const r = wanted.get(key);
      if (r && sameLocal(path, r)) {
        wanted.delete(key);
        continue;
      }
      this.local.delete(key);
      const dest = this.loc.remove(path);
      this.attrs.release(path.attrs);
      if (dest) changed.add(dest);
    }
    for (const [key, r] of wanted) {
      const path: Path = {
        destKey: destKeyOf(r.nlri),
        nlri: withoutPathId(r.nlri),
        source,
        interface: r.interface,
        ...(r.blackhole ? { blackhole: true } : {}),
        attrs: this.attrs.intern(localAttributes(r.nextHop)),
        stale: false,
        receivedAt: now,
      };
      this.local.set(key, path);
      const dest = this.loc.upsert(path, path.nlri);
      if (dest) changed.add(dest);
    }
    this.propagate(changed);
  }

  /** Add or replace one local route (kernel sync learns one at a time). */
  upsertLocalRoute(r: LocalRoute, now: number): void {
    const key = `${r.source}|${prefixKey(r.nlri)}`;
    const old = this.local.get(key);
    if (old && sameLocal(old, r)) return;
    const changed = new Set<Destination>();
    const path: Path = {
      destKey: destKeyOf(r.nlri),
      nlri: withoutPathId(r.nlri),
      source: r.source,
      interface: r.interface,
      ...(r.blackhole ? { blackhole: true } : {}),
      attrs: this.attrs.intern(localAttributes(r.nextHop)),
      stale: false,
      receivedAt: now,
    };
    this.local.set(key, path);
    const dest = this.loc.upsert(path, path.nlri, old);
    if (old) this.attrs.release(old.attrs);
    if (dest) changed.add(dest);
    this.propagate(changed);
  }

  removeLocalRoute(source: LocalRoute['source'], nlri: Nlri): void {
    const key = `${source}|${prefixKey(nlri)}`;
    const path = this.local.get(key);
    if (!path) return;
    this.local.delete(key);
    const dest = this.loc.remove(path);
    this.attrs.release(path.attrs);
    if (dest) this.propagate(new Set([dest]));
  }

  *localRoutes(source?: LocalRoute['source']): Generator<Path> {
    for (const path of this.local.values()) if (!source || path.source === source) yield path;
  }

  // ===== Outbound =====
  peerUp(peerId: number, info: PeerUpInfo): void {
    const state = this.peers.get(peerId);
    if (!state) return;
    if (state.out) this.leaveClass(state, state.cfg.ref);
    const cls = this.joinClass(state.cfg, info);
    const reader = cls.add(peerId, state.cfg.ref.routerId);
    state.out = { ...info, cls, reader, personal: this.personalAnswer(state, cls) };
    this.onOutput(peerId);
  }

  peerDown(peerId: number): void {
    const state = this.peers.get(peerId);
    if (state?.out) this.leaveClass(state, state.cfg.ref);
    if (state) state.out = undefined;
  }

  /** The shared UPDATE encodings of the peer's export class (for the speaker's packer). */
  encodeCache(peerId: number): EncodeCache | undefined {
    return this.peers.get(peerId)?.out?.cls.encoded;
  }

  /** How many export classes (update groups) there are now, and their sizes (tests, `show status`). */
  exportClassSizes(): number[] {
    return [...this.classes.values()].map((c) => c.members);
  }

  /** The class for these export inputs; a new class is filled from the Loc-RIB once. */
  private joinClass(cfg: RibPeerConfig, info: PeerUpInfo): Class {
    const key = classKey({ ref: cfg.ref, exportPolicy: cfg.exportPolicy, nextHopMode: cfg.nextHopMode, families: info.families, addPathTx: info.addPathTx, self: info.self, extendedNextHopIpv4: info.extendedNextHopIpv4, localAsn: cfg.localAsn });
    let cls = this.classes.get(key);
    if (!cls) {
      cls = new ExportClass<ClassInputs>(key, { cfg: { ...cfg, ref: neutralRef(cfg.ref, this.classes.size) }, info });
      this.classes.set(key, cls);
      this.refillClass(cls);
    }
    return cls;
  }

  private leaveClass(state: PeerState, ref: PeerRef): void {
    const cls = state.out!.cls;
    cls.remove(ref.id, ref.routerId);
    if (cls.members <= 0 && this.classes.get(cls.key) === cls) this.classes.delete(cls.key);
  }

  /**
   * The peer's export inputs changed. Same class: its remembered answers are forgotten (a
   * reloaded policy keeps its name, not its object) and reexport refills it. Another class: the
   * peer reads the new class's table from the start, after withdrawing what it may have from the
   * old class that the new one does not announce to it.
   */
  private switchClass(state: PeerState, oldRef: PeerRef): void {
    const out = state.out!;
    const old = out.cls;
    const oldReader = out.reader;
    const cls = this.joinClass(state.cfg, out);
    if (cls === old) {
      cls.memo = new WeakMap();
      out.personal = this.personalAnswer(state, cls);
      return;
    }
    const reader = cls.add(state.cfg.ref.id, state.cfg.ref.routerId);
    // The peer keeps what it holds of the old class where the new one announces the same key, so
    // it may hold any key the new class has now: when one later becomes its own (withheld), it
    // must be sent the withdrawal. A new reader's "never sent anything" would skip it.
    reader.maxVersion = reader.joinVersion;
    const personal = this.personalAnswer(state, cls);
    const announces = (key: string): boolean => {
      const node = cls.out.get(key);
      return node !== undefined && node.attrs !== null && personal(node) !== null;
    };
    for (const node of old.out.nodes()) {
      const mayHave = (node.attrs !== null && !isWithheld(node, oldReader)) || node.version > oldReader.version;
      if (mayHave && !announces(node.nlri.key)) reader.owed.set(node.nlri.key, node.nlri);
    }
    for (const [key, nlri] of oldReader.owed) if (!announces(key)) reader.owed.set(key, nlri);
    state.out = { ...out, cls, reader, personal };
    old.remove(oldRef.id, oldRef.routerId);
    if (old.members <= 0 && this.classes.get(old.key) === old) this.classes.delete(old.key);
    this.onOutput(state.cfg.ref.id);
  }

  /** Export policy or next-hop settings changed: recompute what the peer's class should have. */
  reexport(peerId: number): void {
    const state = this.peers.get(peerId);
    if (!state?.out) return;
    const cls = state.out.cls;
    if (this.refillClass(cls)) this.notifyReaders(cls);
    if (cls.out.hasPending(state.out.reader)) this.onOutput(peerId);
  }

  /** RFC 2918 §4: a peer asked for our routes of `family` again. */
  refreshOut(peerId: number, family: Family): void {
    const out = this.peers.get(peerId)?.out;
    if (!out) return;
    out.cls.out.rewind(out.reader, family);
    if (out.cls.out.hasPending(out.reader)) this.onOutput(peerId);
  }

  /** Changes not yet read by the peer (an upper bound: some may turn out to be nothing to send). */
  pending(peerId: number): number {
    const out = this.peers.get(peerId)?.out;
    return out ? out.cls.out.pending(out.reader) : 0;
  }

  /** Whether the peer has anything left to read (constant time; the speaker asks every flush). */
  hasPending(peerId: number): boolean {
    const out = this.peers.get(peerId)?.out;
    return out ? out.cls.out.hasPending(out.reader) : false;
  }

  /** Up to `limit` changes for the peer, of one family, grouped for packing (see packer.ts). */
  takeOutput(peerId: number, limit: number): OutBatch | undefined {
    const out = this.peers.get(peerId)?.out;
    if (!out) return undefined;
    const { cls } = out;
    const batch = cls.out.take(out.reader, limit, out.personal);
    // Tombstones and encodings every member has read past go (looked for on a schedule).
    const slowest = cls.out.maybePurge(cls.readers, cls.encoded.size !== 0);
    if (slowest !== undefined) cls.encoded.forget(slowest);
    return batch;
  }

  sentCount(peerId: number, family?: Family): number {
    const out = this.peers.get(peerId)?.out;
    return out ? out.cls.out.sentCount(out.reader, out.personal, family) : 0;
  }

  private propagate(changed: Set<Destination>): void {
    if (changed.size === 0) return;
    // forEach, not for-of: no iterator result object per destination (see applyUpdate).
    for (const listener of this.destinationListeners) changed.forEach((dest) => listener(dest));
    // Once per class, not per peer: members read the class table in their own time.
    for (const cls of this.classes.values()) {
      let any = false;
      changed.forEach((dest) => {
        if (this.exportDest(cls, dest)) any = true;
      });
      if (any) this.notifyReaders(cls);
    }
  }

  /** Tell the members that had read everything that there is more (the others are reading). */
  private notifyReaders(cls: Class): void {
    for (const reader of cls.out.wake()) this.onOutput(reader.peerId);
  }

  /** Compute the class's answer for every destination again; withdraw what left the Loc-RIB. */
  private refillClass(cls: Class): boolean {
    let changed = false;
    for (const dest of this.loc.values()) if (this.exportDest(cls, dest)) changed = true;
    for (const [destKey, keys] of [...cls.advertised]) {
      if (this.loc.get(destKey)) continue;
      for (const nlri of keys.values()) if (cls.out.stage(nlri, null, undefined, cls.touchesMember)) changed = true;
      cls.advertised.delete(destKey);
    }
    const addPath = cls.inputs.info.addPathTx;
    for (const node of [...cls.out.nodes()]) {
      if (node.attrs === null || addPath.has(node.nlri.family) || this.loc.get(node.nlri.key)) continue;
      if (cls.out.stage(node.nlri, null, undefined, cls.touchesMember)) changed = true;
    }
    return changed;
  }

  /** Stage the class's answer for one destination; true when members have something to read. */
  private exportDest(cls: Class, dest: Destination): boolean {
    const { info } = cls.inputs;
    const family = dest.family;
    if (!info.families.includes(family)) return false;
    if (info.addPathTx.has(family)) return this.exportDestAddPath(cls, dest);
    // One path per prefix, keyed by the prefix: staging "nothing" where the class has nothing
    // is a no-op (no per-prefix bookkeeping here).
    const best = dest.decision.best;
    const attrs = best ? this.exportAttrs(cls, best, family) : undefined;
    return cls.out.stage(KeyNlri.of(dest.nlri), attrs ?? null, best, cls.touchesMember);
  }

  /** RFC 7911: every path of the ECMP set, each under its own path id. */
  private exportDestAddPath(cls: Class, dest: Destination): boolean {
    const wanted = new Map<string, KeyNlri>();
    let changed = false;
    for (const path of dest.decision.multipath) {
      const attrs = this.exportAttrs(cls, path, dest.family);
      if (!attrs) continue;
      const key = keyWithPathId(dest.key, localPathId(path));
      const nlri = cls.out.get(key)?.nlri ?? new KeyNlri(key);
      wanted.set(key, nlri);
      if (cls.out.stage(nlri, attrs, path, cls.touchesMember)) changed = true;
    }
    for (const [key, nlri] of cls.advertised.get(dest.key) ?? []) {
      if (!wanted.has(key) && cls.out.stage(nlri, null, undefined, cls.touchesMember)) changed = true;
    }
    if (wanted.size) cls.advertised.set(dest.key, wanted);
    else cls.advertised.delete(dest.key);
    return changed;
  }

  /**
   * A member's own answer for a node of its class table, where the class answer may not hold
   * for it: the path came from it (split horizon), names it as ORIGINATOR_ID (RFC 4456 §8), or
   * the next hop is its own address (RFC 4271 §5.1.3). Undefined: the class answer applies.
   */
  private personalAnswer(state: PeerState, cls: Class): PersonalAnswer {
    // Made again whenever the peer's config or session changes (setPeer → switchClass, peerUp),
    // so the address captured here is the peer's current one.
    const toV4 = ipv4Number(state.cfg.ref.address);
    return (node: OutNode) => {
      const path = node.path;
      if (path === undefined || node.attrs === null) return undefined;
      const to = state.cfg.ref;
      // The node's own copies of the path's facts (OutNode.sourcePeerId) and its answer's next
      // hop (AttrsUse.nextHopV4, defined for every live node): no pointer chasing to the path.
      const nextHopV4 = node.use!.nextHopV4;
      const personal = node.sourcePeerId === to.id
        || (node.originatorId !== undefined && to.routerId !== 0 && node.originatorId === to.routerId)
        || (nextHopV4 !== undefined ? nextHopV4 === toV4 : node.attrs.nextHop !== undefined && sameBytes(node.attrs.nextHop, to.address));
      if (!personal) return undefined;
      const verdict = this.exportVerdict(state.cfg, path, node.nlri.family, state.out);
      if (!verdict.attrs) return null;
      const attrs = cls.outAttrs.intern(verdict.attrs);
      return attrs === node.attrs ? undefined : attrs;
    };
  }

  /**
   * The attributes `path` carries to the members of a class, or undefined when it is not sent.
   * With an export policy that never looks at the prefix, the answer depends only on the path's
   * interned attributes and its source, so it is computed once per attribute set and reused (a
   * full table shares a few thousand attribute sets).
   */
  private exportAttrs(cls: Class, path: Path, family: Family): Attrs | undefined {
    const { cfg, info } = cls.inputs;
    const memo = cfg.exportPolicy.prefixIndependent;
    // The memo is a short list per attribute set (usually one entry: one source), compared
    // field by field: no key string per route (docs/performance.md).
    const routerId = path.peer?.routerId ?? 0;
    const entries = memo ? cls.memo.get(path.attrs) : undefined;
    if (entries) {
      for (const e of entries) {
        if (e.source === path.source && e.peer === path.peer && e.routerId === routerId && e.family === family) return e.result ?? undefined;
      }
    }
    const verdict = this.exportVerdict(cfg, path, family, info);
    const result = verdict.attrs ? cls.outAttrs.intern(verdict.attrs) : undefined;
    if (memo) {
      const entry: ExportMemoEntry = { source: path.source, peer: path.peer, routerId, family, result: result ?? null };
      const list = cls.memo.get(path.attrs);
      if (!list) cls.memo.set(path.attrs, [entry]);
      else if (list.length < MAX_MEMO_ENTRIES) list.push(entry);
    }
    return result;
  }

  /**
   * mayExport, export policy, then the attribute rewrite: the one code path for class answers,
   * members' own answers and explainExport. Without `out` (session not established) it stops
   * after the policy.
   */
  private exportVerdict(cfg: RibPeerConfig, path: Path, family: Family, out: PeerUpInfo | undefined): ExportExplanation {
    const { ref, exportPolicy, nextHopMode } = cfg;
    const allowed = mayExport(path, ref);
    if (allowed !== true) return { sent: false, reason: allowed };
    const reflector = this.reflectorFor(cfg);
    const verdict = exportPolicy.evaluate(
      { nlri: withoutPathId(path.nlri), family, attrs: path.attrs, source: path.source, interface: path.interface, from: path.peer },
      { direction: 'export', peer: ref, localAsn: reflector.localAsn },
    );
    const decidedBy = verdict.decidedBy;
    if (!verdict.accept) return { sent: false, reason: `rejected by export policy (${decidedBy})`, decidedBy };
    if (!out) return { sent: false, reason: 'session not established: nothing is sent until it is', decidedBy };
    const rewritten = rewriteForExport(verdict.attrs, path, ref, {
      cfg: reflector,
      nextHopMode,
      self: out.self,
      family,
      policyNextHop: verdict.nextHop,
      prepend: verdict.prepend,
      extendedNextHopIpv4: out.extendedNextHopIpv4,
    });
    if (!rewritten) return { sent: false, reason: `${NO_NEXT_HOP} for ${family} towards ${ref.name} (RFC 4271 §5.1.3)`, decidedBy };
    return { sent: true, attrs: rewritten, decidedBy };
  }

  /** The reflector settings for one peer's session: our AS there may be its own `localAsn`. */
  private reflectorFor(cfg: RibPeerConfig): ReflectorConfig {
    const local = cfg.localAsn;
    return local === undefined || local === this.reflector.localAsn ? this.reflector : { ...this.reflector, localAsn: local };
  }

  // ===== Views =====
  /** For `tern explain`: what import makes of this Adj-RIB-In entry now (read-only). */
  explainImport(peerId: number, entry: AdjInEntry): ImportExplanation | undefined {
    const state = this.peers.get(peerId);
    return state ? this.importVerdict(state, entry.nlri, entry.family, entry.raw) : undefined;
  }

  /**
   * For `tern explain`: would `path` be advertised to the peer, why not, and with which
   * attributes — computed by the same code as the Adj-RIB-Out (read-only, nothing is staged).
   */
  explainExport(peerId: number, path: Path, family: Family): ExportExplanation {
    const state = this.peers.get(peerId);
    if (!state) return { sent: false, reason: 'unknown peer' };
    if (state.out && !state.out.families.includes(family)) return { sent: false, reason: `${family} not negotiated with ${state.cfg.ref.name}` };
    return this.exportVerdict(state.cfg, path, family, state.out);
  }

  /** For `tern explain`: the peer's session state as the RIB sees it (undefined: not established). */
  outInfo(peerId: number): { families: readonly Family[]; addPathTx: ReadonlySet<Family> } | undefined {
    const out = this.peers.get(peerId)?.out;
    return out ? { families: out.families, addPathTx: out.addPathTx } : undefined;
  }

  /** Adj-RIB-In entries of one peer for one destination (every ADD-PATH path id). */
  adjInFor(peerId: number, destKey: string): AdjInEntry[] {
    return this.peers.get(peerId)?.adjIn.forDest(destKey) ?? [];
  }

  /** What the peer's Adj-RIB-Out holds for one destination: what it has been sent (a change not
   *  yet read from its class table is not there yet). */
  adjOutFor(peerId: number, dest: Destination): { nlri: Nlri; attrs: Attrs }[] {
    const out = this.peers.get(peerId)?.out;
    if (!out) return [];
    const keys = new Set<string>([dest.key, ...(out.cls.advertised.get(dest.key)?.keys() ?? [])]);
    for (const p of dest.paths) keys.add(keyWithPathId(dest.key, localPathId(p)));
    const found: { nlri: Nlri; attrs: Attrs }[] = [];
    for (const key of keys) {
      const node = out.cls.out.get(key);
      const attrs = node && sentTo(out, node);
      if (attrs) found.push({ nlri: node.nlri, attrs });
    }
    return found;
  }

  adjIn(peerId: number): IterableIterator<AdjInEntry> {
    const adjIn = this.peers.get(peerId)?.adjIn;
    return adjIn ? adjIn.values() : ([] as AdjInEntry[]).values();
  }

  *adjOut(peerId: number, family?: Family): Generator<{ nlri: Nlri; attrs: Attrs; family: Family }> {
    const out = this.peers.get(peerId)?.out;
    if (!out) return;
    for (const node of out.cls.out.nodes()) {
      if (family && node.nlri.family !== family) continue;
      const attrs = sentTo(out, node);
      if (attrs) yield { nlri: node.nlri, attrs, family: node.nlri.family };
    }
  }
}

/** What a member has been sent for a node of its class table (undefined: nothing, or not yet). */
function sentTo(out: OutState, node: OutNode): Attrs | undefined {
  if (node.attrs === null || node.version > out.reader.maxVersion || out.reader.owed.has(node.nlri.key)) return undefined;
  if (isWithheld(node, out.reader)) return undefined;
  return node.attrs;
}

/** A class's identity for computing answers: no peer id, address or router id, so no answer
 *  is refused because of who one member is (members apply that themselves). */
function neutralRef(ref: PeerRef, n: number): PeerRef {
  return { id: -1 - n, name: `update group ${n}`, asn: ref.asn, type: ref.type, address: new Uint8Array(0), addressText: '', rrClient: ref.rrClient, routerId: 0 };
}

function withoutPathId(n: Nlri): Nlri {
  return n.pathId === undefined ? n : { family: n.family, length: n.length, address: n.address };
}

function destKeyOf(n: Nlri): string {
  return prefixKey(withoutPathId(n));
}

/**
 * RFC 7911 §3: the path id we send identifies the path within the prefix; ours is derived from
 * the source (peer id and its path id) so a path keeps its id while it stays advertised.
 */
export function localPathId(path: Path): number {
  if (!path.peer) return 1;
  return ((path.peer.id + 2) * 0x10000 + ((path.nlri.pathId ?? 0) & 0xffff)) >>> 0;
}

function localAttributes(nextHop: Uint8Array | undefined): RouteAttributes {
  return {
    origin: Origin.Igp,
    asPath: [],
    ...(nextHop ? { nextHop } : {}),
    atomicAggregate: false,
    communities: [],
    largeCommunities: [],
    extendedCommunities: [],
    clusterList: [],
    unknown: [],
  };
}

function sameLocal(path: Path, r: LocalRoute): boolean {
  const a = path.attrs.nextHop;
  const b = r.nextHop;
  const sameNextHop = a === b || (!!a && !!b && a.length === b.length && a.every((x, i) => x === b[i]));
  return sameNextHop && path.interface === r.interface && (path.blackhole ?? false) === (r.blackhole ?? false);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
