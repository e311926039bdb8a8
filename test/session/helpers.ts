// SPDX-License-Identifier: Apache-2.0
// Test helpers for the session driver: a silent logger, bounded waits, a scripted raw BGP
// peer over loopback TCP, and UPDATE frames. Only 127.0.0.1; everything is closed by the tests.
import { once, type EventEmitter } from 'node:events';
import net from 'node:net';
import { pino } from 'pino';
import { FrameAssembler } from '../../src/bgp/messages/header.ts';
import { decodeMessage, encodeMessage } from '../../src/bgp/messages/index.ts';
import { buildOpen } from '../../src/bgp/messages/negotiate.ts';
import { DEFAULT_CONTEXT, type BgpMessage, type CodecContext } from '../../src/bgp/messages/types.ts';
import { PeerSession, type PeerSessionOptions } from '../../src/bgp/session/peer-session.ts';

export const log = pino({ level: process.env.TERN_TEST_LOG ?? 'silent' });

export const ID_A = 0x01010101; // 1.1.1.1
export const ID_B = 0x02020202; // 2.2.2.2

export function session(over: Partial<PeerSessionOptions> & Pick<PeerSessionOptions, 'name' | 'port' | 'asn' | 'local'>): PeerSession {
  return new PeerSession({
    address: '127.0.0.1',
    passive: false,
    holdTime: 90,
    connectRetry: 1,
    families: ['ipv4-unicast'],
    logger: log.child({ session: over.name }),
    errorWait: { min: 0.2, max: 0.5 },
    ...over,
  });
}

/** Resolves with the event's arguments, or rejects after `ms`. */
export async function waitFor<T extends unknown[] = unknown[]>(emitter: EventEmitter, event: string, ms = 5000): Promise<T> {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), ms);
  try {
    return (await once(emitter, event, { signal: ac.signal })) as T;
  } catch (err) {
    if (ac.signal.aborted) throw new Error(`timed out after ${ms} ms waiting for '${event}'`);
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

/** Polls `predicate` every 20 ms until true, or rejects after `ms`. */
export async function until(predicate: () => boolean, ms = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** One IPv4 unicast UPDATE announcing 10.0.<n>.0/24 with AS_PATH [senderAsn] (eBGP: RFC 4271 §6.3 first AS). */
export function updateFrame(n: number, ctx: CodecContext, senderAsn: number): Uint8Array {
  return encodeMessage(
    {
      type: 'update',
      withdrawn: [],
      attributes: [
        { code: 1, kind: 'origin', flags: 0x40, origin: 0 },
        { code: 2, kind: 'as-path', flags: 0x40, segments: [{ type: 2, asns: [senderAsn] }], fourOctet: ctx.as4 },
        { code: 3, kind: 'next-hop', flags: 0x40, nextHop: Uint8Array.of(10, 255, 0, 1) },
      ],
      nlri: [{ family: 'ipv4-unicast', length: 24, address: Uint8Array.of(10, 0, n) }],
    },
    ctx,
  );
}

/** A raw BGP speaker on one socket, scripted by the test. */
export class RawPeer {
  readonly socket: net.Socket;
  readonly received: BgpMessage[] = [];
  private readonly assembler = new FrameAssembler();
  private readonly waiters: (() => void)[] = [];
  closed = false;

  constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on('error', () => {});
    socket.on('data', (chunk: Buffer) => {
      for (const frame of this.assembler.push(chunk)) this.received.push(decodeMessage(frame, DEFAULT_CONTEXT).message);
      for (const w of this.waiters.splice(0)) w();
    });
    socket.on('close', () => {
      this.closed = true;
      for (const w of this.waiters.splice(0)) w();
    });
  }

  /** Waits until a message of `type` has arrived (returns the first unseen one). */
  async next<T extends BgpMessage['type']>(type: T, ms = 5000): Promise<Extract<BgpMessage, { type: T }>> {
    const deadline = Date.now() + ms;
    let seen = 0;
    for (;;) {
      const found = this.received.slice(seen).find((m) => m.type === type);
      if (found) {
        this.received.splice(this.received.indexOf(found), 1);
        return found as Extract<BgpMessage, { type: T }>;
      }
      seen = this.received.length;
      if (this.closed) throw new Error(`connection closed before a ${type} arrived`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${type}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  async waitClosed(ms = 5000): Promise<void> {
    await until(() => this.closed, ms, 'socket close');
  }

  send(msg: BgpMessage, ctx: CodecContext = DEFAULT_CONTEXT): void {
    this.socket.write(encodeMessage(msg, ctx));
  }

  sendOpen(opts: { asn: number; bgpId: number; holdTime: number }): void {
    this.send(buildOpen({ ...opts, families: ['ipv4-unicast'] }));
  }

  /** Writes `bytes` one octet per write, pausing so each lands in its own segment. */
  async trickle(bytes: Uint8Array): Promise<void> {
    for (const b of bytes) {
      this.socket.write(Uint8Array.of(b));
      await sleep(1);
    }
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** A TCP server on 127.0.0.1:<ephemeral> that wraps each accepted socket in a RawPeer. */
export async function rawServer(): Promise<{ port: number; peers: RawPeer[]; nextPeer: (ms?: number) => Promise<RawPeer>; close: () => Promise<void> }> {
  const peers: RawPeer[] = [];
  const server = net.createServer((socket) => peers.push(new RawPeer(socket)));
  await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, resolve));
  const port = (server.address() as net.AddressInfo).port;
  let taken = 0;
  return {
    port,
    peers,
    nextPeer: async (ms = 5000) => {
      await until(() => peers.length > taken, ms, 'an incoming connection');
      return peers[taken++]!;
    },
    close: async () => {
      for (const p of peers) p.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
