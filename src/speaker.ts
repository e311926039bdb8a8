// SPDX-License-Identifier: Apache-2.0
// The BGP speaker: joins the sessions to the RIB. It turns session events into RIB calls, pulls
// packed UPDATEs from the RIB when a session can take more (backpressure, advertisement
// interval, End-of-RIB after the initial table), and runs the timers of graceful restart (RFC
// 4724, as helper and as restarting speaker), route refresh (RFC 2918 / 7313) and max-prefix.
// It holds no routing logic of its own: decisions live in rib/, policy/ and reflector/.
import { EventEmitter } from 'node:events';
import { networkInterfaces } from 'node:os';
import type { Logger } from './observability/log.ts';
import type { PeerSession, SessionDown } from './bgp/session/peer-session.ts';
import type { Negotiated } from './bgp/messages/negotiate.ts';
import type { DecodedUpdate, Family, NotificationMessage, RouteRefreshMessage } from './bgp/messages/types.ts';
import { afiSafiOf, familyOf } from './bgp/messages/types.ts';
import { endOfRib, isEndOfRib } from './bgp/messages/update.ts';
import { encodeRouteRefresh } from './bgp/messages/route-refresh.ts';
import { CeaseSubcode, NotificationCode, RouteRefreshSubtype } from './bgp/messages/iana.ts';
import { Rib, type RibPeerConfig } from './rib/rib.ts';
import { encodeBatch } from './rib/packer.ts';
import { ipToBytes, ipv4ToBytes, ipv6ToBytes } from './util/ip.ts';

/** Prefixes taken from the RIB per step before yielding to the event loop. */
const BATCH_PREFIXES = 2000;
/** Time spent sending per event-loop turn before yielding, ms. */
const FLUSH_BUDGET_MS = 20;
/**
 * Least time between two sends to one peer while changes keep coming, ms (BIRD sends when the
 * socket is writable, FRR update groups wait a coalesce time). Changes that arrive meanwhile
 * leave together: with 1000 route-reflector clients and routes arriving one by one, sending each
 * change at once made one socket write per client per change, most of the CPU
 * (docs/performance.md). The first change after a quiet spell still goes at once.
 */
const COALESCE_MS = 100;
/** Stop encoding while this many bytes wait for the socket ('drain' resumes). */
const HIGH_WATER_BYTES = 512 * 1024;

export interface SpeakerPeerOptions {
  rib: RibPeerConfig;
  session: PeerSession;
  log: Logger;
  /** Seconds between UPDATE batches (RFC 4271 §9.2.1.1 MinRouteAdvertisementInterval); 0: none. */
  advertisementInterval: number;
  maxPrefixes?: { limit: number; action: 'warn' | 'restart'; restartDelay: number };
  gracefulRestart: boolean;
}

/** RFC 7606 §8: errors "SHOULD be logged", with rate limiting: this many lines per peer per minute. */
const ERROR_LOG_BURST = 10;
const ERROR_LOG_WINDOW_MS = 60_000;

interface PeerRuntime {
  opts: SpeakerPeerOptions;
  /** RFC 7606 log lines in the current window, and those held back. */
  errorLog: { windowStart: number; logged: number; suppressed: number };
  /** Established and registered with the RIB. */
  up: boolean;
  families: Family[];
  endOfRibSent: boolean;
  endOfRibReceived: Set<Family>;
  flushScheduled: boolean;
  lastFlush: number;
  intervalTimer?: NodeJS.Timeout;
  /** RFC 4724 helper: the restart timer (before re-establishment) or stale timer (after). */
  staleTimer?: NodeJS.Timeout;
  maxPrefixWarned: boolean;
  restartTimer?: NodeJS.Timeout;
  /** RFC 7313: families whose refresh answer still owes an EoRR. */
  pendingEoRR?: Family[];
}

