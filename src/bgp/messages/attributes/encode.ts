// SPDX-License-Identifier: Apache-2.0
// Encodes path attributes (RFC 4271 §4.3) exactly as described by their PathAttribute value:
// the flag octet is written as given, the Extended Length bit is honoured when set (so decoded
// input re-encodes byte-identically) and added when the value exceeds 255 octets. It does not
// decide which attributes to send: see routeAttributes()/attributesForAnnounce().
//
//   +---------------+---------------+----------------------------+----------------------+
//   | Attr. Flags   | Attr. Type    | Length (1, or 2 if Ext.Len)| Value                |
//   +---------------+---------------+----------------------------+----------------------+
import { AS_TRANS, AttrFlag } from '../iana.ts';
import type { CodecContext, PathAttribute } from '../types.ts';
import type { Writer } from '../../../util/reader.ts';
import { encodeAsPathSegments } from './as-path.ts';
import { encodeMpReachValue, encodeMpUnreachValue } from './mp.ts';

const MAX_SHORT_LENGTH = 255;

export function encodeAttribute(w: Writer, attr: PathAttribute, ctx: CodecContext): void {
  const start = w.length;
  const extended = (attr.flags & AttrFlag.ExtendedLength) !== 0;
  writeWithHeader(w, attr, ctx, attr.flags, extended);
  const valueLength = w.length - start - (extended ? 4 : 3);
  if (!extended && valueLength > MAX_SHORT_LENGTH) {
    // Too long for a one-octet length: rewind and write again with Extended Length set.
    w.length = start;
    writeWithHeader(w, attr, ctx, attr.flags | AttrFlag.ExtendedLength, true);
  }
}

export function encodeAttributes(w: Writer, attrs: PathAttribute[], ctx: CodecContext): void {
  for (const a of attrs) encodeAttribute(w, a, ctx);
}

function writeWithHeader(w: Writer, attr: PathAttribute, ctx: CodecContext, flags: number, extended: boolean): void {
  w.u8(flags).u8(attr.code);
  const lengthAt = w.reserve(extended ? 2 : 1);
  writeValue(w, attr, ctx);
  const length = w.length - lengthAt - (extended ? 2 : 1);
  if (extended) {
    if (length > 0xffff) throw new RangeError(`attribute ${attr.code} value of ${length} octets exceeds 65535`);
    w.setU16(lengthAt, length);
  } else if (length <= MAX_SHORT_LENGTH) {
    w.setU8(lengthAt, length);
  }
}

function writeValue(w: Writer, a: PathAttribute, ctx: CodecContext): void {
  switch (a.kind) {
    case 'origin':
      w.u8(a.origin);
      return;
    case 'as-path':
      encodeAsPathSegments(w, a.segments, a.fourOctet);
      return;
    case 'next-hop':
      w.bytes(a.nextHop);
      return;
    case 'med':
      w.u32(a.med);
      return;
    case 'local-pref':
      w.u32(a.localPref);
      return;
    case 'atomic-aggregate':
      return;
    case 'aggregator':
      if (a.fourOctet) w.u32(a.asn);
      else w.u16(a.asn > 0xffff ? AS_TRANS /* RFC 6793 §4.2.2 */ : a.asn);
      w.bytes(a.address);
      return;
    case 'communities':
      for (const c of a.communities) w.u32(c);
      return;
    case 'originator-id':
      w.u32(a.originatorId);
      return;
    case 'cluster-list':
      for (const c of a.clusterIds) w.u32(c);
      return;
    case 'mp-reach':
      encodeMpReachValue(w, a, ctx);
      return;
    case 'mp-unreach':
      encodeMpUnreachValue(w, a, ctx);
      return;
    case 'extended-communities':
      for (const c of a.communities) w.bytes(c);
      return;
    case 'as4-path':
      encodeAsPathSegments(w, a.segments, true);
      return;
    case 'as4-aggregator':
      w.u32(a.asn).bytes(a.address);
      return;
    case 'large-communities':
      for (const [g, l1, l2] of a.communities) w.u32(g).u32(l1).u32(l2);
      return;
    case 'unknown':
      w.bytes(a.value);
      return;
    default: {
      const exhaustive: never = a;
      throw new TypeError(`unhandled attribute ${String(exhaustive)}`);
    }
  }
}
