// SPDX-License-Identifier: Apache-2.0
// The raw addon contract: fds are non-blocking + close-on-exec, syscall failures are negative errno
// values, argument errors throw synchronously, poll errors arrive as a status (never a throw), and a
// throwing JS callback becomes an ordinary uncaughtException. Plus the TS sockaddr builders/parsers.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { constants as fsConstants, readFileSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { NativeError, check, errnoName, loadNative, parseSockaddr, sockaddrIn, sockaddrIn6, sockaddrNl } from '../../src/native/index.ts';
import type { PollHandle } from '../../src/native/index.ts';
import { bytesToIpv6 } from '../../src/util/ip.ts';

const n = loadNative();
const c = n.constants;
const addonPath = fileURLToPath(new URL('../../build/Release/tern_native.node', import.meta.url));

function fdFlags(fd: number): number {
  const info = readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8');
  return parseInt(/^flags:\s+([0-7]+)/m.exec(info)?.[1] ?? '0', 8);
}

function freeLoopbackPort(): number {
  const fd = check('socket', n.socket(c.AF_INET, c.SOCK_STREAM, 0));
  check('bind', n.bind(fd, sockaddrIn('127.0.0.1', 0)));
  const name = n.getsockname(fd);
  n.close(fd);
  const parsed = parseSockaddr(name as Buffer);
  return parsed.family === 'ipv4' ? parsed.port : 0;
}