export class Speaker {
  readonly rib: Rib;
  private readonly log: Logger;
  private readonly peers = new Map<number, PeerRuntime>();
  /** 'endOfRib'(peerId, family) and 'recoveryDone'(why), for kernel sync's reconciliation. */
  readonly events = new EventEmitter();
  /** RFC 4724 §4.1 restarting speaker: advertisement deferred until End-of-RIB or the timer. */
  private deferring = false;
  private deferralTimer?: NodeJS.Timeout;
  /** Peers with output to send, in the order they get their turn (see runFlushes). */
  private readonly flushQueue = new Set<number>();
  private flushRunning = false;

  constructor(rib: Rib, log: Logger) {
    this.rib = rib;
    this.log = log;
    rib.onOutput = (id) => this.scheduleFlush(id);
  }

  /**
   * After our own restart (`tern run --graceful-restart`, as BIRD's -R): set the R bit and hold
   * back advertisements until every GR peer has sent End-of-RIB, or `deferralTime` passes.
   */
  startRecovery(deferralSeconds: number): void {
    const grPeers = [...this.peers.values()].filter((p) => p.opts.gracefulRestart);
    if (grPeers.length === 0) return;
    this.deferring = true;
    for (const p of grPeers) p.opts.session.setRestarting(true);
    this.deferralTimer = setTimeout(() => this.endRecovery('selection deferral timer expired'), deferralSeconds * 1000);
    this.deferralTimer.unref();
    this.log.info({ deferralSeconds, peers: grPeers.length }, 'graceful restart: recovering, advertisements deferred');
  }

  get recovering(): boolean {
    return this.deferring;
  }

  addPeer(opts: SpeakerPeerOptions): void {
    const id = opts.rib.ref.id;
    const runtime: PeerRuntime = { opts, errorLog: { windowStart: 0, logged: 0, suppressed: 0 }, up: false, families: [], endOfRibSent: false, endOfRibReceived: new Set(), flushScheduled: false, lastFlush: 0, maxPrefixWarned: false };
    this.peers.set(id, runtime);
    this.rib.setPeer(opts.rib);
    const { session } = opts;
    session.on('established', (n: Negotiated) => this.onEstablished(runtime, n));
    session.on('update', (d: DecodedUpdate) => this.onUpdate(runtime, d));
    session.on('routeRefresh', (m: RouteRefreshMessage) => this.onRouteRefresh(runtime, m));
    session.on('down', (_reason: string, info: SessionDown) => this.onDown(runtime, info));
    session.on('drain', () => this.scheduleFlush(id));
  }

  /** Config changed for a peer without a reset: new policies or next-hop mode. */
  updatePeer(id: number, rib: RibPeerConfig, changes: { importChanged: boolean; exportChanged: boolean }): void {
    const p = this.peers.get(id);
    if (!p) return;
    p.opts = { ...p.opts, rib };
    this.rib.setPeer(rib);
    if (changes.importChanged) this.rib.reimport(id);
    if (changes.exportChanged) this.rib.reexport(id);
  }

  removePeer(id: number): void {
    const p = this.peers.get(id);
    if (!p) return;
    this.clearTimers(p);
    this.peers.delete(id);
    this.rib.peerDown(id);
    this.rib.removePeer(id);
  }

  stop(): void {
    for (const p of this.peers.values()) this.clearTimers(p);
    if (this.deferralTimer) clearTimeout(this.deferralTimer);
  }

  /** Ask the peer to send its routes of `family` again (RFC 2918; RFC 7313 when enhanced). */
  requestRefresh(id: number, family: Family): boolean {
    const p = this.peers.get(id);
    const n = p?.opts.session.info.negotiated;
    if (!p?.up || !n?.routeRefresh || !n.families.includes(family)) return false;
    const { afi, safi } = afiSafiOf(family);
    p.opts.session.send([encodeRouteRefresh({ type: 'route-refresh', afi, safi, subtype: RouteRefreshSubtype.Normal })]);
    return true;
  }

