// SPDX-License-Identifier: Apache-2.0
// Single-hop BFD over UDP (RFC 5881) for the daemon: one receive socket per address family on
// port 3784, one send socket per session (source port 49152-65535, TTL 255), the transmit and
// detection timers of each session, and demultiplexing by Your Discriminator or, while that is
// zero, by the peer's address (RFC 5880 §6.3). The protocol decisions are session.ts's.
// Receiving needs the arrival TTL (RFC 5881 §5: "If no authentication is in use, the TTL/Hop
// Limit MUST be 255"). Node's dgram cannot report it and Linux's IP_MINTTL filters TCP only, so
// the receive sockets are made by the native addon with IP_RECVTTL / IPV6_RECVHOPLIMIT and read
// with recvmsg (recvFrom). Without that addon the service still runs, on dgram, and says that the
// TTL is not checked. It emits 'state'(name, from, to, diag), 'up'(name) and 'down'(name, diag).
// It knows nothing of BGP: the daemon closes the BGP session on 'down'.
import dgram from 'node:dgram';
import { EventEmitter } from 'node:events';
import net from 'node:net';
import type { Logger } from '../observability/log.ts';
import { check, loadNative, parseSockaddr, sockaddrIp, type PollHandle, type TernNative } from '../native/index.ts';
import {
  BFD_CONTROL_PORT,
  BFD_SOURCE_PORT_MAX,
  BFD_SOURCE_PORT_MIN,
  BFD_STATE_NAMES,
  BfdState,
  decodeControl,
  encodeControl,
  type BfdStateValue,
} from './packet.ts';
import { adminDown, controlPacket, detectionExpired, detectionTimeMs, newSession, receive, transmitIntervalMs, type BfdAction, type BfdSession } from './session.ts';

/** RFC 5881 §5 / RFC 5082: single-hop packets are sent with, and must arrive with, TTL 255. */
const SINGLE_HOP_TTL = 255;
const MAX_DATAGRAM = 512;

export interface BfdPeer {
  /** Who the session serves (the BGP peer's name). */
  name: string;
  /** The peer's address; `fe80::1%eth0` for a link-local peer. */
  address: string;
  /** Our source address (the BGP session's local address), if configured. */
  localAddress?: string;
  /** Milliseconds. */
  minRx: number;
  minTx: number;
  multiplier: number;
}

export interface BfdServiceOptions {
  /** Port to receive on and to send to (RFC 5881 §4: 3784); tests use others. */
  port?: number;
  /** Destination port when it differs from `port` (tests: two services on one host). */
  peerPort?: number;
  /** Address the receive sockets bind; default the wildcard of each family. */
  listenAddress?: string;
  random?: () => number;
}

export interface BfdSessionView {
  name: string;
  address: string;
  state: string;
  remoteState: string;
  localDiscriminator: number;
  remoteDiscriminator: number;
  localDiag: number;
  /** Current detection time, ms (0 before the peer is heard). */
  detectionTimeMs: number;
  /** ms since the last change of state. */
  since: number;
  packetsIn: number;
  packetsOut: number;
}

interface Running {
  peer: BfdPeer;
  session: BfdSession;
  socket: dgram.Socket;
  txTimer?: NodeJS.Timeout;
  detectTimer?: NodeJS.Timeout;
  since: number;
  packetsIn: number;
  packetsOut: number;
}

type Family = 'ipv4' | 'ipv6';

interface Receiver {
  close(): void;
}

export class BfdService extends EventEmitter {
  private readonly log: Logger;
  private readonly port: number;
  private readonly peerPort: number;
  private readonly listenAddress: string | undefined;
  private readonly random: () => number;
  private readonly sessions = new Map<string, Running>();
  private readonly receivers = new Map<Family, Receiver>();
  /** Datagrams dropped by RFC 5881 §5 / RFC 5880 §6.8.6, by reason (for logs and tests). */
  readonly discards: Record<string, number> = {};
  private ttlChecked = true;

