// SPDX-License-Identifier: Apache-2.0
// A netlink socket on Node's event loop: open/bind with multicast groups, send datagrams to the kernel,
// and receive datagrams through a uv_poll_t watcher, as callback events or as an async iterator.
// It moves bytes only: building and parsing nlmsghdr/rtmsg is the rtnetlink codec's job.
//
// netlink(7): "If the socket's receive buffer overflows, the kernel ... returns ENOBUFS": messages
// were lost and the only remedy is a full dump. That is reported as an 'overrun' event, never thrown.
import { endianness } from 'node:os';
import { NativeError, check, loadNative, parseSockaddr, sockaddrNl } from './index.ts';
import type { PollHandle, TernNative } from './index.ts';

export type NetlinkEvent =
  | { readonly kind: 'datagram'; readonly data: Buffer }
  /** Lost messages: ENOBUFS (receive buffer overrun) or EMSGSIZE (a datagram longer than maxDatagramBytes). Resync. */
  | { readonly kind: 'overrun'; readonly cause: 'ENOBUFS' | 'EMSGSIZE' }
  | { readonly kind: 'error'; readonly error: NativeError };

export type NetlinkHandler = (event: NetlinkEvent) => void;

export interface NetlinkOptions {
  /** SO_RCVBUFFORCE (CAP_NET_ADMIN), falling back to SO_RCVBUF (capped by net.core.rmem_max) without it. */
  readonly receiveBufferBytes?: number;
  /** NETLINK_EXT_ACK: error acks carry the kernel's message text. Default true. */
  readonly extendedAck?: boolean;
  /** NETLINK_GET_STRICT_CHK: dump requests are checked and their filters honoured. Default false. */
  readonly strictCheck?: boolean;
  /** Largest datagram accepted; longer ones are reported as an EMSGSIZE overrun. Default 64 KiB. */
  readonly maxDatagramBytes?: number;
  /** Receives every event. Without it, events queue for `for await (const ev of socket)`. */
  readonly onEvent?: NetlinkHandler;
}

// With no handler, reading pauses when this many events wait unconsumed: back-pressure then lands in
// the kernel's receive buffer, where an overflow becomes the ENOBUFS the consumer must handle anyway.
const QUEUE_HIGH_WATER = 1024;
/** The kernel's address (port id 0), for every send. */
const KERNEL = sockaddrNl(0, 0);
// Datagrams read per readiness callback before yielding the event loop (the watcher is level-triggered).
const READ_BURST = 256;

export class NetlinkSocket implements AsyncIterable<NetlinkEvent> {
  readonly fd: number;
  /** The kernel-assigned port id (nlmsg_pid of our requests' replies). */
  readonly portId: number;
  datagrams = 0;
  overruns = 0;

  readonly #native: TernNative;
  readonly #maxDatagram: number;
  readonly #handler: NetlinkHandler | undefined;
  #watch: PollHandle | undefined;
  #closed = false;
  #paused = false; // by the caller
  #backpressured = false; // by the iterator's full queue
  #queue: NetlinkEvent[] = [];
  /** Asynchronous sends queued or on a threadpool thread: the fd stays open until they return. */
  #sendsInFlight = 0;
  #closeWhenSent = false;
  #waiter: ((r: IteratorResult<NetlinkEvent>) => void) | undefined;

  /** socket(AF_NETLINK, SOCK_RAW, protocol) bound to a kernel-chosen port id and `groups` (RTMGRP_* bits). */
  static open(protocol: number, groups = 0, options: NetlinkOptions = {}): NetlinkSocket {
    const n = loadNative();
    const c = n.constants;
    const fd = check('socket(AF_NETLINK)', n.socket(c.AF_NETLINK, c.SOCK_RAW, protocol));
    try {
      if (options.receiveBufferBytes !== undefined) setReceiveBuffer(n, fd, options.receiveBufferBytes);
      if (options.extendedAck ?? true) check('setsockopt(NETLINK_EXT_ACK)', n.setsockoptInt(fd, c.SOL_NETLINK, c.NETLINK_EXT_ACK, 1));
      if (options.strictCheck) check('setsockopt(NETLINK_GET_STRICT_CHK)', n.setsockoptInt(fd, c.SOL_NETLINK, c.NETLINK_GET_STRICT_CHK, 1));
      check('bind(AF_NETLINK)', n.bind(fd, sockaddrNl(0, groups)));
      return new NetlinkSocket(n, fd, options);
    } catch (err) {
      n.close(fd);
      throw err;
    }
  }

