// SPDX-License-Identifier: Apache-2.0
// Liveness under load: Tern (a child process, so its event loop is its own) ingests a large table
// from a scripted iBGP feeder while a watcher peer with hold time 3 s records when each KEEPALIVE
// from Tern arrives. If Tern's event loop blocks for longer than the hold time, the watcher's gap
// grows past it and a real peer would drop the session. Both peers are iBGP and Tern is no
// reflector, so Tern sends the watcher nothing but KEEPALIVEs ("programs nothing else").
// `runLiveness` is shared with test/security/liveness.test.ts (100k prefixes in `npm test`);
// `node --import tsx bench/liveness.ts [PREFIXES]` runs it at 1M and prints the numbers.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { controlRequest } from '../src/control/client.ts';
import type { PeerView } from '../src/control/views.ts';
import { FrameAssembler } from '../src/bgp/messages/header.ts';
import { decodeMessage, encodeMessage } from '../src/bgp/messages/index.ts';
import { encodeKeepalive } from '../src/bgp/messages/keepalive.ts';
import { buildOpen } from '../src/bgp/messages/negotiate.ts';
import { DEFAULT_CONTEXT } from '../src/bgp/messages/types.ts';
import { dottedToU32, ipv4ToBytes } from '../src/util/ip.ts';
import { ScriptedPeer, basicAttributes } from '../test/helpers/scripted-peer.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const ASN = 65000;
const TERN = '127.0.0.1';
const FEEDER = '127.3.0.1';
const WATCHER = '127.3.0.2';

export interface LivenessOptions {
  prefixes: number;
  /** The watcher's hold time, seconds (Tern keeps alive every third of it). */
  holdTime?: number;
  /** Prefixes per UPDATE; each UPDATE gets its own MED so attribute sets differ. */
  prefixesPerUpdate?: number;
  /** How long to keep watching after the table is in, ms. */
  settleMs?: number;
  /** Give up waiting for the table after this long, ms. */
  timeoutMs?: number;
}

export interface LivenessResult {
  prefixes: number;
  /** First UPDATE sent → Tern reports every prefix received. */
  ingestMs: number;
  prefixesPerSecond: number;
  /** Longest time between two messages from Tern at the watcher, during the load, ms. */
  maxGapMs: number;
  keepalives: number;
  holdTime: number;
  /** `show peers` requests Tern did not answer within 10 s while the table came in. */
  controlTimeouts: number;
  /** The watcher's session survived (no close, no NOTIFICATION). */
  watcherUp: boolean;
  notification?: string;
  /** Tern's resident set size at the end, MiB (from /proc). */
  ternRssMiB?: number;
  ternLog: string;
}

/** A BGP peer that only keeps the session alive and timestamps what Tern sends. */
class Watcher {
  readonly arrivals: number[] = [];
  keepalives = 0;
  closed = false;
  notification?: string;
  private socket?: Socket;
  private timer?: NodeJS.Timeout;
  private readonly assembler = new FrameAssembler(4096);

  async establish(port: number, holdTime: number): Promise<void> {
    const socket = connect({ host: TERN, port, localAddress: WATCHER });
    this.socket = socket;
    const open = buildOpen({ asn: ASN, bgpId: dottedToU32(WATCHER)!, holdTime, families: ['ipv4-unicast'] });
    socket.on('connect', () => socket.write(encodeMessage(open, DEFAULT_CONTEXT)));
    socket.on('error', () => {});
    socket.on('close', () => {
      this.closed = true;
      clearInterval(this.timer);
    });
    socket.on('data', (chunk: Buffer) => {
      const now = Date.now();
      for (const frame of this.assembler.push(chunk)) {
        this.arrivals.push(now);
        const { message } = decodeMessage(frame, DEFAULT_CONTEXT);
        if (message.type === 'open') {
          socket.write(encodeKeepalive());
          this.timer = setInterval(() => socket.write(encodeKeepalive()), (holdTime * 1000) / 3);
        } else if (message.type === 'keepalive') this.keepalives++;
        else if (message.type === 'notification') this.notification = `${message.code}/${message.subcode}`;
      }
    });
    const until = Date.now() + 10_000;
    while (this.keepalives === 0) {
      if (this.closed || Date.now() > until) throw new Error('watcher: no session with Tern');
      await sleep(20);
    }
  }

  /** Longest silence from Tern between `from` and now (ms), counting the wait since the last message. */
  maxGapSince(from: number): number {
    const times = [...this.arrivals.filter((t) => t >= from), Date.now()];
    const before = this.arrivals.filter((t) => t < from).at(-1) ?? from;
    let prev = before;
    let max = 0;
    for (const t of times) {
      max = Math.max(max, t - prev);
      prev = t;
    }
    return max;
  }

