// SPDX-License-Identifier: Apache-2.0
// The message layer's front door: every codec re-exported, plus decodeMessage/encodeMessage that
// dispatch a whole framed message by its type. Framing a byte stream is FrameAssembler's job
// (header.ts); what to do with a decoded message is the session's.
import { BgpNotificationError } from './errors.ts';
import type { AttributeProblem, Rfc7606Action } from './errors.ts';
import { frameLength } from './header.ts';
import { HEADER_LENGTH, MessageType } from './iana.ts';
import { decodeKeepalive, encodeKeepalive } from './keepalive.ts';
import { decodeNotification, encodeNotification } from './notification.ts';
import { decodeOpen, encodeOpen } from './open.ts';
import { decodeRouteRefresh, encodeRouteRefresh } from './route-refresh.ts';
import type { BgpMessage, CodecContext } from './types.ts';
import { decodeUpdate, encodeUpdate } from './update.ts';

export * from './types.ts';
export * from './errors.ts';
export * from './iana.ts';
export * from './header.ts';
export * from './capabilities.ts';
export * from './open.ts';
export * from './notification.ts';
export * from './keepalive.ts';
export * from './route-refresh.ts';
export * from './negotiate.ts';
export * from './update.ts';

export interface Decoded {
  message: BgpMessage;
  /** RFC 7606 verdict; 'none' for every message but a flawed UPDATE. */
  action: Rfc7606Action;
  problems: AttributeProblem[];
}

/**
 * Decodes one whole message (header included, as FrameAssembler returns it). Throws only
 * BgpNotificationError: header errors (RFC 4271 §6.1) first, then the message type's own.
 */
export function decodeMessage(frame: Uint8Array, ctx: CodecContext): Decoded {
  const length = frameLength(frame, 0, ctx.maxMessageSize);
  if (length === undefined) throw BgpNotificationError.badMessageLength(frame.length, 'shorter than a header');
  // The frame must be exactly one message: a mismatch means the Length field is wrong.
  if (length !== frame.length) throw BgpNotificationError.badMessageLength(length, `header says ${length}, frame has ${frame.length}`);
  const body = frame.subarray(HEADER_LENGTH);
  switch (frame[18]) {
    case MessageType.Update:
      return decodeUpdate(body, ctx);
    case MessageType.Open:
      return clean(decodeOpen(body));
    case MessageType.Notification:
      return clean(decodeNotification(body));
    case MessageType.Keepalive:
      return clean(decodeKeepalive(body));
    case MessageType.RouteRefresh:
      return clean(decodeRouteRefresh(body));
    default:
      // frameLength already rejected unknown types; kept so the switch stays total.
      throw BgpNotificationError.badMessageType(frame[18]!);
  }
}

function clean(message: BgpMessage): Decoded {
  return { message, action: 'none', problems: [] };
}

/** The whole message, header included. */
export function encodeMessage(msg: BgpMessage, ctx: CodecContext): Uint8Array {
  switch (msg.type) {
    case 'open':
      return encodeOpen(msg);
    case 'update':
      return encodeUpdate(msg, ctx);
    case 'notification':
      return encodeNotification(msg);
    case 'keepalive':
      return encodeKeepalive();
    case 'route-refresh':
      return encodeRouteRefresh(msg);
  }
}

const TYPE_NAMES: Record<BgpMessage['type'], string> = {
  open: 'OPEN',
  update: 'UPDATE',
  notification: 'NOTIFICATION',
  keepalive: 'KEEPALIVE',
  'route-refresh': 'ROUTE-REFRESH',
};

export function messageTypeName(msg: BgpMessage): string {
  return TYPE_NAMES[msg.type];
}
