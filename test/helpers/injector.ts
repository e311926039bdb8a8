// SPDX-License-Identifier: Apache-2.0
// Hostile-input lab: a Tern daemon on loopback with pools of passive iBGP and eBGP peers, and an
// Injector that establishes a real session from one pool address and sends raw (possibly
// malformed) messages, telling after each one whether the session survived or was reset and
// with which NOTIFICATION. A reset burns the pool address (Tern backs off errors, RFC 4271
// §8.1.1, and refuses that address for a while), so the next connect takes a fresh one; a
// long fuzz run reuses addresses once their back-off is over. RawPeer is the OPEN-stage
// variant: TCP only, no OPEN of ours, for OPEN-error inputs. Nothing here asserts: tests do.
import { connect, createServer, type Socket } from 'node:net';
import { Writable } from 'node:stream';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../src/config/index.ts';
import { Daemon } from '../../src/daemon.ts';
import { createLogger } from '../../src/observability/log.ts';
import { controlRequest } from '../../src/control/client.ts';
import type { PeerView, RouteView } from '../../src/control/views.ts';
import { FrameAssembler } from '../../src/bgp/messages/header.ts';
import { decodeMessage } from '../../src/bgp/messages/index.ts';
import { encodeRouteRefresh } from '../../src/bgp/messages/route-refresh.ts';
import { RouteRefreshSubtype } from '../../src/bgp/messages/iana.ts';
import { DEFAULT_CONTEXT, type BgpMessage, type Family, type NotificationMessage } from '../../src/bgp/messages/types.ts';
import { dottedToU32 } from '../../src/util/ip.ts';
import { ScriptedPeer } from './scripted-peer.ts';

export const TERN_ASN = 65000;
export const EBGP_ASN = 65001;
export const TERN_ADDRESS = '127.0.0.1';
export type PeerType = 'ibgp' | 'ebgp';
const BOTH_FAMILIES: Family[] = ['ipv4-unicast', 'ipv6-unicast'];
// RFC 4271 §8.1.1 back-off as Tern runs it (fsm/types.ts: errorWaitMin 5 s doubling to 60 s).
const BACKOFF_MIN_MS = 5_000;
const BACKOFF_MAX_MS = 60_000;

export interface LabOptions {
  /** Pool sizes: how many resets each peer type can take before addresses are reused. */
  ibgp?: number;
  ebgp?: number;
  /** Extra per-peer config keys (import policy, ...). */
  peerExtra?: (type: PeerType, index: number) => Record<string, unknown>;
  logLevel?: string;
}

/** Pool address of peer `index` (1-based) of a type: 127.1.x.y for iBGP, 127.2.x.y for eBGP. */
export function poolAddress(type: PeerType, index: number): string {
  return `127.${type === 'ibgp' ? 1 : 2}.${index >> 8}.${index & 0xff}`;
}

