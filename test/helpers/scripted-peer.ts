// SPDX-License-Identifier: Apache-2.0
// A scripted BGP peer for tests: a real TCP connection to a running Tern, speaking through
// Tern's own codec but driven step by step by the test (send this OPEN, these UPDATEs, then
// crash without a NOTIFICATION). It checks nothing itself; tests assert on what it received.
import { connect, type Socket } from 'node:net';
import { FrameAssembler } from '../../src/bgp/messages/header.ts';
import { decodeMessage, encodeMessage } from '../../src/bgp/messages/index.ts';
import { buildOpen, negotiate, type BuildOpenOptions, type Negotiated } from '../../src/bgp/messages/negotiate.ts';
import { encodeKeepalive } from '../../src/bgp/messages/keepalive.ts';
import { attributesForAnnounce, routeAttributes, type RouteAttributes } from '../../src/bgp/messages/route-view.ts';
import { buildUpdates, endOfRib, isEndOfRib } from '../../src/bgp/messages/update.ts';
import { parsePrefix, prefixToString } from '../../src/bgp/messages/nlri.ts';
import { DEFAULT_CONTEXT, type BgpMessage, type CodecContext, type Family, type OpenMessage, type UpdateMessage } from '../../src/bgp/messages/types.ts';

export interface ReceivedRoute {
  prefix: string;
  attrs: RouteAttributes;
}

export class ScriptedPeer {
  readonly received: BgpMessage[] = [];
  /** Routes the peer currently has from Tern (prefix → attributes), after withdrawals. */
  readonly routes = new Map<string, ReceivedRoute>();
  readonly endOfRib = new Set<Family>();
  remoteOpen?: OpenMessage;
  negotiated?: Negotiated;
  closed = false;
  private socket?: Socket;
  private readonly assembler = new FrameAssembler(65535);
  private readonly openOptions: BuildOpenOptions;
  private readonly peerType: 'ibgp' | 'ebgp';
  private keepaliveTimer?: NodeJS.Timeout;

  constructor(open: BuildOpenOptions, peerType: 'ibgp' | 'ebgp') {
    this.openOptions = open;
    this.peerType = peerType;
  }

  get ctx(): CodecContext {
    return this.negotiated?.ctx ?? DEFAULT_CONTEXT;
  }

  /** Connect from `localAddress` to Tern and exchange OPEN and KEEPALIVE. */
  async establish(host: string, port: number, localAddress: string, timeoutMs = 10_000): Promise<void> {
    const socket = connect({ host, port, localAddress });
    this.socket = socket;
    const ours = buildOpen(this.openOptions);
    socket.on('connect', () => socket.write(encodeMessage(ours, DEFAULT_CONTEXT)));
    socket.on('data', (chunk: Buffer) => this.onData(chunk, ours));
    socket.on('error', () => {});
    socket.on('close', () => {
      this.closed = true;
      if (this.keepaliveTimer) clearInterval(this.keepaliveTimer);
    });
    await this.waitFor('Established', () => this.negotiated !== undefined && this.received.some((m) => m.type === 'keepalive'), timeoutMs);
  }

  private onData(chunk: Buffer, ours: OpenMessage): void {
    for (const frame of this.assembler.push(chunk)) {
      const { message } = decodeMessage(frame, this.ctx);
      this.received.push(message);
      if (message.type === 'open') {
        this.remoteOpen = message;
        this.negotiated = negotiate(ours, message, this.peerType);
        this.socket!.write(encodeKeepalive());
        const every = Math.max(1, this.negotiated.keepaliveTime) * 1000;
        if (this.negotiated.holdTime > 0) this.keepaliveTimer = setInterval(() => this.socket?.write(encodeKeepalive()), every);
      } else if (message.type === 'update') {
        this.track(message);
      }
    }
  }

  private track(message: UpdateMessage): void {
    const eor = isEndOfRib(message);
    if (eor) {
      this.endOfRib.add(eor);
      return;
    }
    const withdrawn = [...message.withdrawn];
    const announced: [Family, string[]][] = [];
    if (message.nlri.length) announced.push(['ipv4-unicast', message.nlri.map(prefixToString)]);
    for (const a of message.attributes) {
      if (a.kind === 'mp-unreach') withdrawn.push(...a.withdrawn);
      if (a.kind === 'mp-reach' && a.nlri.length) announced.push([a.nlri[0]!.family, a.nlri.map(prefixToString)]);
    }
    for (const n of withdrawn) this.routes.delete(prefixToString(n));
    for (const [family, prefixes] of announced) {
      const attrs = routeAttributes(message, family, this.ctx);
      for (const prefix of prefixes) this.routes.set(prefix, { prefix, attrs });
    }
  }

  announce(family: Family, prefixes: string[], attrs: RouteAttributes): void {
    const nlri = prefixes.map((p) => parsePrefix(p)!);
    const attributes = attributesForAnnounce(attrs, family, nlri, this.ctx);
    for (const frame of buildUpdates({ withdrawn: [], attributes, nlri }, this.ctx)) this.socket!.write(frame);
  }

  withdraw(prefixes: string[]): void {
    const withdrawn = prefixes.map((p) => parsePrefix(p)!);
    for (const frame of buildUpdates({ withdrawn, attributes: [], nlri: [] }, this.ctx)) this.socket!.write(frame);
  }

  sendEndOfRib(family: Family): void {
    this.socket!.write(endOfRib(family, this.ctx));
  }

  sendRaw(frame: Uint8Array): void {
    this.socket!.write(frame);
  }

  /** The peer process dies: the connection drops with no NOTIFICATION. */
  crash(): void {
    if (this.keepaliveTimer) clearInterval(this.keepaliveTimer);
    this.socket?.resetAndDestroy();
  }

  close(): void {
    if (this.keepaliveTimer) clearInterval(this.keepaliveTimer);
    this.socket?.destroy();
  }

  async waitFor(what: string, probe: () => boolean, timeoutMs = 10_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (!probe()) {
      if (Date.now() > until) throw new Error(`scripted peer: timed out waiting for ${what}`);
      if (this.closed && what !== 'close') throw new Error(`scripted peer: connection closed while waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

export function basicAttributes(nextHop: Uint8Array, over: Partial<RouteAttributes> = {}): RouteAttributes {
  return { origin: 0, asPath: [], nextHop, atomicAggregate: false, communities: [], largeCommunities: [], extendedCommunities: [], clusterList: [], unknown: [], ...over };
}
