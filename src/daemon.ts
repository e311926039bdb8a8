// SPDX-License-Identifier: Apache-2.0
// Wiring: one PeerSession per configured peer, a listener that hands incoming connections to
// the session of their address, the RIB behind a Speaker, originated routes, the control socket,
// and config reload. Protocol and routing logic live in bgp/, rib/, policy/ and reflector/.
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { diffConfig, loadConfigAsync, type TernConfig, type PeerConfig } from './config/index.ts';
import type { Logger } from './observability/log.ts';
import { PeerSession } from './bgp/session/peer-session.ts';
import { Listener } from './bgp/session/listener.ts';
import { CeaseSubcode, NotificationCode } from './bgp/messages/iana.ts';
import { parsePrefix } from './bgp/messages/nlri.ts';
import { Rib, type LocalRoute, type RibPeerConfig } from './rib/rib.ts';
import { prefixKey } from './rib/prefix-key.ts';
import type { PeerRef } from './rib/types.ts';
import { resolvePolicy } from './policy/compile.ts';
import { Speaker } from './speaker.ts';
import { KernelSync } from './kernel-sync/kernel-sync.ts';
import './kernel-sync/metrics.ts';
import './kernel-sync/explain.ts';
import './observability/tcp-security-metrics.ts';
import { ControlServer } from './control/server.ts';
import { startBirdSockets, type BirdSockets } from './calico/birdctl/index.ts';
import type { ObservabilityServer } from './observability/http.ts';
import { commandHandler } from './control/commands.ts';
import { BmpExporter } from './observability/bmp.ts';
import { registerMrtDumpCommands, stopUpdateDump } from './observability/mrt-dump.ts';
import type { SessionDown } from './bgp/session/peer-session.ts';
import { ipToBytes } from './util/ip.ts';
import { DaemonBfd } from './bfd/daemon-hook.ts';

export interface PeerEntry {
  config: PeerConfig;
  ref: PeerRef;
  session: PeerSession;
}

export interface ReloadReport {
  file: string;
  peersAdded: string[];
  peersRemoved: string[];
  /** Peers whose session was reset to apply a change (address, AS, timers, families, ...). */
  peersReset: string[];
  /** Peers updated in place: policies, next hop, limits (no reset). */
  peersUpdated: string[];
  originateChanged: boolean;
  /** Global keys that only take effect after a restart. */
  needsRestart: string[];
}

/**
 * What the daemon tells observers (metrics, BMP, `tern watch`, ...), who must only read:
 *   'peerState'(entry, from, to)    every reported FSM state change
 *   'peerUp'(entry, negotiated)     a session reached Established
 *   'peerDown'(entry, reason, info) an Established session ended (info: SessionDown, the NOTIFICATION if any)
 *   'update'(entry, decoded, ctx)   an UPDATE arrived (before the RIB applied it)
 *   'routeChange'(destination)      a Loc-RIB best path or ECMP set changed
 *   'reload'(report)                a configuration reload was applied
 *   'reloadFailed'(error)           a reload was refused (the file did not load or validate)
 */
export type DaemonEvents = EventEmitter;

/** Per-peer keys that a reload applies without resetting the session. */
const SOFT_KEYS = new Set(['import', 'export', 'nextHop', 'maxPrefixes', 'advertisementInterval', 'allowOwnAs', 'description']);

export class Daemon {
  config: TernConfig;
  readonly log: Logger;
  readonly rib: Rib;
  readonly speaker: Speaker;
  readonly peers = new Map<string, PeerEntry>();
  private peersByAddress?: Map<string, PeerEntry>;
  private peersByAddressSize = -1;
  readonly startedAt = Date.now();
  readonly events: DaemonEvents = new EventEmitter();
  kernel?: KernelSync;
  /** RFC 5880/5881 sessions of peers with `bfd`; Down closes the BGP session (RFC 9384). */
  readonly bfd: DaemonBfd;
  private listener?: Listener;
  private control?: ControlServer;
  /** Calico mode: BIRD 1.6-compatible control sockets (config `birdSockets`). */
  private birdSockets?: BirdSockets;
  private bmp?: BmpExporter;
  private http?: ObservabilityServer;
  private stopping?: Promise<void>;
  private nextPeerId = 0;