export function poolName(type: PeerType, index: number): string {
  return `${type}-${index}`;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen({ host: TERN_ADDRESS, port: 0 }, () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

export class Lab {
  readonly daemon: Daemon;
  readonly port: number;
  readonly socket: string;
  readonly sizes: Record<PeerType, number>;
  /** Every log line the daemon wrote (pino JSON). */
  readonly logLines: string[];
  private readonly dir: string;
  private readonly nextIndex: Record<PeerType, number> = { ibgp: 1, ebgp: 1 };
  /** Pool address → earliest reuse time (ms) and resets so far. */
  private readonly cooldown = new Map<string, { until: number; resets: number }>();

  private constructor(daemon: Daemon, port: number, socket: string, dir: string, sizes: Record<PeerType, number>, logLines: string[]) {
    this.daemon = daemon;
    this.port = port;
    this.socket = socket;
    this.dir = dir;
    this.sizes = sizes;
    this.logLines = logLines;
  }

  static async start(opts: LabOptions = {}): Promise<Lab> {
    const dir = mkdtempSync(join(tmpdir(), 'tern-security-'));
    const port = await freePort();
    const sizes = { ibgp: opts.ibgp ?? 8, ebgp: opts.ebgp ?? 8 };
    const peers: Record<string, unknown>[] = [];
    for (const type of ['ibgp', 'ebgp'] as const) {
      for (let i = 1; i <= sizes[type]; i++) {
        peers.push({
          name: poolName(type, i),
          address: poolAddress(type, i),
          asn: type === 'ibgp' ? TERN_ASN : EBGP_ASN,
          passive: true,
          holdTime: 30,
          families: BOTH_FAMILIES,
          import: 'all',
          ...(opts.peerExtra?.(type, i) ?? {}),
        });
      }
    }
    const config = parseConfig(
      JSON.stringify({ routerId: TERN_ADDRESS, asn: TERN_ASN, listen: { address: TERN_ADDRESS, port }, control: { socket: join(dir, 'tern.ctl') }, peers }),
      'security-lab.json',
    );
    const logLines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        for (const line of chunk.toString('utf8').split('\n')) if (line) logLines.push(line);
        cb();
      },
    });
    const daemon = new Daemon(config, createLogger({ level: opts.logLevel ?? process.env.TERN_TEST_LOG ?? 'info', destination: sink }));
    await daemon.start();
    return new Lab(daemon, port, config.control.socket, dir, sizes, logLines);
  }

  async stop(): Promise<void> {
    await this.daemon.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** The next pool address of a type that is not backing off (waits for one if all are). */
  async takeAddress(type: PeerType): Promise<{ address: string; name: string }> {
    for (;;) {
      const size = this.sizes[type];
      let soonest = Infinity;
      for (let tried = 0; tried < size; tried++) {
        const index = this.nextIndex[type];
        this.nextIndex[type] = (index % size) + 1;
        const address = poolAddress(type, index);
        const until = this.cooldown.get(address)?.until ?? 0;
        if (until <= Date.now()) return { address, name: poolName(type, index) };
        soonest = Math.min(soonest, until);
      }
      await sleep(Math.max(50, soonest - Date.now()));
    }
  }

  /** Tern reset this address: it refuses it until the back-off (doubling per reset) is over. */
  noteReset(address: string): void {
    const prev = this.cooldown.get(address);
    const resets = (prev?.resets ?? 0) + 1;
    const wait = Math.min(BACKOFF_MIN_MS * 2 ** (resets - 1), BACKOFF_MAX_MS);
    this.cooldown.set(address, { resets, until: Date.now() + wait + 500 });
  }

  async routes(peer: string, table: 'adj-in' | 'loc' | 'adj-out' = 'adj-in'): Promise<RouteView[]> {
    return (await controlRequest(this.socket, 'show routes', { peer, table })) as RouteView[];
  }

  async peers(): Promise<PeerView[]> {
    return (await controlRequest(this.socket, 'show peers')) as PeerView[];
  }

  /** NOTIFICATIONs Tern sent, summed over every peer (each one is a reset). */
  async notificationsSent(): Promise<number> {
    return (await this.peers()).reduce((n, p) => n + (p.messagesSent.NOTIFICATION ?? 0), 0);
  }

  /** Parsed log records (pino JSON lines) from `from` on. */
  logs(from = 0): Record<string, unknown>[] {
    return this.logLines.slice(from).map((l) => JSON.parse(l) as Record<string, unknown>);
  }
}

export type Outcome =
  | { kind: 'alive' }
  | { kind: 'reset'; notification?: NotificationMessage }
  /** Neither an answer nor a close in time: Tern waits for more bytes (or hangs). */
  | { kind: 'silent' };

export interface InjectorOptions {
  extendedMessage?: boolean;
}

/** One peer type's current session; reconnects from a fresh pool address after a reset. */
export class Injector {
  readonly lab: Lab;
  readonly type: PeerType;
  peer?: ScriptedPeer;
  address = '';
  name = '';
  /** Resets seen by this injector (NOTIFICATION from Tern or close). */
  resets = 0;
  private readonly opts: InjectorOptions;

  constructor(lab: Lab, type: PeerType, opts: InjectorOptions = {}) {
    this.lab = lab;
    this.type = type;
    this.opts = opts;
  }

  get alive(): boolean {
    return this.peer !== undefined && !this.peer.closed;
  }

  /** Establish from the next usable pool address (skipping ones Tern still refuses). */
  async connect(): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const { address, name } = await this.lab.takeAddress(this.type);
      const peer = new ScriptedPeer(
        { asn: this.type === 'ibgp' ? TERN_ASN : EBGP_ASN, bgpId: dottedToU32(address)!, holdTime: 30, families: BOTH_FAMILIES, extendedMessage: this.opts.extendedMessage ?? false },
        this.type,
      );
      try {
        await peer.establish(TERN_ADDRESS, this.lab.port, address, 5_000);
        this.peer = peer;
        this.address = address;
        this.name = name;
        return;
      } catch (err) {
        peer.close();
        // Refused: still backing off from an earlier reset we did not see end.
        this.lab.noteReset(address);
        if (attempt > this.lab.sizes[this.type] * 2) throw err;
      }
    }
  }

  async ensureConnected(): Promise<void> {
    if (!this.alive) await this.connect();
  }

  send(frame: Uint8Array): void {
    this.peer!.sendRaw(frame);
  }

  /**
   * Barrier: a ROUTE-REFRESH (RFC 2918) that Tern answers with a BoRR (RFC 7313 §4) only after
   * every earlier message was processed. Resolves 'alive' on the answer, 'reset' when the
   * connection closes (with Tern's NOTIFICATION if one came), 'silent' on timeout.
   */
  async barrier(timeoutMs = 5_000): Promise<Outcome> {
    const peer = this.peer!;
    const before = countBoRR(peer.received);
    if (!peer.closed) peer.sendRaw(encodeRouteRefresh({ type: 'route-refresh', afi: 1, safi: 1, subtype: RouteRefreshSubtype.Normal }));
    const until = Date.now() + timeoutMs;
    for (;;) {
      if (countBoRR(peer.received) > before) return { kind: 'alive' };
      if (peer.closed) return this.onReset();
      if (Date.now() > until) return { kind: 'silent' };
      await sleep(5);
    }
  }

  /** Send one frame and tell what became of the session. */
  async inject(frame: Uint8Array, timeoutMs = 5_000): Promise<Outcome> {
    this.send(frame);
    return this.barrier(timeoutMs);
  }

  /** Close our side (no NOTIFICATION) and wait until Tern notices. */
  async close(): Promise<void> {
    this.peer?.close();
    this.peer = undefined;
  }

  async adjIn(): Promise<RouteView[]> {
    return this.lab.routes(this.name, 'adj-in');
  }

  private onReset(): Outcome {
    this.resets++;
    this.lab.noteReset(this.address);
    const notification = lastNotification(this.peer!.received);
    return notification ? { kind: 'reset', notification } : { kind: 'reset' };
  }
}

