// SPDX-License-Identifier: Apache-2.0
// `tern watch`: a stream of what happens, as it happens: peer state changes (and why a session
// went down) and Loc-RIB changes per prefix with the old and new best path. It subscribes to
// daemon.events and hands events to the control server's EventStream, which drops a client that
// does not keep up; nothing here ever waits for a client.
// To say what the best path was before a change, a tracker remembers the best path of each
// destination while at least one watch runs (one Map entry per destination; released when the
// last watch ends). Not here: the wire format of the stream (server.ts), printing (formatWatchEvent).
import type { Daemon, PeerEntry } from '../daemon.ts';
import type { Negotiated } from '../bgp/messages/negotiate.ts';
import type { Family, Nlri } from '../bgp/messages/types.ts';
import { asPathToString } from '../bgp/messages/route-view.ts';
import { prefixToString } from '../bgp/messages/nlri.ts';
import type { Destination, Path } from '../rib/types.ts';
import { bytesToIp } from '../util/ip.ts';
import { EventStream } from './server.ts';
import { findPeer } from './peer-ops.ts';
import { parsePrefixArg, prefixCovers } from './explain.ts';

/** A best path, briefly. */
export interface RouteBrief {
  /** The peer name, or the local source (originated, kernel, connected). */
  from: string;
  nextHop: string | null;
  asPath: string;
  localPref: number | null;
  med: number | null;
}

export type WatchEvent =
  | { type: 'peer-state'; time: string; peer: string; from: string; to: string }
  | { type: 'peer-up'; time: string; peer: string; families: Family[] }
  | { type: 'peer-down'; time: string; peer: string; reason: string }
  | {
      type: 'route';
      time: string;
      prefix: string;
      family: Family;
      /** added: no best before; withdrawn: no best after; best: another path won; ecmp: only the ECMP set changed. */
      change: 'added' | 'withdrawn' | 'best' | 'ecmp';
      old: RouteBrief | null;
      new: RouteBrief | null;
      /** Size of the ECMP set after the change. */
      ecmp: number;
    };

export interface WatchFilter {
  /** Only this peer's state changes, and route changes whose old or new best came from it. */
  peer?: PeerEntry;
  /** Only route changes for this prefix or prefixes inside it (peer events still shown unless filtered by peer). */
  prefix?: Nlri;
}

// ===== Remembering the previous best path =====

interface Remembered {
  best: Path | undefined;
  ecmp: number;
}

interface Tracker {
  subscribers: Set<(dest: Destination, before: Remembered | undefined) => void>;
  last: Map<string, Remembered>;
  listener: (dest: Destination) => void;
}

const trackers = new WeakMap<Daemon, Tracker>();

function subscribeRoutes(daemon: Daemon, fn: (dest: Destination, before: Remembered | undefined) => void): () => void {
  let t = trackers.get(daemon);
  if (!t) {
    const tracker: Tracker = { subscribers: new Set(), last: new Map(), listener: () => {} };
    for (const dest of daemon.rib.loc.values()) tracker.last.set(dest.key, { best: dest.decision.best, ecmp: dest.decision.multipath.length });
    tracker.listener = (dest) => {
      const before = tracker.last.get(dest.key);
      if (dest.decision.best || dest.decision.multipath.length) tracker.last.set(dest.key, { best: dest.decision.best, ecmp: dest.decision.multipath.length });
      else tracker.last.delete(dest.key);
      for (const s of tracker.subscribers) s(dest, before);
    };
    daemon.events.on('routeChange', tracker.listener);
    trackers.set(daemon, tracker);
    t = tracker;
  }
  const tracker = t;
  tracker.subscribers.add(fn);
  return () => {
    tracker.subscribers.delete(fn);
    if (tracker.subscribers.size) return;
    daemon.events.off('routeChange', tracker.listener);
    trackers.delete(daemon);
  };
}

// ===== Events =====

