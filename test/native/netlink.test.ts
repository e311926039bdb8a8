// SPDX-License-Identifier: Apache-2.0
// NetlinkSocket over the native addon: an RTM_GETLINK dump checked against `ip -json link show`
// (any user), and, in a throwaway netns (root only), route monitoring and ENOBUFS overrun delivery.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadNative } from '../../src/native/index.ts';
import { NetlinkSocket } from '../../src/native/netlink.ts';
import type { NetlinkEvent } from '../../src/native/netlink.ts';

const n = loadNative();
const c = n.constants;
const isRoot = process.getuid?.() === 0;
const root = fileURLToPath(new URL('../..', import.meta.url));

// Hand-built so the test does not depend on the codec under test elsewhere (linux/netlink.h, rtnetlink.h).
const NLMSG_ERROR = 2;
const NLMSG_DONE = 3;
const RTM_NEWLINK = 16;
const RTM_GETLINK = 18;
const NLM_F_REQUEST = 0x1;
const NLM_F_DUMP = 0x300;
const IFLA_IFNAME = 3;

function getLinkDump(seq: number): Buffer {
  const b = Buffer.alloc(32); // nlmsghdr (16) + ifinfomsg (16), family AF_UNSPEC
  b.writeUInt32LE(32, 0);
  b.writeUInt16LE(RTM_GETLINK, 4);
  b.writeUInt16LE(NLM_F_REQUEST | NLM_F_DUMP, 6);
  b.writeUInt32LE(seq, 8);
  return b;
}

/** RTM_GETLINK of one interface (ifi_index), answered by a single RTM_NEWLINK with this seq. */
function getLink(seq: number, index: number): Buffer {
  const b = Buffer.alloc(32);
  b.writeUInt32LE(32, 0);
  b.writeUInt16LE(RTM_GETLINK, 4);
  b.writeUInt16LE(NLM_F_REQUEST, 6);
  b.writeUInt32LE(seq, 8);
  b.writeInt32LE(index, 20); // ifinfomsg: family, pad, type (4 bytes), then ifi_index
  return b;
}

interface DumpResult {
  names: string[];
  done: boolean;
  seqs: Set<number>;
  pids: Set<number>;
}

function parseLinkDatagram(datagram: Buffer, into: DumpResult): void {
  for (let off = 0; off + 16 <= datagram.length; ) {
    const len = datagram.readUInt32LE(off);
    const type = datagram.readUInt16LE(off + 4);
    assert.ok(len >= 16 && off + len <= datagram.length, `bad nlmsg_len ${len}`);
    into.seqs.add(datagram.readUInt32LE(off + 8));
    into.pids.add(datagram.readUInt32LE(off + 12));
    if (type === NLMSG_DONE) into.done = true;
    if (type === NLMSG_ERROR) assert.fail(`dump failed with errno ${-datagram.readInt32LE(off + 16)}`);
    if (type === RTM_NEWLINK) {
      for (let a = off + 32; a + 4 <= off + len; ) {
        const alen = datagram.readUInt16LE(a);
        if (alen < 4) break;
        if (datagram.readUInt16LE(a + 2) === IFLA_IFNAME) into.names.push(datagram.toString('latin1', a + 4, a + alen).replace(/\0+$/, ''));
        a += (alen + 3) & ~3;
      }
    }
    off += (len + 3) & ~3;
  }
}

function runInFreshNetns(mode: string): Record<string, unknown> {
  const r = spawnSync('unshare', ['--net', process.execPath, '--import', 'tsx', 'test/native/netns-child.ts', mode], {
    cwd: root,
    encoding: 'utf8',
    timeout: 20000,
  });
  assert.equal(r.status, 0, `child failed: ${r.stderr}`);
  const result = JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as Record<string, unknown>;
  assert.equal(result.error, undefined, `child reported: ${String(result.error)}`);
  return result;
}

