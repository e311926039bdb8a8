// SPDX-License-Identifier: Apache-2.0
// Scripted FSM runs: the happy path with exact timer values, hold timer expiry, a bad OPEN,
// a received NOTIFICATION and the back-off that follows (doubling, capped, forgotten after a
// stable session), passive peers, hold time 0, the RFC 9687 send hold timer, and ManualStop
// with an RFC 9003 shutdown text.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BgpNotificationError } from '../../src/bgp/messages/errors.ts';
import { decodeShutdownCommunication } from '../../src/bgp/messages/notification.ts';
import {
  ceaseNotification,
  initialState,
  step,
  type FsmAction,
  type FsmConfig,
  type FsmEvent,
  type NegotiatedTimers,
  type SessionState,
} from '../../src/bgp/fsm/index.ts';
import { CEASE_RECEIVED, NOW, PEER_OPEN, config, tags } from './fixtures.ts';

const UPDATE_ERROR_RECEIVED = { type: 'notification', code: 3, subcode: 1, data: new Uint8Array(0) } as const;

/** Applies events in order at `now` (ms); returns the final state and every action. */
function run(s: SessionState, events: FsmEvent[], now = NOW): { state: SessionState; actions: FsmAction[] } {
  const actions: FsmAction[] = [];
  for (const e of events) {
    const t = step(s, e, now);
    s = t.state;
    actions.push(...t.actions);
  }
  return { state: s, actions };
}

function open(negotiated: NegotiatedTimers): FsmEvent {
  return { type: 'BGPOpen', open: PEER_OPEN, negotiated };
}

const TO_ESTABLISHED: FsmEvent[] = [
  { type: 'ManualStart' },
  { type: 'TcpConnectionConfirmed' },
  open({ holdTime: 90, keepaliveTime: 30 }),
  { type: 'KeepAliveMsg' },
];

function established(cfg: FsmConfig = config(), now = NOW): SessionState {
  return run(initialState(cfg), TO_ESTABLISHED, now).state;
}

function timerSeconds(actions: FsmAction[], timer: string): number[] {
  return actions.flatMap((a) => (a.type === 'setTimer' && a.timer === timer ? [a.seconds] : []));
}

