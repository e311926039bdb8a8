// SPDX-License-Identifier: Apache-2.0
// Requests to the kernel over one netlink socket: dumps (multipart, redone when interrupted) and
// route changes sent in batches of consecutive sequence numbers, one datagram each; the kernel
// answers an error (with its extended-ack text) for any request that fails and an ack for the
// last, so every request still gets its own result. The multicast monitor is a separate socket
// (the kernel never echoes a socket's own changes to it).
import { NetlinkSocket, type NetlinkEvent as SocketEvent } from '../native/netlink.ts';
import { RouteRequests, decodeNetlink, encodeDumpRequest, type DumpKind, type RouteMessage, type RouteOp, type RtMessage } from './rtnetlink/index.ts';

const NETLINK_ROUTE = 0;
/** Requests per datagram: the kernel acks the last, and queues an error for each refused one. */
const BATCH = 256;
/** Datagrams per threadpool send: at most 2048 requests (a programming batch of 1000 routes,
 *  each with a delete), whose error answers (a buffer each, with the request and extended-ack
 *  text) fit 4 MiB of receive buffer if every one fails. */
const DATAGRAMS_PER_SEND = 8;
/** Sends queued or running at once. The addon runs them one after another in order, so the
 *  kernel goes from one to the next while the event loop is busy elsewhere (BGP input): with one
 *  at a time, each needed a turn of the loop to start, and the kernel sat idle for most of an
 *  input slice. A queued send holds a threadpool thread (of 4) while it waits. The receive buffer
 *  holds every answer of all of them. */
const SENDS_IN_FLIGHT = 3;
const RECEIVE_BUFFER_BYTES = SENDS_IN_FLIGHT * (4 << 20);
const REQUEST_TIMEOUT_MS = 10_000;

export interface RouteResult {
  ok: boolean;
  errno?: number;
  message?: string;
}

/** The requests of one datagram: consecutive sequence numbers, answered in order. */
interface PendingBatch {
  firstSeq: number;
  count: number;
  /** The call's results, of which this batch's are [offset, offset + count): filled as errors
   *  arrive; a request without one when the batch ends succeeded. */
  results: (RouteResult | undefined)[];
  offset: number;
  timer: NodeJS.Timeout;
  resolve: () => void;
}

/** Shared: 100k installs made 100k equal result objects. */
const OK: RouteResult = Object.freeze({ ok: true });

/** A send() call: its requests, the first not yet sent, its results and its sends' answers. */
interface PendingCall {
  requests: RouteRequests;
  next: number;
  results: (RouteResult | undefined)[];
  parts: Promise<void>[];
  resolve: (results: Promise<RouteResult[]>) => void;
}

interface DumpState {
  seq: number;
  messages: RtMessage[];
  resolve: (r: { messages: RtMessage[]; interrupted: boolean; errno?: number }) => void;
}

export class NetlinkChannel {
  private readonly socket: NetlinkSocket;
  private seq = Math.floor(Date.now() / 1000) & 0xffff;
  /** Batches sent and not fully answered (one at a time from routes(); a few if callers overlap). */
  private inFlight: PendingBatch[] = [];
  private dumpState?: DumpState;
  private dumpQueue: Promise<unknown> = Promise.resolve();
  /** routes() calls whose sends have not all started, oldest first. */
  private pendingStarts: PendingCall[] = [];
  /** Sends started and not fully answered. */
  private sendsInFlight = 0;

  constructor() {
    this.socket = NetlinkSocket.open(NETLINK_ROUTE, 0, { receiveBufferBytes: RECEIVE_BUFFER_BYTES, extendedAck: true, onEvent: (e) => this.onEvent(e) });
  }

  /** The request socket's port id: the nlmsg_pid the kernel stamps on notifications of our changes. */
  get portId(): number {
    return this.socket.portId;
  }