describe('NetlinkSocket', () => {
  it('dumps links with RTM_GETLINK (multipart reply through the poll watcher) and sees lo', async () => {
    const sock = NetlinkSocket.open(c.NETLINK_ROUTE);
    assert.ok(sock.portId > 0, 'kernel assigned a port id at bind');
    const result: DumpResult = { names: [], done: false, seqs: new Set(), pids: new Set() };
    const timer = setTimeout(() => sock.close(), 5000);
    try {
      assert.equal(sock.send([getLinkDump(4242)]), 32);
      for await (const ev of sock) {
        assert.equal(ev.kind, 'datagram');
        if (ev.kind === 'datagram') parseLinkDatagram(ev.data, result);
        if (result.done) break;
      }
    } finally {
      clearTimeout(timer);
      sock.close();
    }
    assert.ok(result.done, 'NLMSG_DONE received before the timeout');
    assert.deepEqual([...result.seqs], [4242]);
    assert.deepEqual([...result.pids], [sock.portId]);
    assert.ok(result.names.includes('lo'));
    // Oracle: iproute2 sees the same interfaces.
    const ipNames = (JSON.parse(execFileSync('ip', ['-json', 'link', 'show'], { encoding: 'utf8' })) as { ifname: string }[]).map((l) => l.ifname);
    assert.deepEqual([...result.names].sort(), ipNames.sort());
    assert.equal(sock.closed, true);
    assert.throws(() => sock.send(getLinkDump(1)), { code: 'EBADF' });
  });

  it('delivers datagrams to an onEvent handler and counts them', async () => {
    const events: NetlinkEvent[] = [];
    const result: DumpResult = { names: [], done: false, seqs: new Set(), pids: new Set() };
    let resolveDone: () => void = () => {};
    const done = new Promise<void>((resolve) => (resolveDone = resolve));
    const sock = NetlinkSocket.open(c.NETLINK_ROUTE, 0, {
      receiveBufferBytes: 1 << 20,
      strictCheck: true,
      onEvent: (ev) => {
        events.push(ev);
        if (ev.kind === 'datagram') parseLinkDatagram(ev.data, result);
        if (result.done) resolveDone();
      },
    });
    let timer: NodeJS.Timeout | undefined;
    try {
      sock.send(getLinkDump(7));
      await Promise.race([done, new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('no NLMSG_DONE')), 5000)))]);
    } finally {
      clearTimeout(timer);
      sock.close();
    }
    assert.ok(result.names.includes('lo'));
    assert.ok(events.length >= 1);
    assert.ok(events.every((e) => e.kind === 'datagram'));
    assert.equal(sock.datagrams, events.length);
    assert.equal(sock.overruns, 0);
    assert.ok(n.getsockoptInt(sock.fd, c.SOL_SOCKET, c.SO_RCVBUF) < 0, 'fd closed after close()');
  });

  it('sendAsync sends datagrams in order from the threadpool, overlapping calls in call order, and defers close past them', async () => {
    const replies: number[] = [];
    const CALLS = 24;
    const PER_CALL = 5;
    let resolveAll: () => void = () => {};
    const all = new Promise<void>((resolve) => (resolveAll = resolve));
    const sock = NetlinkSocket.open(c.NETLINK_ROUTE, 0, {
      receiveBufferBytes: 4 << 20,
      onEvent: (ev) => {
        if (ev.kind !== 'datagram') return;
        for (let off = 0; off + 16 <= ev.data.length; off += (ev.data.readUInt32LE(off) + 3) & ~3) {
          if (ev.data.readUInt16LE(off + 4) === RTM_NEWLINK) replies.push(ev.data.readUInt32LE(off + 8));
        }
        if (replies.length === CALLS * PER_CALL) resolveAll();
      },
    });
    let timer: NodeJS.Timeout | undefined;
    try {
      // Calls queued back to back, more than the threadpool has threads: each runs after the one
      // before it, so the kernel answers every request in the order the calls were made.
      const sends = Array.from({ length: CALLS }, (_, call) => sock.sendAsync(Array.from({ length: PER_CALL }, (_, i) => getLink(1 + call * PER_CALL + i, 1))));
      assert.deepEqual(await Promise.all(sends), Array(CALLS).fill({ sent: PER_CALL }));
      await Promise.race([all, new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`replies so far: ${replies.join(',')}`)), 5000)))]);
      assert.deepEqual(replies, Array.from({ length: CALLS * PER_CALL }, (_, i) => i + 1));
      // Closed while sends are queued: they complete, then the fd is closed.
      const last = [sock.sendAsync([getLink(1000, 1)]), sock.sendAsync([getLink(1001, 1)])];
      sock.close();
      assert.ok(n.getsockoptInt(sock.fd, c.SOL_SOCKET, c.SO_RCVBUF) > 0, 'fd still open under the sends');
      assert.deepEqual(await last[0], { sent: 1 });
      assert.deepEqual(await last[1], { sent: 1 });
      assert.ok(n.getsockoptInt(sock.fd, c.SOL_SOCKET, c.SO_RCVBUF) < 0, 'fd closed once the last send returned');
      const after = await sock.sendAsync([getLink(8, 1)]);
      assert.equal(after.sent, 0);
      assert.equal(after.error?.code, 'EBADF');
    } finally {
      clearTimeout(timer);
      sock.close();
    }
  });

  it('sees RTM_NEWROUTE then RTM_DELROUTE for `ip route add/del` in a fresh netns', { skip: isRoot ? false : 'needs root (unshare --net)' }, () => {
    const result = runInFreshNetns('monitor') as { seen: { type: number; dstLen: number; protocol: number; rtmType: number }[] };
    assert.deepEqual(
      result.seen.map((r) => [r.type, r.dstLen, r.protocol, r.rtmType]),
      [
        [24, 24, 12, 6], // RTM_NEWROUTE 192.0.2.0/24 proto 12 (bird) RTN_BLACKHOLE
        [25, 24, 12, 6], // RTM_DELROUTE
      ],
    );
  });

  it('reports ENOBUFS as a poll status and an overrun event, then keeps receiving', { skip: isRoot ? false : 'needs root (unshare --net, SO_RCVBUFFORCE)' }, () => {
    const r = runInFreshNetns('overrun') as {
      routes: number;
      pollStatuses: number[];
      datagrams: number;
      events: { datagram: number; overrun: number; error: number };
    };
    assert.ok(r.pollStatuses.includes(-c.ENOBUFS), `poll statuses ${JSON.stringify(r.pollStatuses)}`);
    assert.ok(r.datagrams < r.routes, 'the starved monitor really lost messages');
    assert.ok(r.events.overrun >= 1);
    assert.equal(r.events.error, 0);
  });
});