  constructor(log: Logger, opts: BfdServiceOptions = {}) {
    super();
    this.log = log;
    this.port = opts.port ?? BFD_CONTROL_PORT;
    this.peerPort = opts.peerPort ?? this.port;
    this.listenAddress = opts.listenAddress;
    this.random = opts.random ?? Math.random;
  }

  /** Whether received packets are held to TTL 255 (false only without the native addon). */
  get checksTtl(): boolean {
    return this.ttlChecked;
  }

  /** Starts a session to the peer (replacing one of the same name). */
  async add(peer: BfdPeer): Promise<void> {
    if (this.sessions.has(peer.name)) await this.remove(peer.name);
    const family: Family = net.isIPv6(bare(peer.address)) ? 'ipv6' : 'ipv4';
    this.ensureReceiver(family);
    const socket = await bindSourceSocket(family, peer.localAddress, this.random);
    socket.setTTL(SINGLE_HOP_TTL); // RFC 5881 §5: "MUST be transmitted with a TTL or Hop Limit value of 255"
    socket.on('error', (err) => this.log.warn({ peer: peer.name, err: err.message }, 'BFD socket error'));
    const session = newSession({
      localDiscriminator: this.newDiscriminator(),
      desiredMinTxUs: peer.minTx * 1000,
      requiredMinRxUs: peer.minRx * 1000,
      detectMult: peer.multiplier,
    });
    const running: Running = { peer, session, socket, since: Date.now(), packetsIn: 0, packetsOut: 0 };
    this.sessions.set(peer.name, running);
    this.log.info({ peer: peer.name, address: peer.address, source: socket.address(), minRx: peer.minRx, minTx: peer.minTx, multiplier: peer.multiplier }, 'BFD session started');
    this.transmit(running);
  }

  /** Ends a session: AdminDown is sent once (§6.8.16) so the peer does not count it a failure. */
  async remove(name: string): Promise<void> {
    const r = this.sessions.get(name);
    if (!r) return;
    this.sessions.delete(name);
    clearTimeout(r.txTimer);
    clearTimeout(r.detectTimer);
    r.session = adminDown(r.session).session;
    await new Promise<void>((resolve) => {
      r.socket.send(encodeControl(controlPacket(r.session)), this.peerPort, r.peer.address, () => resolve());
    });
    r.socket.close();
  }

  async close(): Promise<void> {
    await Promise.all([...this.sessions.keys()].map((name) => this.remove(name)));
    for (const receiver of this.receivers.values()) receiver.close();
    this.receivers.clear();
  }

  view(name: string): BfdSessionView | undefined {
    const r = this.sessions.get(name);
    if (!r) return undefined;
    const s = r.session;
    return {
      name,
      address: r.peer.address,
      state: BFD_STATE_NAMES[s.state],
      remoteState: BFD_STATE_NAMES[s.remoteState],
      localDiscriminator: s.config.localDiscriminator,
      remoteDiscriminator: s.remoteDiscriminator,
      localDiag: s.localDiag,
      detectionTimeMs: detectionTimeMs(s),
      since: Date.now() - r.since,
      packetsIn: r.packetsIn,
      packetsOut: r.packetsOut,
    };
  }

  views(): BfdSessionView[] {
    return [...this.sessions.keys()].map((n) => this.view(n)!);
  }

  // ===== Sending =====
  private transmit(r: Running, opts: { final?: boolean } = {}): void {
    if (this.sessions.get(r.peer.name) !== r) return;
    r.packetsOut++;
    r.socket.send(encodeControl(controlPacket(r.session, opts)), this.peerPort, r.peer.address, (err) => {
      if (err) this.log.debug({ peer: r.peer.name, err: err.message }, 'BFD send failed');
    });
    if (!opts.final) this.scheduleTransmit(r);
  }

  private scheduleTransmit(r: Running): void {
    clearTimeout(r.txTimer);
    const ms = transmitIntervalMs(r.session, this.random);
    // Nothing to send periodically (peer asked for none): look again in a second.
    r.txTimer = setTimeout(() => this.transmit(r), ms ?? 1000);
  }

