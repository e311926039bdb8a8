// SPDX-License-Identifier: Apache-2.0
// Decodes the Path Attributes field of an UPDATE (RFC 4271 §4.3, §5, §6.3) under the revised
// error handling of RFC 7606. Each problem becomes a value in a ProblemList (treat-as-withdraw,
// attribute-discard); only the cases RFC 7606 leaves as session reset throw BgpNotificationError.
// An attribute whose problem is treat-as-withdraw or attribute-discard is left out of the
// returned list, except:
//   - MP_REACH/MP_UNREACH, always returned (their NLRI must still be withdrawn), and
//   - a well-formed AS4_PATH / AS4_AGGREGATOR between NEW speakers: RFC 6793 §6 says discard;
//     Tern keeps it in the list only for byte-identical re-encoding, and routeAttributes()
//     ignores it when ctx.as4 (it is never passed on).
// Attribute order is never assumed (AS4_PATH may precede AS_PATH; MP_REACH may come last).
// Hot path: one pass over the bytes, no Reader per plain attribute, no closures.
import { BgpNotificationError } from '../errors.ts';
import { AttrFlag, AttrType, Origin, UpdateErrorSubcode } from '../iana.ts';
import type { CodecContext, PathAttribute } from '../types.ts';
import { decodeAsPathSegments } from './as-path.ts';
import { decodeMpReach, decodeMpUnreach } from './mp.ts';
import type { ProblemList } from './problems.ts';

const WELL_KNOWN = AttrFlag.Transitive; // O=0 T=1
const OPTIONAL_TRANSITIVE = AttrFlag.Optional | AttrFlag.Transitive;
const OPTIONAL_NON_TRANSITIVE = AttrFlag.Optional;
const NOT_KNOWN = 0xff;

/** The Optional/Transitive bits each attribute Tern implements must carry (RFC 4271 §5, RFCs per attribute). */
const EXPECTED_FLAGS = new Uint8Array(256).fill(NOT_KNOWN);
EXPECTED_FLAGS[AttrType.Origin] = WELL_KNOWN;
EXPECTED_FLAGS[AttrType.AsPath] = WELL_KNOWN;
EXPECTED_FLAGS[AttrType.NextHop] = WELL_KNOWN;
EXPECTED_FLAGS[AttrType.MultiExitDisc] = OPTIONAL_NON_TRANSITIVE;
EXPECTED_FLAGS[AttrType.LocalPref] = WELL_KNOWN;
EXPECTED_FLAGS[AttrType.AtomicAggregate] = WELL_KNOWN;
EXPECTED_FLAGS[AttrType.Aggregator] = OPTIONAL_TRANSITIVE;
EXPECTED_FLAGS[AttrType.Communities] = OPTIONAL_TRANSITIVE; // RFC 1997
EXPECTED_FLAGS[AttrType.OriginatorId] = OPTIONAL_NON_TRANSITIVE; // RFC 4456 §8
EXPECTED_FLAGS[AttrType.ClusterList] = OPTIONAL_NON_TRANSITIVE; // RFC 4456 §8
EXPECTED_FLAGS[AttrType.MpReachNlri] = OPTIONAL_NON_TRANSITIVE; // RFC 4760 §3
EXPECTED_FLAGS[AttrType.MpUnreachNlri] = OPTIONAL_NON_TRANSITIVE; // RFC 4760 §4
EXPECTED_FLAGS[AttrType.ExtendedCommunities] = OPTIONAL_TRANSITIVE; // RFC 4360 §2
EXPECTED_FLAGS[AttrType.As4Path] = OPTIONAL_TRANSITIVE; // RFC 6793 §3
EXPECTED_FLAGS[AttrType.As4Aggregator] = OPTIONAL_TRANSITIVE; // RFC 6793 §3
EXPECTED_FLAGS[AttrType.LargeCommunity] = OPTIONAL_TRANSITIVE; // RFC 8092 §3

export function isImplementedAttribute(type: number): boolean {
  return EXPECTED_FLAGS[type] !== NOT_KNOWN;
}

/** What the caller knows about the rest of the message, which some checks depend on. */
export interface AttributeScope {
  /** The NLRI field (IPv4 unicast, outside MP_REACH) is non-empty. */
  nlriFieldPresent: boolean;
  /** seen[type] = 1 once an attribute of that type was met (even if then discarded). */
  seen: Uint8Array;
}

const u32At = (b: Uint8Array, o: number): number => ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;

