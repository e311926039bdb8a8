// SPDX-License-Identifier: Apache-2.0
// Requests to the kernel over one netlink socket: dumps (multipart, redone when interrupted) and
// route changes sent in batches, each answered by its own ack or error (with the kernel's
// extended-ack text). Replies are matched by sequence number. The multicast monitor is a
// separate socket (the kernel never echoes a socket's own changes to it).
import { NetlinkSocket, type NetlinkEvent as SocketEvent } from '../native/netlink.ts';
import { LeWriter, appendRouteRequest, decodeNetlink, encodeDumpRequest, type DumpKind, type RouteMessage, type RouteOp, type RtMessage } from './rtnetlink/index.ts';

const NETLINK_ROUTE = 0;
/** Requests per datagram: the kernel queues one ack each in our receive buffer. */
const BATCH = 256;
const REQUEST_TIMEOUT_MS = 10_000;

export interface RouteResult {
  ok: boolean;
  errno?: number;
  message?: string;
}

interface Pending {
  resolve: (r: RouteResult) => void;
  timer: NodeJS.Timeout;
  /** The last request of a batch, the only one sent with NLM_F_ACK: the others of the batch. */
  batch?: number[];
}

interface DumpState {
  seq: number;
  messages: RtMessage[];
  resolve: (r: { messages: RtMessage[]; interrupted: boolean; errno?: number }) => void;
}

export class NetlinkChannel {
  private readonly socket: NetlinkSocket;
  private seq = Math.floor(Date.now() / 1000) & 0xffff;
  private readonly pending = new Map<number, Pending>();
  private dumpState?: DumpState;
  private dumpQueue: Promise<unknown> = Promise.resolve();

  constructor() {
    this.socket = NetlinkSocket.open(NETLINK_ROUTE, 0, { receiveBufferBytes: 4 << 20, extendedAck: true, onEvent: (e) => this.onEvent(e) });
  }

  /** The request socket's port id: the nlmsg_pid the kernel stamps on notifications of our changes. */
  get portId(): number {
    return this.socket.portId;
  }

  close(): void {
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.resolve({ ok: false, message: 'netlink channel closed' });
    }
    this.pending.clear();
    this.socket.close();
  }

  /** A full dump; dumps run one at a time and are redone when the kernel says they raced a change. */
  dump(kind: DumpKind, family: 0 | 2 | 10 = 0): Promise<RtMessage[]> {
    const run = async (): Promise<RtMessage[]> => {
      for (let attempt = 0; attempt < 5; attempt++) {
        const r = await new Promise<{ messages: RtMessage[]; interrupted: boolean; errno?: number }>((resolve) => {
          const seq = this.nextSeq();
          this.dumpState = { seq, messages: [], resolve };
          this.socket.send(Buffer.from(encodeDumpRequest(kind, family, seq)));
        });
        if (r.errno) throw new Error(`netlink ${kind} dump failed: errno ${r.errno}`);
        if (!r.interrupted) return r.messages;
      }
      throw new Error(`netlink ${kind} dump kept being interrupted by changes`);
    };
    const next = this.dumpQueue.then(run, run);
    this.dumpQueue = next.catch(() => undefined);
    return next;
  }

  /** Send route changes in batches; resolves with one result per request, in order. */
  async routes(requests: { op: RouteOp; route: RouteMessage }[]): Promise<RouteResult[]> {
    const results: Promise<RouteResult>[] = [];
    for (let i = 0; i < requests.length; i += BATCH) {
      const w = new LeWriter();
      // One timer per batch, not one per route (100k routes made 100k timers; docs/kernel.md).
      const timer = setTimeout(() => this.expire(seqs), REQUEST_TIMEOUT_MS);
      const seqs: number[] = [];
      const batch = requests.slice(i, i + BATCH);
      batch.forEach(({ op, route }, j) => {
        const seq = this.nextSeq();
        // netlink(7): the kernel answers NLM_F_ACK requests with an ack and reports an error for
        // any request. Only the batch's last request asks for an ack: the socket processes
        // requests in order, so when its answer arrives every earlier error has been read, and
        // the others of the batch succeeded (half the datagrams to read; docs/kernel.md).
        const last = j === batch.length - 1;
        appendRouteRequest(w, op, route, seq, { ack: last });
        results.push(this.await(seq, timer, last ? [...seqs] : undefined));
        seqs.push(seq);
      });
      const bytes = w.finish();
      const sent = this.socket.send(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length));
      if (sent < 0) return this.failAll(results, requests.length, `netlink send failed: errno ${-sent}`);
      // Let the acks of this batch drain before the next one fills the receive buffer.
      await Promise.all(results.slice(i));
      clearTimeout(timer);
    }
    return Promise.all(results);
  }

  private failAll(results: Promise<RouteResult>[], n: number, message: string): Promise<RouteResult[]> {
    for (const [seq, p] of this.pending) {
      clearTimeout(p.timer);
      p.resolve({ ok: false, message });
      this.pending.delete(seq);
    }
    while (results.length < n) results.push(Promise.resolve({ ok: false, message }));
    return Promise.all(results);
  }

  /** The kernel's answer to request `seq`; `timer` is its batch's (see expire). */
  private await(seq: number, timer: NodeJS.Timeout, batch?: number[]): Promise<RouteResult> {
    return new Promise((resolve) => this.pending.set(seq, batch ? { resolve, timer, batch } : { resolve, timer }));
  }

  /** A batch's time is up: requests still without an answer fail. */
  private expire(seqs: number[]): void {
    for (const seq of seqs) {
      const p = this.pending.get(seq);
      if (!p) continue;
      this.pending.delete(seq);
      p.resolve({ ok: false, message: 'no answer from the kernel' });
    }
  }

  private nextSeq(): number {
    this.seq = (this.seq + 1) >>> 0 || 1;
    return this.seq;
  }

  private onEvent(e: SocketEvent): void {
    if (e.kind !== 'datagram') {
      // The request socket has no multicast groups: an overrun here means lost acks; fail them.
      for (const [seq, p] of this.pending) {
        clearTimeout(p.timer);
        p.resolve({ ok: false, message: e.kind === 'overrun' ? `netlink ${e.cause}` : e.error.message });
        this.pending.delete(seq);
      }
      return;
    }
    let events;
    try {
      events = decodeNetlink(e.data);
    } catch {
      return; // a reply we cannot read cannot be matched either; its request times out
    }
    for (const ev of events) {
      const dump = this.dumpState;
      if (dump && ev.seq === dump.seq) {
        if (ev.kind === 'new') dump.messages.push(ev.message);
        else if (ev.kind === 'done' || ev.kind === 'error') {
          this.dumpState = undefined;
          dump.resolve({ messages: dump.messages, interrupted: ev.kind === 'done' && ev.interrupted, ...(ev.kind === 'error' ? { errno: ev.errno } : {}) });
        }
        continue;
      }
      if (ev.kind !== 'ack' && ev.kind !== 'error') continue;
      const p = this.pending.get(ev.seq);
      if (!p) continue;
      this.pending.delete(ev.seq);
      // The timer is the batch's: routes() clears it once every answer is in.
      p.resolve(ev.kind === 'ack' ? { ok: true } : { ok: false, errno: ev.errno, ...(ev.message ? { message: ev.message } : {}) });
      // The batch's last answer: requests of the batch without an error report succeeded.
      for (const seq of p.batch ?? []) {
        const q = this.pending.get(seq);
        if (!q) continue;
        this.pending.delete(seq);
        q.resolve({ ok: true });
      }
    }
  }
}