function countBoRR(received: BgpMessage[]): number {
  let n = 0;
  for (const m of received) if (m.type === 'route-refresh' && m.subtype === RouteRefreshSubtype.BeginningOfRouteRefresh) n++;
  return n;
}

function lastNotification(received: BgpMessage[]): NotificationMessage | undefined {
  for (let i = received.length - 1; i >= 0; i--) {
    const m = received[i]!;
    if (m.type === 'notification') return m;
  }
  return undefined;
}

/**
 * A bare TCP connection from a pool address, for inputs that must replace our OPEN: it records
 * what Tern sends (decoded with the default context) and whether the socket closed.
 */
export class RawPeer {
  readonly received: BgpMessage[] = [];
  closed = false;
  private socket?: Socket;
  private readonly assembler = new FrameAssembler(65535);

  async connect(lab: Lab, address: string, timeoutMs = 5_000): Promise<void> {
    const socket = connect({ host: TERN_ADDRESS, port: lab.port, localAddress: address });
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      for (const frame of this.assembler.push(chunk)) this.received.push(decodeMessage(frame, DEFAULT_CONTEXT).message);
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      this.closed = true;
    });
    // Tern sends its OPEN as soon as it accepts (RFC 4271 §8.2.2 Active, Event 17).
    await this.waitFor(() => this.received.some((m) => m.type === 'open'), timeoutMs);
  }

  send(bytes: Uint8Array): void {
    this.socket!.write(bytes);
  }

  /** Resolves when the socket closes or the timeout passes; returns Tern's NOTIFICATION if any. */
  async closedWith(timeoutMs = 5_000): Promise<{ closed: boolean; notification?: NotificationMessage }> {
    await this.waitFor(() => this.closed, timeoutMs).catch(() => {});
    const notification = lastNotification(this.received);
    return notification ? { closed: this.closed, notification } : { closed: this.closed };
  }

  close(): void {
    this.socket?.destroy();
  }

  private async waitFor(probe: () => boolean, timeoutMs: number): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (!probe()) {
      if (Date.now() > until) throw new Error('raw peer: timed out');
      await sleep(5);
    }
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Poll until `probe` returns a value (not undefined). */
export async function eventually<T>(what: string, probe: () => Promise<T | undefined>, ms = 10_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** Event-loop liveness: a 10 ms interval timer; `maxGapMs` is the longest wait between ticks. */
export class LoopWatch {
  maxGapMs = 0;
  ticks = 0;
  private last = Date.now();
  private readonly timer: NodeJS.Timeout;

  constructor(everyMs = 10) {
    this.timer = setInterval(() => {
      const now = Date.now();
      this.maxGapMs = Math.max(this.maxGapMs, now - this.last);
      this.last = now;
      this.ticks++;
    }, everyMs);
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

export type Verdict = { ok: true; outcome: 'alive' | 'reset' } | { ok: false; detail: string };

/**
 * The fuzz oracle for one input over a live session: the session answers the barrier, or Tern
 * reset it with a NOTIFICATION; only a NOTIFICATION of ours may end it without one (RFC 4271
 * §6.4: a NOTIFICATION is never answered). An input whose Length promises more than was sent
 * leaves Tern waiting for the rest: 4096 filler octets complete it, and what follows the frame
 * is then garbage that must end in a header NOTIFICATION.
 */
export async function liveVerdict(inj: Injector, frame: Uint8Array, timeoutMs = 5_000): Promise<Verdict> {
  let outcome = await inj.inject(frame, timeoutMs);
  if (outcome.kind === 'silent') {
    inj.send(new Uint8Array(4096));
    outcome = await inj.barrier(timeoutMs);
    if (outcome.kind === 'alive') return { ok: true, outcome: 'alive' };
  }
  if (outcome.kind === 'alive') return { ok: true, outcome: 'alive' };
  if (outcome.kind === 'silent') return { ok: false, detail: 'no answer and no close, even after filler' };
  if (outcome.notification) return { ok: true, outcome: 'reset' };
  const ourNotification = frame.length >= 19 && frame[18] === 3 && frame.subarray(0, 16).every((b) => b === 0xff);
  return ourNotification ? { ok: true, outcome: 'reset' } : { ok: false, detail: 'connection closed without a NOTIFICATION' };
}