/**
 * Decode buf[start, end) as path attributes. RFC 7606 §4: when an attribute header or length
 * overruns the field, "the 'treat-as-withdraw' approach MUST be used ... and the Total
 * Attribute Length MUST be relied upon to enable the beginning of the NLRI field to be located".
 */
export function decodeAttributes(
  buf: Uint8Array,
  start: number,
  end: number,
  ctx: CodecContext,
  problems: ProblemList,
  scope: AttributeScope,
): PathAttribute[] {
  const attrs: PathAttribute[] = [];
  let off = start;
  while (off < end) {
    const flags = buf[off]!;
    const headerLength = flags & AttrFlag.ExtendedLength ? 4 : 3;
    if (end - off < headerLength) {
      problems.add('treat-as-withdraw', undefined, UpdateErrorSubcode.MalformedAttributeList, `${end - off} octets left, too few for an attribute header`, 'RFC 7606 §4');
      break;
    }
    const type = buf[off + 1]!;
    const length = headerLength === 4 ? (buf[off + 2]! << 8) | buf[off + 3]! : buf[off + 2]!;
    const valueStart = off + headerLength;
    if (valueStart + length > end) {
      // The MP attributes carry NLRI: a truncated one cannot be withdrawn (RFC 7606 §5.3).
      if (type === AttrType.MpReachNlri || type === AttrType.MpUnreachNlri) {
        throw BgpNotificationError.malformedAttributeList(`attribute ${type} of ${length} octets overruns the Path Attributes field`);
      }
      problems.add('treat-as-withdraw', type, UpdateErrorSubcode.MalformedAttributeList, `attribute ${type} of ${length} octets overruns the Path Attributes field`, 'RFC 7606 §4');
      break;
    }
    off = valueStart + length;
    if (scope.seen[type]) {
      // RFC 7606 §3 (g): MP_REACH/MP_UNREACH more than once → "Malformed Attribute List";
      // any other duplicate: "all the occurrences of the attribute other than the first one
      // SHALL be discarded and the UPDATE message will continue to be processed".
      if (type === AttrType.MpReachNlri || type === AttrType.MpUnreachNlri) {
        throw BgpNotificationError.malformedAttributeList(`attribute ${type} appears more than once`);
      }
      problems.add('attribute-discard', type, UpdateErrorSubcode.MalformedAttributeList, 'duplicate attribute', 'RFC 7606 §3 (g)');
      continue;
    }
    scope.seen[type] = 1;
    const attr = decodeOne(buf, flags, type, valueStart, length, ctx, problems, scope);
    if (attr) attrs.push(attr);
  }
  return attrs;
}

/** RFC 7606 §3 (c): O/T bits in conflict → treat-as-withdraw; RFC 4271 §4.3: Partial only on optional transitive. */
function flagsConflict(flags: number, expected: number): boolean {
  if ((flags & OPTIONAL_TRANSITIVE) !== expected) return true;
  return (flags & AttrFlag.Partial) !== 0 && expected !== OPTIONAL_TRANSITIVE;
}

