// SPDX-License-Identifier: Apache-2.0
// KEEPALIVE message (RFC 4271 §4.4): a header with no body. The header check (length exactly 19)
// is in header.ts; decodeKeepalive repeats it for callers that hand over a body directly.
import { BgpNotificationError } from './errors.ts';
import { HEADER_LENGTH, MessageType } from './iana.ts';
import { withHeader } from './header.ts';
import type { KeepaliveMessage } from './types.ts';

const KEEPALIVE_MESSAGE = withHeader(MessageType.Keepalive, new Uint8Array(0));

/** The whole 19-octet KEEPALIVE message (a fresh copy each call). */
export function encodeKeepalive(): Uint8Array {
  return KEEPALIVE_MESSAGE.slice();
}

export function decodeKeepalive(body: Uint8Array): KeepaliveMessage {
  // RFC 4271 §6.1: "... or if the Length field of a KEEPALIVE message is not equal to 19" →
  // Bad Message Length, with the erroneous Length field as data.
  if (body.length !== 0) throw BgpNotificationError.badMessageLength(body.length + HEADER_LENGTH, 'KEEPALIVE with a body');
  return { type: 'keepalive' };
}
