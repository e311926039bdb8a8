// SPDX-License-Identifier: Apache-2.0
// Typed access to the project's native addon (build/Release/tern_native.node, built from
// src/native/tern_native.c by scripts/build-native.mjs), sockaddr builders/parsers, and the
// TCP MD5 / GTSM / bind-to-device helpers BGP transport needs before bind/connect/listen.
// It does not speak any protocol (rtnetlink lives in the kernel-sync module, BGP in src/bgp), and it
// loads the addon lazily so that importing it on a machine without the build costs nothing.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { endianness, constants as osConstants } from 'node:os';
import { fileURLToPath } from 'node:url';
import { bytesToIpv4, bytesToIpv6, ipv4ToBytes, ipv6ToBytes } from '../util/ip.ts';

/** Socket, option and poll constants, read from the C headers at build time. */
export interface NativeConstants {
  readonly [name: string]: number;
  readonly AF_INET: number;
  readonly AF_INET6: number;
  readonly AF_NETLINK: number;
  readonly SOCK_STREAM: number;
  readonly SOCK_RAW: number;
  readonly SOL_SOCKET: number;
  readonly SO_ERROR: number;
  readonly SO_REUSEADDR: number;
  readonly SO_RCVBUF: number;
  readonly SO_RCVBUFFORCE: number;
  readonly SO_BINDTODEVICE: number;
  readonly IPPROTO_IP: number;
  readonly IPPROTO_IPV6: number;
  readonly IPPROTO_TCP: number;
  readonly IP_TTL: number;
  readonly IP_MINTTL: number;
  readonly IPV6_UNICAST_HOPS: number;
  readonly IPV6_MINHOPCOUNT: number;
  readonly TCP_MD5SIG: number;
  readonly TCP_MD5SIG_MAXKEYLEN: number;
  readonly SOL_NETLINK: number;
  readonly NETLINK_ROUTE: number;
  readonly NETLINK_EXT_ACK: number;
  readonly NETLINK_GET_STRICT_CHK: number;
  readonly RTMGRP_LINK: number;
  readonly RTMGRP_IPV4_ROUTE: number;
  readonly RTMGRP_IPV6_ROUTE: number;
  readonly NETLINK_ADD_MEMBERSHIP: number;
  readonly EAGAIN: number;
  readonly EBADF: number;
  readonly EINPROGRESS: number;
  readonly ENOBUFS: number;
  readonly EMSGSIZE: number;
  readonly ECONNREFUSED: number;
  readonly POLL_READABLE: number;
  readonly POLL_WRITABLE: number;
  readonly POLL_DISCONNECT: number;
}

/** Opaque uv_poll_t watcher handle. */
export type PollHandle = { readonly __brand: 'PollHandle' };

/** (status, events): status is 0 or a negative errno (e.g. -ENOBUFS, -ECONNREFUSED); events are POLL_* bits. */
export type PollCallback = (status: number, events: number) => void;

/**
 * The raw addon. Syscall failures are returned as a negative errno, never thrown; only argument
 * errors throw. All fds are created non-blocking and close-on-exec.
 */
export interface TernNative {
  socket(domain: number, type: number, protocol: number): number;
  close(fd: number): number;
  bind(fd: number, sockaddr: Buffer): number;
  /** 0, or -EINPROGRESS for a TCP connect still under way, or another -errno. */
  connect(fd: number, sockaddr: Buffer): number;
  listen(fd: number, backlog: number): number;
  setsockoptInt(fd: number, level: number, name: number, value: number): number;
  setsockoptBuf(fd: number, level: number, name: number, value: Buffer): number;
  /** SO_ATTACH_FILTER with a classic BPF program (struct sock_filter[], host byte order). */
  attachFilter(fd: number, program: Buffer): number;
  /** The option's value (never negative for the options we read), or -errno. */
  getsockoptInt(fd: number, level: number, name: number): number;
  getsockname(fd: number): Buffer | number;
  /** Bytes sent or -errno (MSG_DONTWAIT | MSG_NOSIGNAL). */
  sendto(fd: number, data: Buffer, sockaddr?: Buffer | null): number;
  /**
   * sendto of each datagram, in order, on a libuv threadpool thread, stopping at the first
   * failure; `done` gets how many were sent and 0 or the failed one's -errno, on the main thread.
   * Returns 0 when queued (or -errno, and `done` is never called). One in flight per socket: two
   * could be reordered. Optional: an addon built before it lacks it.
   */
  sendtoAsync?(fd: number, datagrams: readonly Buffer[], sockaddr: Buffer | null, done: (sent: number, result: number) => void): number;
  /** One datagram, or -EAGAIN when none is queued, -EMSGSIZE when it was longer than maxBytes, -ENOBUFS on overrun. */
  recv(fd: number, maxBytes: number): Buffer | number;
  /**
   * One datagram with its source sockaddr and arrival TTL / hop limit (-1 unless IP_RECVTTL /
   * IPV6_RECVHOPLIMIT is set), or -errno. Optional: an addon built before it lacks it.
   */
  recvFrom?(fd: number, maxBytes: number): { data: Buffer; from: Buffer; ttl: number } | number;
  /** Installs (key non-empty) or deletes (null/empty) a TCP MD5 key for peerSockaddr's address. */
  setMd5Key(fd: number, peerSockaddr: Buffer, key: Buffer | null, prefixLen?: number, ifindex?: number): number;
  poll(fd: number, events: number, callback: PollCallback): PollHandle | number;
  pollUpdate(handle: PollHandle, events: number): number;
  pollRef(handle: PollHandle, keepLoopAlive: boolean): void;
  pollStop(handle: PollHandle): void;
  readonly constants: NativeConstants;
}

