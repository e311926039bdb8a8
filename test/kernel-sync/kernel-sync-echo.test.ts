// SPDX-License-Identifier: Apache-2.0
// KernelSync's handling of the monitor's echo of our own route deletions: a deletion of a route
// we installed (by someone else, or our own echo) re-queues exactly that destination, found by
// prefix — never by scanning every programmed route (that made removing N routes O(N²): 10,000
// withdrawals took 50 s in bench/kernel.ts). No sockets: the sync is never started.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EventEmitter } from 'node:events';
import { KernelSync, type KernelSyncOptions } from '../../src/kernel-sync/kernel-sync.ts';
import { prefixKey } from '../../src/rib/prefix-key.ts';
import { formOf } from '../../src/kernel-sync/route-form.ts';
import { RTPROT } from '../../src/kernel-sync/rtnetlink/index.ts';
import type { RouteMessage } from '../../src/kernel-sync/rtnetlink/index.ts';
import type { Rib } from '../../src/rib/rib.ts';
import type { Speaker } from '../../src/speaker.ts';
import type { Logger } from '../../src/observability/log.ts';
import type { CompiledPolicy } from '../../src/policy/types.ts';
import { IF, ip, kroute } from './kernel-fixtures.ts';

const silent = { child: () => silent, info() {}, warn() {}, error() {}, debug() {}, trace() {} } as unknown as Logger;
const opts: KernelSyncOptions = {
  learn: false, program: true, protocol: RTPROT.BIRD, table: 254, metric: 0, exportPolicy: {} as CompiledPolicy,
  ignoreInterfaces: [], tunnel: { device: 'tunl0', mode: 'never' }, persist: true, deferralTime: 240,
};

interface Internals { dirty: Set<string>; onOwnRouteEvent(kind: 'new' | 'del', m: RouteMessage): void }

function syncWith(n: number): { k: KernelSync; routes: RouteMessage[]; loc: Map<string, unknown>; internals: Internals } {
  const loc = new Map<string, unknown>();
  const k = new KernelSync(opts, { loc, destinationListeners: [] } as unknown as Rib, { events: new EventEmitter() } as unknown as Speaker, silent);
  const routes: RouteMessage[] = [];
  for (let i = 0; i < n; i++) {
    const route = kroute(`100.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}/32`, { protocol: RTPROT.BIRD, gateway: ip('10.0.0.2'), oif: IF.eth0 });
    const nlri = { family: 'ipv4-unicast' as const, length: 32, address: route.dst! };
    k.programmed.set(prefixKey(nlri), { destKey: prefixKey(nlri), family: 'ipv4-unicast', nlri, state: 'installed', form: formOf(route) });
    loc.set(prefixKey(nlri), { key: prefixKey(nlri) }); // still wanted: the Loc-RIB has it
    routes.push(route);
  }
  return { k, routes, loc, internals: k as unknown as Internals };
}

describe('KernelSync: deletions of our own routes seen on the monitor', () => {
  it('re-queues exactly the deleted route; another metric or an unknown prefix changes nothing', () => {
    const { k, routes, internals } = syncWith(3);
    internals.onOwnRouteEvent('del', { ...routes[1]!, priority: 7 });
    internals.onOwnRouteEvent('del', kroute('100.9.9.9/32', { protocol: RTPROT.BIRD }));
    internals.onOwnRouteEvent('new', routes[0]!);
    assert.deepEqual(k.counts(), { pending: 0, installed: 3, failed: 0, unresolved: 0 });
    internals.onOwnRouteEvent('del', routes[1]!);
    assert.deepEqual(k.counts(), { pending: 1, installed: 2, failed: 0, unresolved: 0 });
    assert.deepEqual([...internals.dirty], [[...k.programmed.keys()][1]]);
  });

  it('the echo of a delete we sent ourselves (the Loc-RIB lost the route) queues no second delete', () => {
    const { k, routes, loc, internals } = syncWith(2);
    loc.delete([...k.programmed.keys()][0]!);
    internals.onOwnRouteEvent('del', routes[0]!);
    assert.deepEqual(k.counts(), { pending: 0, installed: 2, failed: 0, unresolved: 0 });
    assert.deepEqual([...internals.dirty], []);
  });

  it('20,000 echoes of our own deletions take linear time (was O(N²): minutes)', () => {
    const { k, routes, internals } = syncWith(20_000);
    const t0 = performance.now();
    for (const r of routes) internals.onOwnRouteEvent('del', r);
    const ms = performance.now() - t0;
    assert.equal(k.counts().pending, 20_000);
    assert.ok(ms < 5_000, `took ${ms.toFixed(0)} ms`);
  });
});
