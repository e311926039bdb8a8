// SPDX-License-Identifier: Apache-2.0
// Kernel sync, as BIRD's `kernel`, `device` and `direct` protocols in calico-node:
//  - learn: dump, then follow, the interfaces, addresses and routes of one table; other
//    protocols' routes (Felix's workload routes, blackholes, tunnel routes) enter the RIB as
//    kernel routes with their interface; connected subnets as connected routes (except on
//    ignored interfaces);
//  - program: the Loc-RIB's best BGP routes (and originated blackholes) that pass the kernel
//    export policy, written with Tern's protocol (12, `bird`), never touching other routes;
//  - restarts: programmed routes persist when Tern stops; at start they are adopted, kept while
//    graceful restart recovers, and the leftovers removed once routing has converged;
//  - overruns: a lost monitor message (ENOBUFS) means a full dump and reconcile.
// The netlink bytes are src/kernel-sync/rtnetlink's; sockets are src/native's.
import type { Logger } from '../observability/log.ts';
import type { Rib } from '../rib/rib.ts';
import type { Destination, Path, PeerRef } from '../rib/types.ts';
import type { Speaker } from '../speaker.ts';
import type { CompiledPolicy, PolicyVerdict } from '../policy/types.ts';
import type { Family, Nlri } from '../bgp/messages/types.ts';
import { prefixKey } from '../rib/prefix-key.ts';
import { NetlinkSocket, type NetlinkEvent as SocketEvent } from '../native/netlink.ts';
import { NetlinkChannel, type RouteResult } from './channel.ts';
import { IFACE_CHANGE, InterfaceTable, globMatch, nextHopBits } from './interfaces.ts';
import { KernelView, routeKey } from './kernel-view.ts';
import { NextHopCache, WantedForms, desiredForm, sameRoute, type DesiredForm, type ProgramSettings, type Verdicts } from './resolve.ts';
import { deleteBodyOf, formOf, fullAddressInto, routeOf, type RouteForm } from './route-form.ts';
import { prefixToString } from '../bgp/messages/nlri.ts';
import { RTMGRP, RTN, RTPROT, RouteRequests, decodeNetlink, type AddrMessage, type LinkMessage, type RouteMessage, type RtMessage } from './rtnetlink/index.ts';
import { RTM } from './rtnetlink/constants.ts';
import type { NlMessage } from './rtnetlink/nlmsg.ts';

export interface KernelSyncOptions {
  learn: boolean;
  program: boolean;
  protocol: number;
  table: number;
  metric: number;
  exportPolicy: CompiledPolicy;
  ignoreInterfaces: string[];
  tunnel: { device: string; mode: 'always' | 'crossSubnet' | 'never' };
  persist: boolean;
  /** Seconds to wait for convergence before removing adopted leftovers (BIRD: 240). */
  deferralTime: number;
}

/** Interfaces whose subnets are never learned, whatever the config says (as Calico's BIRD). */
const ALWAYS_IGNORED = ['cali*', 'kube-ipvs*'];
/** Destinations planned per batch (a batch is one netlink send: ≤ 2 requests a destination). */
const PROGRAM_BATCH = 1000;
/** Planning time per event-loop turn before yielding (keepalives first); as BGP input's slice,
 *  long enough for several batches, so that the kernel has work queued while input runs. */
const PROGRAM_SLICE_MS = 10;
/** Batches sent and not yet answered: the next batches are planned and queued while the kernel
 *  (on a threadpool thread, inside sendmsg) inserts the routes of the one before, so it goes on
 *  from one to the next while BGP input holds the event loop (the channel runs 3 sends at once). */
const BATCHES_IN_FLIGHT = 4;
/** The first retry of routes the kernel refused, and the longest wait between retries. */
const RETRY_FIRST_MS = 1000;
const RETRY_MAX_MS = 60_000;

export type ProgrammedState = 'pending' | 'installed' | 'failed' | 'unresolved';

export interface ProgrammedRoute {
  destKey: string;
  family: Family;
  nlri: Nlri;
  state: ProgrammedState;
  /** What the route installed (or being installed) says besides its prefix: shared by every
   *  route that says the same (route-form.ts); routeOf(form, nlri) is the route. */
  form?: RouteForm;
  error?: string;
  /** Its next hop was resolved through another route: redo it when other routes change. */
  recursive?: boolean;
  /** The batch that carries its last request, until that batch is answered; meanwhile the
   *  destination is not planned again (its state and route are not yet what the kernel has). */
  batch?: number;
}

/** A batch being planned: its requests, encoded as they are planned, and per request (same
 *  order) the destination's record (so the answer needs no lookup by key) and, for a delete, the
 *  form it deletes (the record forgets the route only if it still has it). No object per
 *  request, and arrays sized for one request a destination up front: grown by push, each was
 *  allocated about three times over. */
class Outbox {
  readonly requests: RouteRequests;
  readonly records: ProgrammedRoute[];
  /** The deletes among the requests, by index, with the form each deletes (usually none). */
  deletes: Map<number, RouteForm> | undefined;
  count = 0;

