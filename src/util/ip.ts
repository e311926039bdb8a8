// SPDX-License-Identifier: Apache-2.0
// Address text <-> bytes, for the edges (config, CLI, logs). The core keeps addresses as bytes.
import { isIPv4, isIPv6 } from 'node:net';

export function ipv4ToBytes(text: string): Uint8Array | undefined {
  if (!isIPv4(text)) return undefined;
  // Filled in place: a config with 30,000 prefixes reads every one of them here.
  const out = new Uint8Array(4);
  let octet = 0;
  let value = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 46 /* . */) {
      out[octet++] = value;
      value = 0;
    } else value = value * 10 + (c - 48);
  }
  out[octet] = value;
  return out;
}

export function ipv6ToBytes(text: string): Uint8Array | undefined {
  let rest = text.split('%')[0]!;
  if (!isIPv6(rest)) return undefined;
  const words: number[] = [];
  // An embedded dotted quad (::ffff:1.2.3.4) stands for the last two words.
  const tailV4 = /:(\d+\.\d+\.\d+\.\d+)$/.exec(rest);
  let v4Words: number[] = [];
  if (tailV4) {
    const v4 = ipv4ToBytes(tailV4[1]!);
    if (!v4) return undefined;
    v4Words = [(v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!];
    rest = rest.slice(0, rest.length - tailV4[1]!.length);
    if (rest.endsWith(':') && !rest.endsWith('::')) rest = rest.slice(0, -1);
  }
  const parse = (part: string): number[] => (part === '' ? [] : part.split(':').map((g) => parseInt(g, 16)));
  const halves = rest.split('::');
  const left = parse(halves[0]!);
  const right = halves.length > 1 ? parse(halves[1]!) : [];
  const fill = 8 - v4Words.length - left.length - right.length;
  if (halves.length > 1) words.push(...left, ...new Array<number>(fill).fill(0), ...right, ...v4Words);
  else words.push(...left, ...v4Words);
  if (words.length !== 8) return undefined;
  const out = new Uint8Array(16);
  words.forEach((w, i) => {
    out[i * 2] = w >> 8;
    out[i * 2 + 1] = w & 0xff;
  });
  return out;
}

export function bytesToIpv4(b: Uint8Array, offset = 0): string {
  return `${b[offset] ?? 0}.${b[offset + 1] ?? 0}.${b[offset + 2] ?? 0}.${b[offset + 3] ?? 0}`;
}

/** RFC 5952 text form (lowercase, longest zero run compressed). */
export function bytesToIpv6(b: Uint8Array, offset = 0): string {
  const words: number[] = [];
  for (let i = 0; i < 8; i++) words.push(((b[offset + i * 2] ?? 0) << 8) | (b[offset + i * 2 + 1] ?? 0));
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = words.map((w) => w.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

export function ipToBytes(text: string): Uint8Array | undefined {
  return ipv4ToBytes(text) ?? ipv6ToBytes(text);
}

export function bytesToIp(b: Uint8Array): string {
  return b.length === 4 ? bytesToIpv4(b) : bytesToIpv6(b);
}

/** Router ids and ORIGINATOR_ID are 32-bit numbers on the wire, dotted quads in text. */
export function u32ToDotted(v: number): string {
  return `${(v >>> 24) & 0xff}.${(v >>> 16) & 0xff}.${(v >>> 8) & 0xff}.${v & 0xff}`;
}

export function dottedToU32(text: string): number | undefined {
  const b = ipv4ToBytes(text);
  if (!b) return undefined;
  return ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
}
