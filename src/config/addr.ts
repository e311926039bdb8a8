// SPDX-License-Identifier: Apache-2.0
// Address and prefix text as the config file writes it: parse, classify, canonicalise.
// Returns reasons as strings for the validator to attach to a key path; never throws.
import type { Family } from '../bgp/messages/types.ts';
import { bytesToIpv4, bytesToIpv6, ipv4ToBytes, ipv6ToBytes } from '../util/ip.ts';

export interface ParsedAddress {
  family: Family;
  bytes: Uint8Array;
  zone?: string;
  /** Dotted quad, or RFC 5952 IPv6 text, plus "%zone" when present. */
  canonical: string;
}

const ZONE_PATTERN = /^[A-Za-z0-9_.-]{1,15}$/; // Linux IFNAMSIZ is 16 including NUL

export function parseAddress(text: string): ParsedAddress | string {
  const v4 = ipv4ToBytes(text);
  if (v4) return { family: 'ipv4-unicast', bytes: v4, canonical: bytesToIpv4(v4) };
  const [base = '', zone, ...extra] = text.split('%');
  const v6 = text.includes(':') ? ipv6ToBytes(base) : undefined;
  if (!v6 || extra.length > 0) return 'must be an IPv4 or IPv6 address';
  if (zone === undefined) return { family: 'ipv6-unicast', bytes: v6, canonical: bytesToIpv6(v6) };
  if (!ZONE_PATTERN.test(zone)) return `has an invalid interface name after % (got "${zone}")`;
  return { family: 'ipv6-unicast', bytes: v6, zone, canonical: `${bytesToIpv6(v6)}%${zone}` };
}

export function isUnspecified(a: ParsedAddress): boolean {
  return a.bytes.every((b) => b === 0);
}

export function isMulticast(a: ParsedAddress): boolean {
  // 224.0.0.0/4 (RFC 5771) and ff00::/8 (RFC 4291 §2.7); 255.255.255.255 is limited broadcast.
  if (a.family === 'ipv4-unicast') return (a.bytes[0]! & 0xf0) === 0xe0 || a.bytes.every((b) => b === 0xff);
  return a.bytes[0] === 0xff;
}

export function isLinkLocalV6(a: ParsedAddress): boolean {
  // fe80::/10 (RFC 4291 §2.5.6)
  return a.family === 'ipv6-unicast' && a.bytes[0] === 0xfe && (a.bytes[1]! & 0xc0) === 0x80;
}

export function familyName(f: Family): string {
  return f === 'ipv4-unicast' ? 'IPv4' : 'IPv6';
}

export interface ParsedPrefix {
  family: Family;
  length: number;
  canonical: string;
}

/** "10.244.1.0/26" → canonical form; host bits must be zero, and the reason says which prefix was meant. */
export function parsePrefix(text: string): ParsedPrefix | string {
  const m = /^([^/]+)\/(\d{1,3})$/.exec(text);
  if (!m) return 'must be a prefix in CIDR form, like 10.0.0.0/24 or fd00::/64';
  const addr = parseAddress(m[1]!);
  if (typeof addr === 'string' || addr.zone !== undefined) return 'must be a prefix in CIDR form, like 10.0.0.0/24 or fd00::/64';
  const length = Number(m[2]);
  const maxLength = addr.bytes.length * 8;
  if (length > maxLength) return `prefix length must be at most ${maxLength} (got /${length})`;
  const masked = maskBytes(addr.bytes, length);
  const text0 = addr.family === 'ipv4-unicast' ? bytesToIpv4(masked) : bytesToIpv6(masked);
  if (!masked.every((b, i) => b === addr.bytes[i])) {
    return `host bits must be zero: ${text} has bits set past /${length} (did you mean ${text0}/${length}?)`;
  }
  return { family: addr.family, length, canonical: `${text0}/${length}` };
}

function maskBytes(bytes: Uint8Array, length: number): Uint8Array {
  const out = new Uint8Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) {
    const bits = Math.max(0, Math.min(8, length - i * 8));
    out[i] = bytes[i]! & ((0xff << (8 - bits)) & 0xff);
  }
  return out;
}
