// SPDX-License-Identifier: Apache-2.0
// The netlink envelope: struct nlmsghdr (16 bytes, host order), splitting one recv() datagram
// into messages (NLMSG_OK / NLMSG_NEXT), and the control messages NLMSG_ERROR (ack or error,
// with extended-ack TLVs) and NLMSG_DONE. It does not look inside RTM_* payloads.
import { NLMSG, NLMSG_HDRLEN, NLMSGERR_ATTR, NLM_F } from './constants.ts';
import { attrString, attrU32, readAttrs } from './attrs.ts';
import { NetlinkDecodeError } from './errors.ts';
import { LeReader, LeWriter, align4 } from './le.ts';
import type { NetlinkEvent } from './types.ts';

export interface NlHeader {
  length: number;
  type: number;
  flags: number;
  seq: number;
  pid: number;
}

export interface NlMessage {
  header: NlHeader;
  /** Offset of the header in the datagram. */
  offset: number;
  /** A reader over the payload (after the 16-byte header, up to nlmsg_len). */
  payload: LeReader;
}

/**
 * Splits a datagram into messages. netlink.h NLMSG_OK: a message needs nlmsg_len >= 16 and
 * nlmsg_len <= what is left; the next one starts at NLMSG_ALIGN(nlmsg_len). Anything else is
 * garbled and throws, rather than silently dropping the rest of a dump.
 */
export function splitMessages(datagram: Uint8Array): NlMessage[] {
  const r = new LeReader(datagram);
  const out: NlMessage[] = [];
  while (r.remaining > 0) {
    const offset = r.offset;
    const header = readHeader(r);
    if (header.length < NLMSG_HDRLEN) {
      throw new NetlinkDecodeError(`nlmsg_len ${header.length} < ${NLMSG_HDRLEN}`, offset);
    }
    const payload = r.sub(header.length - NLMSG_HDRLEN, `message type ${header.type} payload (nlmsg_len ${header.length})`);
    r.skipPadding(align4(header.length) - header.length);
    out.push({ header, offset, payload });
  }
  return out;
}

function readHeader(r: LeReader): NlHeader {
  return {
    length: r.u32('nlmsg_len'),
    type: r.u16('nlmsg_type'),
    flags: r.u16('nlmsg_flags'),
    seq: r.u32('nlmsg_seq'),
    pid: r.u32('nlmsg_pid'),
  };
}

/** Starts a message; call finishMessage(w, start) once the payload is written. */
export function beginMessage(w: LeWriter, type: number, flags: number, seq: number, pid = 0): number {
  const start = w.length;
  w.u32(0); // nlmsg_len, patched by finishMessage
  w.u16(type);
  w.u16(flags);
  w.u32(seq);
  w.u32(pid);
  return start;
}

export function finishMessage(w: LeWriter, start: number): void {
  w.patchU32(start, w.length - start);
  w.pad4();
}

/**
 * NLMSG_ERROR payload (netlink.h struct nlmsgerr): int error; struct nlmsghdr msg; then the rest
 * of the request unless NLM_F_CAPPED; then extended-ack TLVs if NLM_F_ACK_TLVS. error 0 is an ack.
 */
export function decodeError(m: NlMessage): NetlinkEvent {
  const r = m.payload;
  const error = r.i32('nlmsgerr.error');
  const requestStart = r.offset;
  const request = readHeader(r);
  if (error === 0) return { kind: 'ack', seq: m.header.seq };
  const event: NetlinkEvent = { kind: 'error', seq: m.header.seq, errno: -error };
  if ((m.header.flags & NLM_F.ACK_TLVS) === 0) return event;
  const echoed = (m.header.flags & NLM_F.CAPPED) !== 0 ? NLMSG_HDRLEN : Math.max(NLMSG_HDRLEN, request.length);
  r.offset = requestStart;
  r.skip(align4(echoed), 'echoed request');
  return { ...event, ...extendedAck(r) };
}

/**
 * NLMSG_DONE payload: the dump's int error (kernel >= 4.x always sends it; older senders may
 * send an empty payload), then extended-ack TLVs if NLM_F_ACK_TLVS. A failed dump becomes an
 * error event so a caller waiting on this seq sees why it ended.
 */
export function decodeDone(m: NlMessage): NetlinkEvent {
  const r = m.payload;
  const interrupted = (m.header.flags & NLM_F.DUMP_INTR) !== 0;
  if (r.remaining === 0) return { kind: 'done', seq: m.header.seq, interrupted };
  const error = r.i32('NLMSG_DONE error');
  if (error === 0) return { kind: 'done', seq: m.header.seq, interrupted };
  const event: NetlinkEvent = { kind: 'error', seq: m.header.seq, errno: -error };
  return (m.header.flags & NLM_F.ACK_TLVS) !== 0 ? { ...event, ...extendedAck(r) } : event;
}

function extendedAck(r: LeReader): { message?: string; attrOffset?: number } {
  const out: { message?: string; attrOffset?: number } = {};
  for (const a of readAttrs(r, 'extended ack')) {
    if (a.type === NLMSGERR_ATTR.MSG) out.message = attrString(a);
    else if (a.type === NLMSGERR_ATTR.OFFS) out.attrOffset = attrU32(a, 'NLMSGERR_ATTR_OFFS');
  }
  return out;
}

/** Encodes an NLMSG_ERROR the way the kernel does (capped, optional ext-ack text): for fakes and tests. */
export function encodeError(seq: number, errno: number, request: NlHeader, message?: string): Uint8Array {
  const w = new LeWriter();
  const withText = message !== undefined && errno !== 0;
  const start = beginMessage(w, NLMSG.ERROR, NLM_F.CAPPED | (withText ? NLM_F.ACK_TLVS : 0), seq, request.pid);
  w.i32(-errno);
  w.u32(request.length); // the kernel echoes the request header unchanged, even when capped
  w.u16(request.type);
  w.u16(request.flags);
  w.u32(request.seq);
  w.u32(request.pid);
  if (withText) {
    const text = new TextEncoder().encode(message);
    w.u16(4 + text.length + 1);
    w.u16(NLMSGERR_ATTR.MSG);
    w.bytes(text);
    w.u8(0);
    w.pad4();
  }
  finishMessage(w, start);
  return w.finish();
}

/** Encodes NLMSG_DONE with the dump's error code (0 = complete), as kernel >= 4.x does. */
export function encodeDone(seq: number, opts: { errno?: number; interrupted?: boolean; pid?: number } = {}): Uint8Array {
  const w = new LeWriter();
  const flags = NLM_F.MULTI | (opts.interrupted === true ? NLM_F.DUMP_INTR : 0);
  const start = beginMessage(w, NLMSG.DONE, flags, seq, opts.pid ?? 0);
  w.i32(-(opts.errno ?? 0));
  finishMessage(w, start);
  return w.finish();
}