  // ===== Session events =====
  private onEstablished(p: PeerRuntime, n: Negotiated): void {
    const { session, rib } = p.opts;
    const id = rib.ref.id;
    rib.ref.routerId = session.info.remoteOpen?.bgpId ?? 0;
    p.up = true;
    p.families = n.families;
    p.endOfRibSent = false;
    p.endOfRibReceived = new Set();
    this.helperOnReestablish(p, n);
    this.rib.peerUp(id, { families: n.families, addPathTx: n.ctx.addPathSend, extendedNextHopIpv4: n.ctx.extendedNextHopIpv4, self: selfAddresses(session.localAddress, rib.ref.addressText) });
    this.scheduleFlush(id);
  }

  private onUpdate(p: PeerRuntime, decoded: DecodedUpdate): void {
    const { session, rib, log } = p.opts;
    const id = rib.ref.id;
    const eor = decoded.problems.length === 0 ? isEndOfRib(decoded.message) : undefined;
    if (eor) return this.onEndOfRib(p, eor);
    if (decoded.problems.length) this.logUpdateErrors(p, decoded);
    const result = this.rib.applyUpdate(id, decoded, session.ctx, Date.now());
    log.trace({ ...result }, 'update applied');
    this.checkMaxPrefixes(p);
  }

  /** One line per malformed UPDATE, up to a burst per minute; then a count of what was held back. */
  private logUpdateErrors(p: PeerRuntime, decoded: DecodedUpdate): void {
    const now = Date.now();
    const w = p.errorLog;
    if (now - w.windowStart >= ERROR_LOG_WINDOW_MS) {
      if (w.suppressed) p.opts.log.warn({ suppressed: w.suppressed }, 'more UPDATEs with errors (RFC 7606) were not logged');
      w.windowStart = now;
      w.logged = 0;
      w.suppressed = 0;
    }
    if (w.logged >= ERROR_LOG_BURST) {
      w.suppressed++;
      return;
    }
    w.logged++;
    p.opts.log.warn({ action: decoded.action, problems: decoded.problems }, 'UPDATE with errors (RFC 7606)');
  }

  private onEndOfRib(p: PeerRuntime, family: Family): void {
    const id = p.opts.rib.ref.id;
    p.endOfRibReceived.add(family);
    // RFC 4724 §4.2: on End-of-RIB the helper removes the peer's routes still stale.
    const swept = this.rib.sweepStale(id, family);
    p.opts.log.info({ family, staleRemoved: swept }, 'End-of-RIB received');
    this.events.emit('endOfRib', id, family);
    if (p.staleTimer && this.rib.staleCount(id) === 0) {
      clearTimeout(p.staleTimer);
      p.staleTimer = undefined;
    }
    if (this.deferring) this.checkRecoveryDone();
  }

  private onRouteRefresh(p: PeerRuntime, m: RouteRefreshMessage): void {
    const id = p.opts.rib.ref.id;
    const family = familyOf(m.afi, m.safi);
    // RFC 2918 §4 / RFC 7313 §4: requests for families not negotiated are ignored.
    if (!family || !p.families.includes(family)) return;
    switch (m.subtype) {
      case RouteRefreshSubtype.Normal: {
        const enhanced = p.opts.session.info.negotiated?.enhancedRouteRefresh === true;
        // RFC 7313 §4: "the BGP speaker ... MUST send a BoRR message before ... and an EoRR after".
        if (enhanced) p.opts.session.send([encodeRouteRefresh({ ...m, subtype: RouteRefreshSubtype.BeginningOfRouteRefresh })]);
        p.pendingEoRR = enhanced ? [...(p.pendingEoRR ?? []), family] : p.pendingEoRR;
        this.rib.refreshOut(id, family);
        this.scheduleFlush(id);
        p.opts.log.info({ family, enhanced }, 'route refresh requested by peer');
        return;
      }
      case RouteRefreshSubtype.BeginningOfRouteRefresh:
        // RFC 7313 §4: BoRR — the peer's routes of the family become stale until EoRR.
        this.rib.markStale(id, [family]);
        return;
      case RouteRefreshSubtype.EndOfRouteRefresh: {
        const swept = this.rib.sweepStale(id, family);
        p.opts.log.info({ family, staleRemoved: swept }, 'enhanced route refresh complete');
        return;
      }
      default:
        return; // RFC 7313 §5: unknown subtypes are ignored
    }
  }

