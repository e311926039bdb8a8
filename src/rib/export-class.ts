// SPDX-License-Identifier: Apache-2.0
// Export classes, the shared half of update groups (FRR update-groups, rustbgpd): established
// peers whose export answer can differ only by who they are — same export policy, next-hop
// mode, peer type, route-reflector-client flag, families, ADD-PATH, local addresses and codec
// parameters — share one memo of export answers, one table of outbound attribute sets and one
// cache of encoded UPDATEs. A route's export policy and rewrite then run once per class, and
// an UPDATE is encoded once per class, not once per peer.
// The class also holds the one Adj-RIB-Out of its members (class-out.ts): answers are computed
// for the class's members without their identity (a neutral PeerRef), and what names one member
// itself — split horizon, ORIGINATOR_ID = its router id (RFC 4456 §8), a NEXT_HOP that is its
// own address (RFC 4271 §5.1.3) — is applied per member as it reads the shared table.
import type { CodecContext, Family, Nlri } from '../bgp/messages/types.ts';
import type { CompiledPolicy } from '../policy/types.ts';
import { AttrsTable } from './attrs.ts';
import { ClassAdjRibOut, type Reader } from './class-out.ts';
import type { KeyNlri } from './prefix-key.ts';
import type { Attrs, Path, PeerRef, RouteSource } from './types.ts';

/** One remembered export answer: what `attrs` from this source become for the class. */
export interface ExportMemoEntry {
  source: RouteSource;
  peer: PeerRef | undefined;
  routerId: number;
  family: Family;
  result: Attrs | null;
}

/** Encoded UPDATEs for one attribute set (or the withdrawals: attrs null) and one NLRI list. */
interface Encoded {
  attrs: Attrs | null;
  nlri: Nlri[];
  as4: boolean;
  maxMessageSize: number;
  addPath: boolean;
  extendedNextHopIpv4: boolean;
  frames: Uint8Array[];
  /** The class version its batch reached (OutBatch.upTo). */
  upTo: number;
}

/**
 * Encoded UPDATEs of a class, by the first NLRI object of their list: members cut the class
 * table at the same chunk boundaries, so a list one member sends is the list the others send
 * when they get there, however far apart they are (several lists with one attribute set are
 * remembered at once, not only the last). An entry is kept until every member has read past its
 * batch (`forget`), and no longer: kept while its first route lived (a WeakMap), the encodings of
 * a full table stayed for as long as the table, 11 heap bytes a route (1M routes: 23 MiB of peak
 * RSS), and the withdrawals' for as long as any tombstone of theirs.
 */
export class EncodeCache {
  private readonly byFirst = new Map<Nlri, Encoded>();
  /** The entries in the order they were made, forgotten from the front. */
  private made: Encoded[] = [];
  private madeHead = 0;
  /** At most this many entries: a member that stops reading (a peer whose TCP window stays shut,
   *  with no hold timer) must not make the class keep every encoding it ever made while it
   *  waits. Past it the oldest go, whatever the members' versions: a member reading them later
   *  encodes its batch itself. */
  private readonly maxKept: number;

  constructor(maxKept = 1024) {
    this.maxKept = maxKept;
  }

  /** Entries kept. */
  get size(): number {
    return this.byFirst.size;
  }

  /** The frames encoded for `nlri` under `attrs` (null: withdrawals) with these codec settings, if any. */
  get(attrs: Attrs | null, family: Family, nlri: Nlri[], ctx: CodecContext): Uint8Array[] | undefined {
    const hit = nlri.length ? this.byFirst.get(nlri[0]!) : undefined;
    if (hit === undefined || hit.attrs !== attrs || hit.as4 !== ctx.as4 || hit.maxMessageSize !== ctx.maxMessageSize || hit.extendedNextHopIpv4 !== ctx.extendedNextHopIpv4) return undefined;
    return hit.addPath === ctx.addPathSend.has(family) && sameList(hit.nlri, nlri) ? hit.frames : undefined;
  }

  /** Remember the frames just encoded for `nlri` under `attrs`, from a batch that reached `upTo`. */
  set(attrs: Attrs | null, family: Family, nlri: Nlri[], ctx: CodecContext, frames: Uint8Array[], upTo: number): void {
    if (!nlri.length) return;
    const entry: Encoded = { attrs, nlri, as4: ctx.as4, maxMessageSize: ctx.maxMessageSize, addPath: ctx.addPathSend.has(family), extendedNextHopIpv4: ctx.extendedNextHopIpv4, frames, upTo };
    this.byFirst.set(nlri[0]!, entry);
    this.made.push(entry);
    if (this.byFirst.size > this.maxKept) this.forgetOldest();
    // Entries replaced under the same first NLRI stay in `made`, each with its frames, until
    // their turn: past twice the bound, only the kept ones stay.
    else if (this.made.length - this.madeHead > 2 * this.maxKept) {
      this.made = this.made.slice(this.madeHead).filter((e) => this.isKept(e));
      this.madeHead = 0;
    }
  }

  /** Forget the oldest entry still kept. */
  private forgetOldest(): void {
    const made = this.made;
    while (this.madeHead < made.length) {
      const entry = made[this.madeHead++]!;
      if (this.isKept(entry)) {
        this.byFirst.delete(entry.nlri[0]!);
        break;
      }
    }
    this.compact(this.madeHead);
  }