  close(): void {
    this.failInFlight('netlink channel closed');
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

  /**
   * Send route changes in batches; resolves with one result per request, in order (never
   * rejects: a request that could not be encoded or sent has a failed result).
   */
  routes(requests: { op: RouteOp; route: RouteMessage }[]): Promise<RouteResult[]> {
    const encoded = new RouteRequests(requests.length);
    const notEncoded = new Map<number, RouteResult>();
    requests.forEach(({ op, route }, i) => {
      try {
        encoded.add(op, route);
      } catch (err) {
        notEncoded.set(i, { ok: false, message: `netlink request not encoded: ${(err as Error).message}` });
      }
    });
    if (notEncoded.size === 0) return this.send(encoded);
    return this.send(encoded).then((results) => {
      let next = 0;
      return requests.map((_, i) => notEncoded.get(i) ?? results[next++]!);
    });
  }

  /**
   * Send encoded route requests in batches; resolves with one result per request, in order
   * (never rejects). Calls reach the kernel one after another, whole, in call order: a later
   * call's change to a route never reaches it before an earlier call's change to it. A call's
   * sends start at once (in the call itself) while fewer than SENDS_IN_FLIGHT are unanswered, so
   * a caller planning the next changes keeps the kernel busy; the others start, in order, as
   * answers come in. The requests are the channel's until the call resolves.
   */
  send(requests: RouteRequests): Promise<RouteResult[]> {
    return new Promise((resolve) => {
      this.pendingStarts.push({ requests, next: 0, results: new Array<RouteResult | undefined>(requests.count), parts: [], resolve });
      this.startSends();
    });
  }

  /** Starts the waiting calls' sends, in call order, while there are free slots. A send takes
   *  requests from as many calls as it has room for: when a slot frees (its answers read, which
   *  waits for a turn of the event loop), the kernel gets all that is waiting at once. */
  private startSends(): void {
    while (this.pendingStarts.length && this.sendsInFlight < SENDS_IN_FLIGHT) {
      const datagrams: Buffer[] = [];
      const batches: PendingBatch[] = [];
      const answers: Promise<void>[] = [];
      let room = BATCH * DATAGRAMS_PER_SEND;
      while (room > 0 && this.pendingStarts.length) {
        const call = this.pendingStarts[0]!;
        const from = call.next;
        const to = Math.min(call.requests.count, from + room);
        call.next = to;
        room -= to - from;
        const ofCall: Promise<void>[] = [];
        for (let j = from; j < to; j += BATCH) {
          const { datagram, batch, answered } = this.prepareBatch(call, j, Math.min(to, j + BATCH));
          datagrams.push(datagram);
          batches.push(batch);
          ofCall.push(answered);
        }
        if (ofCall.length) call.parts.push(...ofCall);
        answers.push(...ofCall);
        if (call.next >= call.requests.count) {
          this.pendingStarts.shift();
          call.resolve(Promise.all(call.parts).then(() => call.results as RouteResult[]));
        }
      }
      if (datagrams.length) this.startSend(datagrams, batches, answers);
    }
  }

  /** One threadpool send of up to DATAGRAMS_PER_SEND datagrams; its slot is freed when every
   *  answer is in. */
  private startSend(datagrams: Buffer[], batches: PendingBatch[], answers: Promise<void>[]): void {
    this.sendsInFlight++;
    // Sent from a threadpool thread: the kernel inserts the routes inside sendmsg, and the event
    // loop (BGP input, planning the next changes) runs on meanwhile. The datagrams from a failed
    // sendto on are failed here; an ENOBUFS is also an overrun event, which fails them all.
    void this.socket.sendAsync(datagrams).then(({ sent, error }) => {
      if (error) for (const b of batches.slice(sent)) this.finish(b, { ok: false, message: `netlink send failed: ${error.message}` });
    });
    // The slot is free once every answer is in: its acks have left the receive buffer.
    void Promise.all(answers).then(() => {
      this.sendsInFlight--;
      this.startSends();
    });
  }

  /** One datagram of a call's requests [from, to), numbered with consecutive sequence numbers,
   *  and the promise of its answers. */
  private prepareBatch(call: PendingCall, from: number, to: number): { datagram: Buffer; batch: PendingBatch; answered: Promise<void> } {
    const count = to - from;
    const firstSeq = this.reserveSeqs(count);
    // netlink(7): the kernel answers NLM_F_ACK requests with an ack and reports an error for
    // any request. Only the batch's last request asks for an ack: the socket processes
    // requests in order, so when its answer arrives every earlier error has been read, and
    // the others of the batch succeeded (half the datagrams to read; docs/kernel.md).
    for (let j = 0; j < count; j++) call.requests.stamp(from + j, firstSeq + j, j === count - 1);
    const bytes = call.requests.bytes(from, to);
    // One promise and one timer per batch, not per route (docs/kernel.md).
    let pending!: PendingBatch;
    const answered = new Promise<void>((resolve) => {
      pending = { firstSeq, count, results: call.results, offset: from, resolve, timer: setTimeout(() => this.finish(pending, { ok: false, message: 'no answer from the kernel' }), REQUEST_TIMEOUT_MS) };
      this.inFlight.push(pending);
    });
    return { datagram: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length), batch: pending, answered };
  }

  /** End a batch: requests without an answer get `missing` (success once the last one is in). */
  private finish(b: PendingBatch, missing: RouteResult): void {
    const i = this.inFlight.indexOf(b);
    if (i === -1) return;
    this.inFlight.splice(i, 1);
    clearTimeout(b.timer);
    for (let j = b.offset; j < b.offset + b.count; j++) b.results[j] ??= missing;
    b.resolve();
  }

  private failInFlight(message: string): void {
    for (const b of [...this.inFlight]) this.finish(b, { ok: false, message });
  }

  /** `n` consecutive sequence numbers (never 0; restarting at 1 rather than wrapping inside a batch). */
  private reserveSeqs(n: number): number {
    if (this.seq + n > 0xffffffff) this.seq = 0;
    const first = this.seq + 1;
    this.seq += n;
    return first;
  }

  private nextSeq(): number {
    return this.reserveSeqs(1);
  }

  private onEvent(e: SocketEvent): void {
    if (e.kind !== 'datagram') {
      // The request socket has no multicast groups: an overrun here means lost acks; fail them.
      this.failInFlight(e.kind === 'overrun' ? `netlink ${e.cause}` : e.error.message);
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
      const b = this.inFlight.find((x) => ev.seq - x.firstSeq >= 0 && ev.seq - x.firstSeq < x.count);
      if (!b) continue;
      const j = ev.seq - b.firstSeq;
      if (ev.kind === 'error') b.results[b.offset + j] = { ok: false, errno: ev.errno, ...(ev.message ? { message: ev.message } : {}) };
      // The batch's last answer: requests of the batch without an error report succeeded.
      if (j === b.count - 1) this.finish(b, OK);
    }
  }
}