  constructor(config: TernConfig, log: Logger) {
    this.config = config;
    this.log = log;
    this.rib = new Rib({ localAsn: config.asn, routerId: config.routerIdNum, clusterId: config.routeReflector.clusterId });
    this.speaker = new Speaker(this.rib, log);
    this.events.setMaxListeners(50);
    // Only when someone watches: emit() builds an argument array per call, per route changed.
    this.rib.destinationListeners.push((dest) => {
      if (this.events.listenerCount('routeChange') > 0) this.events.emit('routeChange', dest);
    });
    this.bfd = new DaemonBfd(log.child({ module: 'bfd' }), (name) => void this.peers.get(name)?.session.bfdDown());
  }

  /** `recover`: we restarted (tern run --graceful-restart): RFC 4724 restarting-speaker mode. */
  async start(opts: { recover?: boolean } = {}): Promise<void> {
    try {
      await this.startParts(opts);
    } catch (err) {
      // Half a daemon is worse than none: close what did start (sockets, timers) and report.
      await this.stop('start failed').catch(() => undefined);
      throw err;
    }
  }

  private async startParts(opts: { recover?: boolean }): Promise<void> {
    const { config } = this;
    // First: a bad metrics address fails the start before any session exists.
    if (config.metrics) {
      // Loaded only when configured: prom-client is ~13 MiB of RSS (metric-sources.ts).
      const { ObservabilityServer } = await import('./observability/http.ts');
      this.http = await ObservabilityServer.start(this, { listen: config.metrics.listen });
    }
    if (config.listen.enabled) {
      const md5Keys = config.peers.filter((p) => p.password).map((p) => ({ address: p.address, password: p.password! }));
      this.listener = new Listener(config.listen.addresses, config.listen.port, (socket) => this.onIncoming(socket), this.log, md5Keys, { ttl255: config.peers.some((p) => p.ttlSecurity > 0) });
      await this.listener.listen();
    }
    this.control = new ControlServer(config.control.socket, commandHandler(this), this.log);
    await this.control.listen();
    if (config.birdSockets) this.birdSockets = await startBirdSockets(this, config.birdSockets);
    registerMrtDumpCommands();
    this.rib.setLocalRoutes('originated', originatedRoutes(config), Date.now());
    for (const peer of config.peers) this.addPeer(peer, false);
    if (opts.recover) this.speaker.startRecovery(config.gracefulRestart.deferralTime);
    if (config.kernel && (config.kernel.learn || config.kernel.program)) {
      const k = config.kernel;
      this.kernel = new KernelSync(
        {
          ...k,
          exportPolicy: resolvePolicy(k.export, config.policies, 'kernel', 'export'),
          deferralTime: config.gracefulRestart.deferralTime,
        },
        this.rib,
        this.speaker,
        this.log,
      );
      await this.kernel.start();
    }
    // BMP (RFC 7854) listens before any session starts, so it sees every Peer Up.
    if (config.bmp?.length) {
      this.bmp = new BmpExporter(this, config.bmp, this.log);
      this.bmp.start();
    }
    for (const p of this.peers.values()) p.session.start();
    this.log.info({ routerId: config.routerId, asn: config.asn, peers: config.peers.length, listen: config.listen, recovering: this.speaker.recovering }, 'tern started');
    this.http?.setServing(true);
  }

  /** Stops every session with Cease / Administrative Shutdown (RFC 9003 text) and closes sockets. */
  stop(reason = 'Tern is shutting down'): Promise<void> {
    this.stopping ??= this.shutdown(reason);
    return this.stopping;
  }