  private onDown(p: PeerRuntime, info: SessionDown): void {
    const { rib, session, log } = p.opts;
    const id = rib.ref.id;
    p.up = false;
    this.rib.peerDown(id);
    if (p.intervalTimer) clearTimeout(p.intervalTimer);
    p.intervalTimer = undefined;
    p.flushScheduled = false;
    const gr = session.peerGracefulRestart;
    if (gr && p.opts.gracefulRestart && gracefulEnd(info) && p.families.length) {
      // RFC 4724 §4.2: a second restart before the previous one finished: the old stale routes go.
      if (p.staleTimer) this.rib.sweepStale(id);
      const stale = this.rib.markStale(id, p.families);
      this.armStaleTimer(p, gr.restartTime, 'restart time expired before the session came back');
      log.info({ stale, restartTime: gr.restartTime }, 'graceful restart: keeping the peer\'s routes as stale');
    } else {
      const dropped = this.rib.withdrawAll(id);
      log.info({ routesDropped: dropped }, 'session down: routes withdrawn');
    }
  }

  // ===== Graceful restart, helper side (RFC 4724 §4.2) =====
  private helperOnReestablish(p: PeerRuntime, n: Negotiated): void {
    const id = p.opts.rib.ref.id;
    if (this.rib.staleCount(id) === 0) return;
    const gr = p.opts.session.peerGracefulRestart;
    // "If ... the Graceful Restart Capability ... not received in the re-established session, or
    // the Forwarding State bit for a specific address family is not set ... MUST immediately remove
    // all the stale routes from the peer ... for that address family."
    for (const family of p.families) {
      const { afi, safi } = afiSafiOf(family);
      const kept = gr?.families.some((f) => f.afi === afi && f.safi === safi && f.forwardingState) && n.families.includes(family);
      if (!kept) this.rib.sweepStale(id, family);
    }
    if (this.rib.staleCount(id) === 0) {
      if (p.staleTimer) clearTimeout(p.staleTimer);
      p.staleTimer = undefined;
      return;
    }
    // Until End-of-RIB: bounded by the peer's restart time again (a stale-path timer).
    this.armStaleTimer(p, gr?.restartTime ?? 120, 'no End-of-RIB within the restart time');
  }

  private armStaleTimer(p: PeerRuntime, seconds: number, why: string): void {
    if (p.staleTimer) clearTimeout(p.staleTimer);
    p.staleTimer = setTimeout(() => {
      p.staleTimer = undefined;
      const swept = this.rib.sweepStale(p.opts.rib.ref.id);
      p.opts.log.info({ staleRemoved: swept }, `graceful restart: ${why}`);
    }, Math.max(seconds, 1) * 1000);
    p.staleTimer.unref();
  }

  // ===== Graceful restart, restarting side (RFC 4724 §4.1) =====
  private checkRecoveryDone(): void {
    for (const p of this.peers.values()) {
      if (!p.opts.gracefulRestart) continue;
      // A peer that came up without Graceful Restart promises no End-of-RIB: do not wait for it.
      if (p.up && !p.opts.session.peerGracefulRestart) continue;
      if (!p.up || p.families.some((f) => !p.endOfRibReceived.has(f))) return;
    }
    this.endRecovery('End-of-RIB received from every graceful-restart peer');
  }

  private endRecovery(why: string): void {
    if (!this.deferring) return;
    this.deferring = false;
    if (this.deferralTimer) clearTimeout(this.deferralTimer);
    for (const p of this.peers.values()) p.opts.session.setRestarting(false);
    this.log.info({ why }, 'graceful restart: recovery done, advertising');
    this.events.emit('recoveryDone', why);
    for (const id of this.peers.keys()) this.scheduleFlush(id);
  }

