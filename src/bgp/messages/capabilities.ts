// SPDX-License-Identifier: Apache-2.0
// BGP capabilities (RFC 5492) as carried in the OPEN Capabilities optional parameter: decoding
// every capability tuple, encoding one, and a short text form for `show peers` and logs.
// It does not decide what the capabilities mean for a session: that is negotiate.ts.
//
//  +------------------------------+
//  | Capability Code (1 octet)    |
//  +------------------------------+
//  | Capability Length (1 octet)  |
//  +------------------------------+
//  | Capability Value (variable)  |
//  +------------------------------+
import { BgpNotificationError } from './errors.ts';
import { CapabilityCode } from './iana.ts';
import type { Capability } from './types.ts';
import { familyOf } from './types.ts';
import { Reader, type Writer, toHex } from '../../util/reader.ts';

// RFC 4724 §3: Restart Flags (4 bits) + Restart Time (12 bits), then per AFI/SAFI a flags octet.
const GR_RESTARTING = 0x8000; // R bit
const GR_NOTIFICATION = 0x4000; // N bit, RFC 8538 §2
const GR_TIME_MASK = 0x0fff;
const GR_FORWARDING = 0x80; // F bit

// RFC 7911 §4: Send/Receive values.
export const AddPathDirection = { Receive: 1, Send: 2, Both: 3 } as const;

// ===== Decoding =====

/**
 * All capability tuples in the value of one Capabilities optional parameter. Unknown codes are
 * kept (RFC 5492 §5: "a BGP speaker ... MUST ignore" capabilities it does not understand); a
 * known capability with an impossible length is an OPEN error (2/0): the peer and we would
 * disagree on what was negotiated.
 */
export function decodeCapabilities(r: Reader): Capability[] {
  const caps: Capability[] = [];
  while (r.remaining > 0) {
    const code = r.u8();
    const length = r.u8();
    const value = r.sub(length, () => BgpNotificationError.openUnspecific(`capability ${code} length ${length} overruns its parameter`));
    caps.push(decodeOne(code, value));
  }
  return caps;
}

function decodeOne(code: number, r: Reader): Capability {
  const length = r.remaining;
  const malformed = (): BgpNotificationError => BgpNotificationError.openUnspecific(`capability ${code} has malformed length ${length}`);
  const value = new Reader(r.buf, malformed, r.offset, r.end);
  switch (code) {
    case CapabilityCode.Multiprotocol: {
      // RFC 4760 §8: AFI (2), Reserved (1), SAFI (1).
      expectLength(length === 4, malformed);
      const afi = value.u16();
      value.skip(1);
      return { kind: 'multiprotocol', code, afi, safi: value.u8() };
    }
    case CapabilityCode.RouteRefresh:
    case CapabilityCode.RouteRefreshCisco:
      // RFC 2918 §2: "Capability Length is set to 0".
      expectLength(length === 0, malformed);
      return { kind: 'route-refresh', code };
    case CapabilityCode.ExtendedNextHop:
      // RFC 8950 §3: a list of (NLRI AFI 2, NLRI SAFI 2, Next Hop AFI 2).
      expectLength(length > 0 && length % 6 === 0, malformed);
      return { kind: 'extended-nexthop', code, entries: readEntries(value, () => ({ afi: value.u16(), safi: value.u16(), nextHopAfi: value.u16() })) };
    case CapabilityCode.ExtendedMessage:
      // RFC 8654 §3: "The Capability Length field ... MUST be set to 0".
      expectLength(length === 0, malformed);
      return { kind: 'extended-message', code };
    case CapabilityCode.GracefulRestart:
      return decodeGracefulRestart(value, malformed);
    case CapabilityCode.FourOctetAs:
      // RFC 6793 §3: "the Capability Length field ... is set to 4".
      expectLength(length === 4, malformed);
      return { kind: 'as4', code, asn: value.u32() };
    case CapabilityCode.AddPath:
      // RFC 7911 §4: a list of (AFI 2, SAFI 1, Send/Receive 1).
      expectLength(length > 0 && length % 4 === 0, malformed);
      return { kind: 'add-path', code, families: readEntries(value, () => ({ afi: value.u16(), safi: value.u8(), sendReceive: value.u8() })) };
    case CapabilityCode.EnhancedRouteRefresh:
      // RFC 7313 §3: "Capability Length field ... set to 0".
      expectLength(length === 0, malformed);
      return { kind: 'enhanced-route-refresh', code };
    default:
      return { kind: 'unknown', code, value: value.bytes(length).slice() };
  }
}

