// SPDX-License-Identifier: Apache-2.0
// Every FSM state × every event, each cell written out from RFC 4271 §8.2.2 (with RFC 6608
// FSM Error subcodes and RFC 9687 send hold), plus the deviations documented in fsm.ts.
// A cell is [next state, actions]; actions render as in fixtures.ts `tags`:
//   set:/stop:<timer>, send:open|keepalive, connect, close(code/subcode), down (down(E) =
//   was Established), negotiated, established, deliverUpdate, deliverRouteRefresh.
// Timer events for a timer that is not running are stale and ignored (''), by design.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FSM_EVENT_TYPES, FSM_STATES, step, type FsmEventType, type FsmState } from '../../src/bgp/fsm/index.ts';
import { NOW, event, fixture, tags } from './fixtures.ts';

type Cell = [FsmState, string];
type Row = Record<FsmEventType, Cell>;

// Teardowns, spelled once per timer set so each cell stays readable.
const OS_DOWN = 'stop:hold stop:sendHold'; // OpenSent runs hold + sendHold
const OC_DOWN = 'stop:hold stop:keepalive stop:sendHold'; // OpenConfirm/Established run all three

const IDLE_IGNORES: Omit<Row, 'ManualStart' | 'ManualStop' | 'AutomaticStart' | 'IdleHoldTimer_Expires'> = {
  ConnectRetryTimer_Expires: ['Idle', ''],
  HoldTimer_Expires: ['Idle', ''],
  KeepaliveTimer_Expires: ['Idle', ''],
  SendHoldTimer_Expires: ['Idle', ''],
  TcpConnectionConfirmed: ['Idle', 'close'], // "refuses all incoming BGP connections"
  TcpConnectionFails: ['Idle', ''],
  BGPOpen: ['Idle', ''],
  BGPHeaderErr: ['Idle', ''],
  BGPOpenMsgErr: ['Idle', ''],
  OpenCollisionDump: ['Idle', ''],
  NotifMsgVerErr: ['Idle', ''],
  NotifMsg: ['Idle', ''],
  KeepAliveMsg: ['Idle', ''],
  UpdateMsg: ['Idle', ''],
  UpdateMsgErr: ['Idle', ''],
  RouteRefreshMsg: ['Idle', ''],
};

/** Connect/Active: "any other event" → Idle, no NOTIFICATION (no OPEN sent), back-off. */
function connectLike(release: string): Pick<Row, 'BGPOpen' | 'BGPHeaderErr' | 'BGPOpenMsgErr' | 'OpenCollisionDump' | 'NotifMsgVerErr' | 'NotifMsg' | 'KeepAliveMsg' | 'UpdateMsg' | 'UpdateMsgErr' | 'RouteRefreshMsg'> {
  const toIdle: Cell = ['Idle', `${release}close set:idleHold`];
  return {
    BGPOpen: toIdle,
    BGPHeaderErr: toIdle,
    BGPOpenMsgErr: toIdle,
    OpenCollisionDump: toIdle,
    NotifMsgVerErr: toIdle,
    NotifMsg: toIdle,
    KeepAliveMsg: toIdle,
    UpdateMsg: toIdle,
    UpdateMsgErr: toIdle,
    RouteRefreshMsg: toIdle,
  };
}

