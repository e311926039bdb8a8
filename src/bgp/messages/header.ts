// SPDX-License-Identifier: Apache-2.0
// RFC 4271 §4.1 message header and stream framing. Pure: no sockets. The session driver feeds
// chunks to a FrameAssembler and gets whole messages back, whatever the chunk boundaries.
//
//  0                   1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                           Marker (16 octets of 0xff)          |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |          Length               |      Type     |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
import { BgpNotificationError } from './errors.ts';
import { BGP_MARKER_LENGTH, HEADER_LENGTH, MAX_EXTENDED_MESSAGE_LENGTH, MessageType } from './iana.ts';

// RFC 4271 §4.2-4.5, RFC 2918 §3: the smallest legal message of each type.
const MIN_LENGTH: Record<number, number> = {
  [MessageType.Open]: 29,
  [MessageType.Update]: 23,
  [MessageType.Notification]: 21,
  [MessageType.Keepalive]: 19,
  [MessageType.RouteRefresh]: 23,
};

/**
 * Length of the message starting at `offset`, or undefined when fewer than 19 bytes are there.
 * Throws the RFC 4271 §6.1 header NOTIFICATION for a bad marker, length or type.
 * `maxMessageSize` is 4096, or 65535 once RFC 8654 extended messages are negotiated.
 */
export function frameLength(buf: Uint8Array, offset: number, maxMessageSize: number): number | undefined {
  if (buf.length - offset < HEADER_LENGTH) return undefined;
  // RFC 4271 §6.1: "If the Marker field of the message header is not as expected, then a
  // synchronization error has occurred" → Connection Not Synchronized.
  for (let i = 0; i < BGP_MARKER_LENGTH; i++) {
    if (buf[offset + i] !== 0xff) throw BgpNotificationError.connectionNotSynchronized();
  }
  const length = (buf[offset + 16]! << 8) | buf[offset + 17]!;
  const type = buf[offset + 18]!;
  const min = MIN_LENGTH[type];
  // RFC 4271 §6.1: an unrecognised Type → Bad Message Type.
  if (min === undefined) throw BgpNotificationError.badMessageType(type);
  // RFC 4271 §6.1: "if the Length field of the message header is less than 19 or greater than
  // 4096, or ... the Length field of a KEEPALIVE message is not equal to 19" → Bad Message Length.
  // RFC 8654 §4 raises the maximum to 65535 for all but OPEN and KEEPALIVE once negotiated.
  const max = type === MessageType.Open ? 4096 : type === MessageType.Keepalive ? HEADER_LENGTH : maxMessageSize;
  if (length < min || length > max) throw BgpNotificationError.badMessageLength(length, `type ${type} with length ${length} (allowed ${min}..${max})`);
  return length;
}

/** Type of a whole frame (already checked by frameLength). */
export function frameType(frame: Uint8Array): number {
  return frame[18]!;
}

/** Prefix a message body with marker, length and type. */
export function withHeader(type: number, body: Uint8Array): Uint8Array {
  const length = HEADER_LENGTH + body.length;
  if (length > MAX_EXTENDED_MESSAGE_LENGTH) throw new RangeError(`BGP message of ${length} bytes exceeds 65535`);
  const out = new Uint8Array(length);
  out.fill(0xff, 0, BGP_MARKER_LENGTH);
  out[16] = length >> 8;
  out[17] = length & 0xff;
  out[18] = type;
  out.set(body, HEADER_LENGTH);
  return out;
}

/**
 * Reassembles whole messages from a byte stream split at arbitrary points. Holds at most one
 * partial message; `push` returns the complete frames (views into an internal buffer that are
 * valid until the next push, so copy to keep).
 */
export class FrameAssembler {
  private pending: Uint8Array = new Uint8Array(0);
  maxMessageSize: number;

  constructor(maxMessageSize = 4096) {
    this.maxMessageSize = maxMessageSize;
  }

  /** Bytes buffered but not yet a whole message. */
  get buffered(): number {
    return this.pending.length;
  }

  push(chunk: Uint8Array): Uint8Array[] {
    const buf = this.pending.length === 0 ? chunk : concat(this.pending, chunk);
    const frames: Uint8Array[] = [];
    let offset = 0;
    for (;;) {
      const length = frameLength(buf, offset, this.maxMessageSize);
      if (length === undefined || buf.length - offset < length) break;
      frames.push(buf.subarray(offset, offset + length));
      offset += length;
    }
    // Keep a copy of the tail: the caller may reuse `chunk`.
    this.pending = offset === buf.length ? new Uint8Array(0) : buf.slice(offset);
    return frames;
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}
