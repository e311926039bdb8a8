// SPDX-License-Identifier: Apache-2.0
// The operations HTTP endpoint (config `metrics.listen`), on node:http with no framework:
//   /metrics  Prometheus text exposition of the daemon's registry (metrics.ts)
//   /healthz  liveness: 200 while the event loop turns (recent lag under a bound) and the daemon
//             serves; 503 with a JSON reason otherwise
//   /readyz   readiness: 200 once every configured, enabled peer is Established and our own
//             graceful-restart recovery (RFC 4724 §4.1) is over; 503 listing the peers not ready
// GET and HEAD only; anything else is 404 (unknown path) or 405 (other method). It changes no
// daemon state and carries no authentication: bind it to a management address.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { isIP, type AddressInfo } from 'node:net';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import type { Daemon, PeerEntry } from '../daemon.ts';
import { DaemonMetrics } from './metrics.ts';

/** Above this recent event-loop lag the daemon is not live (keepalives would already be late). */
export const DEFAULT_MAX_EVENT_LOOP_LAG_MS = 5000;
/** The lag is the worst seen in the current and the previous window of this length. */
const DEFAULT_LAG_WINDOW_MS = 10_000;

export interface ObservabilityServerOptions {
  /** "ADDRESS:PORT", "[IPv6]:PORT" or ":PORT" (every address). */
  listen: string;
  maxEventLoopLagMs?: number;
  lagWindowMs?: number;
  /** Metrics to serve; default a new DaemonMetrics for the daemon (closed with the server). */
  metrics?: DaemonMetrics;
}

/**
 * "10.0.0.1:9179" → {host, port}; ":9179" → {host: undefined, port}. Throws with the text on error.
 * Port 0 (any free port) is accepted here for tests; the config schema asks for 1-65535.
 */
export function parseListen(text: string): { host: string | undefined; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(text.trim());
  const host = m ? (m[1] ?? m[2] ?? '') : '';
  const port = m ? Number(m[3]) : NaN;
  if (!m || !Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`metrics.listen "${text}" is not ADDRESS:PORT or :PORT with a port from 1 to 65535`);
  if (m[1] !== undefined && isIP(host) !== 6) throw new Error(`metrics.listen "${text}": "${host}" is not an IPv6 address`);
  if (m[2] !== undefined && host !== '' && isIP(host) !== 4) throw new Error(`metrics.listen "${text}": "${host}" is not an IPv4 address (write IPv6 as [ADDRESS]:PORT)`);
  return { host: host === '' ? undefined : host, port };
}

export interface Verdict {
  ok: boolean;
  body: Record<string, unknown>;
}

export class ObservabilityServer {
  readonly metrics: DaemonMetrics;
  private readonly daemon: Daemon;
  private readonly server: Server;
  private readonly lag: LagMonitor;
  private readonly ownsMetrics: boolean;
  private readonly maxLagMs: number;
  private serving = false;
  private closing?: Promise<void>;

  private constructor(daemon: Daemon, opts: ObservabilityServerOptions) {
    this.daemon = daemon;
    this.ownsMetrics = opts.metrics === undefined;
    this.metrics = opts.metrics ?? new DaemonMetrics(daemon);
    this.maxLagMs = opts.maxEventLoopLagMs ?? DEFAULT_MAX_EVENT_LOOP_LAG_MS;
    this.lag = new LagMonitor(opts.lagWindowMs ?? DEFAULT_LAG_WINDOW_MS);
    this.server = createServer((req, res) => void this.handle(req, res));
  }

  /**
   * Binds the endpoint; a bind failure (address in use, not local, no permission) rejects with
   * an error naming the address, and leaves nothing running.
   */
  static async start(daemon: Daemon, opts: ObservabilityServerOptions): Promise<ObservabilityServer> {
    const { host, port } = parseListen(opts.listen);
    const s = new ObservabilityServer(daemon, opts);
    try {
      await new Promise<void>((resolve, reject) => {
        s.server.once('error', reject);
        s.server.listen({ host, port }, () => {
          s.server.off('error', reject);
          resolve();
        });
      });
    } catch (err) {
      s.lag.stop();
      if (s.ownsMetrics) s.metrics.close();
      const e = err as NodeJS.ErrnoException;
      throw new Error(`metrics: cannot listen on ${opts.listen}: ${e.code ?? ''} ${e.message}`.replace(/ {2,}/g, ' '), { cause: err });
    }
    // The BGP sessions and the control socket keep the process alive, never this endpoint.
    s.server.unref();
    s.server.on('error', (err) => daemon.log.warn({ err }, 'metrics endpoint error'));
    daemon.log.info({ listen: opts.listen, address: s.address() }, 'metrics endpoint listening');
    return s;
  }

  address(): AddressInfo {
    return this.server.address() as AddressInfo;
  }