  constructor(destinations: number) {
    this.requests = new RouteRequests(destinations);
    this.records = new Array<ProgrammedRoute>(destinations);
  }

  add(record: ProgrammedRoute, deleted: RouteForm | undefined): void {
    if (deleted) (this.deletes ??= new Map()).set(this.count, deleted);
    this.records[this.count++] = record;
  }
}

const NO_ROUTE: DesiredForm = { kind: 'none', why: 'no route' };

export interface KernelStats {
  overruns: number;
  resyncs: number;
  installs: number;
  removals: number;
  failures: number;
  adopted: number;
  leftoversRemoved: number;
}

const KERNEL_PEER: PeerRef = { id: -1, name: 'kernel', asn: 0, type: 'ibgp', address: new Uint8Array(4), addressText: 'kernel', rrClient: false, routerId: 0 };

export class KernelSync {
  readonly ifaces = new InterfaceTable();
  readonly view: KernelView;
  readonly programmed = new Map<string, ProgrammedRoute>();
  readonly stats: KernelStats = { overruns: 0, resyncs: 0, installs: 0, removals: 0, failures: 0, adopted: 0, leftoversRemoved: 0 };
  private readonly opts: KernelSyncOptions;
  private readonly rib: Rib;
  private readonly speaker: Speaker;
  private readonly log: Logger;
  private channel?: NetlinkChannel;
  private monitor?: NetlinkSocket;
  private readonly dirty = new Set<string>();
  /** Dirty keys taken out of `dirty` at once, planned `PROGRAM_BATCH` at a time from `takenAt`
   *  (taking each batch out of the Set cost a delete per key). A key marked dirty again
   *  meanwhile is in both, and is planned twice: the second plan finds nothing to change. */
  private taken: string[] = [];
  private takenAt = 0;
  private readonly exportVerdicts = new ExportVerdicts(() => this.opts.exportPolicy);
  private readonly nextHops = new NextHopCache();
  /** What every route is written with: fixed for the life of the sync (a reload changes only its
   *  export policy), and one object, which the next-hop cache compares by identity. */
  private readonly programSettings: ProgramSettings;
  /** Records that other protocols' routes may change (dependsOnOtherRoutes): planned again when
   *  one comes or goes. Kept by record(); remarkDependent drops what went stale. */
  private readonly dependent = new Set<ProgrammedRoute>();
  /** Dirty destinations whose last request is still in flight: dirty again once it is answered. */
  private waiting: string[] = [];
  /** Batches sent (numbers for ProgrammedRoute.batch). */
  private batchesSent = 0;
  private flushing = false;
  private flushScheduled = false;
  /** Adopted routes of ours found at start, kept until convergence (destKey → route). */
  private adopted = new Map<string, RouteForm>();
  private readonly forms = new WantedForms();
  /** A request's destination address, written here and copied into the request. */
  private readonly dst4 = new Uint8Array(4);
  private readonly dst16 = new Uint8Array(16);
  private pruneTimer?: NodeJS.Timeout;
  /** Routes the kernel refused (state failed, with the kernel's error), to be tried again. */
  private readonly refused = new Set<ProgrammedRoute>();
  private retryTimer?: NodeJS.Timeout;
  private retryMs = RETRY_FIRST_MS;
  private pruneRequested?: string;
  private resyncing = false;
  private stopped = false;

  constructor(opts: KernelSyncOptions, rib: Rib, speaker: Speaker, log: Logger) {
    this.opts = opts;
    this.rib = rib;
    this.speaker = speaker;
    this.log = log.child({ component: 'kernel' });
    this.view = new KernelView(opts.protocol);
    this.programSettings = { protocol: opts.protocol, table: opts.table, metric: opts.metric, tunnel: opts.tunnel };
  }

  async start(): Promise<void> {
    this.channel = new NetlinkChannel();
    const groups = RTMGRP.LINK | RTMGRP.IPV4_IFADDR | RTMGRP.IPV6_IFADDR | RTMGRP.IPV4_ROUTE | RTMGRP.IPV6_ROUTE;
    // A large buffer: Felix can change thousands of routes at once (node-ecosystem.md §1.4).
    this.monitor = NetlinkSocket.open(0, groups, { receiveBufferBytes: 8 << 20, onEvent: (e) => this.onMonitor(e) });
    this.ignoreOwnEchoes(this.monitor, this.channel.portId);
    await this.fullDump();
    this.adoptOwnRoutes();
    this.view.owned.clear(); // adopted into `programmed`; not kept twice
    if (this.opts.program) {
      this.rib.destinationListeners.push((dest) => this.markDirty(dest.key));
      for (const dest of this.rib.loc.values()) this.dirty.add(dest.key);
      this.scheduleFlush();
      this.armPrune();
    }
    this.log.info({ learn: this.opts.learn, program: this.opts.program, table: this.opts.table, adopted: this.adopted.size }, 'kernel sync started');
  }