  private async shutdown(reason: string): Promise<void> {
    await this.http?.close();
    this.speaker.stop();
    await this.kernel?.stop().catch((err: unknown) => this.log.error({ err: String(err) }, 'kernel sync did not stop cleanly'));
    await Promise.allSettled([...this.peers.values()].map((p) => p.session.stop(reason)));
    await this.bfd.close();
    // After the sessions: BMP stations get every Peer Down, then Termination.
    await this.bmp?.stop();
    await stopUpdateDump(this);
    await this.listener?.close();
    await this.control?.close();
    await this.birdSockets?.close();
    this.log.info({ reason }, 'tern stopped');
  }

  peerByName(name: string): PeerEntry | undefined {
    return this.peers.get(name);
  }

  private addPeer(config: PeerConfig, start = true): void {
    const ref: PeerRef = {
      id: this.nextPeerId++,
      name: config.name,
      asn: config.asn,
      type: config.asn === (config.localAsn ?? this.config.asn) ? 'ibgp' : 'ebgp',
      address: ipToBytes(config.address.split('%')[0]!) ?? new Uint8Array(4),
      addressText: config.address,
      rrClient: config.routeReflectorClient,
      routerId: 0,
    };
    const log = this.log.child({ peer: config.name, peerAddress: config.address, peerAs: config.asn });
    const session = new PeerSession({
      name: config.name,
      address: config.address,
      port: config.port,
      localAddress: config.localAddress,
      asn: config.asn,
      passive: config.passive,
      holdTime: config.holdTime,
      keepalive: config.keepalive,
      connectRetry: config.connectRetry,
      families: config.families,
      addPaths: config.addPaths,
      gracefulRestart: config.gracefulRestart,
      ...(config.sendHoldTime !== undefined ? { sendHoldTime: config.sendHoldTime } : {}),
      ...(config.password || config.ttlSecurity || config.address.includes('%')
        ? { security: { ...(config.password ? { password: config.password } : {}), ...(config.ttlSecurity ? { ttlSecurity: config.ttlSecurity } : {}), ...(config.address.includes('%') ? { device: config.address.split('%')[1]! } : {}) } }
        : {}),
      local: { asn: config.localAsn ?? this.config.asn, routerId: this.config.routerIdNum },
      logger: log,
    });
    const entry: PeerEntry = { config, ref, session };
    this.peers.set(config.name, entry);
    // Observers first hear of an UPDATE before the RIB applies it (listeners run in order).
    session.on('state', (from: string, to: string) => this.events.emit('peerState', entry, from, to));
    session.on('established', (n: unknown) => this.events.emit('peerUp', entry, n));
    session.on('down', (reason: string, info?: SessionDown) => this.events.emit('peerDown', entry, reason, info));
    session.on('update', (decoded: unknown) => this.events.emit('update', entry, decoded, session.ctx));
    this.speaker.addPeer({
      rib: this.ribPeerConfig(config, ref),
      session,
      log,
      advertisementInterval: config.advertisementInterval,
      maxPrefixes: config.maxPrefixes,
      gracefulRestart: config.gracefulRestart !== undefined,
    });
    this.bfd.peerAdded(config);
    if (start) session.start();
  }

  private ribPeerConfig(config: PeerConfig, ref: PeerRef): RibPeerConfig {
    return {
      ref,
      importPolicy: resolvePolicy(config.import, this.config.policies, config.name),
      exportPolicy: resolvePolicy(config.export, this.config.policies, config.name),
      nextHopMode: config.nextHop,
      allowOwnAs: config.allowOwnAs,
      ...(config.localAsn !== undefined ? { localAsn: config.localAsn } : {}),
    };
  }

  /** The configured peer with this address (an index: 1000 clients connecting at once must not
   *  compare every address with every peer). */
  private peerByAddress(remote: string): PeerEntry | undefined {
    const key = addressKey(remote);
    if (key === undefined) return undefined;
    if (!this.peersByAddress || this.peersByAddressSize !== this.peers.size) {
      this.peersByAddress = new Map();
      for (const p of this.peers.values()) {
        const k = addressKey(p.config.address);
        if (k !== undefined) this.peersByAddress.set(k, p);
      }
      this.peersByAddressSize = this.peers.size;
    }
    const hit = this.peersByAddress.get(key);
    // Checked against the live table: an entry replaced under the same count is found anyway.
    if (hit && this.peers.get(hit.config.name) === hit) return hit;
    return [...this.peers.values()].find((p) => addressKey(p.config.address) === key);
  }

