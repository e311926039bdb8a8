// SPDX-License-Identifier: Apache-2.0
// NetlinkChannel against the real kernel (root; a namespace of its own): route requests go in
// batches where only the last asks for an ack, yet every request gets its own answer — a refused
// route inside a batch and a refused last route are reported, and all the others are installed.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';

const root = process.getuid?.() === 0;
const NS = `tern-ut-chan-${process.pid}`;

test('netlink route batches: one ack per batch, an error per refused route', { skip: root ? false : 'needs root (network namespace)' }, () => {
  const ip = (...args: string[]) => execFileSync('ip', args, { encoding: 'utf8' });
  ip('netns', 'add', NS);
  try {
    ip('-n', NS, 'link', 'add', 'd0', 'type', 'veth', 'peer', 'name', 'd1'); // no dummy module on these kernels
    ip('-n', NS, 'link', 'set', 'd1', 'up');
    ip('-n', NS, 'addr', 'add', '10.200.0.1/24', 'dev', 'd0');
    ip('-n', NS, 'link', 'set', 'd0', 'up');
    const oif = JSON.parse(ip('-n', NS, '-json', 'link', 'show', 'd0'))[0].ifindex as number;
    const child = join(import.meta.dirname, 'live', 'channel-batch-child.ts');
    const out = execFileSync('ip', ['netns', 'exec', NS, process.execPath, '--import', 'tsx', child, String(oif)], { encoding: 'utf8', cwd: join(import.meta.dirname, '..', '..') });
    const results = JSON.parse(out) as string[];
    assert.equal(results.length, 300);
    const ENETUNREACH = 101;
    assert.deepEqual([results[5], results[299]], [`errno ${ENETUNREACH}`, `errno ${ENETUNREACH}`]);
    assert.equal(results.filter((r) => r === 'ok').length, 298);
    const installed = ip('-n', NS, 'route', 'show', 'proto', 'bird').trim().split('\n');
    assert.equal(installed.length, 298);
  } finally {
    ip('netns', 'del', NS);
  }
});
