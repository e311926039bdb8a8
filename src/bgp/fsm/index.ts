// SPDX-License-Identifier: Apache-2.0
// The BGP finite state machine (RFC 4271 §8) and connection collision (§6.8): pure decisions,
// no I/O. The session driver (src/bgp/session/) runs the sockets and timers it asks for.
export * from './types.ts';
export { step, type Transition } from './fsm.ts';
export {
  jitter,
  isAcceptableHoldTime,
  negotiateTimers,
  sendHoldTime,
  nextIdleHoldTime,
  notificationOf,
  ceaseNotification,
  MIN_SEND_HOLD_TIME,
  HOLD_TIMER_EXPIRED,
  SEND_HOLD_TIMER_EXPIRED,
  COLLISION_RESOLUTION,
} from './timers.ts';
export * from './collision.ts';
