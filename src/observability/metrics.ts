// SPDX-License-Identifier: Apache-2.0
// Prometheus metrics for one daemon, with prom-client. Each daemon has its own Registry (several
// daemons share a process in tests and the demo). Almost every metric is computed when scraped
// from the same state `tern show` reads (peerView, the RIB), so the two always agree; only the
// counters of events that leave no state behind (Established transitions, reloads) are counted
// from `daemon.events`. Other modules (kernel sync, TCP MD5/TTL counters) add their own metrics
// through registerMetricsSource(). No prefix is ever a label value (cardinality).
// This module serves nothing: http.ts exposes the registry.
import * as prom from 'prom-client';
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { followMetricsSources, type MetricsSource } from './metric-sources.ts';
import type { Daemon, PeerEntry } from '../daemon.ts';
import { FAMILIES, type Family } from '../bgp/messages/types.ts';
import { notificationName } from '../bgp/messages/iana.ts';
import { peerView, type PeerView } from '../control/views.ts';

/** RFC 4271 §8 states as numbered by the BGP4-MIB (RFC 4273 bgpPeerState): idle(1) … established(6). */
export const PEER_STATE_VALUE: Readonly<Record<string, number>> = {
  Idle: 1,
  Connect: 2,
  Active: 3,
  OpenSent: 4,
  OpenConfirm: 5,
  Established: 6,
};

/** The `type` label values of the message counters, in the order of RFC 4271 §4.1 (+ RFC 2918). */
export const MESSAGE_TYPES = ['open', 'update', 'notification', 'keepalive', 'route_refresh'] as const;

// The extension point lives in metric-sources.ts (no prom-client there); re-exported here.
export { registerMetricsSource, type MetricsSource, type MetricsSourceContext } from './metric-sources.ts';

export interface DaemonMetricsOptions {
  /** prom-client's process metrics (event-loop lag, heap, GC, fds); default true. */
  defaultMetrics?: boolean;
}

export class DaemonMetrics {
  readonly registry = new Registry();
  private readonly daemon: Daemon;
  /** Established transitions per peer name: kept across session resets of the same name. */
  private readonly transitions = new Map<string, number>();
  private readonly reloads = { success: 0, failure: 0 };
  private readonly detach: () => void;