function brief(p: Path | undefined): RouteBrief | null {
  if (!p) return null;
  const a = p.attrs;
  return { from: p.peer?.name ?? p.source, nextHop: a.nextHop ? bytesToIp(a.nextHop) : null, asPath: asPathToString(a.asPath), localPref: a.localPref ?? null, med: a.med ?? null };
}

export function routeEvent(dest: Destination, before: Remembered | undefined, now = new Date()): WatchEvent {
  const oldBest = before?.best;
  const newBest = dest.decision.best;
  const change = !oldBest ? 'added' : !newBest ? 'withdrawn' : oldBest !== newBest ? 'best' : 'ecmp';
  return { type: 'route', time: now.toISOString(), prefix: prefixToString(dest.nlri), family: dest.family, change, old: brief(oldBest), new: brief(newBest), ecmp: dest.decision.multipath.length };
}

/** The event source for one `tern watch`. */
export function watchStream(daemon: Daemon, filter: WatchFilter): EventStream {
  return new EventStream((emit) => {
    const time = () => new Date().toISOString();
    const wanted = (entry: PeerEntry) => !filter.peer || filter.peer === entry;
    const onState = (entry: PeerEntry, from: string, to: string) => {
      if (wanted(entry)) emit({ type: 'peer-state', time: time(), peer: entry.config.name, from, to } satisfies WatchEvent);
    };
    const onUp = (entry: PeerEntry, n: Negotiated) => {
      if (wanted(entry)) emit({ type: 'peer-up', time: time(), peer: entry.config.name, families: n.families } satisfies WatchEvent);
    };
    const onDown = (entry: PeerEntry, reason: string) => {
      if (wanted(entry)) emit({ type: 'peer-down', time: time(), peer: entry.config.name, reason } satisfies WatchEvent);
    };
    const onRoute = (dest: Destination, before: Remembered | undefined) => {
      if (filter.prefix && !prefixCovers(filter.prefix, dest.nlri)) return;
      if (filter.peer) {
        const id = filter.peer.ref.id;
        if (before?.best?.peer?.id !== id && dest.decision.best?.peer?.id !== id) return;
      }
      emit(routeEvent(dest, before));
    };
    daemon.events.on('peerState', onState);
    daemon.events.on('peerUp', onUp);
    daemon.events.on('peerDown', onDown);
    const unsubscribeRoutes = subscribeRoutes(daemon, onRoute);
    return () => {
      daemon.events.off('peerState', onState);
      daemon.events.off('peerUp', onUp);
      daemon.events.off('peerDown', onDown);
      unsubscribeRoutes();
    };
  });
}

// ===== Text =====

function describeBrief(b: RouteBrief | null): string {
  if (!b) return 'none';
  const extra = [b.localPref === null ? '' : `local pref ${b.localPref}`, b.med === null ? '' : `MED ${b.med}`].filter(Boolean).join(', ');
  return `${b.from} via ${b.nextHop ?? '-'} [${b.asPath || 'empty'}]${extra ? ` (${extra})` : ''}`;
}

/** One line per event, for people at a terminal. */
export function formatWatchEvent(e: WatchEvent): string {
  const t = e.time.slice(11, 23);
  switch (e.type) {
    case 'peer-state':
      return `${t} peer ${e.peer}: ${e.from} -> ${e.to}`;
    case 'peer-up':
      return `${t} peer ${e.peer}: up (${e.families.join(', ')})`;
    case 'peer-down':
      return `${t} peer ${e.peer}: down: ${e.reason}`;
    case 'route':
      return `${t} route ${e.prefix} ${e.change}: ${describeBrief(e.old)} -> ${describeBrief(e.new)}${e.ecmp > 1 ? ` (ECMP ${e.ecmp})` : ''}`;
  }
}

/** The control command this module adds (registered by commands.ts). */
export const watchCommands = {
  watch: (daemon: Daemon, args: Record<string, unknown>) => {
    const filter: WatchFilter = {};
    if (args.peer !== undefined) filter.peer = findPeer(daemon, args.peer);
    if (args.prefix !== undefined) filter.prefix = parsePrefixArg(args.prefix);
    return watchStream(daemon, filter);
  },
};