  close(): void {
    clearInterval(this.timer);
    this.socket?.destroy();
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen({ host: TERN, port: 0 }, () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** The i-th /24 of the feed: 10.0.0.0/24, 10.0.1.0/24, ... (16M available). */
function prefixAt(i: number): string {
  return `${10 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}.0/24`;
}

async function peersOf(socket: string): Promise<PeerView[]> {
  return (await controlRequest(socket, 'show peers')) as PeerView[];
}

export async function runLiveness(opts: LivenessOptions): Promise<LivenessResult> {
  const holdTime = opts.holdTime ?? 3;
  const perUpdate = opts.prefixesPerUpdate ?? 100;
  const dir = mkdtempSync(join(tmpdir(), 'tern-liveness-'));
  const port = await freePort();
  const socket = join(dir, 'tern.ctl');
  const file = join(dir, 'tern.json');
  writeFileSync(file, JSON.stringify({
    routerId: TERN,
    asn: ASN,
    listen: { address: TERN, port },
    control: { socket },
    peers: [
      { name: 'feeder', address: FEEDER, asn: ASN, passive: true, holdTime: 90 },
      { name: 'watcher', address: WATCHER, asn: ASN, passive: true, holdTime },
    ],
  }));
  const log: string[] = [];
  const nodeArgs = (process.env.TERN_LIVENESS_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', join(ROOT, 'src', 'main.ts'), 'run', '--config', file, '--log-level', 'warn'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.on('data', (d: Buffer) => log.push(d.toString()));
  child.stderr.on('data', (d: Buffer) => log.push(d.toString()));
  const watcher = new Watcher();
  const feeder = new ScriptedPeer({ asn: ASN, bgpId: dottedToU32(FEEDER)!, holdTime: 90, families: ['ipv4-unicast'] }, 'ibgp');
  try {
    const up = Date.now() + 20_000;
    for (;;) {
      try {
        await peersOf(socket);
        break;
      } catch (err) {
        if (Date.now() > up || child.exitCode !== null) throw new Error(`Tern did not start: ${String(err)}\n${log.join('')}`);
        await sleep(100);
      }
    }
    await watcher.establish(port, holdTime);
    await feeder.establish(TERN, port, FEEDER);
    const nextHop = ipv4ToBytes(FEEDER)!;
    const started = Date.now();
    for (let i = 0, batch = 0; i < opts.prefixes; i += perUpdate, batch++) {
      const prefixes: string[] = [];
      for (let j = i; j < Math.min(i + perUpdate, opts.prefixes); j++) prefixes.push(prefixAt(j));
      feeder.announce('ipv4-unicast', prefixes, basicAttributes(nextHop, { med: batch }));
      // Let the socket drain now and then so this process does not hold the whole feed in memory.
      if (batch % 200 === 199) await sleep(0);
    }
    feeder.sendEndOfRib('ipv4-unicast');
    const deadline = started + (opts.timeoutMs ?? 120_000);
    let ingestMs = Number.NaN;
    let controlTimeouts = 0;
    while (Date.now() < deadline) {
      let views: PeerView[];
      try {
        views = await peersOf(socket);
      } catch {
        controlTimeouts++; // Tern did not answer within 10 s: a blocked loop, reported below
        continue;
      }
      const feederView = views.find((p) => p.name === 'feeder');
      if (feederView?.routesReceived === opts.prefixes) {
        ingestMs = Date.now() - started;
        break;
      }
      if (watcher.closed) break;
      await sleep(250);
    }
    await sleep(opts.settleMs ?? 2000);
    const result: LivenessResult = {
      prefixes: opts.prefixes,
      ingestMs,
      prefixesPerSecond: Math.round(opts.prefixes / (ingestMs / 1000)),
      maxGapMs: watcher.maxGapSince(started),
      keepalives: watcher.keepalives,
      holdTime,
      watcherUp: !watcher.closed && watcher.notification === undefined,
      controlTimeouts,
      ...(watcher.notification ? { notification: watcher.notification } : {}),
      ...(child.pid ? { ternRssMiB: rssMiB(child.pid) } : {}),
      ternLog: log.join('').slice(-4000),
    };
    return result;
  } finally {
    watcher.close();
    feeder.close();
    child.kill('SIGTERM');
    await new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r)));
    rmSync(dir, { recursive: true, force: true });
  }
}

function rssMiB(pid: number): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]);
    return Number.isFinite(kb) ? Math.round(kb / 1024) : undefined;
  } catch {
    return undefined;
  }
}

async function main(): Promise<void> {
  const prefixes = Number(process.argv[2] ?? 1_000_000);
  const r = await runLiveness({ prefixes, timeoutMs: 600_000, settleMs: 3000 });
  const { ternLog, ...numbers } = r;
  process.stdout.write(`${JSON.stringify(numbers, null, 2)}\n`);
  if (!r.watcherUp || r.maxGapMs >= r.holdTime * 1000) {
    process.stdout.write(`LIVENESS FAILED: the watcher's longest silence was ${r.maxGapMs} ms (hold time ${r.holdTime} s)\n${ternLog}\n`);
    process.exitCode = 1;
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();