  constructor(daemon: Daemon, opts: DaemonMetricsOptions = {}) {
    this.daemon = daemon;
    if (opts.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry });
    const onUp = (entry: PeerEntry) => this.transitions.set(entry.config.name, (this.transitions.get(entry.config.name) ?? 0) + 1);
    const onReload = () => this.reloads.success++;
    const onReloadFailed = () => this.reloads.failure++;
    daemon.events.on('peerUp', onUp);
    daemon.events.on('reload', onReload);
    daemon.events.on('reloadFailed', onReloadFailed);
    this.definePeerMetrics();
    this.defineRibMetrics();
    this.defineDaemonMetrics();
    const following = followMetricsSources((source) => this.applySource(source));
    this.detach = () => {
      daemon.events.off('peerUp', onUp);
      daemon.events.off('reload', onReload);
      daemon.events.off('reloadFailed', onReloadFailed);
      following.stop();
    };
    for (const source of following.sources) this.applySource(source);
  }

  /** The Prometheus text exposition of every metric. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** Stops counting events and leaves the set of live metrics (the registry stays readable). */
  close(): void {
    this.detach();
  }

  /** Runs one source against this registry (now, or when it registers later). */
  private applySource(source: MetricsSource): void {
    try {
      source({ registry: this.registry, prom, daemon: this.daemon });
    } catch (err) {
      this.daemon.log.warn({ err }, 'a metrics source failed to register its metrics');
    }
  }

  // ===== Peers =====
  private definePeerMetrics(): void {
    const registers = [this.registry];
    // One pass over every peer per scrape; each gauge's collect reads the snapshot for its scrape.
    let snapshot: PeerSample[] = [];
    let taken = -1;
    const samples = (): PeerSample[] => {
      // Several collect functions run within one scrape; take the peers once per tick.
      const now = scrapeTick();
      if (taken !== now) {
        snapshot = [...this.daemon.peers.values()].map((entry) => peerSample(this.daemon, entry));
        taken = now;
      }
      return snapshot;
    };
    const gauge = (name: string, help: string, labelNames: readonly string[], fill: (g: Gauge<string>, s: PeerSample) => void) =>
      new Gauge({
        name,
        help,
        labelNames,
        registers,
        collect() {
          this.reset();
          for (const s of samples()) fill(this, s);
        },
      });
    const counter = (name: string, help: string, labelNames: readonly string[], fill: (c: Counter<string>, s: PeerSample) => void) =>
      new Counter({
        name,
        help,
        labelNames,
        registers,
        collect() {
          this.reset();
          for (const s of samples()) fill(this, s);
        },
      });

    gauge('tern_peer_state', 'BGP session state (RFC 4271 §8): 1 Idle, 2 Connect, 3 Active, 4 OpenSent, 5 OpenConfirm, 6 Established.', ['peer', 'peer_as'], (g, s) =>
      g.set(s.id, PEER_STATE_VALUE[s.view.state] ?? 0),
    );
    gauge('tern_peer_up', '1 when the session is Established, else 0.', ['peer', 'peer_as'], (g, s) => g.set(s.id, s.view.state === 'Established' ? 1 : 0));
    gauge('tern_peer_uptime_seconds', 'Seconds since the session became Established; 0 when it is not.', ['peer'], (g, s) => g.set({ peer: s.id.peer }, s.view.uptimeSeconds));
    counter('tern_peer_established_transitions_total', 'Times the session reached Established since the daemon started.', ['peer'], (c, s) =>
      c.inc({ peer: s.id.peer }, this.transitions.get(s.id.peer) ?? 0),
    );
    counter('tern_peer_messages_received_total', 'BGP messages received from the peer, by type.', ['peer', 'type'], (c, s) => {
      for (const type of MESSAGE_TYPES) c.inc({ peer: s.id.peer, type }, messageCount(s.view.messagesReceived, type));
    });
    counter('tern_peer_messages_sent_total', 'BGP messages sent to the peer, by type.', ['peer', 'type'], (c, s) => {
      for (const type of MESSAGE_TYPES) c.inc({ peer: s.id.peer, type }, messageCount(s.view.messagesSent, type));
    });
    const perFamily = (name: string, help: string, pick: (f: FamilyCounts) => number) =>
      gauge(name, help, ['peer', 'afi_safi'], (g, s) => {
        for (const [family, counts] of s.families) g.set({ peer: s.id.peer, afi_safi: family }, pick(counts));
      });
    perFamily('tern_peer_prefixes_received', 'Prefixes in the peer\'s Adj-RIB-In (received, before import policy).', (f) => f.received);
    perFamily('tern_peer_prefixes_accepted', 'Prefixes from the peer accepted by import policy (candidates in the Loc-RIB).', (f) => f.accepted);
    perFamily('tern_peer_prefixes_advertised', 'Prefixes in the peer\'s Adj-RIB-Out (advertised to it).', (f) => f.advertised);
    perFamily('tern_peer_prefixes_stale', 'Prefixes from the peer kept as stale (graceful restart RFC 4724, enhanced route refresh RFC 7313).', (f) => f.stale);
    gauge('tern_peer_last_error_info', 'The last error of the session, as a NOTIFICATION code and subcode (RFC 4271 §4.5); code "0" is an error without NOTIFICATION (TCP, timers). Always 1.', ['peer', 'code', 'subcode'], (g, s) => {
      if (s.view.lastError === null) return;
      const e = notificationOfLastError(s.view.lastError);
      g.set({ peer: s.id.peer, code: String(e.code), subcode: String(e.subcode) }, 1);
    });
  }

  // ===== RIB =====
  private defineRibMetrics(): void {
    const registers = [this.registry];
    const rib = this.daemon.rib;
    new Gauge({
      name: 'tern_rib_destinations',
      help: 'Destinations (prefixes) in the Loc-RIB.',
      labelNames: ['afi_safi'],
      registers,
      collect() {
        this.reset();
        const counts = locRibCounts(rib.loc.values());
        for (const [family, c] of counts) this.set({ afi_safi: family }, c.destinations);
      },
    });
    new Gauge({
      name: 'tern_rib_paths',
      help: 'Candidate paths in the Loc-RIB, from every peer and local source.',
      labelNames: ['afi_safi'],
      registers,
      collect() {
        this.reset();
        const counts = locRibCounts(rib.loc.values());
        for (const [family, c] of counts) this.set({ afi_safi: family }, c.paths);
      },
    });
    new Gauge({
      name: 'tern_path_attributes_interned',
      help: 'Distinct path attribute sets interned by the RIB (shared by its paths).',
      registers,
      collect() {
        this.set(rib.attrs.size);
      },
    });
  }

  // ===== The daemon as a whole =====
  private defineDaemonMetrics(): void {
    const registers = [this.registry];
    const reloads = this.reloads;
    const speaker = this.daemon.speaker;
    new Counter({
      name: 'tern_config_reloads_total',
      help: 'Configuration reloads (SIGHUP, `tern reload`): result="success" applied, "failure" refused (the running configuration stayed).',
      labelNames: ['result'],
      registers,
      collect() {
        this.reset();
        this.inc({ result: 'success' }, reloads.success);
        this.inc({ result: 'failure' }, reloads.failure);
      },
    });
    new Gauge({
      name: 'tern_graceful_restart_recovering',
      help: '1 while this daemon recovers from its own restart (RFC 4724 §4.1: advertisements deferred until End-of-RIB or the deferral timer), else 0.',
      registers,
      collect() {
        this.set(speaker.recovering ? 1 : 0);
      },
    });
  }
}

