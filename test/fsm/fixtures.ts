// SPDX-License-Identifier: Apache-2.0
// Shared FSM test fixtures: a config with a fixed RNG, one canonical SessionState per FSM state
// (with the timers that state runs), one instance of every event, and a compact rendering of
// action lists ("stop:hold close(4/0) down set:idleHold") for table assertions.
import { BgpNotificationError } from '../../src/bgp/messages/errors.ts';
import type { NotificationMessage, OpenMessage } from '../../src/bgp/messages/types.ts';
import {
  DEFAULT_FSM_CONFIG,
  initialState,
  type FsmAction,
  type FsmConfig,
  type FsmEvent,
  type FsmEventType,
  type NegotiatedTimers,
  type SessionState,
} from '../../src/bgp/fsm/index.ts';

export const NOW = 1_000_000;

export function config(over: Partial<FsmConfig> = {}): FsmConfig {
  return { ...DEFAULT_FSM_CONFIG, connectRetryTime: 5, random: () => 0.5, ...over };
}

export const NEGOTIATED: NegotiatedTimers = { holdTime: 90, keepaliveTime: 30 };

function at(seconds: number): number {
  return NOW + seconds * 1000;
}

/** The canonical state for each row of the matrix, with the timers that state runs. */
export function fixture(row: string): SessionState {
  const base = initialState(config());
  switch (row) {
    case 'Idle':
      return base;
    case 'Idle (backing off)':
      return { ...base, started: true, idleHoldTime: 5, timers: { idleHold: at(5) } };
    case 'Connect':
      return { ...base, state: 'Connect', started: true, timers: { connectRetry: at(5) } };
    case 'Active':
      return { ...base, state: 'Active', started: true, timers: { connectRetry: at(5) } };
    case 'Active (passive)':
      return { ...initialState(config({ passive: true })), state: 'Active', started: true };
    case 'OpenSent':
      return { ...base, state: 'OpenSent', started: true, timers: { hold: at(240), sendHold: at(480) } };
    case 'OpenConfirm':
      return { ...base, state: 'OpenConfirm', started: true, negotiated: NEGOTIATED, timers: { hold: at(90), keepalive: at(30), sendHold: at(480) } };
    case 'Established':
      return {
        ...base,
        state: 'Established',
        started: true,
        negotiated: NEGOTIATED,
        establishedAt: NOW - 1000,
        timers: { hold: at(90), keepalive: at(30), sendHold: at(480) },
      };
    default:
      throw new Error(`no fixture ${row}`);
  }
}

export const PEER_OPEN: OpenMessage = { type: 'open', version: 4, myAs: 65002, holdTime: 90, bgpId: 0x02020202, capabilities: [], otherParameters: [] };
export const CEASE_RECEIVED: NotificationMessage = { type: 'notification', code: 6, subcode: 2, data: new Uint8Array(0) };
export const VERSION_ERROR: NotificationMessage = { type: 'notification', code: 2, subcode: 1, data: Uint8Array.of(0, 4) };

/** One instance of every event type. */
export function event(type: FsmEventType): FsmEvent {
  switch (type) {
    case 'BGPOpen':
      return { type, open: PEER_OPEN, negotiated: NEGOTIATED };
    case 'BGPHeaderErr':
      return { type, error: BgpNotificationError.connectionNotSynchronized() };
    case 'BGPOpenMsgErr':
      return { type, error: BgpNotificationError.badPeerAs('test') };
    case 'UpdateMsgErr':
      return { type, error: BgpNotificationError.malformedAttributeList('test') };
    case 'NotifMsg':
      return { type, notification: CEASE_RECEIVED };
    case 'NotifMsgVerErr':
      return { type, notification: VERSION_ERROR };
    case 'UpdateMsg':
      return { type, update: { message: { type: 'update', withdrawn: [], attributes: [], nlri: [] }, action: 'none', problems: [] } };
    case 'RouteRefreshMsg':
      return { type, message: { type: 'route-refresh', afi: 1, safi: 1, subtype: 0 } };
    case 'ManualStop':
    case 'ManualStart':
    case 'AutomaticStart':
    case 'ConnectRetryTimer_Expires':
    case 'HoldTimer_Expires':
    case 'KeepaliveTimer_Expires':
    case 'IdleHoldTimer_Expires':
    case 'SendHoldTimer_Expires':
    case 'TcpConnectionConfirmed':
    case 'TcpConnectionFails':
    case 'OpenCollisionDump':
    case 'KeepAliveMsg':
      return { type } as FsmEvent;
  }
}

/** "send:open", "set:hold", "close(5/1)", "down(E)" ... joined by spaces. */
export function tags(actions: FsmAction[]): string {
  return actions
    .map((a) => {
      switch (a.type) {
        case 'send':
          return `send:${a.message}`;
        case 'setTimer':
          return `set:${a.timer}`;
        case 'stopTimer':
          return `stop:${a.timer}`;
        case 'close':
          return a.notification ? `close(${a.notification.code}/${a.notification.subcode})` : 'close';
        case 'down':
          return a.down.wasEstablished ? 'down(E)' : 'down';
        default:
          return a.type;
      }
    })
    .join(' ');
}
