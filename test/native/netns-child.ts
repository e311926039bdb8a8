// SPDX-License-Identifier: Apache-2.0
// Runs inside a throwaway network namespace (`unshare --net node --import tsx test/native/netns-child.ts MODE`,
// spawned by netlink.test.ts), so route changes never touch the host. Prints one JSON line and exits.
//   monitor:  a RTMGRP_IPV4_ROUTE socket sees `ip route add` then `ip route del` of a blackhole route.
//   overrun:  a monitor with a tiny receive buffer, starved while `ip -batch` adds many routes, must
//             get ENOBUFS as a poll status / 'overrun' event (not a crash) and keep working afterwards.
import { execFileSync } from 'node:child_process';
import { loadNative } from '../../src/native/index.ts';
import { NetlinkSocket } from '../../src/native/netlink.ts';
import type { NetlinkEvent } from '../../src/native/netlink.ts';

const n = loadNative();
const c = n.constants;
const RTM_NEWROUTE = 24;
const RTM_DELROUTE = 25;
const RTA_DST = 1;

interface RouteEvent {
  type: number;
  dst: string;
  dstLen: number;
  protocol: number;
  rtmType: number;
}

// nlmsghdr (16) + rtmsg (12) + rtattrs, just enough to recognise our test routes.
function routeEvents(datagram: Buffer): RouteEvent[] {
  const out: RouteEvent[] = [];
  for (let off = 0; off + 16 <= datagram.length; ) {
    const len = datagram.readUInt32LE(off);
    const type = datagram.readUInt16LE(off + 4);
    if (len < 16 || off + len > datagram.length) break;
    if ((type === RTM_NEWROUTE || type === RTM_DELROUTE) && len >= 28) {
      const dstLen = datagram[off + 17]!;
      let dst = '';
      for (let a = off + 28; a + 4 <= off + len; ) {
        const alen = datagram.readUInt16LE(a);
        if (alen < 4) break;
        if (datagram.readUInt16LE(a + 2) === RTA_DST && alen === 8) dst = [...datagram.subarray(a + 4, a + 8)].join('.');
        a += (alen + 3) & ~3;
      }
      out.push({ type, dst, dstLen, protocol: datagram[off + 21]!, rtmType: datagram[off + 23]! });
    }
    off += (len + 3) & ~3;
  }
  return out;
}

function finish(result: unknown): never {
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exit(0);
}

setTimeout(() => finish({ error: 'timeout' }), 8000).unref();

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'inherit'] });
}

function monitor(): void {
  const seen: RouteEvent[] = [];
  const sock = NetlinkSocket.open(c.NETLINK_ROUTE, c.RTMGRP_IPV4_ROUTE, {
    onEvent: (ev: NetlinkEvent) => {
      if (ev.kind !== 'datagram') finish({ error: `unexpected ${ev.kind}` });
      for (const r of routeEvents(ev.data)) if (r.dst === '192.0.2.0') seen.push(r);
      if (seen.some((r) => r.type === RTM_DELROUTE)) {
        sock.close();
        finish({ seen });
      }
    },
  });
  ip('route', 'add', 'blackhole', '192.0.2.0/24', 'proto', '12');
  ip('route', 'del', 'blackhole', '192.0.2.0/24', 'proto', '12');
}

const ROUTES = 3000;

function batchOfRoutes(verb: 'add' | 'del'): string {
  const lines: string[] = [];
  for (let i = 0; i < ROUTES; i++) lines.push(`route ${verb} blackhole 10.${(i >> 8) & 0xff}.${i & 0xff}.0/24 proto 12`);
  return `${lines.join('\n')}\n`;
}

// Phase 1, raw addon: the poll callback itself must receive status -ENOBUFS, and the watcher must keep
// running (a later route is still seen through the same watcher).
function overrunRaw(then: (pollStatuses: number[], recvErrors: number[], datagrams: number) => void): void {
  const fd = n.socket(c.AF_NETLINK, c.SOCK_RAW, c.NETLINK_ROUTE);
  n.setsockoptInt(fd, c.SOL_SOCKET, c.SO_RCVBUFFORCE, 4096);
  n.bind(fd, Buffer.from([16, 0, 0, 0, 0, 0, 0, 0, c.RTMGRP_IPV4_ROUTE, 0, 0, 0]));
  const statuses: number[] = [];
  const recvErrors: number[] = [];
  let datagrams = 0;
  let sawMarker = false;
  const handle = n.poll(fd, c.POLL_READABLE, (status) => {
    statuses.push(status);
    for (;;) {
      const got = n.recv(fd, 65536);
      if (got === -c.EAGAIN) break;
      if (typeof got === 'number') {
        recvErrors.push(got);
        continue;
      }
      datagrams++;
      if (routeEvents(got).some((r) => r.dst === '198.51.100.0')) sawMarker = true;
    }
    if (sawMarker && typeof handle !== 'number') {
      n.pollStop(handle);
      n.close(fd);
      then(statuses, recvErrors, datagrams);
    }
  });
  // Synchronous: the event loop (and so the reader) is stalled while the kernel fills the buffer.
  execFileSync('ip', ['-batch', '-'], { input: batchOfRoutes('add') });
  setTimeout(() => ip('route', 'add', 'blackhole', '198.51.100.0/24'), 50);
}

// Phase 2, NetlinkSocket: the same overrun arrives as an 'overrun' event.
function overrunSocket(then: (events: Record<string, number>) => void): void {
  const counts: Record<string, number> = { datagram: 0, overrun: 0, error: 0 };
  let done = false;
  const sock = NetlinkSocket.open(c.NETLINK_ROUTE, c.RTMGRP_IPV4_ROUTE, {
    receiveBufferBytes: 4096,
    onEvent: (ev) => {
      counts[ev.kind] = (counts[ev.kind] ?? 0) + 1;
      if (ev.kind === 'datagram' && routeEvents(ev.data).some((r) => r.dst === '203.0.113.0') && !done) {
        done = true;
        sock.close();
        then(counts);
      }
    },
  });
  execFileSync('ip', ['-batch', '-'], { input: batchOfRoutes('del') });
  setTimeout(() => ip('route', 'add', 'blackhole', '203.0.113.0/24'), 50);
}

function overrun(): void {
  overrunRaw((pollStatuses, recvErrors, datagrams) => {
    overrunSocket((events) =>
      finish({ routes: ROUTES, pollStatuses: [...new Set(pollStatuses)], recvErrors: [...new Set(recvErrors)], datagrams, events }),
    );
  });
}

const mode = process.argv[2];
if (mode === 'monitor') monitor();
else if (mode === 'overrun') overrun();
else finish({ error: `unknown mode ${mode}` });
