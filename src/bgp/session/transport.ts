// SPDX-License-Identifier: Apache-2.0
// TCP sockets with the options Node cannot set: the RFC 2385 MD5 key (on the listening socket
// before any peer connects, and on each outgoing socket before its SYN), RFC 5082 GTSM (TTL 255
// out, a minimum TTL in), and SO_BINDTODEVICE for link-local peers (`fe80::1%eth0`). Sockets are
// created in the native addon with the options set first, then handed to Node (`net.Socket({fd})`,
// `server.listen({fd})`). Peers that need none of this use plain `net`.
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { bindToDevice, check, errnoName, loadNative, setMd5Key, setTtlSecurity, sockaddrIp } from '../../native/index.ts';

export interface TransportSecurity {
  /** RFC 2385 key (Calico passwords: up to 80 bytes). */
  password?: string;
  /** RFC 5082: the peer is this many hops away (1 = directly connected); 0/undefined = off. */
  ttlSecurity?: number;
  /** Interface for a link-local peer (the `%eth0` of `fe80::1%eth0`). */
  device?: string;
}

const MAX_TTL = 255;

export function needsNativeSocket(sec: TransportSecurity | undefined): boolean {
  return !!sec && (!!sec.password || !!sec.ttlSecurity || !!sec.device);
}

function familyOf(address: string): 'ipv4' | 'ipv6' {
  return net.isIPv6(address.split('%')[0]!) ? 'ipv6' : 'ipv4';
}

/** RFC 5082 §3: send with TTL 255 and accept only 255 - (hops - 1) and above. */
export function applyGtsm(fd: number, family: 'ipv4' | 'ipv6', hops: number): void {
  setTtlSecurity(fd, family, { ttl: MAX_TTL, minTtl: MAX_TTL - (hops - 1) });
}

/** GTSM on a socket Node already holds (an accepted connection): its fd, if it has one. */
export function socketFd(socket: net.Socket): number | undefined {
  const fd = (socket as unknown as { _handle?: { fd?: number } })._handle?.fd;
  return typeof fd === 'number' && fd >= 0 ? fd : undefined;
}

/**
 * Connect with the options set before the SYN. Resolves with a connected net.Socket, or rejects
 * with an Error whose `code` is the errno name (ECONNREFUSED, ETIMEDOUT, ...).
 */
export function connectSecure(target: { host: string; port: number; localAddress?: string }, sec: TransportSecurity, timeoutMs = 30_000): Promise<net.Socket> {
  const n = loadNative();
  const c = n.constants;
  const family = familyOf(target.host);
  const fd = check('socket(TCP)', n.socket(family === 'ipv6' ? c.AF_INET6 : c.AF_INET, c.SOCK_STREAM, c.IPPROTO_TCP));
  try {
    if (sec.device) bindToDevice(fd, sec.device);
    if (sec.password) setMd5Key(fd, target.host.split('%')[0]!, sec.password);
    if (sec.ttlSecurity) applyGtsm(fd, family, sec.ttlSecurity);
    if (target.localAddress) check('bind', n.bind(fd, sockaddrIp(target.localAddress, 0, scopeOf(sec))));
    const rc = n.connect(fd, sockaddrIp(target.host.split('%')[0]!, target.port, scopeOf(sec)));
    if (rc !== 0 && rc !== -c.EINPROGRESS) check('connect', rc);
  } catch (err) {
    n.close(fd);
    return Promise.reject(err);
  }
  return new Promise((resolve, reject) => {
    let done = false;
    const finish = (err?: Error) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (typeof handle !== 'number') n.pollStop(handle);
      if (err) {
        n.close(fd);
        reject(err);
        return;
      }
      resolve(new net.Socket({ fd, readable: true, writable: true }));
    };
    const timer = setTimeout(() => finish(Object.assign(new Error('connect timed out'), { code: 'ETIMEDOUT' })), timeoutMs);
    timer.unref();
    const handle = n.poll(fd, c.POLL_WRITABLE, (status) => {
      const soError = status < 0 ? -status : n.getsockoptInt(fd, c.SOL_SOCKET, c.SO_ERROR);
      if (soError > 0) finish(Object.assign(new Error(`connect failed: errno ${soError}`), { code: errnoCode(soError) }));
      else finish();
    });
    if (typeof handle === 'number') finish(Object.assign(new Error(`poll failed: errno ${-handle}`), { code: errnoCode(-handle) }));
  });
}

/** A listening socket with MD5 keys installed before anyone can connect; Node serves it. */
export interface SecureListener {
  server: net.Server;
  fd: number;
  /** Add, change or (null) remove the key for one peer address; other peers are unaffected. */
  setKey(peerAddress: string, password: string | null): void;
}

export function listenSecure(
  host: string,
  port: number,
  ipv6Only: boolean,
  keys: { address: string; password: string }[],
  onConnection: (s: net.Socket) => void,
  opts: { ttl255?: boolean } = {},
): Promise<SecureListener> {
  const n = loadNative();
  const c = n.constants;
  const family = familyOf(host);
  const fd = check('socket(TCP)', n.socket(family === 'ipv6' ? c.AF_INET6 : c.AF_INET, c.SOCK_STREAM, c.IPPROTO_TCP));
  try {
    check('setsockopt(SO_REUSEADDR)', n.setsockoptInt(fd, c.SOL_SOCKET, c.SO_REUSEADDR, 1));
    if (family === 'ipv6') check('setsockopt(IPV6_V6ONLY)', n.setsockoptInt(fd, c.IPPROTO_IPV6, IPV6_V6ONLY, ipv6Only ? 1 : 0));
    for (const k of keys) if (familyOf(k.address) === family || family === 'ipv6') setMd5Key(fd, k.address.split('%')[0]!, k.password);
    // RFC 5082: the SYN-ACK already leaves with TTL 255, or a GTSM peer drops it.
    if (opts.ttl255) setTtlSecurity(fd, family, { ttl: MAX_TTL });
    check('bind', n.bind(fd, sockaddrIp(host, port)));
    check('listen', n.listen(fd, 128));
  } catch (err) {
    n.close(fd);
    return Promise.reject(err);
  }
  return new Promise((resolve, reject) => {
    const server = net.createServer(onConnection);
    server.once('error', reject);
    server.listen({ fd }, () => {
      server.off('error', reject);
      resolve({
        server,
        fd,
        setKey: (address, password) => setMd5Key(fd, address.split('%')[0]!, password),
      });
    });
  });
}

/** <netinet/in.h> on Linux; the addon exports it too. */
const IPV6_V6ONLY = 26;

function scopeOf(sec: TransportSecurity): number {
  if (!sec.device) return 0;
  // The interface index of the device, from Node's view of interfaces' scope ids.
  return ifIndex(sec.device);
}

function ifIndex(name: string): number {
  try {
    return Number(readFileSync(`/sys/class/net/${name}/ifindex`, 'utf8').trim()) || 0;
  } catch {
    return 0;
  }
}

function errnoCode(errno: number): string {
  return errnoName(errno);
}