const MATRIX: Record<string, Row> = {
  Idle: {
    ManualStart: ['Connect', 'set:connectRetry connect'],
    ManualStop: ['Idle', ''],
    AutomaticStart: ['Connect', 'set:connectRetry connect'],
    IdleHoldTimer_Expires: ['Idle', ''], // not running: stale
    ...IDLE_IGNORES,
  },
  'Idle (backing off)': {
    ManualStart: ['Connect', 'stop:idleHold set:connectRetry connect'], // operator overrides back-off
    ManualStop: ['Idle', 'stop:idleHold'],
    AutomaticStart: ['Idle', ''], // back-off in force
    IdleHoldTimer_Expires: ['Connect', 'set:connectRetry connect'],
    ...IDLE_IGNORES,
  },
  Connect: {
    ManualStart: ['Connect', ''],
    ManualStop: ['Idle', 'stop:connectRetry close'],
    AutomaticStart: ['Connect', ''],
    ConnectRetryTimer_Expires: ['Connect', 'close set:connectRetry connect'],
    HoldTimer_Expires: ['Connect', ''],
    KeepaliveTimer_Expires: ['Connect', ''],
    IdleHoldTimer_Expires: ['Connect', ''],
    SendHoldTimer_Expires: ['Connect', ''],
    TcpConnectionConfirmed: ['OpenSent', 'stop:connectRetry send:open set:hold set:sendHold'],
    TcpConnectionFails: ['Active', 'stop:connectRetry close set:connectRetry'],
    ...connectLike('stop:connectRetry '),
  },
  Active: {
    ManualStart: ['Active', ''],
    ManualStop: ['Idle', 'stop:connectRetry close'],
    AutomaticStart: ['Active', ''],
    ConnectRetryTimer_Expires: ['Connect', 'set:connectRetry connect'],
    HoldTimer_Expires: ['Active', ''],
    KeepaliveTimer_Expires: ['Active', ''],
    IdleHoldTimer_Expires: ['Active', ''],
    SendHoldTimer_Expires: ['Active', ''],
    TcpConnectionConfirmed: ['OpenSent', 'stop:connectRetry send:open set:hold set:sendHold'],
    TcpConnectionFails: ['Active', 'stop:connectRetry close set:connectRetry'],
    ...connectLike('stop:connectRetry '),
  },
  'Active (passive)': {
    ManualStart: ['Active', ''],
    ManualStop: ['Idle', 'close'],
    AutomaticStart: ['Active', ''],
    ConnectRetryTimer_Expires: ['Active', ''], // passive: never connects out
    HoldTimer_Expires: ['Active', ''],
    KeepaliveTimer_Expires: ['Active', ''],
    IdleHoldTimer_Expires: ['Active', ''],
    SendHoldTimer_Expires: ['Active', ''],
    TcpConnectionConfirmed: ['OpenSent', 'send:open set:hold set:sendHold'],
    TcpConnectionFails: ['Active', 'close'],
    ...connectLike(''),
  },
  OpenSent: {
    ManualStart: ['OpenSent', ''],
    ManualStop: ['Idle', `${OS_DOWN} close(6/2) down`],
    AutomaticStart: ['OpenSent', ''],
    ConnectRetryTimer_Expires: ['OpenSent', ''],
    HoldTimer_Expires: ['Idle', 'stop:sendHold close(4/0) down set:idleHold'],
    KeepaliveTimer_Expires: ['OpenSent', ''],
    IdleHoldTimer_Expires: ['OpenSent', ''],
    SendHoldTimer_Expires: ['Idle', 'stop:hold close(8/0) down set:idleHold'],
    TcpConnectionConfirmed: ['OpenSent', ''], // second connection: collision processing
    TcpConnectionFails: ['Active', `${OS_DOWN} close down set:connectRetry`],
    BGPOpen: ['OpenConfirm', 'negotiated send:keepalive set:keepalive set:hold set:sendHold'],
    BGPHeaderErr: ['Idle', `${OS_DOWN} close(1/1) down set:idleHold`],
    BGPOpenMsgErr: ['Idle', `${OS_DOWN} close(2/2) down set:idleHold`],
    OpenCollisionDump: ['Idle', `${OS_DOWN} close(6/7) down`],
    NotifMsgVerErr: ['Idle', `${OS_DOWN} close down set:idleHold`],
    NotifMsg: ['Idle', `${OS_DOWN} close down set:idleHold`],
    KeepAliveMsg: ['Idle', `${OS_DOWN} close(5/1) down set:idleHold`],
    UpdateMsg: ['Idle', `${OS_DOWN} close(5/1) down set:idleHold`],
    UpdateMsgErr: ['Idle', `${OS_DOWN} close(5/1) down set:idleHold`],
    RouteRefreshMsg: ['Idle', `${OS_DOWN} close(5/1) down set:idleHold`],
  },
  OpenConfirm: {
    ManualStart: ['OpenConfirm', ''],
    ManualStop: ['Idle', `${OC_DOWN} close(6/2) down`],
    AutomaticStart: ['OpenConfirm', ''],
    ConnectRetryTimer_Expires: ['OpenConfirm', ''],
    HoldTimer_Expires: ['Idle', 'stop:keepalive stop:sendHold close(4/0) down set:idleHold'],
    KeepaliveTimer_Expires: ['OpenConfirm', 'send:keepalive set:keepalive'],
    IdleHoldTimer_Expires: ['OpenConfirm', ''],
    SendHoldTimer_Expires: ['Idle', 'stop:hold stop:keepalive close(8/0) down set:idleHold'],
    TcpConnectionConfirmed: ['OpenConfirm', ''],
    TcpConnectionFails: ['Idle', `${OC_DOWN} close down set:idleHold`],
    BGPOpen: ['Idle', `${OC_DOWN} close(5/2) down set:idleHold`],
    BGPHeaderErr: ['Idle', `${OC_DOWN} close(1/1) down set:idleHold`],
    BGPOpenMsgErr: ['Idle', `${OC_DOWN} close(2/2) down set:idleHold`],
    OpenCollisionDump: ['Idle', `${OC_DOWN} close(6/7) down`],
    NotifMsgVerErr: ['Idle', `${OC_DOWN} close down set:idleHold`],
    NotifMsg: ['Idle', `${OC_DOWN} close down set:idleHold`],
    KeepAliveMsg: ['Established', 'set:hold established'],
    UpdateMsg: ['Idle', `${OC_DOWN} close(5/2) down set:idleHold`],
    UpdateMsgErr: ['Idle', `${OC_DOWN} close(5/2) down set:idleHold`],
    RouteRefreshMsg: ['Idle', `${OC_DOWN} close(5/2) down set:idleHold`],
  },
  Established: {
    ManualStart: ['Established', ''],
    ManualStop: ['Idle', `${OC_DOWN} close(6/2) down(E)`],
    AutomaticStart: ['Established', ''],
    ConnectRetryTimer_Expires: ['Established', ''],
    HoldTimer_Expires: ['Idle', 'stop:keepalive stop:sendHold close(4/0) down(E) set:idleHold'],
    KeepaliveTimer_Expires: ['Established', 'send:keepalive set:keepalive'],
    IdleHoldTimer_Expires: ['Established', ''],
    SendHoldTimer_Expires: ['Idle', 'stop:hold stop:keepalive close(8/0) down(E) set:idleHold'],
    TcpConnectionConfirmed: ['Established', ''],
    TcpConnectionFails: ['Idle', `${OC_DOWN} close down(E) set:idleHold`],
    BGPOpen: ['Idle', `${OC_DOWN} close(5/3) down(E) set:idleHold`],
    BGPHeaderErr: ['Idle', `${OC_DOWN} close(1/1) down(E) set:idleHold`],
    BGPOpenMsgErr: ['Idle', `${OC_DOWN} close(2/2) down(E) set:idleHold`],
    OpenCollisionDump: ['Idle', `${OC_DOWN} close(6/7) down(E)`],
    NotifMsgVerErr: ['Idle', `${OC_DOWN} close down(E) set:idleHold`],
    NotifMsg: ['Idle', `${OC_DOWN} close down(E) set:idleHold`],
    KeepAliveMsg: ['Established', 'set:hold'],
    UpdateMsg: ['Established', 'set:hold deliverUpdate'],
    UpdateMsgErr: ['Idle', `${OC_DOWN} close(3/1) down(E) set:idleHold`],
    RouteRefreshMsg: ['Established', 'deliverRouteRefresh'],
  },
};

describe('FSM matrix: every state × every event', () => {
  it('covers all six states and all event types', () => {
    const rowStates = new Set(Object.keys(MATRIX).map((r) => fixture(r).state));
    assert.deepEqual([...rowStates].sort(), [...FSM_STATES].sort());
    for (const row of Object.values(MATRIX)) assert.deepEqual(Object.keys(row).sort(), [...FSM_EVENT_TYPES].sort());
  });

  for (const [row, cells] of Object.entries(MATRIX)) {
    describe(row, () => {
      for (const type of FSM_EVENT_TYPES) {
        const [to, expected] = cells[type];
        it(`${type} → ${to}${expected ? `: ${expected}` : ''}`, () => {
          const before = fixture(row);
          const { state, actions } = step(before, event(type), NOW);
          assert.equal(state.state, to);
          assert.equal(tags(actions), expected);
          // No action and no transition: the state record is unchanged too.
          if (expected === '' && to === before.state) assert.deepEqual(state, before);
        });
      }
    });
  }
});