  private onIncoming(socket: Socket): void {
    const remote = (socket.remoteAddress ?? '').replace(/^::ffff:/, '');
    const entry = this.peerByAddress(remote);
    if (!entry) {
      this.log.warn({ remote, port: socket.remotePort }, 'connection from an address that is not a configured peer: closed');
      socket.destroy();
      return;
    }
    entry.session.acceptIncoming(socket);
  }

  // ===== Reload =====
  /**
   * Read the config file again and apply the difference: new and removed peers, policy and other
   * soft changes without a reset, hard changes with a reset of that peer only. A file that does
   * not validate throws ConfigError and changes nothing.
   */
  async reload(): Promise<ReloadReport> {
    let next: TernConfig;
    try {
      next = await loadConfigAsync(this.config.source);
    } catch (err) {
      this.events.emit('reloadFailed', err);
      throw err;
    }
    return this.applyConfig(next);
  }

  /**
   * Apply an already validated config (e.g. compiled from Calico resources by `tern calico run`)
   * exactly as reload() applies a re-read file: unchanged sessions are not touched.
   */
  async applyConfig(next: TernConfig): Promise<ReloadReport> {
    const diff = diffConfig(this.config, next);
    const report: ReloadReport = { file: this.config.source, peersAdded: [], peersRemoved: [], peersReset: [], peersUpdated: [], originateChanged: false, needsRestart: [] };
    const restartOnly = diff.globalChanged.filter((k) => !k.startsWith('logLevel') && !k.startsWith('policies'));
    report.needsRestart = restartOnly;
    // Keep what cannot change live: identity, listeners and the control socket.
    const applied: TernConfig = { ...next, routerId: this.config.routerId, routerIdNum: this.config.routerIdNum, asn: this.config.asn, listen: this.config.listen, control: this.config.control, routeReflector: this.config.routeReflector, metrics: this.config.metrics };
    const kernelExportBefore = this.config.kernel?.export;
    this.config = applied;
    for (const peer of diff.peersRemoved) {
      await this.removePeer(peer.name, CeaseSubcode.PeerDeconfigured, 'peer removed from the configuration');
      report.peersRemoved.push(peer.name);
    }
    for (const change of diff.peersChanged) {
      const hard = change.keys.some((k) => !SOFT_KEYS.has(k.split('.')[0]!));
      const entry = this.peers.get(change.before.name);
      if (!entry) continue;
      if (hard) {
        await this.removePeer(change.before.name, CeaseSubcode.OtherConfigurationChange, `configuration changed: ${change.keys.join(', ')}`);
        this.addPeer(change.after);
        report.peersReset.push(change.after.name);
        continue;
      }
      entry.config = change.after;
      this.speaker.updatePeer(entry.ref.id, this.ribPeerConfig(change.after, entry.ref), {
        importChanged: change.keys.includes('import') || change.keys.includes('allowOwnAs'),
        exportChanged: change.keys.includes('export') || change.keys.includes('nextHop'),
      });
      report.peersUpdated.push(change.after.name);
    }
    for (const peer of diff.peersAdded) {
      this.addPeer(peer);
      report.peersAdded.push(peer.name);
    }
    await this.syncListenerKeys(diff);
    // The kernel export policy is re-applied to every route when it (or the policy it names)
    // changed: in Calico mode a pool's encapsulation or programClusterRoutes lives there.
    const kernelExport = applied.kernel?.export;
    if (this.kernel && kernelExport && (JSON.stringify(kernelExport) !== JSON.stringify(kernelExportBefore) || (kernelExport.kind === 'named' && diff.policiesChanged.includes(kernelExport.name)))) {
      this.kernel.setExportPolicy(resolvePolicy(kernelExport, applied.policies, 'kernel', 'export'));
    }
    if (diff.originateAdded.length || diff.originateRemoved.length) {
      await this.applyOriginated(originatedRoutes(applied));
      report.originateChanged = true;
    }
    this.log.info({ ...report }, 'configuration reloaded');
    this.events.emit('reload', report);
    return report;
  }