  /**
   * Forget the entries whose batches every member has read past (`readUpTo`: the slowest
   * member's version). From the front of the made order, stopping at the first one still
   * needed: entries made later for earlier versions (a slow member's) wait for those before
   * them, which every member passes in its turn.
   */
  forget(readUpTo: number): void {
    const made = this.made;
    let i = this.madeHead;
    for (; i < made.length && made[i]!.upTo <= readUpTo; i++) {
      const entry = made[i]!;
      // A later entry for the same first NLRI replaced it: that one stays until its own turn.
      if (this.isKept(entry)) this.byFirst.delete(entry.nlri[0]!);
    }
    this.compact(i);
  }

  /** Still the entry for its first NLRI (not replaced by a later encoding of a list from there). */
  private isKept(entry: Encoded): boolean {
    return this.byFirst.get(entry.nlri[0]!) === entry;
  }

  /** `made` from `i` on: copied only when most of it is gone (the copy then costs less than the
   *  forgetting did). */
  private compact(i: number): void {
    const made = this.made;
    if (i === made.length) {
      this.made = [];
      this.madeHead = 0;
    } else if (i > made.length / 2) {
      this.made = made.slice(i);
      this.madeHead = 0;
    } else this.madeHead = i;
  }
}

/** The same NLRI objects in the same order (peers of a class stage the Loc-RIB's own objects). */
function sameList(a: Nlri[], b: Nlri[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export class ExportClass<Inputs = unknown> {
  readonly key: string;
  readonly outAttrs = new AttrsTable();
  memo = new WeakMap<Attrs, ExportMemoEntry[]>();
  readonly encoded = new EncodeCache();
  /** What the members should have: one table for the class. */
  readonly out = new ClassAdjRibOut();
  /** ADD-PATH families only: per destination, the out keys (and NLRI) the class announces. */
  readonly advertised = new Map<string, Map<string, KeyNlri>>();
  /** Members' positions in `out`, by peer id. */
  readonly readers = new Map<number, Reader>();
  /** The members' export inputs with a neutral identity: what class answers are computed for. */
  readonly inputs: Inputs;
  /** Members' router ids (with counts): a path whose ORIGINATOR_ID is one concerns a member. */
  private readonly routerIds = new Map<number, number>();

  constructor(key: string, inputs: Inputs) {
    this.key = key;
    this.inputs = inputs;
  }

  get members(): number {
    return this.readers.size;
  }

  add(peerId: number, routerId: number): Reader {
    const reader = this.out.join(peerId);
    this.readers.set(peerId, reader);
    this.routerIds.set(routerId, (this.routerIds.get(routerId) ?? 0) + 1);
    return reader;
  }

  remove(peerId: number, routerId: number): void {
    const reader = this.readers.get(peerId);
    if (!reader) return;
    this.out.leave(reader);
    this.readers.delete(peerId);
    const n = (this.routerIds.get(routerId) ?? 1) - 1;
    if (n <= 0) this.routerIds.delete(routerId);
    else this.routerIds.set(routerId, n);
  }

  /** May this path's answer differ for some member (it came from one, or names one as its
   *  originator)? Used to skip re-sending when only the path behind an unchanged answer changed. */
  readonly touchesMember = (path: Path | undefined): boolean => {
    if (!path) return false;
    if (path.peer !== undefined && this.readers.has(path.peer.id)) return true;
    return path.attrs.originatorId !== undefined && this.routerIds.has(path.attrs.originatorId);
  };
}

const policyIds = new WeakMap<CompiledPolicy, number>();
let nextPolicyId = 1;

function policyId(p: CompiledPolicy): number {
  let id = policyIds.get(p);
  if (id === undefined) policyIds.set(p, (id = nextPolicyId++));
  return id;
}

function hex(b: Uint8Array | undefined): string {
  return b ? Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('') : '-';
}

export interface ClassInputs {
  ref: PeerRef;
  exportPolicy: CompiledPolicy;
  nextHopMode: string;
  families: readonly Family[];
  addPathTx: ReadonlySet<Family>;
  self: { ipv4?: Uint8Array; ipv6?: Uint8Array; ipv6LinkLocal?: Uint8Array };
  extendedNextHopIpv4?: boolean;
  /** Our AS on the session when it is not the router's (it is prepended towards eBGP). */
  localAsn?: number;
}

/**
 * Everything an export answer depends on besides the peer's identity (rules.ts mayExport uses
 * the peer's type and client flag; policies can match the peer type; rewrite.ts uses the type,
 * the next-hop mode and our addresses). A policy not marked prefix-independent gets no memo,
 * but still shares encodings.
 */
export function classKey(c: ClassInputs): string {
  return [
    policyId(c.exportPolicy),
    c.nextHopMode,
    c.ref.type,
    c.ref.rrClient ? 'client' : 'nonclient',
    [...c.families].sort().join(','),
    [...c.addPathTx].sort().join(','),
    hex(c.self.ipv4),
    hex(c.self.ipv6),
    hex(c.self.ipv6LinkLocal),
    c.extendedNextHopIpv4 ? 'enh' : '',
    c.localAsn ?? '',
  ].join('|');
}