  /** Stop following the kernel. Programmed routes stay unless `persist` is off. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.pruneTimer) clearTimeout(this.pruneTimer);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (!this.opts.persist && this.channel) {
      // Every route of ours to a programmed prefix, whatever its state: a delete carries no next
      // hop (deleteBodyOf), so it also takes a route the kernel kept when it refused its
      // replacement, and finds nothing (ESRCH) where nothing was installed.
      const requests = new RouteRequests(this.programmed.size);
      for (const p of this.programmed.values()) {
        if (!p.form) continue;
        try {
          requests.addBody('del', deleteBodyOf(p.form), this.addressOf(p.nlri, p.form.family), p.nlri.length);
        } catch (err) {
          this.log.warn({ prefix: formatNlri(p.nlri), error: (err as Error).message }, 'kernel route not removed at stop: not encodable');
        }
      }
      await this.channel.send(requests);
    }
    this.monitor?.close();
    this.channel?.close();
  }

  /** A new export policy (live reload): every destination is planned again under it. */
  setExportPolicy(policy: CompiledPolicy): void {
    this.opts.exportPolicy = policy;
    if (!this.opts.program) return;
    for (const dest of this.rib.loc.values()) this.dirty.add(dest.key);
    for (const key of this.programmed.keys()) this.dirty.add(key);
    this.scheduleFlush();
  }

  // ===== Learning =====
  private async fullDump(): Promise<void> {
    const channel = this.channel!;
    const links = await channel.dump('link');
    const addrs = await channel.dump('addr');
    const routes = [...(await channel.dump('route', 2)), ...(await channel.dump('route', 10))];
    this.ifaces.clear();
    this.view.clear();
    for (const m of links) if (m.type === 'link') this.ifaces.applyLink('new', m);
    for (const m of addrs) if (m.type === 'addr') this.ifaces.applyAddr('new', m);
    for (const m of routes) if (m.type === 'route' && this.inTable(m)) this.view.apply('new', m);
    if (this.opts.learn) this.relearnAll();
  }

  private relearnAll(): void {
    const now = Date.now();
    this.rib.setLocalRoutes('kernel', [...this.view.others.values()].filter((r) => this.learnable(r)).map((r) => this.toLocal(r)), now);
    this.rib.setLocalRoutes('connected', this.connectedRoutes(), now);
  }

  private inTable(r: RouteMessage): boolean {
    return r.table === this.opts.table;
  }

  /** Routes of other protocols Tern learns: unicast or blackhole-ish, not the kernel's own. */
  private learnable(r: RouteMessage): boolean {
    if (r.protocol === this.opts.protocol || r.protocol === RTPROT.KERNEL || r.protocol === RTPROT.REDIRECT) return false;
    if (r.routeType !== RTN.UNICAST && r.routeType !== RTN.BLACKHOLE && r.routeType !== RTN.UNREACHABLE && r.routeType !== RTN.PROHIBIT) return false;
    // IPv6 link-local and multicast destinations are never routes to share.
    if (r.family === 10 && r.dst && ((r.dst[0] === 0xfe && (r.dst[1]! & 0xc0) === 0x80) || r.dst[0] === 0xff)) return false;
    return true;
  }

  private toLocal(r: RouteMessage): { nlri: Nlri; family: Family; source: 'kernel'; interface?: string; nextHop?: Uint8Array } {
    const family: Family = r.family === 2 ? 'ipv4-unicast' : 'ipv6-unicast';
    const oif = r.oif ?? r.multipath?.[0]?.oif;
    const name = oif !== undefined ? this.ifaces.byIndex(oif)?.name : undefined;
    return { nlri: nlriOf(r, family), family, source: 'kernel', ...(name ? { interface: name } : {}), ...(r.gateway ? { nextHop: r.gateway } : {}) };
  }

  private ignored(name: string): boolean {
    return [...ALWAYS_IGNORED, ...this.opts.ignoreInterfaces].some((g) => globMatch(g, name));
  }

  /** Connected subnets (BIRD's `direct`): every address's network on up, non-ignored interfaces. */
  private connectedRoutes(): { nlri: Nlri; family: Family; source: 'connected'; interface: string }[] {
    const out = new Map<string, { nlri: Nlri; family: Family; source: 'connected'; interface: string }>();
    for (const a of this.ifaces.addresses()) {
      const link = this.ifaces.byIndex(a.index);
      if (!link || !link.up || link.loopback || this.ignored(link.name)) continue;
      if (a.family === 10 && a.address[0] === 0xfe && (a.address[1]! & 0xc0) === 0x80) continue; // fe80::/10
      const family: Family = a.family === 2 ? 'ipv4-unicast' : 'ipv6-unicast';
      const nlri = maskedNlri(family, a.address, a.prefixLength);
      out.set(prefixKey(nlri), { nlri, family, source: 'connected', interface: link.name });
    }
    return [...out.values()];
  }