function decodeOne(
  buf: Uint8Array,
  flags: number,
  type: number,
  at: number,
  length: number,
  ctx: CodecContext,
  problems: ProblemList,
  scope: AttributeScope,
): PathAttribute | undefined {
  const expected = EXPECTED_FLAGS[type]!;
  if (expected === NOT_KNOWN) return decodeUnknown(buf, flags, type, at, length);
  // RFC 7606 §7.5: "If the LOCAL_PREF attribute is received from an external neighbor, it SHALL
  // be discarded using the approach of 'attribute discard'" — whatever its shape.
  if (type === AttrType.LocalPref && ctx.peerType === 'ebgp') {
    problems.add('attribute-discard', type, UpdateErrorSubcode.Unspecific, 'LOCAL_PREF from an external peer', 'RFC 7606 §7.5');
    return undefined;
  }
  if (flagsConflict(flags, expected)) {
    const reason = `flags 0x${flags.toString(16)} conflict with 0x${expected.toString(16)}`;
    problems.add('treat-as-withdraw', type, UpdateErrorSubcode.AttributeFlagsError, reason, 'RFC 7606 §3 (c)');
    // The MP attributes are still decoded: their NLRI is what must be withdrawn.
    if (type === AttrType.MpReachNlri) return decodeMpReach(buf, at, length, flags, ctx);
    if (type === AttrType.MpUnreachNlri) return decodeMpUnreach(buf, at, length, flags, ctx);
    return undefined;
  }
  switch (type) {
    case AttrType.Origin:
      return decodeOrigin(buf, flags, at, length, problems);
    case AttrType.AsPath:
      return decodeAsPath(buf, flags, at, length, ctx, problems);
    case AttrType.NextHop:
      return decodeNextHop(buf, flags, at, length, problems, scope, ctx);
    case AttrType.MultiExitDisc:
      if (length !== 4) return withdrawLength(problems, type, length, 'RFC 7606 §7.4');
      return { code: AttrType.MultiExitDisc, kind: 'med', flags, med: u32At(buf, at) };
    case AttrType.LocalPref: // only iBGP reaches here
      if (length !== 4) return withdrawLength(problems, type, length, 'RFC 7606 §7.5');
      return { code: AttrType.LocalPref, kind: 'local-pref', flags, localPref: u32At(buf, at) };
    case AttrType.AtomicAggregate:
      if (length !== 0) return discardLength(problems, type, length, 'RFC 7606 §7.6');
      return { code: AttrType.AtomicAggregate, kind: 'atomic-aggregate', flags };
    case AttrType.Aggregator:
      return decodeAggregator(buf, flags, at, length, ctx, problems);
    case AttrType.Communities:
      if (length === 0 || length % 4 !== 0) return withdrawLength(problems, type, length, 'RFC 7606 §7.8');
      return { code: AttrType.Communities, kind: 'communities', flags, communities: u32List(buf, at, length) };
    case AttrType.OriginatorId:
      if (fromExternal(ctx, problems, type, 'RFC 7606 §7.9')) return undefined;
      if (length !== 4) return withdrawLength(problems, type, length, 'RFC 7606 §7.9');
      return { code: AttrType.OriginatorId, kind: 'originator-id', flags, originatorId: u32At(buf, at) };
    case AttrType.ClusterList:
      if (fromExternal(ctx, problems, type, 'RFC 7606 §7.10')) return undefined;
      if (length === 0 || length % 4 !== 0) return withdrawLength(problems, type, length, 'RFC 7606 §7.10');
      return { code: AttrType.ClusterList, kind: 'cluster-list', flags, clusterIds: u32List(buf, at, length) };
    case AttrType.MpReachNlri:
      return decodeMpReach(buf, at, length, flags, ctx);
    case AttrType.MpUnreachNlri:
      return decodeMpUnreach(buf, at, length, flags, ctx);
    case AttrType.ExtendedCommunities:
      return decodeExtendedCommunities(buf, flags, at, length, problems);
    case AttrType.As4Path:
      return decodeAs4Path(buf, flags, at, length, ctx, problems);
    case AttrType.As4Aggregator:
      return decodeAs4Aggregator(buf, flags, at, length, ctx, problems);
    case AttrType.LargeCommunity:
      return decodeLargeCommunities(buf, flags, at, length, problems);
    default:
      return decodeUnknown(buf, flags, type, at, length);
  }
}

function withdrawLength(problems: ProblemList, type: number, length: number, rule: string): undefined {
  problems.add('treat-as-withdraw', type, UpdateErrorSubcode.AttributeLengthError, `length ${length} is invalid`, rule);
  return undefined;
}

function discardLength(problems: ProblemList, type: number, length: number, rule: string): undefined {
  problems.add('attribute-discard', type, UpdateErrorSubcode.AttributeLengthError, `length ${length} is invalid`, rule);
  return undefined;
}

/** RFC 7606 §7.9/§7.10: ORIGINATOR_ID and CLUSTER_LIST from an external neighbor are discarded. */
function fromExternal(ctx: CodecContext, problems: ProblemList, type: number, rule: string): boolean {
  if (ctx.peerType !== 'ebgp') return false;
  problems.add('attribute-discard', type, UpdateErrorSubcode.OptionalAttributeError, 'route-reflection attribute from an external peer', rule);
  return true;
}

function u32List(buf: Uint8Array, at: number, length: number): number[] {
  const out = new Array<number>(length >> 2);
  for (let i = 0; i < out.length; i++) out[i] = u32At(buf, at + i * 4);
  return out;
}

function decodeUnknown(buf: Uint8Array, flags: number, type: number, at: number, length: number): PathAttribute {
  // RFC 4271 §6.3: "If any of the well-known mandatory attributes are not recognized, then the
  // Error Subcode MUST be set to Unrecognized Well-known Attribute. The Data field MUST contain
  // the unrecognized attribute (type, length, and value)." RFC 7606 keeps this a session reset.
  if ((flags & AttrFlag.Optional) === 0) {
    const headerLength = flags & AttrFlag.ExtendedLength ? 4 : 3;
    const data = buf.slice(at - headerLength, at + length);
    throw BgpNotificationError.update(UpdateErrorSubcode.UnrecognizedWellKnownAttribute, `unrecognized well-known attribute ${type}`, data);
  }
  // Optional: kept (transitive ones are passed on with Partial set, RFC 4271 §5; non-transitive
  // ones are dropped by routeAttributes(), "quietly ignored").
  return { code: type, kind: 'unknown', flags, value: buf.slice(at, at + length) };
}

