// SPDX-License-Identifier: Apache-2.0
// NOTIFICATION message codec (RFC 4271 §4.5) and the RFC 9003 Shutdown Communication carried by
// Cease / Administrative Shutdown and Cease / Administrative Reset. Decoding never judges the
// data field: a malformed shutdown communication is shown as hex, never an error (a
// NOTIFICATION is the last word on a session; there is nobody left to tell).
//
//  0                   1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// | Error code    | Error subcode |   Data (variable)             |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
import { BgpNotificationError } from './errors.ts';
import { CeaseSubcode, HEADER_LENGTH, MessageType, NotificationCode, notificationName } from './iana.ts';
import { withHeader } from './header.ts';
import type { NotificationMessage } from './types.ts';
import { toHex } from '../../util/reader.ts';

const MAX_SHUTDOWN_LENGTH = 255; // RFC 9003 §2: the Length octet
const MAX_LOGGED_BYTES = 64; // cap on hex shown for data we cannot interpret
const MAX_LOGGED_CHARS = 255;

// ===== Codec =====

export function decodeNotification(body: Uint8Array): NotificationMessage {
  // RFC 4271 §4.5: the minimum NOTIFICATION is 21 octets (header + code + subcode).
  if (body.length < 2) throw BgpNotificationError.badMessageLength(body.length + HEADER_LENGTH, 'NOTIFICATION too short');
  return { type: 'notification', code: body[0]!, subcode: body[1]!, data: body.slice(2) };
}

/** The whole NOTIFICATION message, header included. */
export function encodeNotification(msg: NotificationMessage): Uint8Array {
  const body = new Uint8Array(2 + msg.data.length);
  body[0] = msg.code;
  body[1] = msg.subcode;
  body.set(msg.data, 2);
  return withHeader(MessageType.Notification, body);
}

/** The NOTIFICATION a BgpNotificationError stands for. */
export function notificationFromError(err: BgpNotificationError): NotificationMessage {
  return { type: 'notification', code: err.code, subcode: err.subcode, data: err.data };
}

// ===== RFC 9003 Shutdown Communication =====

function carriesShutdownCommunication(code: number, subcode: number): boolean {
  // RFC 9003 §2: for Cease subcodes "Administrative Shutdown" and "Administrative Reset".
  return code === NotificationCode.Cease && (subcode === CeaseSubcode.AdministrativeShutdown || subcode === CeaseSubcode.AdministrativeReset);
}

/**
 * Cease / Administrative Shutdown (2) or Reset (4) with an operator message. RFC 9003 §2: the
 * message is "encoded in UTF-8 ... with a maximum length of 255 octets"; a longer one is cut at
 * the last whole character that fits.
 */
export function shutdownNotification(subcode: 2 | 4, message: string): NotificationMessage {
  const utf8 = truncateUtf8(new TextEncoder().encode(message), MAX_SHUTDOWN_LENGTH);
  const data = new Uint8Array(1 + utf8.length);
  data[0] = utf8.length;
  data.set(utf8, 1);
  return { type: 'notification', code: NotificationCode.Cease, subcode, data };
}

function truncateUtf8(bytes: Uint8Array, max: number): Uint8Array {
  if (bytes.length <= max) return bytes;
  let end = max;
  // Step back over continuation octets (10xxxxxx) so no character is split.
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end);
}

export type ShutdownCommunication =
  | { ok: true; message: string }
  | { ok: false; reason: string; hex: string };

/**
 * Reads an RFC 9003 shutdown communication from a Cease/2 or Cease/4 data field. An absent one
 * (empty data, as from speakers predating RFC 8203) is the empty message. RFC 9003 §3: "If a
 * Shutdown Communication with an invalid Length value, or an invalid UTF-8 sequence is
 * received, a message indicating this event SHOULD be logged ... An erroneous or malformed
 * Shutdown Communication itself MAY be logged in a hexdump format."
 */
export function decodeShutdownCommunication(data: Uint8Array): ShutdownCommunication {
  if (data.length === 0) return { ok: true, message: '' };
  const length = data[0]!;
  const hex = toHex(data, MAX_LOGGED_BYTES);
  if (1 + length > data.length) return { ok: false, reason: `length ${length} exceeds the ${data.length - 1} octets present`, hex };
  if (1 + length < data.length) return { ok: false, reason: `length ${length} leaves ${data.length - 1 - length} octets unexplained`, hex };
  try {
    return { ok: true, message: new TextDecoder('utf-8', { fatal: true }).decode(data.subarray(1)) };
  } catch {
    return { ok: false, reason: 'invalid UTF-8', hex };
  }
}

// ===== Text =====

/**
 * One line for logs and `show peers`: "Cease / Administrative Shutdown: \"maintenance\"".
 * Peer-supplied text is sanitized (control characters escaped) and capped.
 */
export function describeNotification(msg: NotificationMessage): string {
  const name = notificationName(msg.code, msg.subcode);
  if (carriesShutdownCommunication(msg.code, msg.subcode)) {
    const sc = decodeShutdownCommunication(msg.data);
    if (sc.ok) return sc.message === '' ? name : `${name}: "${sanitize(sc.message)}"`;
    return `${name}: malformed shutdown communication (${sc.reason}): ${sc.hex}`;
  }
  return msg.data.length === 0 ? name : `${name} (data ${toHex(msg.data, MAX_LOGGED_BYTES)})`;
}

function sanitize(text: string): string {
  // Control characters (C0, DEL, C1) and bidi overrides could forge log lines; show them escaped.
  const clean = text.replace(/["\\]/g, '\\$&').replace(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return clean.length > MAX_LOGGED_CHARS ? `${clean.slice(0, MAX_LOGGED_CHARS)}…` : clean;
}