  private onMonitor(e: SocketEvent): void {
    if (this.stopped) return;
    if (e.kind === 'overrun') {
      this.stats.overruns++;
      this.log.warn({ cause: e.cause }, 'netlink monitor overrun: full resync');
      void this.resync();
      return;
    }
    if (e.kind === 'error') {
      this.log.warn({ err: e.error.message }, 'netlink monitor error');
      return;
    }
    let events;
    try {
      events = decodeNetlink(e.data, this.isOwnRouteEcho);
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'undecodable netlink notification: full resync');
      void this.resync();
      return;
    }
    let ifaceChanges = 0;
    for (const ev of events) {
      if (ev.kind !== 'new' && ev.kind !== 'del') continue;
      ifaceChanges |= this.applyNotification(ev.kind, ev.message);
    }
    if (ifaceChanges) this.afterInterfaceChange(ifaceChanges);
  }

  /** The monitor would receive a notification of every route we install or delete (a datagram
   *  each: at 100k routes, reading and dropping them was 9 % of the CPU). The kernel drops them
   *  instead. Without the filter, isOwnRouteEcho and onOwnRouteEvent still make them harmless. */
  private ignoreOwnEchoes(monitor: NetlinkSocket, requestPortId: number): void {
    if (requestPortId === 0) return; // 0 is the kernel's own notifications: never filter those
    try {
      monitor.ignoreSender(requestPortId);
    } catch (err) {
      this.log.debug({ err: (err as Error).message }, 'monitor echo filter not attached; echoes are dropped after reading');
    }
  }

  /** RTM_NEWROUTE of our own protocol (rtmsg octet 5): the echo of a route we installed, which
   *  nothing acts on (onOwnRouteEvent watches deletions), so it is not even decoded. */
  private readonly isOwnRouteEcho = (m: NlMessage): boolean => m.header.type === RTM.NEWROUTE && m.payload.remaining >= 8 && m.payload.buf[m.payload.offset + 5] === this.opts.protocol;

  /** One monitor event; returns what it changed of the interfaces and addresses (IFACE_CHANGE
   *  bits, 0 for none). */
  private applyNotification(kind: 'new' | 'del', m: RtMessage): number {
    if (m.type === 'link') {
      const index = (m as LinkMessage).index;
      const before = this.ifaces.byIndex(index)?.name;
      const changes = this.ifaces.applyLink(kind, m as LinkMessage);
      // The tunnel device (for IPv4 next hops) is found by its name.
      const tunnel = this.opts.tunnel.device;
      const tunnelNamed = (changes & IFACE_CHANGE.NAMED) !== 0 && (before === tunnel || this.ifaces.byIndex(index)?.name === tunnel);
      return changes | (tunnelNamed ? IFACE_CHANGE.RESOLVES_V4 : 0);
    }
    if (m.type === 'addr') return this.ifaces.applyAddr(kind, m as AddrMessage);
    if (!this.inTable(m)) return 0;
    if (m.protocol === this.opts.protocol) {
      // Our own routes echoed back: `programmed` already knows them; the view keeps only what
      // a start-up dump found (for adoption), not a second copy of every route we install.
      this.onOwnRouteEvent(kind, m);
      return 0;
    }
    this.view.apply(kind, m);
    if (this.opts.learn && this.learnable(m)) {
      const local = this.toLocal(m);
      if (kind === 'new') this.rib.upsertLocalRoute(local, Date.now());
      else this.rib.removeLocalRoute('kernel', local.nlri);
    }
    // Another route may change how our next hops resolve.
    if (this.opts.program) this.remarkDependent();
    return 0;
  }

  /** Links or addresses changed (`changes`: IFACE_CHANGE bits): the connected subnets are
   *  learned again, and the routes whose next hops may now resolve otherwise are planned again.
   *  Only those: Calico makes a veth per pod, each with an IPv6 link-local address, and planning
   *  every programmed route again for each of their messages cost O(routes) a message. */
  private afterInterfaceChange(changes: number): void {
    if (this.opts.learn) this.rib.setLocalRoutes('connected', this.connectedRoutes(), Date.now());
    const resolves = changes & (IFACE_CHANGE.RESOLVES_V4 | IFACE_CHANGE.RESOLVES_V6 | IFACE_CHANGE.RESOLVES_V6_LINK_LOCAL);
    if (!this.opts.program || resolves === 0) return;
    for (const p of this.programmed.values()) if (mayResolveOtherwise(p, resolves)) this.dirty.add(p.destKey);
    this.scheduleFlush();
  }

  /** Someone removed a route we installed: put it back (BIRD's kernel scan does the same). */
  private onOwnRouteEvent(kind: 'new' | 'del', m: RouteMessage): void {
    if (kind !== 'del' || !this.opts.program) return;
    // One lookup by prefix, not a scan: the monitor echoes every route we delete ourselves, and a
    // scan per echo made removing N routes O(N²) (10,000 took 50 s).
    const p = this.programmed.get(prefixKey(nlriOf(m, m.family === 2 ? 'ipv4-unicast' : 'ipv6-unicast')));
    // A destination the Loc-RIB no longer has is one we are removing ourselves: the echo of our
    // own delete may arrive before its ack, and must not queue a second delete.
    if (p && p.state === 'installed' && this.rib.loc.get(p.destKey) && p.form && routeKey(p.form.family, p.nlri.address, p.nlri.length, p.form.priority ?? 0) === routeKey(m.family, m.dst, m.dstLength, m.priority ?? 0)) {
      p.state = 'pending';
      this.dirty.add(p.destKey);
      this.scheduleFlush();
    }
  }

  /** Is `p` still its destination's record (not gone, nor replaced)? The sets of records kept
   *  beside `programmed` (dependent, refused) drop the others when they next look. */
  private isCurrent(p: ProgrammedRoute): boolean {
    return this.programmed.get(p.destKey) === p;
  }

  /** Another protocol's route came or went: plan again the routes that depend on other routes
   *  (`dependent`), not every programmed route (Felix adds and deletes one per pod). Entries that
   *  stopped depending, or whose destination has another record by now, leave the set here. */
  private remarkDependent(): void {
    for (const p of this.dependent) {
      if (!this.isCurrent(p) || !dependsOnOtherRoutes(p)) this.dependent.delete(p);
      else this.dirty.add(p.destKey);
    }
    if (this.dirty.size) this.scheduleFlush();
  }

  private async resync(): Promise<void> {
    if (this.resyncing || this.stopped) return;
    this.resyncing = true;
    try {
      this.stats.resyncs++;
      const interfaces = this.ifaces.signature();
      await this.fullDump();
      if (this.opts.program) this.reconcile(interfaces !== this.ifaces.signature());
      this.view.owned.clear(); // `programmed` is the record of our routes
    } catch (err) {
      this.log.error({ err: (err as Error).message }, 'kernel resync failed');
    } finally {
      this.resyncing = false;
    }
  }

  /**
   * After a full dump that followed lost notifications: a route installed as its record says
   * stays as it is; the others (missing from the kernel, changed behind our back, or not
   * installed) are planned again, and so are the routes that depend on other routes, and, if the
   * interfaces or addresses changed meanwhile, those whose next hops that may change. Not every
   * route written again: a busy node's monitor can overrun, and 100k replacements were seconds
   * of the kernel's and our CPU for nothing.
   */
  private reconcile(interfacesChanged: boolean): void {
    for (const p of this.programmed.values()) {
      if (p.state === 'installed' && p.form) {
        const r = this.view.owned.get(routeKey(p.form.family, p.nlri.address, p.nlri.length, p.form.priority ?? 0));
        if (r && sameRoute(r, p.form)) continue;
        p.state = 'pending';
      }
      this.dirty.add(p.destKey);
    }
    if (interfacesChanged) this.afterInterfaceChange(IFACE_CHANGE.RESOLVES_V4 | IFACE_CHANGE.RESOLVES_V6 | IFACE_CHANGE.RESOLVES_V6_LINK_LOCAL);
    this.remarkDependent();
    this.scheduleFlush();
  }

  // ===== Programming =====
  private adoptOwnRoutes(): void {
    for (const r of this.view.owned.values()) {
      const family: Family = r.family === 2 ? 'ipv4-unicast' : 'ipv6-unicast';
      const nlri = nlriOf(r, family);
      const destKey = prefixKey(nlri);
      const form = formOf(r);
      this.adopted.set(destKey, form);
      this.programmed.set(destKey, { destKey, family, nlri, state: 'installed', form });
    }
    this.stats.adopted = this.adopted.size;
  }

  /** Remove adopted routes nobody wants once routing converged (or the deferral time passed). */
  private armPrune(): void {
    if (this.adopted.size === 0) return;
    const prune = (why: string) => {
      if (this.pruneTimer) clearTimeout(this.pruneTimer);
      this.pruneTimer = undefined;
      this.speaker.events.off('recoveryDone', onRecovery);
      this.speaker.events.off('endOfRib', onEndOfRib);
      // Runs inside the programming loop, after what is queued: never alongside a change to the
      // same route.
      this.pruneRequested = why;
      this.scheduleFlush();
    };
    const onRecovery = () => prune('graceful restart recovery done');
    const onEndOfRib = () => {
      if (!this.speaker.recovering && this.speaker.allConverged()) prune('every peer sent End-of-RIB');
    };
    this.speaker.events.on('recoveryDone', onRecovery);
    this.speaker.events.on('endOfRib', onEndOfRib);
    this.pruneTimer = setTimeout(() => prune('deferral time passed'), this.opts.deferralTime * 1000);
    this.pruneTimer.unref();
  }

  private async pruneLeftovers(why: string): Promise<void> {
    const leftovers: ProgrammedRoute[] = [];
    for (const [destKey, form] of this.adopted) {
      const p = this.programmed.get(destKey);
      if (p?.form === form) leftovers.push(p); // never replaced by a route we want
    }
    this.adopted.clear();
    if (leftovers.length === 0 || !this.channel) return;
    const forms = leftovers.map((p) => p.form!);
    // Never rejects: a request that could not be sent has a failed result, and the route stays.
    const results = await this.channel.routes(leftovers.map((p) => ({ op: 'del' as const, route: routeOf(p.form!, p.nlri) })));
    leftovers.forEach((p, i) => {
      const gone = results[i]?.ok || results[i]?.errno === 3; /* ESRCH: already gone */
      if (gone && this.programmed.get(p.destKey)?.form === forms[i]) this.programmed.delete(p.destKey);
    });
    this.stats.leftoversRemoved += leftovers.length;
    this.log.info({ removed: leftovers.length, why }, 'kernel: removed routes left from before the restart');
  }

  private markDirty(destKey: string): void {
    this.dirty.add(destKey);
    this.scheduleFlush();
  }

  private scheduleFlush(): void {
    if (this.flushScheduled || this.flushing || this.stopped) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      void this.flush();
    });
  }

  private async flush(): Promise<void> {
    if (this.flushing || !this.channel) return;
    this.flushing = true;
    const inFlight: Promise<void>[] = [];
    let sliceEnd = performance.now() + PROGRAM_SLICE_MS;
    try {
      while ((this.hasDirty() || this.pruneRequested || inFlight.length) && !this.stopped) {
        if (!this.hasDirty()) {
          // Answers first: they return waiting destinations, and the prune must see the results.
          if (inFlight.length) {
            await inFlight.shift();
            continue;
          }
          const why = this.pruneRequested!;
          this.pruneRequested = undefined;
          await this.pruneLeftovers(why);
          continue;
        }
        inFlight.push(this.programBatch(this.takeDirty(PROGRAM_BATCH)));
        if (inFlight.length >= BATCHES_IN_FLIGHT) {
          // Waiting for an answer lets the event loop run (a batch that sent nothing, whose
          // destinations all wait, resolves at once, after next to no planning): a new slice.
          await inFlight.shift();
          sliceEnd = performance.now() + PROGRAM_SLICE_MS;
        } else if (performance.now() >= sliceEnd) {
          // Yield once the slice is used: sessions' keepalives must not wait behind the kernel.
          await new Promise((r) => setImmediate(r));
          sliceEnd = performance.now() + PROGRAM_SLICE_MS;
        }
      }
    } finally {
      await Promise.all(inFlight);
      this.flushing = false;
      if (this.hasDirty() || this.pruneRequested) this.scheduleFlush();
    }
  }

  private hasDirty(): boolean {
    return this.dirty.size > 0 || this.takenAt < this.taken.length;
  }

  /** Up to `max` dirty keys. The whole set is taken once and then handed out in batches: not
   *  `[...dirty].slice()` per batch, which copied the set each time (O(N²/batch) for N routes). */
  private takeDirty(max: number): string[] {
    if (this.takenAt >= this.taken.length) {
      this.taken = [...this.dirty];
      this.takenAt = 0;
      this.dirty.clear();
    }
    const keys = this.taken.slice(this.takenAt, this.takenAt + max);
    this.takenAt += keys.length;
    if (this.takenAt >= this.taken.length) {
      this.taken = [];
      this.takenAt = 0;
    }
    return keys;
  }

  /** Plans `keys` and sends the changes; never rejects (a failed send fails its routes). */
  private async programBatch(keys: string[]): Promise<void> {
    const out = new Outbox(keys.length);
    for (let i = 0; i < keys.length; i++) {
      const destKey = keys[i]!;
      const current = this.programmed.get(destKey);
      if (current?.batch !== undefined) {
        this.waiting.push(destKey);
        continue;
      }
      this.plan(destKey, current, out);
    }
    const { records, deletes, count } = out;
    if (count === 0) return;
    const batch = ++this.batchesSent;
    for (let i = 0; i < count; i++) records[i]!.batch = batch;
    // Never rejects: a request that could not be sent has a failed result.
    const results = await this.channel!.send(out.requests);
    // Answered: each record whose last request this batch carried may be planned again (each
    // record for itself: with several batches in flight, no order of answers is assumed).
    for (let i = 0; i < count; i++) if (records[i]!.batch === batch) records[i]!.batch = undefined;
    for (let i = 0; i < count; i++) this.onResult(records[i]!, deletes?.get(i), results[i]!);
    if (this.waiting.length) {
      for (const k of this.waiting) this.dirty.add(k);
      this.waiting = [];
      this.scheduleFlush();
    }
  }

  /** `deleted`: the request deleted that form (otherwise it installed the record's route). */
  private onResult(record: ProgrammedRoute, deleted: RouteForm | undefined, r: RouteResult): void {
    if (deleted) {
      this.stats.removals++;
      const p = this.programmed.get(record.destKey);
      if (p && p.form === deleted) this.programmed.delete(record.destKey);
      return;
    }
    // The request's own record: while its batch is unanswered the destination is not planned
    // again, so the record is not replaced (a record dropped meanwhile is garbage either way).
    if (r.ok) {
      this.stats.installs++;
      record.state = 'installed';
      record.error = undefined;
      if (this.adopted.size) this.adopted.delete(record.destKey);
      if (this.refused.size && this.refused.delete(record)) {
        this.log.info({ prefix: formatNlri(record.nlri) }, 'kernel route installed on a retry');
        if (this.refused.size === 0) this.retryMs = RETRY_FIRST_MS;
      }
      return;
    }
    // The kernel said no (a next hop not reachable yet, an interface going away): tried again
    // later, as BIRD's kernel scan (`scan time 2` in calico-node) puts back what is missing.
    const again = this.refused.has(record);
    this.failed(record, `${r.message ?? 'kernel error'}${r.errno ? ` (errno ${r.errno})` : ''}`, again);
    this.refused.add(record);
    this.scheduleRetry();
  }

  /** `again`: the kernel refused this route before, and was asked again (logged at debug). */
  private failed(record: ProgrammedRoute, error: string, again = false): void {
    this.stats.failures++;
    record.state = 'failed';
    record.error = error;
    if (again) this.log.debug({ prefix: formatNlri(record.nlri), error }, 'kernel route refused again');
    else this.log.warn({ prefix: formatNlri(record.nlri), error }, 'kernel route not installed');
  }

  /** Plans the routes the kernel refused again, RETRY_FIRST_MS after the first refusal, then
   *  twice as long after each retry that still left some refused, up to RETRY_MAX_MS. */
  private scheduleRetry(): void {
    if (this.retryTimer || this.stopped) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      let any = false;
      for (const p of this.refused) {
        // Gone, replaced, or changed since (its destination was planned again meanwhile).
        if (!this.isCurrent(p) || p.state !== 'failed') this.refused.delete(p);
        else {
          this.dirty.add(p.destKey);
          any = true;
        }
      }
      if (!any) {
        this.retryMs = RETRY_FIRST_MS;
        return;
      }
      this.retryMs = Math.min(this.retryMs * 2, RETRY_MAX_MS);
      this.scheduleFlush();
    }, this.retryMs);
    this.retryTimer.unref();
  }

  /** What to send the kernel for one destination (replace, delete, or nothing): added to `out`. */
  private plan(destKey: string, current: ProgrammedRoute | undefined, out: Outbox): void {
    const dest = this.rib.loc.get(destKey);
    let desired: DesiredForm = NO_ROUTE;
    if (dest) {
      this.exportVerdicts.reset(dest);
      desired = desiredForm(dest, this.exportVerdicts, this.ifaces, this.view, this.programSettings, this.nextHops, this.forms);
    }
    const installed = current?.form && current.state === 'installed' ? current.form : undefined;
    if (desired.kind !== 'route') {
      if (desired.kind === 'unresolved' && dest) {
        if (installed) this.remove(current!, installed, out);
        // Not installed: the route (if any) stays on record; deleted above: none is kept.
        this.record(destKey, current, dest, 'unresolved', installed ? undefined : current?.form, desired.why, false);
        return;
      }
      if (!current) return;
      // While recovering from a restart, adopted routes stay until the prune.
      if (this.adopted.has(destKey) && this.adopted.get(destKey) === current.form) return;
      if (current.form && current.state !== 'unresolved') this.remove(current, current.form, out);
      else {
        this.programmed.delete(destKey);
        this.dependent.delete(current);
      }
      return;
    }
    const form = desired.form;
    if (installed && sameRoute(installed, form)) {
      this.adopted.delete(destKey); // an adopted route that is exactly what we want: ours again
      return;
    }
    // Never overwrite a route another protocol owns (Felix's, an operator's).
    const nlri = dest!.nlri;
    const clash = this.view.hasOthersOfLength(form.family, nlri.length) ? this.view.otherWithSameKey(form.family, this.addressOf(nlri, form.family), nlri.length, form.priority ?? 0) : undefined;
    if (clash) {
      if (installed) this.remove(current!, installed, out);
      this.record(destKey, current, dest!, 'failed', undefined, `the kernel has this route from protocol ${clash.protocol}: left alone`, false);
      return;
    }
    // A different metric is a different kernel route: remove the old one.
    if (installed && (installed.priority ?? 0) !== (form.priority ?? 0)) this.remove(current!, installed, out);
    const record = this.record(destKey, current, dest!, 'pending', form, undefined, desired.recursive);
    this.request(out, 'replace', record, form);
  }

  /** A delete of the route `form` makes with the record's prefix. */
  private remove(record: ProgrammedRoute, form: RouteForm, out: Outbox): void {
    this.request(out, 'del', record, form);
  }

  /** Encodes one request into the batch; a route the wire format cannot carry (a next hop of
   *  the other family) fails its record, and nothing is sent for it. */
  private request(out: Outbox, op: 'replace' | 'del', record: ProgrammedRoute, form: RouteForm): void {
    try {
      out.requests.addBody(op, op === 'del' ? deleteBodyOf(form) : form, this.addressOf(record.nlri, form.family), record.nlri.length);
    } catch (err) {
      this.failed(record, `netlink request not encoded: ${(err as Error).message}`);
      return;
    }
    out.add(record, op === 'del' ? form : undefined);
  }

  /** A prefix's full address in a scratch array: valid until the next call. */
  private addressOf(nlri: Nlri, family: 2 | 10): Uint8Array {
    return fullAddressInto(nlri, family === 2 ? this.dst4 : this.dst16);
  }

  /** The record of one destination, updated in place (one object per destination for as long as
   *  it is programmed: a new one per change was garbage the young collector copied). */
  private record(destKey: string, current: ProgrammedRoute | undefined, dest: Destination, state: ProgrammedState, form: RouteForm | undefined, error: string | undefined, recursive: boolean): ProgrammedRoute {
    let rec = current;
    if (rec) {
      rec.state = state;
      rec.form = form;
      rec.error = error;
      rec.recursive = recursive;
    } else {
      rec = { destKey, family: dest.family, nlri: dest.nlri, state, form, error, recursive, batch: undefined };
      this.programmed.set(destKey, rec);
    }
    if (dependsOnOtherRoutes(rec)) this.dependent.add(rec);
    else if (this.dependent.size) this.dependent.delete(rec);
    return rec;
  }

  // ===== Views =====
  learned(): RouteMessage[] {
    return [...this.view.others.values()].filter((r) => this.learnable(r));
  }

  /** Number of programmed routes per state. */
  counts(): Record<ProgrammedState, number> {
    const out: Record<ProgrammedState, number> = { pending: 0, installed: 0, failed: 0, unresolved: 0 };
    for (const p of this.programmed.values()) out[p.state]++;
    return out;
  }
}