describe('tern_native addon', () => {
  it('creates non-blocking, close-on-exec fds', () => {
    for (const [domain, type, proto] of [
      [c.AF_NETLINK, c.SOCK_RAW, c.NETLINK_ROUTE],
      [c.AF_INET, c.SOCK_STREAM, 0],
      [c.AF_INET6, c.SOCK_STREAM, 0],
    ] as const) {
      const fd = check('socket', n.socket(domain, type, proto));
      const flags = fdFlags(fd);
      assert.ok(flags & fsConstants.O_NONBLOCK, 'O_NONBLOCK');
      assert.ok(flags & 0o2000000, 'O_CLOEXEC');
      assert.equal(n.close(fd), 0);
    }
  });

  it('returns syscall failures as negative errno', () => {
    assert.equal(n.socket(9999, c.SOCK_STREAM, 0), -osConstants.errno.EAFNOSUPPORT);
    const fd = check('socket', n.socket(c.AF_NETLINK, c.SOCK_RAW, c.NETLINK_ROUTE));
    assert.equal(n.recv(fd, 4096), -c.EAGAIN, 'nothing queued: -EAGAIN, not a block');
    assert.equal(n.setsockoptInt(fd, c.SOL_SOCKET, 12345, 1), -osConstants.errno.ENOPROTOOPT);
    assert.equal(n.close(fd), 0);
    assert.equal(n.close(fd), -c.EBADF);
    assert.equal(n.getsockoptInt(fd, c.SOL_SOCKET, c.SO_ERROR), -c.EBADF);
    assert.equal(n.getsockname(fd), -c.EBADF);
    assert.equal(n.sendto(fd, Buffer.alloc(1)), -c.EBADF);
  });

  it('throws synchronously on argument errors', () => {
    assert.throws(() => (n.socket as (...a: unknown[]) => number)('2', 1, 0), { code: 'ERR_INVALID_ARG_TYPE' });
    assert.throws(() => (n.socket as (...a: unknown[]) => number)(2), { code: 'ERR_INVALID_ARG' });
    assert.throws(() => n.bind(0, 'x' as unknown as Buffer), { code: 'ERR_INVALID_ARG_TYPE' });
    assert.throws(() => n.recv(0, 0), { code: 'ERR_OUT_OF_RANGE' });
    assert.throws(() => n.poll(0, 0x100, () => {}), { code: 'ERR_OUT_OF_RANGE' });
    assert.throws(() => n.poll(0, c.POLL_READABLE, 5 as unknown as () => void), { code: 'ERR_INVALID_ARG_TYPE' });
    assert.throws(() => n.pollStop({} as PollHandle), { code: 'ERR_INVALID_ARG_TYPE' });
  });

  it('check() and NativeError name the errno like Node does', () => {
    assert.equal(errnoName(-c.ENOBUFS), 'ENOBUFS');
    assert.throws(() => check('recv', -c.EAGAIN), (e: unknown) => e instanceof NativeError && e.code === 'EAGAIN' && e.errno === c.EAGAIN && e.syscall === 'recv');
    assert.equal(check('x', 7), 7);
  });

  it('delivers a refused TCP connect as poll status -ECONNREFUSED, and pollStop is idempotent', async () => {
    const port = freeLoopbackPort();
    const fd = check('socket', n.socket(c.AF_INET, c.SOCK_STREAM, 0));
    const rc = n.connect(fd, sockaddrIn('127.0.0.1', port));
    try {
      if (rc === -c.ECONNREFUSED) return; // refused synchronously: also a value, not a throw
      assert.equal(rc, -c.EINPROGRESS);
      const status = await new Promise<number>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no poll callback')), 3000);
        const handle = n.poll(fd, c.POLL_WRITABLE, (st) => {
          clearTimeout(timer);
          n.pollStop(handle as PollHandle);
          n.pollStop(handle as PollHandle); // second stop is a no-op
          resolve(st);
        });
      });
      assert.equal(status, -c.ECONNREFUSED);
    } finally {
      n.close(fd);
    }
  });

  it('pollUpdate(0) pauses delivery and pollUpdate(READABLE) resumes it', async () => {
    const fd = check('socket', n.socket(c.AF_NETLINK, c.SOCK_RAW, c.NETLINK_ROUTE));
    check('bind', n.bind(fd, sockaddrNl()));
    let calls = 0;
    const handle = n.poll(fd, c.POLL_READABLE, () => {
      calls++;
      while (typeof n.recv(fd, 65536) !== 'number');
    }) as PollHandle;
    try {
      assert.equal(n.pollUpdate(handle, 0), 0);
      const dump = Buffer.alloc(32); // RTM_GETLINK dump request: nlmsghdr + ifinfomsg
      dump.writeUInt32LE(32, 0);
      dump.writeUInt16LE(18, 4);
      dump.writeUInt16LE(0x301, 6);
      assert.equal(n.sendto(fd, dump, sockaddrNl()), 32);
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(calls, 0, 'paused watcher stays silent while data waits');
      assert.equal(n.pollUpdate(handle, c.POLL_READABLE), 0);
      await new Promise((r) => setTimeout(r, 50));
      assert.ok(calls >= 1);
    } finally {
      n.pollStop(handle);
      n.close(fd);
    }
  });

  it('a throwing poll callback is an uncaughtException, not a crash or a lost error', () => {
    const script = `
      const n = require(${JSON.stringify(addonPath)});
      const fd = n.socket(n.constants.AF_INET, n.constants.SOCK_STREAM, 0);
      process.on('uncaughtException', (e) => { console.log('caught:' + e.message); process.exit(0); });
      n.poll(fd, n.constants.POLL_WRITABLE, () => { throw new Error('boom'); });`;
    const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 5000 });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'caught:boom');
  });

  it('sockaddr builders match the kernel layout (bind + getsockname round trip)', () => {
    const fd = check('socket', n.socket(c.AF_INET6, c.SOCK_STREAM, 0));
    check('bind', n.bind(fd, sockaddrIn6('::1', 0)));
    const got = parseSockaddr(n.getsockname(fd) as Buffer);
    n.close(fd);
    assert.equal(got.family, 'ipv6');
    assert.equal(got.family === 'ipv6' && got.address, '::1');
    assert.ok(got.family === 'ipv6' && got.port > 0);
    assert.deepEqual([...sockaddrIn('192.0.2.1', 179)], [2, 0, 0, 179, 192, 0, 2, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
    assert.equal(sockaddrNl().length, c.SIZEOF_SOCKADDR_NL);
    assert.deepEqual(parseSockaddr(sockaddrNl(77, c.RTMGRP_IPV4_ROUTE)), { family: 'netlink', pid: 77, groups: c.RTMGRP_IPV4_ROUTE });
    assert.throws(() => sockaddrIn('2001:db8::1'), TypeError);
    assert.throws(() => sockaddrIn('192.0.2.1', 70000), RangeError);
  });

  it('sockaddrIn/In6 round-trip through parseSockaddr (property)', () => {
    fc.assert(
      fc.property(fc.ipV4(), fc.integer({ min: 0, max: 0xffff }), (addr, port) => {
        assert.deepEqual(parseSockaddr(sockaddrIn(addr, port)), { family: 'ipv4', address: addr, port });
      }),
    );
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.integer({ min: 0, max: 0xffff }), fc.nat(), (bytes, port, scopeId) => {
        const parsed = parseSockaddr(sockaddrIn6(bytes, port, scopeId));
        assert.deepEqual(parsed, { family: 'ipv6', address: bytesToIpv6(bytes), port, scopeId });
      }),
    );
  });
});
