// SPDX-License-Identifier: Apache-2.0
// TCP MD5 (RFC 2385) and GTSM (RFC 5082) through addon-made fds handed to Node's net module:
// the listener keys 127.0.0.2 and requires TTL 255; only the client with the right key and TTL 255 gets in.
// Runs on loopback in the current netns with ephemeral ports; no privileges needed.
import assert from 'node:assert/strict';
import net from 'node:net';
import { constants as osConstants } from 'node:os';
import { after, before, describe, it } from 'node:test';
import { check, loadNative, parseSockaddr, setMd5Key, setTtlSecurity, sockaddrIn, sockaddrIn6 } from '../../src/native/index.ts';

const n = loadNative();
const c = n.constants;
const KEY = 'calico-bgp-secret';
const DROP_WAIT_MS = 700; // a dropped SYN is retransmitted after 1 s, so 0.7 s without a connection is a drop

type Outcome = { status: number; soError: number } | 'timeout';

// Connect completion = writable + SO_ERROR (Node emits no 'connect' for a wrapped fd).
function waitConnected(fd: number, ms: number): Promise<Outcome> {
  return new Promise((resolve) => {
    const handle = n.poll(fd, c.POLL_WRITABLE, (status) => {
      clearTimeout(timer);
      n.pollStop(handle as never);
      resolve({ status, soError: n.getsockoptInt(fd, c.SOL_SOCKET, c.SO_ERROR) });
    });
    assert.notEqual(typeof handle, 'number', 'poll started');
    const timer = setTimeout(() => {
      n.pollStop(handle as never);
      resolve('timeout');
    }, ms);
  });
}

function connectFrom127002(port: number, opts: { key?: string; ttl?: number }): number {
  const fd = check('socket', n.socket(c.AF_INET, c.SOCK_STREAM, 0));
  if (opts.ttl !== undefined) setTtlSecurity(fd, 'ipv4', { ttl: opts.ttl });
  if (opts.key !== undefined) setMd5Key(fd, '127.0.0.1', opts.key);
  check('bind', n.bind(fd, sockaddrIn('127.0.0.2', 0)));
  const rc = n.connect(fd, sockaddrIn('127.0.0.1', port));
  assert.ok(rc === 0 || rc === -c.EINPROGRESS, `connect returned ${rc}`);
  return fd;
}