function decodeOrigin(buf: Uint8Array, flags: number, at: number, length: number, problems: ProblemList): PathAttribute | undefined {
  // RFC 7606 §7.1: "if the ORIGIN attribute has an undefined value, or if its length is not 1,
  // then it SHALL be considered malformed and 'treat-as-withdraw' SHALL be used".
  if (length !== 1) return withdrawLength(problems, AttrType.Origin, length, 'RFC 7606 §7.1');
  const origin = buf[at]!;
  if (origin > Origin.Incomplete) {
    problems.add('treat-as-withdraw', AttrType.Origin, UpdateErrorSubcode.InvalidOriginAttribute, `undefined ORIGIN ${origin}`, 'RFC 7606 §7.1');
    return undefined;
  }
  return { code: AttrType.Origin, kind: 'origin', flags, origin };
}

function decodeAsPath(buf: Uint8Array, flags: number, at: number, length: number, ctx: CodecContext, problems: ProblemList): PathAttribute | undefined {
  // RFC 6793 §4: between NEW speakers AS_PATH carries 4-octet ASNs, otherwise 2.
  const segments = decodeAsPathSegments(buf, at, at + length, ctx.as4 ? 4 : 2);
  if (typeof segments === 'string') {
    // RFC 7606 §7.2: a malformed AS_PATH → "treat-as-withdraw"; RFC 7607 §2 for AS 0.
    const rule = segments.startsWith('AS number 0') ? 'RFC 7607 §2' : 'RFC 7606 §7.2';
    problems.add('treat-as-withdraw', AttrType.AsPath, UpdateErrorSubcode.MalformedAsPath, segments, rule);
    return undefined;
  }
  return { code: AttrType.AsPath, kind: 'as-path', flags, segments, fourOctet: ctx.as4 };
}

/**
 * 0.0.0.0/8, 127.0.0.0/8, 224.0.0.0/4 (multicast) and 240.0.0.0/4 (reserved, broadcast), as FRR.
 * Loopback is a usable next hop only on a session that itself runs over loopback (speakers on
 * one host, as in `tern demo`): ctx.loopbackNextHop says so.
 */
function isMartianIpv4(b: Uint8Array, at: number, ctx: CodecContext): boolean {
  const first = b[at]!;
  return first === 0 || (first === 127 && !ctx.loopbackNextHop) || first >= 224;
}

function decodeNextHop(buf: Uint8Array, flags: number, at: number, length: number, problems: ProblemList, scope: AttributeScope, ctx: CodecContext): PathAttribute | undefined {
  // RFC 4760 §3: an UPDATE with no NLRI outside MP_REACH "SHOULD NOT carry the NEXT_HOP
  // attribute ... the BGP speaker that receives the message SHOULD ignore this attribute" —
  // so its faults only discard it then.
  if (length !== 4) {
    if (!scope.nlriFieldPresent) return discardLength(problems, AttrType.NextHop, length, 'RFC 4760 §3');
    return withdrawLength(problems, AttrType.NextHop, length, 'RFC 7606 §7.3');
  }
  // RFC 4271 §6.3 / RFC 7606 §7.3: a syntactically correct but semantically invalid NEXT_HOP
  // (not a host address) → treat-as-withdraw. Whether it is our own address is the RIB's call.
  if (scope.nlriFieldPresent && isMartianIpv4(buf, at, ctx)) {
    problems.add('treat-as-withdraw', AttrType.NextHop, UpdateErrorSubcode.InvalidNextHopAttribute, 'martian NEXT_HOP', 'RFC 7606 §7.3');
    return undefined;
  }
  return { code: AttrType.NextHop, kind: 'next-hop', flags, nextHop: buf.slice(at, at + 4) };
}

