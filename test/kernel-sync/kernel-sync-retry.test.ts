// SPDX-License-Identifier: Apache-2.0
// KernelSync and routes the kernel refused (a next hop not reachable yet, an interface going
// away): they are tried again, after 1 s, then after twice as long each time they are refused
// again (up to a minute), as BIRD's kernel scan (`scan time 2` in calico-node) puts back what is
// missing. A route no request can carry, or one left alone for another protocol's route, is not
// retried on a timer. The channel is a fake (fake-kernel.ts); the timers are node:test's mock.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fakeKernel, text, turn } from './fake-kernel.ts';

const settle = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await turn();
};

describe('KernelSync: routes the kernel refused', () => {
  it('are tried again after 1 s, then 2 s, 4 s ..., and after a success the next refusal waits 1 s again', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const { k, calls, want } = fakeKernel();
    const key = want('10.9.0.0/24', '10.0.0.2');
    await settle();
    const refuse = async (i: number) => {
      calls[i]!.answer(false);
      await settle();
      assert.equal(k.programmed.get(key)?.state, 'failed');
      assert.match(k.programmed.get(key)?.error ?? '', /unreachable \(errno 101\)/);
    };
    const retriedAfter = async (ms: number, via = '10.0.0.2') => {
      const before = calls.length;
      t.mock.timers.tick(ms - 1);
      await settle();
      assert.equal(calls.length, before, `not before ${ms} ms`);
      t.mock.timers.tick(1);
      await settle();
      assert.equal(calls.length, before + 1, `after ${ms} ms`);
      assert.deepEqual(text(calls.at(-1)!), [`replace 10.9.0.0/24 via ${via}`]);
    };
    await refuse(0);
    await retriedAfter(1000);
    await refuse(1);
    await retriedAfter(2000);
    await refuse(2);
    await retriedAfter(4000);
    calls[3]!.answer();
    await settle();
    assert.equal(k.programmed.get(key)?.state, 'installed');
    assert.equal(k.stats.failures, 3);
    // Refused again later (someone deleted it and the kernel would not take it back): 1 s again.
    want('10.9.0.0/24', '10.0.0.3');
    await settle();
    await refuse(4);
    await retriedAfter(1000, '10.0.0.3');
  });

  it('a route no request can carry, and one left alone for another route, are not retried on a timer', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const { k, calls, want } = fakeKernel();
    const odd = want('10.9.0.0/24', 'fd00::2'); // IPv4 via IPv6: not encodable as RTA_GATEWAY
    await settle();
    assert.equal(k.programmed.get(odd)?.state, 'failed');
    t.mock.timers.tick(120_000);
    await settle();
    assert.equal(calls.length, 0);
  });

  it('a refused route withdrawn meanwhile is not tried again', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const { k, loc, calls, want } = fakeKernel();
    const key = want('10.9.0.0/24', '10.0.0.2');
    await settle();
    calls[0]!.answer(false);
    await settle();
    loc.delete(key);
    (k as unknown as { markDirty(key: string): void }).markDirty(key);
    await settle();
    calls[1]!.answer(); // its delete
    await settle();
    assert.equal(k.programmed.has(key), false);
    t.mock.timers.tick(60_000);
    await settle();
    assert.equal(calls.length, 2, 'not tried again');
  });
});