const ADDON_PATH = fileURLToPath(new URL('../../build/Release/tern_native.node', import.meta.url));
let cached: TernNative | undefined;

/** The addon, loaded once. Throws a clear error when it has not been built. */
export function loadNative(): TernNative {
  if (cached) return cached;
  if (process.platform !== 'linux') throw new Error(`tern native addon: Linux only (this is ${process.platform})`);
  if (!existsSync(ADDON_PATH)) {
    throw new Error(`tern native addon is not built (${ADDON_PATH} missing): run \`npm run build:native\` or \`node scripts/build-native.mjs\``);
  }
  cached = createRequire(import.meta.url)(ADDON_PATH) as TernNative;
  return cached;
}

export function nativeAvailable(): boolean {
  try {
    loadNative();
    return true;
  } catch {
    return false;
  }
}

// ---- errors ----

// First name wins where errnos alias (EAGAIN before EWOULDBLOCK, as Node's own errors say).
const ERRNO_NAMES = new Map<number, string>();
for (const [name, value] of Object.entries(osConstants.errno)) if (!ERRNO_NAMES.has(value)) ERRNO_NAMES.set(value, name);

export function errnoName(errno: number): string {
  return ERRNO_NAMES.get(Math.abs(errno)) ?? `E${Math.abs(errno)}`;
}

/** A failed syscall, shaped like Node's own system errors (code, errno, syscall). */
export class NativeError extends Error {
  readonly code: string;
  readonly errno: number;
  readonly syscall: string;
  constructor(syscall: string, negErrno: number) {
    const code = errnoName(negErrno);
    super(`${syscall} failed: ${code}`);
    this.name = 'NativeError';
    this.code = code;
    this.errno = Math.abs(negErrno);
    this.syscall = syscall;
  }
}

/** Turns a -errno result into a thrown NativeError, for callers where failure is exceptional. */
export function check(syscall: string, result: number): number {
  if (result < 0) throw new NativeError(syscall, result);
  return result;
}

// ---- sockaddr builders (Linux layouts; family is host-endian, port network-endian) ----

const LE = endianness() === 'LE';
function putU16Host(b: Buffer, v: number, off: number): void {
  if (LE) b.writeUInt16LE(v, off);
  else b.writeUInt16BE(v, off);
}
function putU32Host(b: Buffer, v: number, off: number): void {
  if (LE) b.writeUInt32LE(v >>> 0, off);
  else b.writeUInt32BE(v >>> 0, off);
}
function getU16Host(b: Buffer, off: number): number {
  return LE ? b.readUInt16LE(off) : b.readUInt16BE(off);
}
function getU32Host(b: Buffer, off: number): number {
  return LE ? b.readUInt32LE(off) : b.readUInt32BE(off);
}

const AF_INET = 2;
const AF_INET6 = 10;
const AF_NETLINK = 16;

function addressBytes(address: string | Uint8Array, length: 4 | 16): Uint8Array {
  const bytes = typeof address === 'string' ? (length === 4 ? ipv4ToBytes(address) : ipv6ToBytes(address)) : address;
  if (!bytes || bytes.length !== length) throw new TypeError(`not an IPv${length === 4 ? 4 : 6} address: ${String(address)}`);
  return bytes;
}

function checkPort(port: number): void {
  if (!Number.isInteger(port) || port < 0 || port > 0xffff) throw new RangeError(`bad port ${port}`);
}

/** struct sockaddr_nl (12 bytes): pid 0 lets the kernel pick the port id; groups is the RTMGRP_* bitmask. */
export function sockaddrNl(pid = 0, groups = 0): Buffer {
  const b = Buffer.alloc(12);
  putU16Host(b, AF_NETLINK, 0);
  putU32Host(b, pid, 4);
  putU32Host(b, groups, 8);
  return b;
}