  /** The daemon calls this when it is up (true) and when it starts stopping (false). */
  setServing(serving: boolean): void {
    this.serving = serving;
  }

  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      this.serving = false;
      this.lag.stop();
      if (this.ownsMetrics) this.metrics.close();
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
    return this.closing;
  }

  // ===== Verdicts (exported through the endpoints; public for tests) =====
  health(): Verdict {
    const lagMs = round(this.lag.recentMaxMs());
    if (!this.serving) return { ok: false, body: { status: 'unhealthy', reason: this.closing ? 'the daemon is stopping' : 'the daemon is not serving yet (starting)', eventLoopLagMs: lagMs } };
    if (lagMs > this.maxLagMs) {
      return { ok: false, body: { status: 'unhealthy', reason: `event loop lag ${lagMs} ms exceeds ${this.maxLagMs} ms`, eventLoopLagMs: lagMs } };
    }
    return { ok: true, body: { status: 'ok', eventLoopLagMs: lagMs } };
  }

  readiness(): Verdict {
    if (!this.serving) return { ok: false, body: { status: 'not ready', reason: this.closing ? 'the daemon is stopping' : 'the daemon is starting', notReady: [] } };
    const notReady = peersNotReady(this.daemon);
    if (notReady.length) return { ok: false, body: { status: 'not ready', reason: `${notReady.length} peer(s) not ready`, notReady } };
    return { ok: true, body: { status: 'ready', peers: [...this.daemon.peers.values()].filter(peerEnabled).length } };
  }

  // ===== HTTP =====
  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = pathOf(req.url);
    const method = req.method ?? 'GET';
    const known = path === '/metrics' || path === '/healthz' || path === '/readyz';
    if (!known) return send(res, method, 404, 'text/plain; charset=utf-8', `not found: ${path} (try /metrics, /healthz, /readyz)\n`);
    if (method !== 'GET' && method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      return send(res, method, 405, 'text/plain; charset=utf-8', `method ${method} not allowed (GET, HEAD)\n`);
    }
    if (path === '/metrics') {
      try {
        const text = await this.metrics.text();
        return send(res, method, 200, this.metrics.contentType, text);
      } catch (err) {
        this.daemon.log.warn({ err }, 'metrics scrape failed');
        return send(res, method, 500, 'text/plain; charset=utf-8', `scrape failed: ${err instanceof Error ? err.message : String(err)}\n`);
      }
    }
    const verdict = path === '/healthz' ? this.health() : this.readiness();
    return send(res, method, verdict.ok ? 200 : 503, 'application/json', JSON.stringify(verdict.body) + '\n');
  }
}

// ===== Readiness =====
export interface PeerNotReady {
  peer: string;
  state: string;
  reason: string;
}

/**
 * A peer is enabled unless its config says otherwise (`enabled: false` / `disabled: true`, for an
 * administratively shut peer, should the config grow one).
 */
function peerEnabled(entry: PeerEntry): boolean {
  const c = entry.config as { enabled?: unknown; disabled?: unknown };
  return c.enabled !== false && c.disabled !== true;
}

export function peersNotReady(daemon: Daemon): PeerNotReady[] {
  const out: PeerNotReady[] = [];
  const recovering = daemon.speaker.recovering;
  for (const entry of daemon.peers.values()) {
    if (!peerEnabled(entry)) continue;
    const state = entry.session.state;
    const peer = entry.config.name;
    if (state !== 'Established') out.push({ peer, state, reason: 'session not Established' });
    // RFC 4724 §4.1: after our restart, routing is complete only once the GR peers' End-of-RIB
    // arrived (or the selection deferral timer ran out); until then we hold back advertisements.
    else if (recovering && entry.config.gracefulRestart) out.push({ peer, state, reason: 'graceful restart recovery in progress (waiting for End-of-RIB)' });
  }
  return out;
}

// ===== Event-loop lag =====
/** The worst event-loop delay over the current and the previous window, from libuv's own timer. */
class LagMonitor {
  private readonly histogram: IntervalHistogram;
  private readonly timer: NodeJS.Timeout;
  private previousMaxNs = 0;

  constructor(windowMs: number) {
    this.histogram = monitorEventLoopDelay({ resolution: 10 });
    this.histogram.enable();
    this.timer = setInterval(() => {
      this.previousMaxNs = this.histogram.max;
      this.histogram.reset();
    }, windowMs);
    this.timer.unref();
  }

  recentMaxMs(): number {
    // An empty histogram reports max 0; a fresh one may report a huge min, never a huge max.
    return Math.max(this.previousMaxNs, this.histogram.max) / 1e6;
  }

  stop(): void {
    clearInterval(this.timer);
    this.histogram.disable();
  }
}

// ===== Helpers =====
function pathOf(url: string | undefined): string {
  try {
    return new URL(url ?? '/', 'http://localhost').pathname;
  } catch {
    return url ?? '/';
  }
}

function send(res: ServerResponse, method: string, status: number, contentType: string, body: string): void {
  res.statusCode = status;
  res.setHeader('Content-Type', contentType);
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.setHeader('Cache-Control', 'no-store');
  // HEAD: the same headers as GET, no body (RFC 9110 §9.3.2).
  res.end(method === 'HEAD' ? undefined : body);
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
