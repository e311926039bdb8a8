// SPDX-License-Identifier: Apache-2.0
// KernelSync and interface changes: a route is planned again when a link or address change may
// change how its next hop resolves, and only then. Calico makes a veth per pod, each with an IPv6
// link-local address; the kernel repeats a link's state on every flag change. Planning every
// programmed route again for each such message cost O(routes) per message. The channel is a fake
// (fake-kernel.ts); notifications are fed as the kernel's bytes.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { IFF_UP } from '../../src/kernel-sync/interfaces.ts';
import { IF, addr, link } from './kernel-fixtures.ts';
import { fakeKernel, text, turn } from './fake-kernel.ts';

/** A fake kernel with an IPv4 and an IPv6 route installed (via eth0's subnets), counting how often
 *  planning looks each destination up. */
async function installed() {
  const fake = fakeKernel();
  const v4 = fake.want('10.9.0.0/24', '10.0.0.2');
  const v6 = fake.want('fd09::/64', 'fd00::2');
  await turn();
  assert.deepEqual(fake.calls.map(text), [['replace 10.9.0.0/24 via 10.0.0.2', 'replace fd09::/64 via fd00::2']]);
  fake.calls[0]!.answer();
  for (let i = 0; i < 5; i++) await turn();
  assert.deepEqual(fake.k.counts(), { pending: 0, installed: 2, failed: 0, unresolved: 0 });
  const planned = new Map<string, number>();
  const get = fake.loc.get.bind(fake.loc);
  fake.loc.get = (key: string) => {
    planned.set(key, (planned.get(key) ?? 0) + 1);
    return get(key);
  };
  const settle = async () => {
    for (let i = 0; i < 5; i++) await turn();
  };
  return { ...fake, v4, v6, planned, settle };
}

describe('KernelSync: interface and address changes', () => {
  it('a pod veth coming up with its IPv6 link-local address, and repeated messages, plan nothing again', async () => {
    const { calls, planned, notify, settle } = await installed();
    notify('new', link(7, 'cali7', 0));
    notify('new', link(7, 'cali7', IFF_UP));
    notify('new', addr(7, 'fe80::ecee:eeff:feee:eeee/64'));
    notify('new', link(IF.eth0, 'eth0', IFF_UP | 0x10000 /* IFF_LOWER_UP: not read */));
    notify('new', addr(IF.eth0, '10.0.0.1/24')); // the same address again
    await settle();
    assert.deepEqual([...planned], [], 'no destination planned again');
    assert.equal(calls.length, 1);
  });

  it('the IPv4 subnet of the next hop going away plans the IPv4 route again (now unresolved: deleted), not the IPv6 one', async () => {
    const { k, calls, planned, notify, settle, v4 } = await installed();
    notify('del', addr(IF.eth0, '10.0.0.1/24'));
    await settle();
    assert.deepEqual([...planned.keys()], [v4]);
    assert.deepEqual(calls.slice(1).map(text), [['del 10.9.0.0/24']]);
    calls[1]!.answer();
    await settle();
    assert.deepEqual(k.counts(), { pending: 0, installed: 1, failed: 0, unresolved: 1 });
    // Back: planned again, and installed again.
    notify('new', addr(IF.eth0, '10.0.0.1/24'));
    await settle();
    assert.deepEqual(calls.slice(2).map(text), [['replace 10.9.0.0/24 via 10.0.0.2']]);
  });

  it('a link-local IPv6 next hop is planned again when a link-local address comes', async () => {
    const fake = await installed();
    const { calls, planned, notify, settle, want } = fake;
    const { k } = fake;
    const ll = want('fd0a::/64', 'fe80::2');
    await settle();
    assert.equal(k.programmed.get(ll)?.state, 'unresolved', 'eth0 has no link-local address yet');
    planned.clear();
    notify('new', addr(IF.eth0, 'fe80::1/64'));
    await settle();
    assert.deepEqual([...planned.keys()], [ll], 'the global next hops are not planned again');
    assert.deepEqual(calls.slice(1).map(text), [['replace fd0a::/64 via fe80::2']]);
  });

  it('a global IPv6 address plans the IPv6 route again, not the IPv4 one', async () => {
    const { planned, notify, settle, v6 } = await installed();
    notify('new', addr(IF.eth0, 'fd00::1:1/112'));
    await settle();
    assert.deepEqual([...planned.keys()], [v6]);
  });

  it('the link of both next hops going down plans both again', async () => {
    const { calls, planned, notify, settle, v4, v6 } = await installed();
    notify('new', link(IF.eth0, 'eth0', 0));
    await settle();
    assert.deepEqual([...planned.keys()].sort(), [v4, v6].sort());
    assert.deepEqual(calls.slice(1).flatMap(text).sort(), ['del 10.9.0.0/24', 'del fd09::/64']);
  });

  it('a link named as the tunnel device plans the IPv4 routes again (their next hops may go through it)', async () => {
    const { planned, notify, settle, v4 } = await installed();
    notify('new', link(9, 'tunl0'));
    await settle();
    assert.deepEqual([...planned.keys()], [v4]);
  });
});