describe('FSM scenarios', () => {
  it('happy path: Idle → Connect → OpenSent → OpenConfirm → Established with RFC timer values', () => {
    let s = initialState(config());
    const seen: string[] = [];
    const all: FsmAction[] = [];
    for (const e of TO_ESTABLISHED) {
      const t = step(s, e, NOW);
      s = t.state;
      seen.push(s.state);
      all.push(...t.actions);
    }
    assert.deepEqual(seen, ['Connect', 'OpenSent', 'OpenConfirm', 'Established']);
    assert.equal(
      tags(all),
      'set:connectRetry connect stop:connectRetry send:open set:hold set:sendHold negotiated send:keepalive set:keepalive set:hold set:sendHold set:hold established',
    );
    // RFC 4271 §10 jitter with random() = 0.5: factor 0.875.
    assert.deepEqual(timerSeconds(all, 'connectRetry'), [5 * 0.875]);
    assert.deepEqual(timerSeconds(all, 'keepalive'), [30 * 0.875]);
    // §8.2.2 large OpenSent hold (4 min), then the negotiated 90 s (hold is never jittered).
    assert.deepEqual(timerSeconds(all, 'hold'), [240, 90, 90]);
    // RFC 9687: max(8 min, 2 × hold).
    assert.deepEqual(timerSeconds(all, 'sendHold'), [480, 480]);
    assert.deepEqual(Object.keys(s.timers).sort(), ['hold', 'keepalive', 'sendHold']);
    assert.equal(s.timers.hold, NOW + 90_000);
    assert.equal(s.establishedAt, NOW);
    assert.deepEqual(s.negotiated, { holdTime: 90, keepaliveTime: 30 });
  });

  it('hold timer expiry in Established sends 4/0, reports down and backs off', () => {
    const t = step(established(), { type: 'HoldTimer_Expires' }, NOW + 90_000);
    assert.equal(t.state.state, 'Idle');
    const close = t.actions.find((a) => a.type === 'close');
    assert.deepEqual(close, { type: 'close', notification: { type: 'notification', code: 4, subcode: 0, data: new Uint8Array(0) } });
    const down = t.actions.find((a) => a.type === 'down');
    assert.equal(down?.type === 'down' && down.down.wasEstablished, true);
    assert.equal(down?.type === 'down' && down.down.sent?.code, 4);
    assert.deepEqual(timerSeconds(t.actions, 'idleHold'), [5 * 0.875]);
    assert.deepEqual(Object.keys(t.state.timers), ['idleHold']);
    // The back-off ends with an automatic restart.
    const again = step(t.state, { type: 'IdleHoldTimer_Expires' }, NOW + 100_000);
    assert.equal(again.state.state, 'Connect');
    assert.equal(tags(again.actions), 'set:connectRetry connect');
  });

  it('bad OPEN (unacceptable hold time) in OpenSent sends 2/6 and goes Idle', () => {
    const s = run(initialState(config()), [{ type: 'ManualStart' }, { type: 'TcpConnectionConfirmed' }]).state;
    const t = step(s, { type: 'BGPOpenMsgErr', error: BgpNotificationError.unacceptableHoldTime(2) }, NOW);
    assert.equal(t.state.state, 'Idle');
    assert.equal(tags(t.actions), 'stop:hold stop:sendHold close(2/6) down set:idleHold');
    assert.equal(t.state.negotiated, undefined);
  });

  it('an error NOTIFICATION received: Idle without answering, back-off doubles to the cap', () => {
    let s = established();
    const waits: number[] = [];
    for (let i = 0; i < 6; i++) {
      const t = step(s, { type: 'NotifMsg', notification: UPDATE_ERROR_RECEIVED }, NOW + i);
      assert.equal(t.state.state, 'Idle');
      const close = t.actions.find((a) => a.type === 'close');
      assert.deepEqual(close, { type: 'close' }, 'never answer a NOTIFICATION with one');
      const down = t.actions.find((a) => a.type === 'down');
      assert.equal(down?.type === 'down' && down.down.received, UPDATE_ERROR_RECEIVED);
      waits.push(t.state.idleHoldTime);
      // Come back quickly (short sessions do not forget errors).
      s = run(t.state, [{ type: 'IdleHoldTimer_Expires' }, { type: 'TcpConnectionConfirmed' }, open({ holdTime: 90, keepaliveTime: 30 }), { type: 'KeepAliveMsg' }], NOW + i).state;
      assert.equal(s.state, 'Established');
    }
    assert.deepEqual(waits, [5, 10, 20, 40, 60, 60]);
    // A session that stayed up for errorForget (300 s) starts over from the minimum.
    const later = step(s, { type: 'NotifMsg', notification: UPDATE_ERROR_RECEIVED }, NOW + 301_000);
    assert.equal(later.state.idleHoldTime, 5);
  });

  it('a working session the peer ends (Cease, or TCP closed) reconnects after connectDelay without growing the back-off', () => {
    for (const ending of [{ type: 'NotifMsg', notification: CEASE_RECEIVED }, { type: 'TcpConnectionFails' }] as FsmEvent[]) {
      const t = step(established(), ending, NOW);
      assert.equal(t.state.state, 'Idle');
      assert.deepEqual(timerSeconds(t.actions, 'idleHold').map(Math.ceil), [1], `${ending.type}: connect delay 1 s (jittered)`);
      assert.equal(t.state.idleHoldTime, 0, `${ending.type}: no error back-off`);
    }
  });

  it('ManualStart resets the back-off; ManualStop cancels the automatic restart', () => {
    const openSent = run(initialState(config()), [{ type: 'ManualStart' }, { type: 'TcpConnectionConfirmed' }]).state;
    assert.equal(openSent.state, 'OpenSent');
    const failed = step(openSent, { type: 'HoldTimer_Expires' }, NOW).state;
    assert.equal(failed.state, 'Idle');
    assert.equal(failed.idleHoldTime, 5);
    const stopped = step(failed, { type: 'ManualStop' }, NOW);
    assert.equal(tags(stopped.actions), 'stop:idleHold');
    assert.equal(stopped.state.started, false);
    assert.equal(step(stopped.state, { type: 'IdleHoldTimer_Expires' }, NOW).actions.length, 0, 'stale after stop');
    const restarted = step(stopped.state, { type: 'ManualStart' }, NOW).state;
    assert.equal(restarted.idleHoldTime, 0);
    assert.equal(restarted.connectRetryCounter, 0);
  });

  it('passive: waits in Active with no timer and never connects', () => {
    const cfg = config({ passive: true });
    const start = step(initialState(cfg), { type: 'ManualStart' }, NOW);
    assert.equal(start.state.state, 'Active');
    assert.deepEqual(start.actions, []);
    const opened = step(start.state, { type: 'TcpConnectionConfirmed' }, NOW);
    assert.equal(opened.state.state, 'OpenSent');
    assert.equal(tags(opened.actions), 'send:open set:hold set:sendHold');
    const failed = step(opened.state, { type: 'TcpConnectionFails' }, NOW);
    assert.equal(failed.state.state, 'Active');
    assert.equal(tags(failed.actions), 'stop:hold stop:sendHold close down');
    assert.deepEqual(failed.state.timers, {});
  });

  it('hold time 0: no hold timer and no keepalives, the session still establishes', () => {
    const s = run(initialState(config()), [{ type: 'ManualStart' }, { type: 'TcpConnectionConfirmed' }]).state;
    const confirm = step(s, open({ holdTime: 0, keepaliveTime: 0 }), NOW);
    assert.equal(confirm.state.state, 'OpenConfirm');
    // One KEEPALIVE acknowledges the OPEN (§8.2.2), but no KeepaliveTimer and the large hold timer stops.
    assert.equal(tags(confirm.actions), 'negotiated send:keepalive stop:hold set:sendHold');
    assert.deepEqual(Object.keys(confirm.state.timers), ['sendHold']);
    const est = step(confirm.state, { type: 'KeepAliveMsg' }, NOW);
    assert.equal(est.state.state, 'Established');
    assert.equal(tags(est.actions), 'established');
    assert.deepEqual(step(est.state, { type: 'KeepAliveMsg' }, NOW).actions, []);
    assert.deepEqual(step(est.state, { type: 'HoldTimer_Expires' }, NOW).actions, [], 'no hold timer to expire');
  });

  it('send hold timer: max(8 min, 2 × hold), expiry sends 8/0 and closes', () => {
    const s = run(initialState(config()), [{ type: 'ManualStart' }, { type: 'TcpConnectionConfirmed' }]).state;
    const long = step(s, open({ holdTime: 300, keepaliveTime: 100 }), NOW);
    assert.deepEqual(timerSeconds(long.actions, 'sendHold'), [600]);
    const short = step(s, open({ holdTime: 9, keepaliveTime: 3 }), NOW);
    assert.deepEqual(timerSeconds(short.actions, 'sendHold'), [480]);
    const t = step(established(), { type: 'SendHoldTimer_Expires' }, NOW + 480_000);
    assert.equal(t.state.state, 'Idle');
    assert.equal(tags(t.actions), 'stop:hold stop:keepalive close(8/0) down(E) set:idleHold');
  });

  it('ManualStop carries the caller’s RFC 9003 shutdown communication', () => {
    const notification = ceaseNotification(2, 'upgrade to v2');
    const t = step(established(), { type: 'ManualStop', notification }, NOW);
    const close = t.actions.find((a) => a.type === 'close');
    assert.equal(close?.type === 'close' && close.notification, notification);
    assert.deepEqual(decodeShutdownCommunication(notification.data), { ok: true, message: 'upgrade to v2' });
    assert.equal(t.state.started, false);
    assert.deepEqual(t.state.timers, {});
  });

  it('unexpected KEEPALIVE in OpenSent is an FSM Error with RFC 6608 subcode 1', () => {
    const s = run(initialState(config()), [{ type: 'ManualStart' }, { type: 'TcpConnectionConfirmed' }]).state;
    const t = step(s, { type: 'KeepAliveMsg' }, NOW);
    const close = t.actions.find((a) => a.type === 'close');
    assert.deepEqual(close?.type === 'close' && [close.notification?.code, close.notification?.subcode], [5, 1]);
  });

  it('connection refused: Connect → Active, then retries after ConnectRetryTime', () => {
    const s = step(initialState(config()), { type: 'ManualStart' }, NOW).state;
    const failed = step(s, { type: 'TcpConnectionFails' }, NOW);
    assert.equal(failed.state.state, 'Active');
    assert.equal(failed.state.timers.connectRetry, NOW + 5 * 0.875 * 1000);
    const retry = step(failed.state, { type: 'ConnectRetryTimer_Expires' }, NOW + 5000);
    assert.equal(retry.state.state, 'Connect');
    assert.equal(tags(retry.actions), 'set:connectRetry connect');
  });
});