  private constructor(native: TernNative, fd: number, options: NetlinkOptions) {
    this.#native = native;
    this.fd = fd;
    this.#maxDatagram = options.maxDatagramBytes ?? 65536;
    this.#handler = options.onEvent;
    const name = native.getsockname(fd);
    const parsed = typeof name === 'number' ? undefined : parseSockaddr(name);
    this.portId = parsed?.family === 'netlink' ? parsed.pid : 0;
    this.#startWatch();
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** One datagram to the kernel: the buffers (whole nlmsgs) are concatenated. Returns bytes sent. */
  send(buffers: Buffer | readonly Buffer[]): number {
    if (this.#closed) throw new NativeError('sendto(AF_NETLINK)', -this.#native.constants.EBADF);
    const data = Buffer.isBuffer(buffers) ? buffers : Buffer.concat(buffers);
    const sent = this.#native.sendto(this.fd, data, KERNEL);
    if (sent === -this.#native.constants.ENOBUFS) {
      process.nextTick(() => this.#deliver({ kind: 'overrun', cause: 'ENOBUFS' }));
      return 0;
    }
    return check('sendto(AF_NETLINK)', sent);
  }

  /**
   * Datagrams to the kernel, in order, sent from a libuv threadpool thread: the kernel does a
   * netlink request's work (a route insertion, say) inside the sender's sendmsg, so the event loop
   * runs on meanwhile, on the other core. Stops at the first failure. Resolves with how many were
   * sent and, if one failed, its error (an ENOBUFS is also reported as an overrun event, as with
   * send()). Calls may overlap: the addon runs the sends one at a time in call order, so the
   * next one reaches the kernel as soon as the last is done, without a turn of the event loop in
   * between. Without the addon's sendtoAsync (an older build) it sends synchronously.
   */
  sendAsync(datagrams: readonly Buffer[]): Promise<{ sent: number; error?: NativeError }> {
    const c = this.#native.constants;
    const sendtoAsync = this.#native.sendtoAsync;
    if (this.#closed) return Promise.resolve({ sent: 0, error: new NativeError('sendto(AF_NETLINK)', -c.EBADF) });
    if (sendtoAsync === undefined) return Promise.resolve(this.#sendEach(datagrams));
    return new Promise((resolve) => {
      const queued = sendtoAsync.call(this.#native, this.fd, datagrams, KERNEL, (sent, result) => {
        if (--this.#sendsInFlight === 0 && this.#closeWhenSent) this.#native.close(this.fd);
        if (result === -c.ENOBUFS) this.#deliver({ kind: 'overrun', cause: 'ENOBUFS' });
        resolve(result < 0 ? { sent, error: new NativeError('sendto(AF_NETLINK)', result) } : { sent });
      });
      if (queued < 0) resolve({ sent: 0, error: new NativeError('sendto(AF_NETLINK)', queued) });
      else this.#sendsInFlight++;
    });
  }

  #sendEach(datagrams: readonly Buffer[]): { sent: number; error?: NativeError } {
    for (let i = 0; i < datagrams.length; i++) {
      const r = this.#native.sendto(this.fd, datagrams[i]!, KERNEL);
      if (r < 0) {
        if (r === -this.#native.constants.ENOBUFS) process.nextTick(() => this.#deliver({ kind: 'overrun', cause: 'ENOBUFS' }));
        return { sent: i, error: new NativeError('sendto(AF_NETLINK)', r) };
      }
    }
    return { sent: datagrams.length };
  }

  /** Joins a multicast group by number (RTNLGRP_*), including those above 32 that `groups` cannot name. */
  addMembership(group: number): void {
    const c = this.#native.constants;
    check('setsockopt(NETLINK_ADD_MEMBERSHIP)', this.#native.setsockoptInt(this.fd, c.SOL_NETLINK, c.NETLINK_ADD_MEMBERSHIP, group));
  }

  /** Has the kernel drop, before queueing, notifications caused by the socket with port id
   *  `portId`: the kernel stamps a change's notifications with the requester's port id (nlmsg_pid,
   *  e.g. rtmsg_fib, inet6_rt_notify), and excludes only the requesting socket itself from the
   *  multicast. A monitor socket uses this to skip the echoes of a sibling request socket's changes
   *  without reading them. Notifications carry one message each, so the first one's pid decides. */
  ignoreSender(portId: number): void {
    check('setsockopt(SO_ATTACH_FILTER)', this.#native.attachFilter(this.fd, senderFilter(portId)));
  }

  /** Stops reading; datagrams stay in (and may overflow) the kernel's receive buffer. */
  pause(): void {
    this.#paused = true;
    this.#updateWatch();
  }

  resume(): void {
    this.#paused = false;
    this.#updateWatch();
  }

  /** Whether the open socket keeps the process alive (default true). */
  ref(keepAlive: boolean): void {
    if (this.#watch) this.#native.pollRef(this.#watch, keepAlive);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    // The watcher must go before the fd: epoll would otherwise hold a closed (or reused) descriptor.
    if (this.#watch) this.#native.pollStop(this.#watch);
    this.#watch = undefined;
    // A threadpool thread may be inside sendto on this fd: closing it now could let a new socket
    // reuse the number under that send. The last send's completion closes it.
    if (this.#sendsInFlight > 0) this.#closeWhenSent = true;
    else this.#native.close(this.fd);
    const waiter = this.#waiter;
    this.#waiter = undefined;
    waiter?.({ value: undefined, done: true });
  }

  /** Events in arrival order, for one consumer at a time; ends at close(). Breaking out does not close. */
  [Symbol.asyncIterator](): AsyncIterator<NetlinkEvent> {
    return {
      next: () => this.#next(),
      return: async () => ({ value: undefined, done: true }),
    };
  }

  #startWatch(): void {
    const watch = this.#native.poll(this.fd, this.#native.constants.POLL_READABLE, (status) => this.#onReadable(status));
    if (typeof watch === 'number') throw new NativeError('uv_poll_start', watch); // open() closes the fd
    this.#watch = watch;
  }

  #updateWatch(): void {
    const reading = !this.#paused && !this.#backpressured;
    if (this.#watch && !this.#closed) this.#native.pollUpdate(this.#watch, reading ? this.#native.constants.POLL_READABLE : 0);
  }

  #onReadable(status: number): void {
    if (status < 0) this.#onFailure(status);
    for (let i = 0; i < READ_BURST && !this.#closed && !this.#paused && !this.#backpressured; i++) {
      const got = this.#native.recv(this.fd, this.#maxDatagram);
      if (typeof got !== 'number') {
        this.datagrams++;
        this.#deliver({ kind: 'datagram', data: got });
      } else if (got === -this.#native.constants.EAGAIN) {
        return;
      } else {
        this.#onFailure(got);
      }
    }
  }

  #onFailure(negErrno: number): void {
    const c = this.#native.constants;
    if (negErrno === -c.ENOBUFS || negErrno === -c.EMSGSIZE) {
      this.overruns++;
      this.#deliver({ kind: 'overrun', cause: negErrno === -c.ENOBUFS ? 'ENOBUFS' : 'EMSGSIZE' });
    } else {
      this.#deliver({ kind: 'error', error: new NativeError('recv(AF_NETLINK)', negErrno) });
    }
  }

  #deliver(event: NetlinkEvent): void {
    if (this.#closed) return;
    if (this.#handler) {
      this.#handler(event);
      return;
    }
    const waiter = this.#waiter;
    if (waiter) {
      this.#waiter = undefined;
      waiter({ value: event, done: false });
      return;
    }
    this.#queue.push(event);
    if (this.#queue.length >= QUEUE_HIGH_WATER && !this.#backpressured) {
      this.#backpressured = true;
      this.#updateWatch();
    }
  }

  #next(): Promise<IteratorResult<NetlinkEvent>> {
    const event = this.#queue.shift();
    if (event) {
      if (this.#backpressured && this.#queue.length < QUEUE_HIGH_WATER / 2) {
        this.#backpressured = false;
        this.#updateWatch();
      }
      return Promise.resolve({ value: event, done: false });
    }
    if (this.#closed) return Promise.resolve({ value: undefined, done: true });
    if (this.#waiter) return Promise.reject(new Error('NetlinkSocket: concurrent next() calls'));
    return new Promise((resolve) => {
      this.#waiter = resolve;
    });
  }
}

function setReceiveBuffer(n: TernNative, fd: number, bytes: number): void {
  const c = n.constants;
  const forced = n.setsockoptInt(fd, c.SOL_SOCKET, c.SO_RCVBUFFORCE, bytes);
  if (forced === 0) return;
  check('setsockopt(SO_RCVBUF)', n.setsockoptInt(fd, c.SOL_SOCKET, c.SO_RCVBUF, bytes));
}

// Classic BPF (linux/filter.h) opcodes for the sender filter.
const BPF_LD_W_ABS = 0x20; // A = 32-bit word at byte offset k, read in network byte order
const BPF_JMP_JEQ_K = 0x15; // A == k ? skip jt : skip jf
const BPF_RET_K = 0x06; // accept k bytes (0 = drop)
const NLMSG_PID_OFFSET = 12; // struct nlmsghdr { u32 len; u16 type; u16 flags; u32 seq; u32 pid }

/** `ld [12]; jeq #pid, drop, keep; drop: ret #0; keep: ret #-1`. */
export function senderFilter(portId: number): Buffer {
  const le = endianness() === 'LE';
  // nlmsg_pid is in host order but BPF loads words big-endian: compare with the pid's bytes read that way.
  const pid = Buffer.alloc(4);
  if (le) pid.writeUInt32LE(portId >>> 0);
  else pid.writeUInt32BE(portId >>> 0);
  const program = Buffer.alloc(4 * 8);
  // struct sock_filter { u16 code; u8 jt; u8 jf; u32 k }, in host order.
  const insn = (i: number, code: number, jt: number, jf: number, k: number): void => {
    const o = i * 8;
    if (le) {
      program.writeUInt16LE(code, o);
      program.writeUInt32LE(k >>> 0, o + 4);
    } else {
      program.writeUInt16BE(code, o);
      program.writeUInt32BE(k >>> 0, o + 4);
    }
    program[o + 2] = jt;
    program[o + 3] = jf;
  };
  insn(0, BPF_LD_W_ABS, 0, 0, NLMSG_PID_OFFSET);
  insn(1, BPF_JMP_JEQ_K, 0, 1, pid.readUInt32BE(0));
  insn(2, BPF_RET_K, 0, 0, 0);
  insn(3, BPF_RET_K, 0, 0, 0xffffffff);
  return program;
}
