// SPDX-License-Identifier: Apache-2.0
// Requests to the kernel (route add/replace/delete, dumps) and, for fakes and tests, messages
// shaped like the kernel's own notifications. Encoders throw RangeError for values that do not
// fit the wire format; they never clamp or truncate.
import { NLM_F, RTA, RTM, RT_TABLE } from './constants.ts';
import { writeAttrU32 } from './attrs.ts';
import { writeAddr } from './addr.ts';
import { LeWriter } from './le.ts';
import { writeLink } from './link.ts';
import { beginMessage, finishMessage } from './nlmsg.ts';
import { checkRoute, checkRouteBody, routeBodyTemplate, writeRoute, writeRouteBody, type RouteBody, type RouteBodyTemplate } from './route.ts';
import type { RouteMessage, RtMessage } from './types.ts';

export type RouteOp = 'new' | 'replace' | 'del';

/**
 * netlink.h: "4.4BSD ADD NLM_F_CREATE|NLM_F_EXCL ... True CHANGE NLM_F_CREATE|NLM_F_REPLACE".
 * 'new' fails with EEXIST if the route exists (ip route add); 'replace' creates or overwrites
 * (ip route replace); 'del' removes the first match (pass scope RT_SCOPE_NOWHERE and protocol 0
 * to match any, as ip route del does). ack defaults to true: one NLMSG_ERROR(0) per request.
 */
export function encodeRouteRequest(op: RouteOp, route: RouteMessage, seq: number, opts: { ack?: boolean; pid?: number } = {}): Uint8Array {
  const w = new LeWriter();
  appendRouteRequest(w, op, route, seq, opts);
  return w.finish();
}

/** The same request, appended to `w`: a batch of requests is one buffer and one sendto. */
export function appendRouteRequest(w: LeWriter, op: RouteOp, route: RouteMessage, seq: number, opts: { ack?: boolean; pid?: number } = {}): void {
  const ack = (opts.ack ?? true) ? NLM_F.ACK : 0;
  const start = beginMessage(w, op === 'del' ? RTM.DELROUTE : RTM.NEWROUTE, NLM_F.REQUEST | ack | modifiersOf(op), seq, opts.pid ?? 0);
  writeRoute(w, route);
  finishMessage(w, start);
}

function modifiersOf(op: RouteOp): number {
  return op === 'new' ? NLM_F.CREATE | NLM_F.EXCL : op === 'replace' ? NLM_F.CREATE | NLM_F.REPLACE : 0;
}

/** nlmsghdr: nlmsg_flags and nlmsg_seq, from a message's start. */
const FLAGS_AT = 6;
const SEQ_AT = 8;
/** A route request's usual size: nlmsghdr, rtmsg, an IPv4 destination, gateway and interface. */
const ROUTE_REQUEST_BYTES = 64;

/**
 * Route requests encoded back to back into one buffer, as the kernel reads them: the sender
 * numbers each (nlmsg_seq) and asks for the acks it wants when it cuts them into datagrams
 * (stamp), and sends slices of the buffer itself (bytes). Kernel sync writes a request straight
 * from a route's shared form and its prefix: no route message per route.
 */
export class RouteRequests {
  private readonly w: LeWriter;
  /** Where each request starts (the first `n`). */
  private readonly starts: number[];
  private n = 0;
  /** The last body addBody encoded, and its bytes. */
  private templateBody: RouteBody | undefined;
  private template: RouteBodyTemplate | undefined;

  constructor(expected = 16) {
    this.w = new LeWriter(Math.max(1, expected) * ROUTE_REQUEST_BYTES);
    this.starts = new Array<number>(expected);
  }

  get count(): number {
    return this.n;
  }

  /** Appends a request for `route`. Throws RangeError, and appends nothing, for a route the
   *  wire format cannot carry. */
  add(op: RouteOp, route: RouteMessage): void {
    checkRoute(route); // before the header: nothing half-written
    const start = beginMessage(this.w, op === 'del' ? RTM.DELROUTE : RTM.NEWROUTE, NLM_F.REQUEST | modifiersOf(op), 0);
    writeRouteBody(this.w, route, route.dst, route.dstLength, route.srcLength, route.tos);
    this.end(start);
  }