  private armDetection(r: Running): void {
    clearTimeout(r.detectTimer);
    const ms = detectionTimeMs(r.session);
    if (ms <= 0) return;
    r.detectTimer = setTimeout(() => {
      const was = r.session.state;
      const step = detectionExpired(r.session);
      r.session = step.session;
      if (was === BfdState.Up || was === BfdState.Init) this.log.warn({ peer: r.peer.name, detectionTimeMs: ms }, 'BFD detection time expired');
      this.apply(r, step.actions);
    }, ms);
  }

  private apply(r: Running, actions: BfdAction[]): void {
    for (const a of actions) {
      if (a.type === 'sendFinal') this.transmit(r, { final: true });
      else this.changed(r, a.from, a.to, a.diag);
    }
  }

  private changed(r: Running, from: BfdStateValue, to: BfdStateValue, diag: number): void {
    r.since = Date.now();
    const name = r.peer.name;
    this.log[to === BfdState.Up || from !== BfdState.Up ? 'info' : 'warn']({ peer: name, from: BFD_STATE_NAMES[from], to: BFD_STATE_NAMES[to], diag }, 'BFD state change');
    // Tell the peer at once rather than at the next periodic packet.
    this.transmit(r);
    this.emit('state', name, BFD_STATE_NAMES[from], BFD_STATE_NAMES[to], diag);
    if (to === BfdState.Up) this.emit('up', name);
    if (from === BfdState.Up && to !== BfdState.Up) this.emit('down', name, diag);
  }

  // ===== Receiving =====
  /** One datagram from `fromAddress`; `ttl` undefined when it cannot be known. */
  private onDatagram(data: Uint8Array, fromAddress: string, ttl: number | undefined): void {
    if (ttl !== undefined && ttl !== SINGLE_HOP_TTL) return this.discard('ttl', fromAddress);
    const decoded = decodeControl(data);
    if (!decoded.ok) return this.discard(decoded.discard, fromAddress);
    const p = decoded.packet;
    const from = bare(fromAddress);
    // RFC 5880 §6.3 / §6.8.6: "If the Your Discriminator field is nonzero, it MUST be used to select
    // the session ... If no session is found, the packet MUST be discarded." Zero: by address.
    let r: Running | undefined;
    for (const candidate of this.sessions.values()) {
      if (bare(candidate.peer.address) !== from) continue;
      if (p.yourDiscriminator === 0 || candidate.session.config.localDiscriminator === p.yourDiscriminator) r = candidate;
    }
    if (!r) return this.discard('no-session', fromAddress);
    r.packetsIn++;
    const step = receive(r.session, p);
    const wasPolling = r.session.polling;
    r.session = step.session;
    if (r.session.state !== BfdState.AdminDown) this.armDetection(r);
    this.apply(r, step.actions);
    // A Poll Sequence that ended may have changed the transmit rate: reschedule from now.
    if (wasPolling && !r.session.polling) this.scheduleTransmit(r);
  }

  private discard(reason: string, from: string): void {
    this.discards[reason] = (this.discards[reason] ?? 0) + 1;
    this.log.debug({ from, reason }, 'BFD packet discarded');
  }

  private ensureReceiver(family: Family): void {
    if (this.receivers.has(family)) return;
    const address = this.listenAddress ?? (family === 'ipv4' ? '0.0.0.0' : '::');
    let native: TernNative | undefined;
    try {
      native = loadNative();
    } catch {
      native = undefined;
    }
    if (native?.recvFrom) {
      this.receivers.set(family, nativeReceiver(native, family, address, this.port, (d, from, ttl) => this.onDatagram(d, from, ttl)));
      return;
    }
    this.ttlChecked = false;
    this.log.warn({ family }, 'BFD: the native addon (recvmsg with IP_RECVTTL) is not available: received TTL is NOT checked (RFC 5881 §5)');
    const socket = dgram.createSocket({ type: family === 'ipv4' ? 'udp4' : 'udp6', reuseAddr: true, ipv6Only: true });
    socket.on('message', (msg, rinfo) => this.onDatagram(msg, rinfo.address, undefined));
    socket.on('error', (err) => this.log.warn({ err: err.message }, 'BFD receive socket error'));
    socket.bind(this.port, address);
    this.receivers.set(family, { close: () => socket.close() });
  }

