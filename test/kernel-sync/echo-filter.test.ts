// SPDX-License-Identifier: Apache-2.0
// The monitor's echo filter against the real kernel (root; a namespace of its own): a socket told
// to ignore the request socket's port id reads none of the notifications of the routes that socket
// installed, yet still reads those of a route another process added. An unfiltered socket in the
// same run reads both: the filter, not the kernel, is what drops the echoes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { withVethNamespace } from './live/netns.ts';
import { senderFilter } from '../../src/native/netlink.ts';

const root = process.getuid?.() === 0;
const NS = `tern-ut-echo-${process.pid}`;

test('senderFilter: four classic BPF instructions comparing nlmsg_pid', () => {
  const p = senderFilter(0x01020304);
  assert.equal(p.length, 32);
  assert.equal(p.readUInt16LE(0), 0x20); // ld [k]
  assert.equal(p.readUInt32LE(4), 12); // nlmsg_pid's offset
  assert.equal(p.readUInt16LE(8), 0x15); // jeq
  assert.deepEqual([p[10], p[11]], [0, 1]); // equal: fall through to drop; else skip to keep
  assert.equal(p.readUInt32LE(12), 0x04030201); // the pid's little-endian bytes as BPF loads them
  assert.equal(p.readUInt32LE(20), 0); // ret 0: drop
  assert.equal(p.readUInt32LE(28), 0xffffffff); // ret -1: whole datagram
});

test('monitor echo filter: own installs dropped in the kernel, other processes\' changes kept', { skip: root ? false : 'needs root (network namespace)' }, () => {
  withVethNamespace(NS, (runChild) => {
    const r = JSON.parse(runChild('echo-filter-child.ts')) as { ok: number; channelPortId: number; filtered: string[]; unfiltered: string[] };
    assert.equal(r.ok, 50);
    assert.notEqual(r.channelPortId, 0);
    assert.equal(r.unfiltered.length, 51, 'the unfiltered monitor reads every notification');
    assert.deepEqual(r.filtered, ['10.98.0.1/32'], 'the filtered monitor reads only the other process\'s route');
  });
});
