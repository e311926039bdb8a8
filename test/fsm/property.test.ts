// SPDX-License-Identifier: Apache-2.0
// Property: any sequence of events, from any configuration, never throws, and after every step
// the running timers are exactly the ones the state calls for, the timer actions account for
// the change in running timers, and no NOTIFICATION is sent before our OPEN.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  FSM_EVENT_TYPES,
  initialState,
  step,
  type FsmEvent,
  type FsmEventType,
  type SessionState,
  type TimerKind,
} from '../../src/bgp/fsm/index.ts';
import { PEER_OPEN, config, event } from './fixtures.ts';

const TIMER_OF: Partial<Record<FsmEventType, TimerKind>> = {
  ConnectRetryTimer_Expires: 'connectRetry',
  HoldTimer_Expires: 'hold',
  KeepaliveTimer_Expires: 'keepalive',
  IdleHoldTimer_Expires: 'idleHold',
  SendHoldTimer_Expires: 'sendHold',
};

const holdTimes = fc.oneof(fc.constant(0), fc.integer({ min: 3, max: 65535 }));
const anyEvent: fc.Arbitrary<FsmEvent> = fc.oneof(
  fc.constantFrom(...FSM_EVENT_TYPES).map(event),
  // Bias toward the events that make progress, so deep states are reached often.
  fc.constantFrom<FsmEvent>({ type: 'ManualStart' }, { type: 'TcpConnectionConfirmed' }, { type: 'KeepAliveMsg' }),
  holdTimes.map((holdTime): FsmEvent => ({ type: 'BGPOpen', open: PEER_OPEN, negotiated: { holdTime, keepaliveTime: Math.floor(holdTime / 3) } })),
);

function keys(timers: SessionState['timers']): string[] {
  return Object.keys(timers).sort();
}

/** The timers each state must (and may only) run. */
function expectedTimers(s: SessionState): string[] {
  const hold = s.negotiated?.holdTime ?? 0;
  switch (s.state) {
    case 'Idle':
      return s.timers.idleHold !== undefined ? ['idleHold'] : [];
    case 'Connect':
      return ['connectRetry'];
    case 'Active':
      return s.config.passive ? [] : ['connectRetry'];
    case 'OpenSent':
      return ['hold', 'sendHold'];
    case 'OpenConfirm':
    case 'Established':
      return hold > 0 ? ['hold', 'keepalive', 'sendHold'] : ['sendHold'];
  }
}

describe('FSM property: random event sequences', () => {
  it('never throw and keep timers consistent with the state', () => {
    fc.assert(
      fc.property(
        fc.boolean(),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        fc.array(fc.tuple(anyEvent, fc.integer({ min: 0, max: 600_000 })), { maxLength: 60 }),
        (passive, r, script) => {
          let s = initialState(config({ passive, random: () => r }));
          let now = 0;
          for (const [e, dt] of script) {
            now += dt;
            const before = s;
            const { state, actions } = step(s, e, now);
            s = state;
            assert.deepEqual(keys(s.timers), expectedTimers(s), `${before.state} --${e.type}--> ${s.state}`);
            if (s.state === 'Established') assert.ok(s.establishedAt !== undefined && s.negotiated !== undefined);
            if (s.state === 'Idle' && s.timers.idleHold !== undefined) assert.ok(s.started, 'back-off only for a started session');
            // Running timers change exactly as the actions say (an expiring timer stops silently).
            const running = new Set(Object.keys(before.timers));
            const expired = TIMER_OF[e.type];
            if (expired) running.delete(expired);
            for (const a of actions) {
              if (a.type === 'setTimer') {
                assert.ok(a.seconds > 0, `${a.timer} set to ${a.seconds}`);
                running.add(a.timer);
              } else if (a.type === 'stopTimer') {
                assert.ok(running.delete(a.timer), `stopTimer ${a.timer} that was not running`);
              }
            }
            assert.deepEqual([...running].sort(), keys(s.timers));
            // RFC 4271: a NOTIFICATION only after our OPEN went out.
            const notifies = actions.some((a) => a.type === 'close' && a.notification);
            if (notifies) assert.ok(['OpenSent', 'OpenConfirm', 'Established'].includes(before.state));
            // Passive sessions never connect out.
            if (passive) assert.ok(!actions.some((a) => a.type === 'connect'));
          }
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('reaches every state from random sequences (the generator is not toothless)', () => {
    const reached = new Set<string>();
    fc.assert(
      fc.property(fc.array(anyEvent, { maxLength: 30 }), (events) => {
        let s = initialState(config());
        for (const e of events) {
          s = step(s, e, 0).state;
          reached.add(s.state);
        }
      }),
      { numRuns: 500, seed: 42 },
    );
    assert.deepEqual([...reached].sort(), ['Active', 'Connect', 'Established', 'Idle', 'OpenConfirm', 'OpenSent']);
  });
});