  // ===== Max-prefix =====
  private checkMaxPrefixes(p: PeerRuntime): void {
    const max = p.opts.maxPrefixes;
    if (!max) return;
    const id = p.opts.rib.ref.id;
    const count = this.rib.acceptedCount(id);
    if (count <= max.limit) {
      p.maxPrefixWarned = false;
      return;
    }
    if (max.action === 'warn') {
      if (!p.maxPrefixWarned) p.opts.log.warn({ count, limit: max.limit }, 'maximum prefixes exceeded');
      p.maxPrefixWarned = true;
      return;
    }
    if (p.restartTimer) return;
    p.opts.log.warn({ count, limit: max.limit, restartDelay: max.restartDelay }, 'maximum prefixes exceeded: closing the session');
    // RFC 4486 §4: Cease / Maximum Number of Prefixes Reached, data AFI, SAFI, limit.
    const family = p.families[0] ?? 'ipv4-unicast';
    const { afi, safi } = afiSafiOf(family);
    const data = Uint8Array.of(afi >> 8, afi & 0xff, safi, (max.limit >>> 24) & 0xff, (max.limit >>> 16) & 0xff, (max.limit >>> 8) & 0xff, max.limit & 0xff);
    const notification: NotificationMessage = { type: 'notification', code: NotificationCode.Cease, subcode: CeaseSubcode.MaximumNumberOfPrefixesReached, data };
    void p.opts.session.stop(undefined, notification);
    p.restartTimer = setTimeout(() => {
      p.restartTimer = undefined;
      p.opts.log.info('restarting the session after the max-prefix delay');
      p.opts.session.start();
    }, max.restartDelay * 1000);
    p.restartTimer.unref();
  }

  // ===== Sending =====
  private scheduleFlush(id: number): void {
    const p = this.peers.get(id);
    if (!p || !p.up || p.flushScheduled || p.intervalTimer) return;
    p.flushScheduled = true;
    this.flushQueue.add(id);
    if (this.flushRunning) return;
    this.flushRunning = true;
    setImmediate(() => this.runFlushes());
  }

  /**
   * One event-loop turn of sending: peers in round-robin order (a peer with more to send goes
   * to the back of the queue) until FLUSH_BUDGET_MS is spent, then yield so keepalives, reads
   * and timers run. One setImmediate per peer ran every peer's batch in the same turn: with 500
   * route-reflector clients that blocked the loop for 13 s (docs/performance.md).
   */
  private runFlushes(): void {
    const deadline = performance.now() + FLUSH_BUDGET_MS;
    for (const id of this.flushQueue) {
      this.flushQueue.delete(id);
      const p = this.peers.get(id);
      if (p) {
        p.flushScheduled = false;
        this.flush(p);
      }
      if (performance.now() >= deadline) break;
    }
    if (this.flushQueue.size) setImmediate(() => this.runFlushes());
    else this.flushRunning = false;
  }

  private flush(p: PeerRuntime): void {
    const { session, rib } = p.opts;
    const id = rib.ref.id;
    if (!p.up || this.deferring) return;
    const interval = Math.max(p.opts.advertisementInterval * 1000, COALESCE_MS);
    const wait = p.lastFlush + interval - Date.now();
    if (wait > 0 && this.rib.hasPending(id)) {
      p.intervalTimer = setTimeout(() => {
        p.intervalTimer = undefined;
        this.scheduleFlush(id);
      }, wait);
      return;
    }
    if (session.pendingBytes > HIGH_WATER_BYTES) return; // 'drain' calls us again
    const batch = this.rib.takeOutput(id, BATCH_PREFIXES);
    if (batch) {
      // An empty batch: the walk only skipped (routes withheld from this peer); go on next turn.
      if (batch.prefixes > 0) session.send(encodeBatch(batch, session.ctx, this.rib.encodeCache(id)));
      if (this.rib.hasPending(id)) {
        // Yield between batches so keepalives and other peers are served (architecture.md).
        this.scheduleFlush(id);
        return;
      }
      p.lastFlush = Date.now();
    }
    this.afterQueueEmpty(p);
  }