describe('TCP MD5 + GTSM on addon sockets', () => {
  let listenFd = -1;
  let port = 0;
  let server: net.Server;
  const accepted: { minTtl: number }[] = [];

  before(async () => {
    listenFd = check('socket', n.socket(c.AF_INET, c.SOCK_STREAM, 0));
    check('SO_REUSEADDR', n.setsockoptInt(listenFd, c.SOL_SOCKET, c.SO_REUSEADDR, 1));
    setTtlSecurity(listenFd, 'ipv4', { minTtl: 255 });
    setMd5Key(listenFd, '127.0.0.2', KEY); // keys go on the listener before listen(): SYNs are checked against it
    check('bind', n.bind(listenFd, sockaddrIn('127.0.0.1', 0)));
    check('listen', n.listen(listenFd, 16));
    const name = n.getsockname(listenFd);
    assert.ok(Buffer.isBuffer(name));
    const parsed = parseSockaddr(name);
    assert.equal(parsed.family, 'ipv4');
    port = parsed.family === 'ipv4' ? parsed.port : 0;
    server = net.createServer((sock) => {
      const fd = (sock as unknown as { _handle?: { fd?: number } })._handle?.fd ?? -1;
      accepted.push({ minTtl: n.getsockoptInt(fd, c.IPPROTO_IP, c.IP_MINTTL) });
      sock.pipe(sock); // echo
    });
    await new Promise<void>((resolve) => server.listen({ fd: listenFd }, resolve));
    assert.equal((server.address() as net.AddressInfo).port, port);
  });

  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('IP_MINTTL=255 reads back on the listener', () => {
    assert.equal(n.getsockoptInt(listenFd, c.IPPROTO_IP, c.IP_MINTTL), 255);
  });

  it('right key + TTL 255 connects; the fd works as a net.Socket', async () => {
    const fd = connectFrom127002(port, { key: KEY, ttl: 255 });
    assert.deepEqual(await waitConnected(fd, 2000), { status: 0, soError: 0 });
    const sock = new net.Socket({ fd, readable: true, writable: true });
    const echoed = await new Promise<string>((resolve, reject) => {
      sock.once('data', (d) => resolve(d.toString()));
      sock.once('error', reject);
      sock.write('OPEN');
    });
    assert.equal(echoed, 'OPEN');
    assert.equal(sock.remoteAddress, '127.0.0.1');
    assert.equal(sock.localAddress, '127.0.0.2');
    sock.destroy();
    assert.equal(accepted.length, 1);
    assert.equal(accepted[0]!.minTtl, 255, 'accepted socket inherits IP_MINTTL');
  });

  it('wrong key, no key, and right key with TTL 64 are all dropped', async () => {
    const before = accepted.length;
    const fds = [
      connectFrom127002(port, { key: 'wrong-secret', ttl: 255 }),
      connectFrom127002(port, { ttl: 255 }),
      connectFrom127002(port, { key: KEY, ttl: 64 }),
    ];
    const outcomes = await Promise.all(fds.map((fd) => waitConnected(fd, DROP_WAIT_MS)));
    for (const fd of fds) assert.equal(n.close(fd), 0);
    assert.deepEqual(outcomes, ['timeout', 'timeout', 'timeout']);
    assert.equal(accepted.length, before);
  });

  it('deleting the key (null) lets an unkeyed TTL-255 client in', async () => {
    setMd5Key(listenFd, '127.0.0.2', null);
    const fd = connectFrom127002(port, { ttl: 255 });
    const outcome = await waitConnected(fd, 2000);
    assert.deepEqual(outcome, { status: 0, soError: 0 });
    new net.Socket({ fd }).destroy();
    setMd5Key(listenFd, '127.0.0.2', KEY);
  });

  it('accepts an 80-byte key (Calico allows 80) and rejects 81 before any syscall', () => {
    const fd = check('socket', n.socket(c.AF_INET, c.SOCK_STREAM, 0));
    try {
      setMd5Key(fd, '127.0.0.9', 'k'.repeat(80));
      assert.throws(() => setMd5Key(fd, '127.0.0.9', 'k'.repeat(81)), RangeError);
      assert.throws(() => n.setMd5Key(fd, sockaddrIn('127.0.0.9'), Buffer.alloc(81, 1)), { code: 'ERR_OUT_OF_RANGE' });
    } finally {
      n.close(fd);
    }
  });

  it('IPv6: MD5 key, IPV6_MINHOPCOUNT and IPV6_UNICAST_HOPS set and read back', () => {
    const fd = check('socket', n.socket(c.AF_INET6, c.SOCK_STREAM, 0));
    try {
      setMd5Key(fd, '2001:db8::2', KEY);
      setTtlSecurity(fd, 'ipv6', { ttl: 255, minTtl: 255 });
      assert.equal(n.getsockoptInt(fd, c.IPPROTO_IPV6, c.IPV6_MINHOPCOUNT), 255);
      assert.equal(n.getsockoptInt(fd, c.IPPROTO_IPV6, c.IPV6_UNICAST_HOPS), 255);
      // A v4 sockaddr for an IPv6 socket's key is the kernel's EINVAL, returned as a value by the raw call.
      assert.equal(n.setMd5Key(fd, sockaddrIn('192.0.2.1'), Buffer.from(KEY)), -osConstants.errno.EINVAL);
      assert.equal(n.setMd5Key(fd, sockaddrIn6('2001:db8::3'), Buffer.from(KEY)), 0);
    } finally {
      n.close(fd);
    }
  });
});