function decodeAggregator(buf: Uint8Array, flags: number, at: number, length: number, ctx: CodecContext, problems: ProblemList): PathAttribute | undefined {
  // RFC 7606 §7.7: "the error handling of [RFC4271] is revised so that an AGGREGATOR attribute
  // with a length other than 6 (8 with 4-octet ASNs) ... SHALL be discarded (attribute discard)".
  const asnSize = ctx.as4 ? 4 : 2;
  if (length !== asnSize + 4) return discardLength(problems, AttrType.Aggregator, length, 'RFC 7606 §7.7');
  const asn = asnSize === 4 ? u32At(buf, at) : (buf[at]! << 8) | buf[at + 1]!;
  if (asn === 0) {
    // RFC 7607 §2: AGGREGATOR with AS 0 is handled with "attribute discard".
    problems.add('attribute-discard', AttrType.Aggregator, UpdateErrorSubcode.OptionalAttributeError, 'AGGREGATOR with AS 0', 'RFC 7607 §2');
    return undefined;
  }
  return { code: AttrType.Aggregator, kind: 'aggregator', flags, asn, address: buf.slice(at + asnSize, at + asnSize + 4), fourOctet: ctx.as4 };
}

function decodeExtendedCommunities(buf: Uint8Array, flags: number, at: number, length: number, problems: ProblemList): PathAttribute | undefined {
  // RFC 7606 §7.14: length not a non-zero multiple of 8 → treat-as-withdraw (FRR: zero too).
  if (length === 0 || length % 8 !== 0) return withdrawLength(problems, AttrType.ExtendedCommunities, length, 'RFC 7606 §7.14');
  const communities: Uint8Array[] = [];
  for (let o = at; o < at + length; o += 8) communities.push(buf.slice(o, o + 8));
  return { code: AttrType.ExtendedCommunities, kind: 'extended-communities', flags, communities };
}

function decodeLargeCommunities(buf: Uint8Array, flags: number, at: number, length: number, problems: ProblemList): PathAttribute | undefined {
  // RFC 8092 §5: "a Large Communities attribute [with] a length of zero or a length that is not
  // a multiple of 12 ... MUST be treated as malformed and the 'treat-as-withdraw' approach used".
  if (length === 0 || length % 12 !== 0) return withdrawLength(problems, AttrType.LargeCommunity, length, 'RFC 8092 §5');
  const communities: [number, number, number][] = [];
  for (let o = at; o < at + length; o += 12) communities.push([u32At(buf, o), u32At(buf, o + 4), u32At(buf, o + 8)]);
  return { code: AttrType.LargeCommunity, kind: 'large-communities', flags, communities };
}

function decodeAs4Path(buf: Uint8Array, flags: number, at: number, length: number, ctx: CodecContext, problems: ProblemList): PathAttribute | undefined {
  const segments = length < 6 ? `length ${length} cannot carry an AS number` : decodeAsPathSegments(buf, at, at + length, 4);
  if (typeof segments === 'string') {
    // RFC 6793 §6: "the 'attribute discard' approach is chosen to handle a malformed AS4_PATH".
    problems.add('attribute-discard', AttrType.As4Path, UpdateErrorSubcode.OptionalAttributeError, segments, 'RFC 6793 §6');
    return undefined;
  }
  noteAs4BetweenNewSpeakers(ctx, problems, AttrType.As4Path);
  return { code: AttrType.As4Path, kind: 'as4-path', flags, segments };
}

function decodeAs4Aggregator(buf: Uint8Array, flags: number, at: number, length: number, ctx: CodecContext, problems: ProblemList): PathAttribute | undefined {
  // RFC 6793 §6: malformed AS4_AGGREGATOR → attribute discard; RFC 7607 §2 for AS 0.
  if (length !== 8) return discardLength(problems, AttrType.As4Aggregator, length, 'RFC 6793 §6');
  const asn = u32At(buf, at);
  if (asn === 0) {
    problems.add('attribute-discard', AttrType.As4Aggregator, UpdateErrorSubcode.OptionalAttributeError, 'AS4_AGGREGATOR with AS 0', 'RFC 7607 §2');
    return undefined;
  }
  noteAs4BetweenNewSpeakers(ctx, problems, AttrType.As4Aggregator);
  return { code: AttrType.As4Aggregator, kind: 'as4-aggregator', flags, asn, address: buf.slice(at + 4, at + 8) };
}

/**
 * RFC 6793 §6: "A NEW BGP speaker that receives the AS4_PATH attribute or the AS4_AGGREGATOR
 * attribute in an UPDATE message from another NEW BGP speaker MUST discard the path attribute
 * and continue processing the UPDATE message. This case SHOULD be logged locally".
 */
function noteAs4BetweenNewSpeakers(ctx: CodecContext, problems: ProblemList, type: number): void {
  if (!ctx.as4) return;
  problems.add('attribute-discard', type, UpdateErrorSubcode.OptionalAttributeError, 'AS4 attribute between 4-octet AS speakers (ignored)', 'RFC 6793 §6');
}