/** The kernel export policy's verdict on a destination's paths, evaluated when asked: one
 *  evaluation for a one-path destination, no Map per destination. Reset per destination. A
 *  policy that never looks at the prefix (`export: all`) is evaluated once for a run of paths
 *  with the same attributes, source, peer and interface: one verdict object, not one per route. */
export class ExportVerdicts implements Verdicts {
  private dest: Destination | undefined;
  private lastPath: Path | undefined;
  private lastVerdict: PolicyVerdict | undefined;
  private readonly policy: () => CompiledPolicy;
  private shared: { policy: CompiledPolicy; family: Destination['family']; path: Path; verdict: PolicyVerdict } | undefined;

  constructor(policy: () => CompiledPolicy) {
    this.policy = policy;
  }

  reset(dest: Destination): void {
    this.dest = dest;
    this.lastPath = undefined;
    this.lastVerdict = undefined;
  }

  get(path: Path): PolicyVerdict | undefined {
    if (path === this.lastPath) return this.lastVerdict;
    const dest = this.dest!;
    const policy = this.policy();
    const s = this.shared;
    let verdict: PolicyVerdict;
    if (s && s.policy === policy && s.family === dest.family && s.path.attrs === path.attrs && s.path.source === path.source && s.path.peer === path.peer && s.path.interface === path.interface) {
      verdict = s.verdict;
    } else {
      // One shape for every route (no conditional spreads): absent and undefined mean the same to policy.
      verdict = policy.evaluate(
        { nlri: dest.nlri, family: dest.family, attrs: path.attrs, source: path.source, interface: path.interface, from: path.peer },
        { direction: 'export', peer: KERNEL_PEER, localAsn: 0 },
      );
      this.shared = policy.prefixIndependent ? { policy, family: dest.family, path, verdict } : undefined;
    }
    this.lastPath = path;
    this.lastVerdict = verdict;
    return verdict;
  }
}

