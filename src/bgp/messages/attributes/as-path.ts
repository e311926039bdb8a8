// SPDX-License-Identifier: Apache-2.0
// AS_PATH and AS4_PATH segment lists (RFC 4271 §4.3 / §5.1.2, RFC 5065 §3, RFC 6793 §4):
// decode/encode with 2- or 4-octet ASNs, the RFC 6793 §4.2.3 reconstruction of the real path
// from AS_PATH + AS4_PATH, and the text form. No policy (loop detection, first-AS check).
//
//   +-----------------+-----------------+-------------------------------+
//   | segment type(1) | segment len (1) |  len × ASN (2 or 4 octets)     |
//   +-----------------+-----------------+-------------------------------+
import { AS_TRANS, AsPathSegmentType } from '../iana.ts';
import type { Writer } from '../../../util/reader.ts';
import type { AsPathSegment } from '../types.ts';

const MAX_SEGMENT_ASNS = 255; // the segment length is one octet

/**
 * Decode segments from buf[start, end). Returns the segments, or a reason string when malformed
 * (RFC 7606 §7.2: unrecognized segment type, zero segment length, segment overrun, trailing bytes;
 * RFC 7607 §2: AS 0). No exceptions: the caller turns the reason into the right RFC 7606 action.
 */
export function decodeAsPathSegments(buf: Uint8Array, start: number, end: number, asnSize: 2 | 4): AsPathSegment[] | string {
  const segments: AsPathSegment[] = [];
  let off = start;
  while (off < end) {
    if (end - off < 2) return 'truncated segment header';
    const type = buf[off]!;
    const count = buf[off + 1]!;
    off += 2;
    if (type < AsPathSegmentType.AsSet || type > AsPathSegmentType.AsConfedSet) return `unknown segment type ${type}`;
    if (count === 0) return 'zero-length segment';
    if (off + count * asnSize > end) return `segment of ${count} ASNs overruns the attribute`;
    const asns = new Array<number>(count);
    for (let i = 0; i < count; i++) {
      const asn =
        asnSize === 4
          ? ((buf[off]! << 24) | (buf[off + 1]! << 16) | (buf[off + 2]! << 8) | buf[off + 3]!) >>> 0
          : (buf[off]! << 8) | buf[off + 1]!;
      // RFC 7607 §2: "An UPDATE message that has an AS number of zero in the AS_PATH attribute
      // MUST be considered as malformed".
      if (asn === 0) return 'AS number 0 in path';
      asns[i] = asn;
      off += asnSize;
    }
    segments.push({ type, asns });
  }
  return segments;
}

/** Encode segments; segments longer than 255 ASNs are split (same type) as the wire requires. */
export function encodeAsPathSegments(w: Writer, segments: AsPathSegment[], fourOctet: boolean): void {
  for (const seg of segments) {
    let from = 0;
    do {
      const to = Math.min(seg.asns.length, from + MAX_SEGMENT_ASNS);
      w.u8(seg.type).u8(to - from);
      for (let i = from; i < to; i++) {
        const asn = seg.asns[i]!;
        if (fourOctet) w.u32(asn);
        else w.u16(asn > 0xffff ? AS_TRANS : asn); // RFC 6793 §4.2.2: AS_TRANS stands in for 4-octet ASNs
      }
      from = to;
    } while (from < seg.asns.length);
  }
}

/** True when some ASN needs 4 octets (so an OLD peer must also get AS4_PATH). */
export function needsFourOctets(segments: AsPathSegment[]): boolean {
  return segments.some((s) => s.asns.some((a) => a > 0xffff));
}

/**
 * RFC 6793 §4.2.3 path length for reconciliation: "AS_SET ... counted as 1", confederation
 * segments are not counted.
 */
export function pathLengthForMerge(segments: AsPathSegment[]): number {
  let n = 0;
  for (const s of segments) {
    if (s.type === AsPathSegmentType.AsSequence) n += s.asns.length;
    else if (s.type === AsPathSegmentType.AsSet) n += 1;
  }
  return n;
}

/**
 * RFC 6793 §4.2.3: "if the number of AS numbers in the AS_PATH attribute is less than the number
 * of AS numbers in the AS4_PATH attribute, then the AS4_PATH attribute SHALL be ignored, and the
 * AS_PATH attribute SHALL be taken as the AS path information". Otherwise take the leading
 * (difference) ASNs from AS_PATH and append AS4_PATH. RFC 6793 §6: confederation segments in
 * AS4_PATH are discarded first.
 */
export function mergeAs4Path(asPath: AsPathSegment[], as4Path: AsPathSegment[]): AsPathSegment[] {
  const as4 = as4Path.filter((s) => s.type === AsPathSegmentType.AsSequence || s.type === AsPathSegmentType.AsSet);
  const extra = pathLengthForMerge(asPath) - pathLengthForMerge(as4);
  if (extra < 0) return asPath;
  const lead: AsPathSegment[] = [];
  let need = extra;
  for (const s of asPath) {
    if (need === 0 && s.type !== AsPathSegmentType.AsConfedSequence && s.type !== AsPathSegmentType.AsConfedSet) break;
    if (s.type === AsPathSegmentType.AsSequence) {
      const take = Math.min(need, s.asns.length);
      if (take === 0) break;
      lead.push({ type: s.type, asns: s.asns.slice(0, take) });
      need -= take;
    } else if (s.type === AsPathSegmentType.AsSet) {
      if (need === 0) break;
      lead.push({ type: s.type, asns: s.asns.slice() });
      need -= 1;
    } else {
      lead.push({ type: s.type, asns: s.asns.slice() }); // confederation segments count 0
    }
  }
  const merged = [...lead, ...as4.map((s) => ({ type: s.type, asns: s.asns.slice() }))];
  // Join the seam when both sides are AS_SEQUENCE pieces so the result reads as one path.
  return joinAdjacentSequences(merged);
}

function joinAdjacentSequences(segments: AsPathSegment[]): AsPathSegment[] {
  const out: AsPathSegment[] = [];
  for (const s of segments) {
    const last = out[out.length - 1];
    if (last && last.type === AsPathSegmentType.AsSequence && s.type === AsPathSegmentType.AsSequence) last.asns.push(...s.asns);
    else out.push({ type: s.type, asns: s.asns.slice() });
  }
  return out;
}

/** BIRD-style text: "65001 65002 {65003 65004}", confed sequence "(65010 65011)", confed set "[65012]". */
export function asPathToString(segments: AsPathSegment[]): string {
  const parts: string[] = [];
  for (const s of segments) {
    const list = s.asns.join(' ');
    switch (s.type) {
      case AsPathSegmentType.AsSequence:
        if (list) parts.push(list);
        break;
      case AsPathSegmentType.AsSet:
        parts.push(`{${list}}`);
        break;
      case AsPathSegmentType.AsConfedSequence:
        parts.push(`(${list})`);
        break;
      case AsPathSegmentType.AsConfedSet:
        parts.push(`[${list}]`);
        break;
      default:
        parts.push(`?${s.type}:${list}`);
    }
  }
  return parts.join(' ');
}

/** A plain AS_SEQUENCE (empty path → no segments, as iBGP originates). */
export function asPathFromNumbers(asns: number[]): AsPathSegment[] {
  return asns.length === 0 ? [] : [{ type: AsPathSegmentType.AsSequence, asns: asns.slice() }];
}
