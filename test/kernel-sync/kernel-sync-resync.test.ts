// SPDX-License-Identifier: Apache-2.0
// KernelSync after lost notifications (the monitor socket overran): a full dump, then only what
// differs is written again. A route the kernel has as its record says stays; one missing or
// changed behind our back is written again; if the interfaces or addresses changed meanwhile,
// the routes whose next hops that may change are planned again too. Before, every programmed
// route was written again: a busy node's monitor can overrun, and 100k replacements cost
// seconds of CPU for nothing. And a stop with persist off, which deletes what is ours. The
// channel is a fake (fake-kernel.ts) whose dumps the test sets.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { IF, ip } from './kernel-fixtures.ts';
import { fakeKernel, text, turn, type FakeKernel } from './fake-kernel.ts';
import type { NetlinkEvent } from '../../src/native/netlink.ts';

const settle = async (): Promise<void> => {
  for (let i = 0; i < 10; i++) await turn();
};

/** Three routes installed, and the fake kernel's dump holding exactly what was sent. */
async function installed(): Promise<FakeKernel & { overrun: () => Promise<void> }> {
  const fake = fakeKernel();
  for (const p of ['10.9.0.0/24', '10.9.1.0/24', '10.9.2.0/24']) fake.want(p, '10.0.0.2');
  await settle();
  fake.calls[0]!.answer();
  await settle();
  assert.deepEqual(fake.k.counts(), { pending: 0, installed: 3, failed: 0, unresolved: 0 });
  fake.kernel.routes = fake.calls[0]!.requests.map((r) => r.route);
  const overrun = async () => {
    (fake.k as unknown as { onMonitor(e: NetlinkEvent): void }).onMonitor({ kind: 'overrun', cause: 'ENOBUFS' });
    await settle();
  };
  return { ...fake, overrun };
}

describe('KernelSync: a resync after an overrun', () => {
  it('writes nothing when the kernel has every route as recorded', async () => {
    const { k, calls, overrun } = await installed();
    await overrun();
    assert.equal(k.stats.resyncs, 1);
    assert.equal(calls.length, 1, 'no request');
    assert.deepEqual(k.counts(), { pending: 0, installed: 3, failed: 0, unresolved: 0 });
  });

  it('writes again the route the kernel lost and the one changed behind our back, only those', async () => {
    const { k, calls, kernel, overrun } = await installed();
    kernel.routes = [kernel.routes[0]!, { ...kernel.routes[2]!, gateway: ip('10.0.0.9') }];
    await overrun();
    assert.deepEqual(calls.slice(1).flatMap(text).sort(), ['replace 10.9.1.0/24 via 10.0.0.2', 'replace 10.9.2.0/24 via 10.0.0.2']);
    calls[1]!.answer();
    await settle();
    assert.deepEqual(k.counts(), { pending: 0, installed: 3, failed: 0, unresolved: 0 });
  });

  it('plans again what depends on the interfaces when they changed meanwhile', async () => {
    const { calls, kernel, overrun } = await installed();
    kernel.addrs = kernel.addrs.filter((a) => !(a.index === IF.eth0 && a.family === 2)); // 10.0.0.1/24 went, unheard
    await overrun();
    assert.deepEqual(calls.slice(1).flatMap(text).sort(), ['del 10.9.0.0/24', 'del 10.9.1.0/24', 'del 10.9.2.0/24']);
  });
});

describe('KernelSync: stop with persist off', () => {
  it('deletes every route of ours, without next hops, and a refused replacement takes the route the kernel kept', async () => {
    const { k, calls, want } = fakeKernel({ persist: false });
    const v4 = want('10.9.0.0/24', '10.0.0.2');
    want('fd09::/64', 'fd00::2');
    await settle();
    calls[0]!.answer();
    await settle();
    want('10.9.0.0/24', '10.0.0.3'); // refused: the kernel keeps the route via 10.0.0.2
    await settle();
    calls[1]!.answer(false);
    await settle();
    assert.equal(k.programmed.get(v4)?.state, 'failed');
    const stopped = k.stop();
    await settle();
    assert.deepEqual(calls.slice(2).flatMap(text).sort(), ['del 10.9.0.0/24', 'del fd09::/64']);
    calls[2]!.answer();
    await stopped;
  });
});