function nlriOf(r: RouteMessage, family: Family): Nlri {
  return maskedNlri(family, r.dst ?? new Uint8Array(family === 'ipv4-unicast' ? 4 : 16), r.dstLength);
}

function maskedNlri(family: Family, address: Uint8Array, length: number): Nlri {
  const bytes = Math.ceil(length / 8);
  const out = address.slice(0, bytes);
  if (length & 7) out[bytes - 1]! &= (0xff << (8 - (length & 7))) & 0xff;
  return { family, length, address: out };
}

export function formatNlri(n: Nlri): string {
  return prefixToString(n);
}

/**
 * Whether a programmed route may be planned otherwise when another protocol's route comes or
 * goes: its next hop is not resolved yet, or resolved through another route, or it was left
 * alone because another protocol has a route to its prefix (failed, without a form: once that
 * route goes, ours is installed).
 */
function dependsOnOtherRoutes(p: ProgrammedRoute): boolean {
  return p.state === 'unresolved' || p.recursive === true || (p.state === 'failed' && p.form === undefined);
}

/**
 * Whether a programmed route may be planned otherwise after interfaces or addresses changed how
 * some next hops resolve (`resolves`: RESOLVES_* bits). A route not installed, or not with a form
 * of ours, is planned again whatever changed, and so is one resolved through another route, or
 * an ECMP set (a member left out for want of a next hop may resolve now, whatever it is).
 * Otherwise its gateway, which is its path's next hop, decides; a route without a gateway (a
 * blackhole) does not depend on interfaces at all.
 */
function mayResolveOtherwise(p: ProgrammedRoute, resolves: number): boolean {
  const form = p.form;
  if (p.state !== 'installed' || !form || p.recursive || form.multipath) return true;
  return form.gateway !== undefined && (resolves & nextHopBits(form.gateway)) !== 0;
}
