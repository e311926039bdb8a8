// SPDX-License-Identifier: Apache-2.0
// ROUTE-REFRESH message codec (RFC 2918 §3) with the RFC 7313 §3 message subtype in the former
// Reserved octet. It does not decide whether a refresh may be sent or must be honoured (the
// capability exchange and the session do). Outbound Route Filtering entries (RFC 5291) are not
// spoken: Tern never advertises that capability, so a longer message is a length error.
//
//  0       7      15      23      31
//  +-------+-------+-------+-------+
//  |      AFI      |Subtype| SAFI  |
//  +-------+-------+-------+-------+
import { BgpNotificationError } from './errors.ts';
import { MessageType, NotificationCode, RouteRefreshErrorSubcode } from './iana.ts';
import { withHeader } from './header.ts';
import type { RouteRefreshMessage } from './types.ts';

const BODY_LENGTH = 4;

export function decodeRouteRefresh(body: Uint8Array): RouteRefreshMessage {
  // RFC 7313 §5: "If the length, excluding the fixed-size message header, of the received
  // ROUTE-REFRESH message with Message Subtype 1 and 2 is not 4, then the BGP speaker MUST send
  // a NOTIFICATION message with the Error Code of 'ROUTE-REFRESH Message Error' and the subcode
  // of 'Invalid Message Length'. The Data field of the NOTIFICATION message MUST contain the
  // complete ROUTE-REFRESH message." Without ORF the same holds for subtype 0.
  if (body.length !== BODY_LENGTH) {
    throw new BgpNotificationError(
      NotificationCode.RouteRefreshMessageError,
      RouteRefreshErrorSubcode.InvalidMessageLength,
      withHeader(MessageType.RouteRefresh, body),
      `ROUTE-REFRESH body of ${body.length} octets`,
    );
  }
  // RFC 7313 §3: unknown subtypes are kept here; "the receiver MUST ignore" them (session layer).
  return { type: 'route-refresh', afi: (body[0]! << 8) | body[1]!, subtype: body[2]!, safi: body[3]! };
}

/** The whole ROUTE-REFRESH message, header included. */
export function encodeRouteRefresh(msg: RouteRefreshMessage): Uint8Array {
  return withHeader(MessageType.RouteRefresh, Uint8Array.of(msg.afi >> 8, msg.afi & 0xff, msg.subtype, msg.safi));
}