/** struct sockaddr_in (16 bytes). */
export function sockaddrIn(address: string | Uint8Array, port = 0): Buffer {
  checkPort(port);
  const b = Buffer.alloc(16);
  putU16Host(b, AF_INET, 0);
  b.writeUInt16BE(port, 2);
  b.set(addressBytes(address, 4), 4);
  return b;
}

/** struct sockaddr_in6 (28 bytes); scopeId is the interface index for link-local peers. */
export function sockaddrIn6(address: string | Uint8Array, port = 0, scopeId = 0): Buffer {
  checkPort(port);
  const b = Buffer.alloc(28);
  putU16Host(b, AF_INET6, 0);
  b.writeUInt16BE(port, 2);
  b.set(addressBytes(address, 16), 8);
  putU32Host(b, scopeId, 24);
  return b;
}

/** sockaddr_in or sockaddr_in6, chosen by the address text. */
export function sockaddrIp(address: string, port = 0, scopeId = 0): Buffer {
  return ipv4ToBytes(address) ? sockaddrIn(address, port) : sockaddrIn6(address, port, scopeId);
}

export type ParsedSockaddr =
  | { readonly family: 'ipv4'; readonly address: string; readonly port: number }
  | { readonly family: 'ipv6'; readonly address: string; readonly port: number; readonly scopeId: number }
  | { readonly family: 'netlink'; readonly pid: number; readonly groups: number }
  | { readonly family: 'other'; readonly af: number };

export function parseSockaddr(b: Buffer): ParsedSockaddr {
  if (b.length < 2) return { family: 'other', af: -1 };
  const af = getU16Host(b, 0);
  if (af === AF_INET && b.length >= 8) return { family: 'ipv4', address: bytesToIpv4(b, 4), port: b.readUInt16BE(2) };
  if (af === AF_INET6 && b.length >= 28) {
    return { family: 'ipv6', address: bytesToIpv6(b, 8), port: b.readUInt16BE(2), scopeId: getU32Host(b, 24) };
  }
  if (af === AF_NETLINK && b.length >= 12) return { family: 'netlink', pid: getU32Host(b, 4), groups: getU32Host(b, 8) };
  return { family: 'other', af };
}

// ---- BGP transport options (set them before bind/listen/connect) ----

/**
 * RFC 2385 key for one peer on a listening or connecting TCP socket; null deletes it.
 * Keys are bytes: a string is taken as UTF-8 (Calico's password secret); at most 80 bytes.
 * prefixLen keys a whole peer range (TCP_MD5SIG_EXT); ifindex scopes the key to one device.
 */
export function setMd5Key(
  fd: number,
  peerAddress: string,
  key: string | Uint8Array | null,
  opts: { prefixLen?: number; ifindex?: number } = {},
): void {
  const n = loadNative();
  const keyBytes = key === null ? null : Buffer.from(typeof key === 'string' ? Buffer.from(key, 'utf8') : key);
  if (keyBytes && keyBytes.length > n.constants.TCP_MD5SIG_MAXKEYLEN) {
    throw new RangeError(`TCP MD5 key is ${keyBytes.length} bytes; the kernel allows ${n.constants.TCP_MD5SIG_MAXKEYLEN}`);
  }
  check('setsockopt(TCP_MD5SIG)', n.setMd5Key(fd, sockaddrIp(peerAddress), keyBytes, opts.prefixLen ?? -1, opts.ifindex ?? 0));
}

/**
 * RFC 5082 GTSM: the outgoing TTL / hop limit (255 for GTSM peers) and the minimum accepted on receipt.
 * minTtl 0 disables the check.
 */
export function setTtlSecurity(fd: number, family: 'ipv4' | 'ipv6', opts: { ttl?: number; minTtl?: number }): void {
  const n = loadNative();
  const c = n.constants;
  const v4 = family === 'ipv4';
  if (opts.ttl !== undefined) {
    check('setsockopt(TTL)', n.setsockoptInt(fd, v4 ? c.IPPROTO_IP : c.IPPROTO_IPV6, v4 ? c.IP_TTL : c.IPV6_UNICAST_HOPS, opts.ttl));
  }
  if (opts.minTtl !== undefined) {
    check('setsockopt(MINTTL)', n.setsockoptInt(fd, v4 ? c.IPPROTO_IP : c.IPPROTO_IPV6, v4 ? c.IP_MINTTL : c.IPV6_MINHOPCOUNT, opts.minTtl));
  }
}

/** SO_BINDTODEVICE; must precede bind()/connect(). Needs CAP_NET_RAW. */
export function bindToDevice(fd: number, ifname: string): void {
  const n = loadNative();
  check('setsockopt(SO_BINDTODEVICE)', n.setsockoptBuf(fd, n.constants.SOL_SOCKET, n.constants.SO_BINDTODEVICE, Buffer.from(`${ifname}\0`)));
}