  /**
   * The new originated set, applied a slice at a time: a reload that adds tens of thousands of
   * prefixes must not hold the event loop (keepalives first, architecture.md).
   */
  private async applyOriginated(routes: LocalRoute[]): Promise<void> {
    const wanted = new Map(routes.map((r) => [prefixKey(r.nlri), r]));
    const gone = [...this.rib.localRoutes('originated')].filter((p) => !wanted.has(prefixKey(p.nlri)));
    const SLICE = 500;
    for (let i = 0; i < gone.length; i += SLICE) {
      for (const p of gone.slice(i, i + SLICE)) this.rib.removeLocalRoute('originated', p.nlri);
      await new Promise((r) => setImmediate(r));
    }
    for (let i = 0; i < routes.length; i += SLICE) {
      const now = Date.now();
      for (const r of routes.slice(i, i + SLICE)) this.rib.upsertLocalRoute(r, now);
      await new Promise((r) => setImmediate(r));
    }
  }

  /** RFC 2385 keys on the listening sockets follow the peers' passwords (only changed ones move). */
  private async syncListenerKeys(diff: ReturnType<typeof diffConfig>): Promise<void> {
    const listener = this.listener;
    if (!listener) return;
    const changes: [string, string | null][] = [
      ...diff.peersRemoved.filter((p) => p.password).map((p): [string, null] => [p.address, null]),
      ...diff.peersChanged.filter((c) => c.before.password !== c.after.password || c.before.address !== c.after.address).flatMap((c): [string, string | null][] => [
        ...(c.before.password && c.before.address !== c.after.address ? [[c.before.address, null] as [string, null]] : []),
        [c.after.address, c.after.password ?? null],
      ]),
      ...diff.peersAdded.filter((p) => p.password).map((p): [string, string] => [p.address, p.password!]),
    ];
    if (changes.length && !listener.keyed) return this.reopenListener();
    for (const [address, password] of changes) listener.setKey(address, password);
  }

  /** The first MD5 key: the listening sockets must be remade by the addon (established sessions stay). */
  private async reopenListener(): Promise<void> {
    const { config } = this;
    await this.listener?.close();
    const md5Keys = config.peers.filter((p) => p.password).map((p) => ({ address: p.address, password: p.password! }));
    this.listener = new Listener(config.listen.addresses, config.listen.port, (socket) => this.onIncoming(socket), this.log, md5Keys, { ttl255: config.peers.some((p) => p.ttlSecurity > 0) });
    await this.listener.listen();
  }

  private async removePeer(name: string, subcode: 3 | 6, text: string): Promise<void> {
    const entry = this.peers.get(name);
    if (!entry) return;
    this.peers.delete(name);
    this.speaker.removePeer(entry.ref.id);
    await this.bfd.peerRemoved(name);
    // RFC 4486 §4: Peer De-configured (3) or Other Configuration Change (6); no data.
    await entry.session.stop(text, { type: 'notification', code: NotificationCode.Cease, subcode, data: new Uint8Array(0) });
  }
}

function originatedRoutes(config: TernConfig): LocalRoute[] {
  return config.originate.map((o) => ({
    nlri: parsePrefix(o.prefix)!,
    family: o.family,
    source: 'originated',
    ...(o.nextHop ? { nextHop: ipToBytes(o.nextHop) } : {}),
    ...(o.blackhole ? { blackhole: true } : {}),
  }));
}

/** Canonical form of an address (zone index dropped): equal keys ⇔ equal addresses. */
function addressKey(address: string): string | undefined {
  const bytes = ipToBytes(address.split('%')[0]!);
  return bytes ? bytes.join('.') : undefined;
}