  /**
   * Appends a request for the route `body` says, to `dst` (the family's full address) and
   * `dstLength` (see add). `body` must not change afterwards: consecutive requests for one body
   * (kernel sync's shared, frozen route forms) copy its bytes, encoded once, and write only the
   * destination.
   */
  addBody(op: RouteOp, body: RouteBody, dst: Uint8Array, dstLength: number): void {
    let t = this.template;
    if (body !== this.templateBody || t === undefined) {
      t = routeBodyTemplate(body);
      this.template = t;
      this.templateBody = body;
    }
    if (dst.length !== t.size || dstLength > t.size * 8) checkRouteBody(body, dst, dstLength); // throws
    const w = this.w;
    const start = beginMessage(w, op === 'del' ? RTM.DELROUTE : RTM.NEWROUTE, NLM_F.REQUEST | modifiersOf(op), 0);
    const at = w.length;
    w.bytes(t.bytes);
    w.patchU8(at + t.dstLengthAt, dstLength);
    w.patchBytes(at + t.dstAt, dst);
    this.end(start);
  }

  private end(start: number): void {
    finishMessage(this.w, start);
    this.starts[this.n++] = start;
  }

  /** Numbers request `i` with `seq`; `ack`: it asks for an ack (NLM_F_ACK). */
  stamp(i: number, seq: number, ack: boolean): void {
    const at = this.starts[i]!;
    this.w.patchU32(at + SEQ_AT, seq);
    if (ack) this.w.orU16(at + FLAGS_AT, NLM_F.ACK);
  }

  /** Requests [from, to), one after another: a view of the buffer, not a copy. */
  bytes(from: number, to: number): Uint8Array {
    const all = this.w.written();
    return all.subarray(from < this.n ? this.starts[from]! : all.length, to < this.n ? this.starts[to]! : all.length);
  }
}

export type DumpKind = 'route' | 'link' | 'addr';

/**
 * RTM_GET* with NLM_F_DUMP. The filter is honoured by the kernel only on a socket with
 * NETLINK_GET_STRICT_CHK (ip_valid_fib_dump_req reads rtm_table, rtm_protocol and RTA_TABLE);
 * without it the kernel returns everything, so callers must filter the replies too.
 */
export function encodeDumpRequest(kind: DumpKind, family: 0 | 2 | 10, seq: number, filter: { table?: number; protocol?: number } = {}): Uint8Array {
  const w = new LeWriter();
  const type = kind === 'route' ? RTM.GETROUTE : kind === 'link' ? RTM.GETLINK : RTM.GETADDR;
  const start = beginMessage(w, type, NLM_F.REQUEST | NLM_F.DUMP, seq);
  if (kind === 'route') writeRouteDumpHeader(w, family, filter);
  else if (kind === 'link') writeZeroHeader(w, family, 16); // struct ifinfomsg
  else writeZeroHeader(w, family, 8); // struct ifaddrmsg
  finishMessage(w, start);
  return w.finish();
}

function writeRouteDumpHeader(w: LeWriter, family: number, filter: { table?: number; protocol?: number }): void {
  const table = filter.table ?? RT_TABLE.UNSPEC;
  w.u8(family);
  w.u8(0); // rtm_dst_len, rtm_src_len, rtm_tos: strict checking rejects non-zero values
  w.u8(0);
  w.u8(0);
  w.u8(table > 0xff ? RT_TABLE.UNSPEC : table);
  w.u8(filter.protocol ?? 0);
  w.u8(0); // rtm_scope
  w.u8(0); // rtm_type
  w.u32(0); // rtm_flags
  if (table > 0xff) writeAttrU32(w, RTA.TABLE, table);
}

function writeZeroHeader(w: LeWriter, family: number, size: number): void {
  w.u8(family);
  for (let i = 1; i < size; i++) w.u8(0);
}

/**
 * A message as the kernel sends it: a multicast notification (seq 0, flags 0) or, with
 * flags NLM_F_MULTI and the request's seq, one entry of a dump. For fake kernels in tests.
 */
export function encodeKernelMessage(kind: 'new' | 'del', message: RtMessage, seq = 0, flags = 0, pid = 0): Uint8Array {
  const w = new LeWriter();
  const start = beginMessage(w, messageType(kind, message), flags, seq, pid);
  if (message.type === 'route') writeRoute(w, message);
  else if (message.type === 'link') writeLink(w, message);
  else writeAddr(w, message);
  finishMessage(w, start);
  return w.finish();
}

function messageType(kind: 'new' | 'del', message: RtMessage): number {
  const base = message.type === 'route' ? RTM.NEWROUTE : message.type === 'link' ? RTM.NEWLINK : RTM.NEWADDR;
  return kind === 'new' ? base : base + 1;
}

/** Concatenates messages into one datagram (each is already NLMSG_ALIGNed). */
export function concatMessages(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