  private afterQueueEmpty(p: PeerRuntime): void {
    const { session } = p.opts;
    if (!p.endOfRibSent) {
      // RFC 4724 §2: End-of-RIB after the initial table, per family.
      session.send(p.families.map((f) => endOfRib(f, session.ctx)));
      p.endOfRibSent = true;
    }
    if (p.pendingEoRR?.length) {
      session.send(p.pendingEoRR.map((f) => encodeRouteRefresh({ type: 'route-refresh', ...afiSafiOf(f), subtype: RouteRefreshSubtype.EndOfRouteRefresh })));
      p.pendingEoRR = [];
    }
  }

  private clearTimers(p: PeerRuntime): void {
    for (const t of [p.intervalTimer, p.staleTimer, p.restartTimer]) if (t) clearTimeout(t);
  }

  // ===== Views =====
  isUp(id: number): boolean {
    return this.peers.get(id)?.up ?? false;
  }

  /** Every configured peer is up and has sent End-of-RIB for each of its families. */
  allConverged(): boolean {
    for (const p of this.peers.values()) if (!p.up || p.families.some((f) => !p.endOfRibReceived.has(f))) return false;
    return true;
  }
}

/** A session end after which RFC 4724 keeps routes: no NOTIFICATION either way (TCP failure,
 *  peer crash), or our Hold Timer Expired (the peer went silent — BIRD and FRR keep routes too). */
function gracefulEnd(info: SessionDown): boolean {
  if (info.notificationReceived) return false;
  return !info.notificationSent || info.notificationSent.code === NotificationCode.HoldTimerExpired;
}

/**
 * Our addresses on a session's interface: what "next hop self" means for each family. The
 * link-local IPv6 address is offered only when the peer shares that interface's subnet (RFC
 * 2545 §3: it is meaningful only on the shared link).
 */
export function selfAddresses(localAddress: string | undefined, peerAddress?: string): { ipv4?: Uint8Array; ipv6?: Uint8Array; ipv6LinkLocal?: Uint8Array } {
  const out: { ipv4?: Uint8Array; ipv6?: Uint8Array; ipv6LinkLocal?: Uint8Array } = {};
  if (!localAddress) return out;
  const local = localAddress.replace(/^::ffff:/, '');
  const v4 = ipv4ToBytes(local);
  const v6 = v4 ? undefined : ipv6ToBytes(local);
  if (v4) out.ipv4 = v4;
  if (v6 && !local.startsWith('fe80:')) out.ipv6 = v6;
  if (v6 && local.startsWith('fe80:')) out.ipv6LinkLocal = v6;
  for (const addrs of Object.values(networkInterfaces())) {
    const mine = addrs?.find((a) => a.address === local);
    if (!addrs || !mine) continue;
    const onLink = peerAddress !== undefined && inSubnet(peerAddress, mine.cidr);
    for (const a of addrs) {
      if (a.internal) continue;
      if (a.family === 'IPv4' && !out.ipv4) out.ipv4 = ipv4ToBytes(a.address);
      else if (a.family === 'IPv6' && a.address.startsWith('fe80:') && onLink && !out.ipv6LinkLocal) out.ipv6LinkLocal = ipv6ToBytes(a.address.split('%')[0]!);
      else if (a.family === 'IPv6' && !a.address.startsWith('fe80:') && !out.ipv6) out.ipv6 = ipv6ToBytes(a.address);
    }
  }
  return out;
}

function inSubnet(address: string, cidr: string | null): boolean {
  if (!cidr) return false;
  const [net, lenText] = cidr.split('/') as [string, string];
  const a = ipToBytes(address.split('%')[0]!);
  const n = ipToBytes(net);
  const len = Number(lenText);
  if (!a || !n || a.length !== n.length) return false;
  for (let bit = 0; bit < len; bit++) {
    const mask = 0x80 >> (bit & 7);
    if ((a[bit >> 3]! & mask) !== (n[bit >> 3]! & mask)) return false;
  }
  return true;
}
