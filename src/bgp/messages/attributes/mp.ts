// SPDX-License-Identifier: Apache-2.0
// MP_REACH_NLRI (14) and MP_UNREACH_NLRI (15), RFC 4760 §3-4, with IPv6 next hops (RFC 2545
// §3: 16 octets global, or 32 = global + link-local), IPv4 NLRI over an IPv6 next hop (RFC 8950
// §3: AFI 1 with length 16 or 32) and ADD-PATH ids (RFC 7911). Families Tern does not speak
// (labeled unicast, VPN, flowspec, ...) are kept as raw bytes — RFC 4760 §7 does not make them
// an error. Any framing fault inside these attributes is a session reset: RFC 7606 §7.11 "it
// will not be possible to reliably locate the NLRI; thus, the 'session reset' or 'AFI/SAFI
// disable' approach MUST be used". Tern always picks session reset.
//
// MP_REACH_NLRI:  AFI (2) | SAFI (1) | NH len (1) | Next Hop (NH len) | Reserved (1) | NLRI ...
// MP_UNREACH_NLRI: AFI (2) | SAFI (1) | Withdrawn Routes ...
import { BgpNotificationError } from '../errors.ts';
import { AttrType } from '../iana.ts';
import { decodePrefixes, encodePrefixes } from '../nlri.ts';
import { familyOf } from '../types.ts';
import type { CodecContext, Family, Nlri, PathAttribute } from '../types.ts';
import { Reader } from '../../../util/reader.ts';
import type { Writer } from '../../../util/reader.ts';

export type MpReach = Extract<PathAttribute, { kind: 'mp-reach' }>;
export type MpUnreach = Extract<PathAttribute, { kind: 'mp-unreach' }>;

const MP_REACH_FIXED = 5; // AFI, SAFI, next-hop length, reserved
const MP_UNREACH_FIXED = 3; // AFI, SAFI

/**
 * RFC 4760 §7: "The session SHOULD be terminated with the NOTIFICATION message code/subcode
 * indicating 'UPDATE Message Error'/'Optional Attribute Error'." (FRR sends Malformed Attribute
 * List for MP_REACH framing faults; see test/fixtures/messages/update/frr-rfc7606-cases.json.)
 */
function mpError(detail: string): BgpNotificationError {
  return BgpNotificationError.optionalAttributeError(detail);
}
const mpOverrun = (): Error => mpError('MP attribute truncated');

/**
 * The next-hop lengths that let us find the NLRI for a unicast family: IPv4 (4), IPv6 global (16,
 * RFC 2545 §3) or global + link-local (32). RFC 8950 §3 allows an IPv6 next hop for AFI 1, and its
 * capability is generic in <NLRI AFI, next-hop AFI>, so an IPv4 next hop for AFI 2 (as ExaBGP
 * sends, and FRR accepts) is accepted too. VPN lengths (12/24/48) only occur for raw families.
 */
function validNextHopLength(length: number): boolean {
  return length === 4 || length === 16 || length === 32;
}

function decodeMpPrefixes(buf: Uint8Array, start: number, end: number, family: Family, addPath: boolean, what: string): Nlri[] {
  try {
    return decodePrefixes(new Reader(buf, mpOverrun, start, end), family, addPath);
  } catch (e) {
    // RFC 7606 §5.3 / RFC 4760 §7: unparseable NLRI inside an MP attribute → session reset.
    const detail = e instanceof Error ? e.message : String(e);
    throw mpError(`${what}: ${detail}`);
  }
}

export function decodeMpReach(buf: Uint8Array, start: number, length: number, flags: number, ctx: CodecContext): MpReach {
  const end = start + length;
  if (length < MP_REACH_FIXED) throw mpError(`MP_REACH_NLRI of ${length} octets is shorter than its fixed part`);
  const afi = (buf[start]! << 8) | buf[start + 1]!;
  const safi = buf[start + 2]!;
  const nhLength = buf[start + 3]!;
  const nhStart = start + 4;
  if (nhStart + nhLength + 1 > end) throw mpError(`MP_REACH_NLRI next-hop length ${nhLength} overruns the attribute`);
  const family = familyOf(afi, safi);
  if (family && !validNextHopLength(nhLength)) {
    throw mpError(`MP_REACH_NLRI next-hop length ${nhLength} invalid for AFI ${afi} SAFI ${safi}`);
  }
  const nextHop = buf.slice(nhStart, nhStart + nhLength);
  const reserved = buf[nhStart + nhLength]!;
  const nlriStart = nhStart + nhLength + 1;
  if (!family) {
    return { code: AttrType.MpReachNlri, kind: 'mp-reach', flags, afi, safi, nextHop, reserved, nlri: [], rawNlri: buf.slice(nlriStart, end) };
  }
  const nlri = decodeMpPrefixes(buf, nlriStart, end, family, ctx.addPathReceive.has(family), 'MP_REACH_NLRI');
  return { code: AttrType.MpReachNlri, kind: 'mp-reach', flags, afi, safi, nextHop, reserved, nlri };
}

export function decodeMpUnreach(buf: Uint8Array, start: number, length: number, flags: number, ctx: CodecContext): MpUnreach {
  const end = start + length;
  if (length < MP_UNREACH_FIXED) throw mpError(`MP_UNREACH_NLRI of ${length} octets is shorter than AFI/SAFI`);
  const afi = (buf[start]! << 8) | buf[start + 1]!;
  const safi = buf[start + 2]!;
  const family = familyOf(afi, safi);
  if (!family) return { code: AttrType.MpUnreachNlri, kind: 'mp-unreach', flags, afi, safi, withdrawn: [], rawWithdrawn: buf.slice(start + 3, end) };
  const withdrawn = decodeMpPrefixes(buf, start + 3, end, family, ctx.addPathReceive.has(family), 'MP_UNREACH_NLRI');
  return { code: AttrType.MpUnreachNlri, kind: 'mp-unreach', flags, afi, safi, withdrawn };
}

export function encodeMpReachValue(w: Writer, a: MpReach, ctx: CodecContext): void {
  w.u16(a.afi).u8(a.safi).u8(a.nextHop.length).bytes(a.nextHop).u8(a.reserved);
  const family = familyOf(a.afi, a.safi);
  if (family && a.nlri.length > 0) encodePrefixes(w, a.nlri, ctx.addPathSend.has(family));
  else if (a.rawNlri) w.bytes(a.rawNlri);
}

export function encodeMpUnreachValue(w: Writer, a: MpUnreach, ctx: CodecContext): void {
  w.u16(a.afi).u8(a.safi);
  const family = familyOf(a.afi, a.safi);
  if (family && a.withdrawn.length > 0) encodePrefixes(w, a.withdrawn, ctx.addPathSend.has(family));
  else if (a.rawWithdrawn) w.bytes(a.rawWithdrawn);
}
