// SPDX-License-Identifier: Apache-2.0
// NetlinkChannel against the real kernel (root; a namespace of its own): route requests go in
// batches where only the last asks for an ack, yet every request gets its own answer — a refused
// route inside a batch and a refused last route are reported, and all the others are installed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ip, withVethNamespace } from './live/netns.ts';

const root = process.getuid?.() === 0;
const NS = `tern-ut-chan-${process.pid}`;

test('netlink route batches: one ack per batch, an error per refused route', { skip: root ? false : 'needs root (network namespace)' }, () => {
  withVethNamespace(NS, (runChild) => {
    const results = JSON.parse(runChild('channel-batch-child.ts')) as string[];
    assert.equal(results.length, 2500);
    const ENETUNREACH = 101;
    assert.deepEqual([5, 511, 2100, 2499].map((i) => results[i]), Array(4).fill(`errno ${ENETUNREACH}`));
    assert.equal(results.filter((r) => r === 'ok').length, 2496);
    const installed = ip('-n', NS, 'route', 'show', 'proto', 'bird').trim().split('\n');
    assert.equal(installed.length, 2496);
  });
});

test('netlink route batches: three sends whose every request is refused fit the receive buffer', { skip: root ? false : 'needs root (network namespace)' }, () => {
  withVethNamespace(`${NS}-r`, (runChild) => {
    const out = JSON.parse(runChild('channel-refused-child.ts')) as { results: number; counts: Record<string, number> };
    const ENETUNREACH = 101;
    assert.deepEqual(out, { results: 6500, counts: { [`errno ${ENETUNREACH}`]: 6500 } });
    assert.equal(ip('-n', `${NS}-r`, 'route', 'show', 'proto', 'bird').trim(), '');
  });
});