  private newDiscriminator(): number {
    for (;;) {
      const d = Math.floor(this.random() * 0xffffffff) + 1;
      if (d > 0 && d <= 0xffffffff && ![...this.sessions.values()].some((r) => r.session.config.localDiscriminator === d)) return d;
    }
  }
}

/** A receive socket made by the addon, with the arrival TTL of each datagram. */
function nativeReceiver(n: TernNative, family: Family, address: string, port: number, onDatagram: (data: Uint8Array, from: string, ttl: number) => void): Receiver {
  const c = n.constants;
  const v4 = family === 'ipv4';
  const fd = check('socket(UDP)', n.socket(v4 ? c.AF_INET : c.AF_INET6, c.SOCK_DGRAM!, 0));
  let handle: PollHandle | undefined;
  try {
    check('setsockopt(SO_REUSEADDR)', n.setsockoptInt(fd, c.SOL_SOCKET, c.SO_REUSEADDR, 1));
    if (!v4) check('setsockopt(IPV6_V6ONLY)', n.setsockoptInt(fd, c.IPPROTO_IPV6, c.IPV6_V6ONLY!, 1));
    if (v4) check('setsockopt(IP_RECVTTL)', n.setsockoptInt(fd, c.IPPROTO_IP, c.IP_RECVTTL!, 1));
    else check('setsockopt(IPV6_RECVHOPLIMIT)', n.setsockoptInt(fd, c.IPPROTO_IPV6, c.IPV6_RECVHOPLIMIT!, 1));
    check('bind', n.bind(fd, sockaddrIp(address, port)));
    const polled = n.poll(fd, c.POLL_READABLE, () => {
      for (;;) {
        const r = n.recvFrom!(fd, MAX_DATAGRAM);
        if (typeof r === 'number') break; // -EAGAIN: drained (other errors: try again on the next wake-up)
        const from = parseSockaddr(r.from);
        if (from.family === 'ipv4' || from.family === 'ipv6') onDatagram(r.data, from.address, r.ttl);
      }
    });
    if (typeof polled === 'number') check('poll', polled);
    else handle = polled;
    n.pollRef(handle!, false); // sessions' timers keep the process alive, not the socket
  } catch (err) {
    n.close(fd);
    throw err;
  }
  return {
    close: () => {
      if (handle) n.pollStop(handle);
      n.close(fd);
    },
  };
}

/** A UDP socket on a source port in 49152-65535 (RFC 5881 §4), retrying ports in use. */
async function bindSourceSocket(family: Family, localAddress: string | undefined, random: () => number): Promise<dgram.Socket> {
  let lastError: Error | undefined;
  for (let attempt = 0; attempt < 32; attempt++) {
    const port = BFD_SOURCE_PORT_MIN + Math.floor(random() * (BFD_SOURCE_PORT_MAX - BFD_SOURCE_PORT_MIN + 1));
    const socket = dgram.createSocket({ type: family === 'ipv4' ? 'udp4' : 'udp6' });
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        socket.bind({ port: Math.min(port, BFD_SOURCE_PORT_MAX), ...(localAddress ? { address: localAddress } : {}), exclusive: true }, () => {
          socket.off('error', reject);
          resolve();
        });
      });
      return socket;
    } catch (err) {
      lastError = err as Error;
      try {
        socket.close();
      } catch {
        // never bound: nothing to close
      }
    }
  }
  throw lastError ?? new Error('no BFD source port');
}

/** Address without zone and without the IPv4-mapped prefix, for comparisons. */
function bare(address: string): string {
  const a = address.split('%')[0]!.replace(/^::ffff:(?=\d+\.)/, '');
  return net.isIPv6(a) ? expandV6(a) : a;
}

function expandV6(a: string): string {
  // Canonical enough for equality: let the URL parser normalise it.
  return new URL(`http://[${a}]/`).hostname;
}
