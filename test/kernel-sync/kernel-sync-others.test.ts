// SPDX-License-Identifier: Apache-2.0
// KernelSync and other protocols' routes (Felix's to each pod, an operator's static routes): when
// one comes or goes, the routes that depend on other routes are planned again, and only those: a
// route whose next hop is not resolved, or resolved through another route, or that was left alone
// because another protocol has a route to its prefix (installed once that route goes). Felix adds
// and deletes a route per pod: planning (or even scanning) every programmed route for each was
// O(routes) a pod. The channel is a fake (fake-kernel.ts).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RTPROT, RT_SCOPE } from '../../src/kernel-sync/rtnetlink/index.ts';
import { IF, hop, kroute } from './kernel-fixtures.ts';
import { fakeKernel, text, turn } from './fake-kernel.ts';

const settle = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await turn();
};

describe("KernelSync: other protocols' routes", () => {
  it("a route left alone for another protocol's route is installed once that route goes", async () => {
    const { k, calls, want, notify } = fakeKernel();
    const felix = kroute('10.65.0.7/32', { protocol: RTPROT.BOOT, oif: IF.cali1, scope: RT_SCOPE.LINK });
    notify('new', felix);
    const key = want('10.65.0.7/32', '10.0.0.2');
    await settle();
    assert.equal(k.programmed.get(key)?.state, 'failed');
    assert.match(k.programmed.get(key)?.error ?? '', /the kernel has this route from protocol 3: left alone/);
    assert.equal(calls.length, 0, 'never overwritten');
    notify('del', felix);
    await settle();
    assert.deepEqual(calls.map(text), [['replace 10.65.0.7/32 via 10.0.0.2']]);
    calls[0]!.answer();
    await settle();
    assert.equal(k.programmed.get(key)?.state, 'installed');
  });

  it('only the routes that depend on other routes are planned again; an unresolved one resolves through the new route', async () => {
    const { k, loc, calls, want, notify } = fakeKernel();
    const direct = Array.from({ length: 50 }, (_, i) => want(`10.9.${i}.0/24`, '10.0.0.2'));
    const far = want('10.8.0.0/24', '10.7.0.9'); // on no subnet of ours, and no route to it yet
    await settle();
    calls[0]!.answer();
    await settle();
    assert.equal(k.programmed.get(far)?.state, 'unresolved');
    const planned: string[] = [];
    const get = loc.get.bind(loc);
    loc.get = (key: string) => {
      planned.push(key);
      return get(key);
    };
    // A pod's route comes and goes: nothing depends on it but the unresolved route.
    notify('new', kroute('10.65.0.8/32', { protocol: RTPROT.BOOT, oif: IF.cali1, scope: RT_SCOPE.LINK }));
    await settle();
    assert.deepEqual(planned, [far], `not the ${direct.length} installed direct routes`);
    // A route to the far next hop: it resolves through it (recursive), and is installed.
    notify('new', kroute('10.7.0.0/24', { protocol: RTPROT.STATIC, gateway: hop('10.0.0.254', IF.eth0).gateway, oif: IF.eth0 }));
    await settle();
    assert.deepEqual(calls.slice(1).map(text), [['replace 10.8.0.0/24 via 10.0.0.254']]);
    calls[1]!.answer();
    await settle();
    assert.equal(k.programmed.get(far)?.state, 'installed');
    assert.equal(k.programmed.get(far)?.recursive, true);
    // Its route goes: planned again (recursive), now unresolved, so deleted.
    planned.length = 0;
    notify('del', kroute('10.7.0.0/24', { protocol: RTPROT.STATIC, gateway: hop('10.0.0.254', IF.eth0).gateway, oif: IF.eth0 }));
    await settle();
    assert.deepEqual(planned, [far]);
    assert.deepEqual(calls.slice(2).map(text), [['del 10.8.0.0/24']]);
  });
});
