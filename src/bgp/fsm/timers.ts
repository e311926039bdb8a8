// SPDX-License-Identifier: Apache-2.0
// Timer arithmetic for the FSM: RFC 4271 §10 jitter, hold time and keepalive negotiation
// (§4.2, §10), the RFC 9687 send hold time, and the error back-off (BIRD's `error wait time`).
// Also the few NOTIFICATIONs the FSM itself originates. Pure functions; no clock, no sockets.
import { BgpNotificationError } from '../messages/errors.ts';
import { CeaseSubcode, NotificationCode } from '../messages/iana.ts';
import type { NotificationMessage } from '../messages/types.ts';
import type { FsmConfig, SessionState } from './types.ts';

// ===== Jitter =====
/**
 * RFC 4271 §10: "jitter SHOULD be applied to the timers associated with MinASOriginationInterval,
 * KeepAlive, MinRouteAdvertisementInterval, and ConnectRetry ... by multiplying the base value of
 * the appropriate timer by a random factor, which is uniformly distributed in the range from
 * 0.75 to 1.0". Tern also jitters the idle hold (back-off) timer, so two peers that failed
 * together do not retry in lockstep.
 */
export function jitter(seconds: number, random: () => number): number {
  const r = Math.min(Math.max(random(), 0), 1);
  return seconds * (0.75 + 0.25 * r);
}

// ===== Hold time and keepalive =====
/** RFC 4271 §4.2: "Hold Time MUST be either zero or at least three seconds". */
export function isAcceptableHoldTime(holdTime: number): boolean {
  return holdTime === 0 || (holdTime >= 3 && holdTime <= 0xffff);
}

/**
 * RFC 4271 §4.2: "the BGP speaker MUST calculate the value of the Hold Timer by using the smaller
 * of its configured Hold Time and the Hold Time received in the OPEN message". Zero means no
 * hold timer and no KEEPALIVEs. §10 suggests KeepaliveTime = one third of the hold time; a
 * configured keepalive is capped to that third and (§4.4 "KEEPALIVE messages MUST NOT be sent
 * more frequently than one per second") floored to one second.
 */
export function negotiateTimers(localHold: number, remoteHold: number, configuredKeepalive?: number): { holdTime: number; keepaliveTime: number } {
  const holdTime = Math.min(localHold, remoteHold);
  if (holdTime === 0) return { holdTime: 0, keepaliveTime: 0 };
  const third = Math.floor(holdTime / 3);
  const wanted = configuredKeepalive !== undefined && configuredKeepalive > 0 ? Math.min(configuredKeepalive, third) : third;
  return { holdTime, keepaliveTime: Math.max(1, wanted) };
}

/** RFC 9687 §3: SendHoldTime "8 minutes or 2 times the HoldTime, whichever is longer". */
export const MIN_SEND_HOLD_TIME = 480;
export function sendHoldTime(holdTime: number): number {
  return Math.max(MIN_SEND_HOLD_TIME, 2 * holdTime);
}

// ===== Back-off =====
/**
 * The next idle hold time after an error: errorWaitMin, then doubling to errorWaitMax. A session
 * that stayed Established for errorForget seconds starts again from errorWaitMin.
 */
export function nextIdleHoldTime(s: SessionState, now: number): number {
  const c: FsmConfig = s.config;
  const stable = s.establishedAt !== undefined && now - s.establishedAt >= c.errorForget * 1000;
  const previous = stable ? 0 : s.idleHoldTime;
  return previous === 0 ? c.errorWaitMin : Math.min(previous * 2, c.errorWaitMax);
}

// ===== NOTIFICATIONs the FSM originates =====
export function notificationOf(error: BgpNotificationError): NotificationMessage {
  return { type: 'notification', code: error.code, subcode: error.subcode, data: error.data };
}

/** RFC 4271 §6.5: Hold Timer Expired, subcode 0. */
export const HOLD_TIMER_EXPIRED: NotificationMessage = notificationOf(BgpNotificationError.holdTimerExpired());
/** RFC 9687 §5: Send Hold Timer Expired (code 8), subcode 0. */
export const SEND_HOLD_TIMER_EXPIRED: NotificationMessage = notificationOf(BgpNotificationError.sendHoldTimerExpired());
/** RFC 4271 §6.8, RFC 4486 §4: Cease / Connection Collision Resolution. */
export const COLLISION_RESOLUTION: NotificationMessage = notificationOf(BgpNotificationError.cease(CeaseSubcode.ConnectionCollisionResolution));

const MAX_SHUTDOWN_TEXT = 255; // RFC 9003 §2: "Length ... up to 255"

/**
 * Cease with an optional RFC 9003 Shutdown Communication: one length octet, then UTF-8 text.
 * Only subcodes 2 (Administrative Shutdown) and 4 (Administrative Reset) carry it (§2). Longer
 * text is cut at a character boundary so the UTF-8 stays valid.
 */
export function ceaseNotification(subcode: number, text?: string): NotificationMessage {
  const carriesText = subcode === CeaseSubcode.AdministrativeShutdown || subcode === CeaseSubcode.AdministrativeReset;
  if (!carriesText || !text) return { type: 'notification', code: NotificationCode.Cease, subcode, data: new Uint8Array(0) };
  const encoder = new TextEncoder();
  let bytes = encoder.encode(text);
  let chars = [...text];
  while (bytes.length > MAX_SHUTDOWN_TEXT) {
    chars = chars.slice(0, -1);
    bytes = encoder.encode(chars.join(''));
  }
  const data = new Uint8Array(1 + bytes.length);
  data[0] = bytes.length;
  data.set(bytes, 1);
  return { type: 'notification', code: NotificationCode.Cease, subcode, data };
}