// ===== Per-peer samples =====
interface FamilyCounts {
  received: number;
  accepted: number;
  stale: number;
  advertised: number;
}

interface PeerSample {
  id: { peer: string; peer_as: string };
  view: PeerView;
  families: Map<Family, FamilyCounts>;
}

/** One peer as `show peers` reports it, plus its per-family counts (whose sums are the view's totals). */
export function peerSample(daemon: Daemon, entry: PeerEntry): PeerSample {
  const view = peerView(daemon, entry);
  const families = new Map<Family, FamilyCounts>();
  const counts = (family: Family): FamilyCounts => {
    let c = families.get(family);
    if (!c) families.set(family, (c = { received: 0, accepted: 0, stale: 0, advertised: 0 }));
    return c;
  };
  for (const family of view.families) counts(family);
  for (const [family, n] of daemon.rib.adjInCounts(entry.ref.id)) {
    const c = counts(family);
    c.received += n.received;
    c.accepted += n.accepted;
    c.stale += n.stale;
  }
  for (const [family, c] of families) c.advertised = daemon.rib.sentCount(entry.ref.id, family);
  return { id: { peer: view.name, peer_as: String(view.asn) }, view, families };
}

function messageCount(counts: Record<string, number>, type: (typeof MESSAGE_TYPES)[number]): number {
  // The session counts by wire name: OPEN, UPDATE, NOTIFICATION, KEEPALIVE, ROUTE-REFRESH.
  return counts[type.toUpperCase().replace('_', '-')] ?? 0;
}

function locRibCounts(dests: Iterable<{ family: Family; pathCount: number }>): Map<Family, { destinations: number; paths: number }> {
  const out = new Map<Family, { destinations: number; paths: number }>(FAMILIES.map((f) => [f, { destinations: 0, paths: 0 }]));
  for (const d of dests) {
    let c = out.get(d.family);
    if (!c) out.set(d.family, (c = { destinations: 0, paths: 0 }));
    c.destinations++;
    c.paths += d.pathCount;
  }
  return out;
}

/** Changes once per event-loop turn: collect functions of one scrape share a snapshot. */
let tick = 0;
let tickScheduled = false;
function scrapeTick(): number {
  if (!tickScheduled) {
    tickScheduled = true;
    setImmediate(() => {
      tick++;
      tickScheduled = false;
    });
  }
  return tick;
}

// ===== Last error → (code, subcode) =====
// `show peers` keeps the last error as text: "received <name>[: text | (data ..)]", "sent <name>..."
// or a transport reason. The NOTIFICATION names come from notificationName(), so the same table
// read backwards gives the numbers back: the metric agrees with `show peers` by construction.
const MAX_CODE = 8;
let namesLongestFirst: { name: string; code: number; subcode: number }[] | undefined;
const parsed = new Map<string, { code: number; subcode: number }>();

/** The NOTIFICATION (code, subcode) in a `lastError` text; (0, 0) when it was no NOTIFICATION. */
export function notificationOfLastError(text: string): { code: number; subcode: number } {
  const cached = parsed.get(text);
  if (cached) return cached;
  const result = parseLastError(text);
  if (parsed.size > 1000) parsed.clear();
  parsed.set(text, result);
  return result;
}

function parseLastError(text: string): { code: number; subcode: number } {
  const m = /^(?:received|sent) (.*)$/s.exec(text);
  if (!m) return { code: 0, subcode: 0 };
  const rest = m[1]!;
  const unknown = /^Unknown error code (\d+) \/ subcode (\d+)/.exec(rest);
  if (unknown) return { code: Number(unknown[1]), subcode: Number(unknown[2]) };
  namesLongestFirst ??= notificationNameTable();
  for (const n of namesLongestFirst) {
    if (rest === n.name || rest.startsWith(`${n.name}:`) || rest.startsWith(`${n.name} (`)) return { code: n.code, subcode: n.subcode };
  }
  return { code: 0, subcode: 0 };
}

function notificationNameTable(): { name: string; code: number; subcode: number }[] {
  const table: { name: string; code: number; subcode: number }[] = [];
  for (let code = 1; code <= MAX_CODE; code++) {
    // Subcodes are one octet (RFC 4271 §4.5); unnamed ones read "<code name> / subcode N".
    for (let subcode = 0; subcode <= 255; subcode++) table.push({ name: notificationName(code, subcode), code, subcode });
  }
  return table.sort((a, b) => b.name.length - a.name.length);
}