function decodeGracefulRestart(value: Reader, malformed: () => BgpNotificationError): Capability {
  // RFC 4724 §3: 2 octets of flags and time, then 4 octets per AFI/SAFI.
  expectLength(value.remaining >= 2 && (value.remaining - 2) % 4 === 0, malformed);
  const head = value.u16();
  const families = readEntries(value, () => {
    const afi = value.u16();
    const safi = value.u8();
    return { afi, safi, forwardingState: (value.u8() & GR_FORWARDING) !== 0 };
  });
  return {
    kind: 'graceful-restart',
    code: CapabilityCode.GracefulRestart,
    restarting: (head & GR_RESTARTING) !== 0,
    notification: (head & GR_NOTIFICATION) !== 0,
    restartTime: head & GR_TIME_MASK,
    families,
  };
}

function expectLength(ok: boolean, malformed: () => BgpNotificationError): void {
  if (!ok) throw malformed();
}

function readEntries<T>(r: Reader, one: () => T): T[] {
  const out: T[] = [];
  while (r.remaining > 0) out.push(one());
  return out;
}

// ===== Encoding =====

/** Writes one capability tuple (code, length, value). */
export function encodeCapability(w: Writer, c: Capability): void {
  w.u8(c.code);
  const lengthAt = w.reserve(1);
  const start = w.length;
  writeValue(w, c);
  const length = w.length - start;
  if (length > 255) throw new RangeError(`capability ${c.code} value of ${length} bytes exceeds 255`);
  w.setU8(lengthAt, length);
}

function writeValue(w: Writer, c: Capability): void {
  switch (c.kind) {
    case 'multiprotocol':
      w.u16(c.afi).u8(0).u8(c.safi);
      return;
    case 'route-refresh':
    case 'extended-message':
    case 'enhanced-route-refresh':
      return;
    case 'extended-nexthop':
      for (const e of c.entries) w.u16(e.afi).u16(e.safi).u16(e.nextHopAfi);
      return;
    case 'graceful-restart': {
      const flags = (c.restarting ? GR_RESTARTING : 0) | (c.notification ? GR_NOTIFICATION : 0);
      w.u16(flags | (c.restartTime & GR_TIME_MASK));
      for (const f of c.families) w.u16(f.afi).u8(f.safi).u8(f.forwardingState ? GR_FORWARDING : 0);
      return;
    }
    case 'as4':
      w.u32(c.asn);
      return;
    case 'add-path':
      for (const f of c.families) w.u16(f.afi).u8(f.safi).u8(f.sendReceive);
      return;
    case 'unknown':
      w.bytes(c.value);
      return;
  }
}

// ===== Text =====

/** "ipv4-unicast", or "afi 16388 safi 71" for families Tern does not speak. */
export function afiSafiName(afi: number, safi: number): string {
  return familyOf(afi, safi) ?? `afi ${afi} safi ${safi}`;
}

const DIRECTION_NAMES: Record<number, string> = { 1: 'receive', 2: 'send', 3: 'send/receive' };

/** One line per capability, e.g. "add-path ipv4-unicast send/receive". */
export function capabilityToString(c: Capability): string {
  switch (c.kind) {
    case 'multiprotocol':
      return `multiprotocol ${afiSafiName(c.afi, c.safi)}`;
    case 'route-refresh':
      return c.code === CapabilityCode.RouteRefresh ? 'route-refresh' : 'route-refresh (pre-standard 128)';
    case 'extended-nexthop':
      return `extended-nexthop ${c.entries.map((e) => `${afiSafiName(e.afi, e.safi)} via afi ${e.nextHopAfi}`).join(', ')}`;
    case 'extended-message':
      return 'extended-message';
    case 'graceful-restart': {
      const flags = `${c.restarting ? ' restarting' : ''}${c.notification ? ' notification' : ''}`;
      const fams = c.families.map((f) => `${afiSafiName(f.afi, f.safi)}${f.forwardingState ? ' (forwarding)' : ''}`).join(', ');
      return `graceful-restart time ${c.restartTime}s${flags}${fams ? ` ${fams}` : ''}`;
    }
    case 'as4':
      return `as4 ${c.asn}`;
    case 'add-path':
      return `add-path ${c.families.map((f) => `${afiSafiName(f.afi, f.safi)} ${DIRECTION_NAMES[f.sendReceive] ?? `mode ${f.sendReceive}`}`).join(', ')}`;
    case 'enhanced-route-refresh':
      return 'enhanced-route-refresh';
    case 'unknown':
      return `unknown capability ${c.code}${c.value.length ? ` ${toHex(c.value, 32)}` : ''}`;
  }
}
