// SPDX-License-Identifier: Apache-2.0
// The daemon's side of BFD: a BFD session for every peer with `bfd` configured (started when the
// peer is added, ended when it is removed), created lazily so a daemon without BFD peers opens no
// UDP socket, and the one consequence BFD has for BGP: when a session goes from Up to Down the
// peer's BGP session is closed at once with Cease / BFD Down (RFC 9384), via `onDown`. It also
// exports `tern_bfd_session_up` per peer. It does not decide anything about BFD itself.
import type { PeerConfig } from '../config/index.ts';
import type { Logger } from '../observability/log.ts';
import { registerMetricsSource } from '../observability/metric-sources.ts';
import { registerCommand } from '../control/commands.ts';
import { BfdService, type BfdServiceOptions, type BfdSessionView } from './service.ts';

export class DaemonBfd {
  private service?: BfdService;
  private readonly log: Logger;
  private readonly onDown: (peerName: string) => void;
  private readonly options: BfdServiceOptions;

  constructor(log: Logger, onDown: (peerName: string) => void, options: BfdServiceOptions = {}) {
    this.log = log;
    this.onDown = onDown;
    this.options = options;
  }

  /** Starts BFD to the peer when its config asks for it (errors are logged: BGP runs regardless). */
  peerAdded(config: PeerConfig): void {
    const bfd = config.bfd;
    if (!bfd) return;
    const service = this.ensureService();
    service
      .add({ name: config.name, address: config.address, ...(config.localAddress ? { localAddress: config.localAddress } : {}), ...bfd })
      .catch((err: unknown) => this.log.error({ peer: config.name, err: String(err) }, 'BFD session could not start'));
  }

  async peerRemoved(name: string): Promise<void> {
    await this.service?.remove(name);
  }

  views(): BfdSessionView[] {
    return this.service?.views() ?? [];
  }

  async close(): Promise<void> {
    await this.service?.close();
  }

  private ensureService(): BfdService {
    if (this.service) return this.service;
    const service = new BfdService(this.log, this.options);
    service.on('down', (name: string, diag: number) => {
      this.log.warn({ peer: name, diag }, 'BFD session down: closing the BGP session (Cease / BFD Down, RFC 9384)');
      this.onDown(name);
    });
    this.service = service;
    return service;
  }
}

registerMetricsSource(({ registry, prom, daemon }) => {
  new prom.Gauge({
    name: 'tern_bfd_session_up',
    help: 'BFD session state per peer: 1 Up, 0 otherwise (RFC 5880).',
    labelNames: ['peer'],
    registers: [registry],
    collect() {
      this.reset();
      for (const v of daemon.bfd.views()) this.set({ peer: v.name }, v.state === 'Up' ? 1 : 0);
    },
  });
});

/** `tern show bfd`: one row per BFD session (BfdSessionView). */
registerCommand('show bfd', (daemon) => daemon.bfd.views());
