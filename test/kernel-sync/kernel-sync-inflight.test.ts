// SPDX-License-Identifier: Apache-2.0
// KernelSync with several batches in flight: a destination whose last request is unanswered is
// not planned again until that answer is in (its record is not yet what the kernel has), and
// then it is, with what the Loc-RIB wants by then. Answers may come back in any order: each
// record tracks its own batch, so none is left waiting for an answer that already came. The
// channel is a fake whose answers the test gives; nothing is sent to a kernel. It reads the
// requests back from the bytes KernelSync encoded.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bytesToIp } from '../../src/util/ip.ts';
import { fakeKernel as setup, text, turn } from './fake-kernel.ts';

describe('KernelSync: batches in flight', () => {
  it('a destination changed while its request is unanswered is sent again only after the answer, as the Loc-RIB wants it then', async () => {
    const { k, calls, want } = setup();
    const a = want('10.9.0.0/24', '10.0.0.2');
    await turn();
    assert.deepEqual(calls.map(text), [['replace 10.9.0.0/24 via 10.0.0.2']]);
    want('10.9.0.0/24', '10.0.0.3');
    want('10.9.0.0/24', '10.0.0.4');
    await turn();
    await turn();
    assert.equal(calls.length, 1, 'nothing more for it while its request is in flight');
    assert.equal(k.programmed.get(a)?.state, 'pending');
    calls[0]!.answer();
    for (let i = 0; i < 5 && calls.length < 2; i++) await turn();
    assert.deepEqual(calls.slice(1).map(text), [['replace 10.9.0.0/24 via 10.0.0.4']]);
    calls[1]!.answer();
    for (let i = 0; i < 5; i++) await turn();
    assert.equal(k.programmed.get(a)?.state, 'installed');
    assert.equal(bytesToIp(k.programmed.get(a)!.form!.gateway!), '10.0.0.4');
  });

  it('answers in any order: a later batch answered first leaves no destination waiting', async () => {
    const { k, calls, want } = setup();
    // 1001 destinations: a batch of 1000, then a batch of one (PROGRAM_BATCH is 1000).
    const keys = Array.from({ length: 1001 }, (_, i) => want(`10.${100 + (i >> 8)}.${i & 255}.0/24`, '10.0.0.2'));
    for (let i = 0; i < 5 && calls.length < 2; i++) await turn();
    assert.deepEqual(calls.map((c) => c.requests.length), [1000, 1]);
    const last = keys[1000]!;
    calls[1]!.answer(); // the second batch first
    for (let i = 0; i < 3; i++) await turn();
    assert.equal(k.programmed.get(last)?.state, 'installed');
    // The last destination changes again while the first batch is still unanswered: it is free
    // to go (its own batch was answered), and goes once the flush gets to it.
    want(`10.103.232.0/24`, '10.0.0.9');
    calls[0]!.answer();
    for (let i = 0; i < 10 && calls.length < 3; i++) await turn();
    assert.deepEqual(calls.slice(2).map(text), [['replace 10.103.232.0/24 via 10.0.0.9']]);
    calls[2]!.answer();
    for (let i = 0; i < 5; i++) await turn();
    assert.deepEqual(k.counts(), { pending: 0, installed: 1001, failed: 0, unresolved: 0 });
  });

  it('a route the wire format cannot carry fails alone: the rest of its batch is sent', async () => {
    const { k, calls, want } = setup();
    // An IPv4 route via an IPv6 next hop on eth0's subnet: RTA_GATEWAY of the wrong size (RFC 5549 needs RTA_VIA).
    const odd = want('10.9.0.0/24', 'fd00::2');
    const fine = want('10.8.0.0/24', '10.0.0.2');
    await turn();
    assert.deepEqual(calls.map(text), [['replace 10.8.0.0/24 via 10.0.0.2']]);
    assert.equal(k.programmed.get(odd)?.state, 'failed');
    assert.match(k.programmed.get(odd)?.error ?? '', /netlink request not encoded: gateway is 16 bytes, the route's family needs 4/);
    calls[0]!.answer();
    for (let i = 0; i < 5; i++) await turn();
    assert.equal(k.programmed.get(fine)?.state, 'installed');
    assert.equal(k.stats.failures, 1);
  });
});
