// SPDX-License-Identifier: Apache-2.0
// The UPDATE message (RFC 4271 §4.3): decode with RFC 7606 revised error handling, byte-faithful
// encode, splitting a batch of routes into messages that fit the negotiated size (RFC 8654),
// and the End-of-RIB marker (RFC 4724 §2). Attribute semantics (what the RIB sees) live in
// route-view.ts; attribute wire formats in attributes/.
//
//   +-----------------------------------------------------+
//   |   Withdrawn Routes Length (2 octets)                |
//   |   Withdrawn Routes (variable)                       |
//   |   Total Path Attribute Length (2 octets)            |
//   |   Path Attributes (variable)                        |
//   |   Network Layer Reachability Information (variable) |
//   +-----------------------------------------------------+
import { BgpNotificationError } from './errors.ts';
import { AttrFlag, AttrType, HEADER_LENGTH, MessageType, UpdateErrorSubcode } from './iana.ts';
import { decodePrefixes, encodePrefixes, prefixWireLength } from './nlri.ts';
import { afiSafiOf, familyOf } from './types.ts';
import type { CodecContext, DecodedUpdate, Family, Nlri, PathAttribute, UpdateMessage } from './types.ts';
import { Reader, Writer } from '../../util/reader.ts';
import { decodeAttributes } from './attributes/decode.ts';
import { encodeAttribute, encodeAttributes } from './attributes/encode.ts';
import type { MpReach, MpUnreach } from './attributes/mp.ts';
import { ProblemList } from './attributes/problems.ts';

const IPV4: Family = 'ipv4-unicast';
const networkFieldOverrun = (): Error => BgpNotificationError.invalidNetworkField('prefix overruns the field');

/** Decode an UPDATE body (the bytes after the 19-byte header). Throws only BgpNotificationError. */
export function decodeUpdate(body: Uint8Array, ctx: CodecContext): DecodedUpdate {
  // RFC 4271 §6.3: "If the Withdrawn Routes Length or Total Attribute Length is too large (i.e.,
  // if Withdrawn Routes Length + Total Attribute Length + 23 exceeds the message Length), then
  // the Error Subcode MUST be set to Malformed Attribute List." RFC 7606 keeps this a reset: the
  // NLRI cannot be located.
  if (body.length < 4) throw BgpNotificationError.malformedAttributeList(`UPDATE body of ${body.length} octets`);
  const withdrawnLength = (body[0]! << 8) | body[1]!;
  const withdrawnEnd = 2 + withdrawnLength;
  if (withdrawnEnd + 2 > body.length) throw BgpNotificationError.malformedAttributeList(`Withdrawn Routes Length ${withdrawnLength} overruns the message`);
  const attrLength = (body[withdrawnEnd]! << 8) | body[withdrawnEnd + 1]!;
  const attrStart = withdrawnEnd + 2;
  const attrEnd = attrStart + attrLength;
  if (attrEnd > body.length) throw BgpNotificationError.malformedAttributeList(`Total Path Attribute Length ${attrLength} overruns the message`);

  const addPathV4 = ctx.addPathReceive.has(IPV4);
  // RFC 7606 §5.3: unparseable Withdrawn Routes / NLRI fields → session reset (Invalid Network Field).
  const withdrawn = withdrawnLength === 0 ? [] : decodePrefixes(new Reader(body, networkFieldOverrun, 2, withdrawnEnd), IPV4, addPathV4);
  const problems = new ProblemList();
  const seen = new Uint8Array(256);
  const attributes = decodeAttributes(body, attrStart, attrEnd, ctx, problems, { nlriFieldPresent: attrEnd < body.length, seen });
  const nlri = attrEnd === body.length ? [] : decodePrefixes(new Reader(body, networkFieldOverrun, attrEnd, body.length), IPV4, addPathV4);
  checkMandatoryAttributes(attributes, nlri, seen, problems);
  return { message: { type: 'update', withdrawn, attributes, nlri }, action: problems.action, problems: problems.list };
}

/**
 * RFC 7606 §3 (d): "If any of the well-known mandatory attributes are not present in an UPDATE
 * message, then 'treat-as-withdraw' MUST be used." Only an UPDATE that announces something needs
 * them: End-of-RIB and withdraw-only UPDATEs are fine (the CVE-2023-46753 class of crash).
 * RFC 4760 §3: NEXT_HOP is needed only for NLRI in the NLRI field.
 */
function checkMandatoryAttributes(attributes: PathAttribute[], nlri: Nlri[], seen: Uint8Array, problems: ProblemList): void {
  const announcesMp = attributes.some((a) => a.kind === 'mp-reach' && a.nlri.length > 0);
  if (nlri.length === 0 && !announcesMp) return;
  const required: number[] = [AttrType.Origin, AttrType.AsPath];
  if (nlri.length > 0) required.push(AttrType.NextHop);
  for (const type of required) {
    if (seen[type]) continue; // present but malformed: already reported with its own action
    problems.add('treat-as-withdraw', type, UpdateErrorSubcode.MissingWellKnownAttribute, `missing well-known attribute ${type}`, 'RFC 7606 §3 (d)');
  }
}

/** The whole message including the header. Byte-identical to the input for decoded messages. */
export function encodeUpdate(msg: UpdateMessage, ctx: CodecContext): Uint8Array {
  const w = new Writer(256);
  for (let i = 0; i < 16; i++) w.u8(0xff);
  const lengthAt = w.reserve(2);
  w.u8(MessageType.Update);
  const addPathV4 = ctx.addPathSend.has(IPV4);
  const withdrawnAt = w.reserve(2);
  encodePrefixes(w, msg.withdrawn, addPathV4);
  patchLength(w, withdrawnAt, 'Withdrawn Routes');
  const attrsAt = w.reserve(2);
  encodeAttributes(w, msg.attributes, ctx);
  patchLength(w, attrsAt, 'Total Path Attribute');
  encodePrefixes(w, msg.nlri, addPathV4);
  // RFC 4271 §4.1 / RFC 8654 §4: never send more than the negotiated maximum.
  if (w.length > ctx.maxMessageSize) throw new RangeError(`UPDATE of ${w.length} octets exceeds the maximum message size ${ctx.maxMessageSize}`);
  w.setU16(lengthAt, w.length);
  return w.finish();
}

function patchLength(w: Writer, at: number, what: string): void {
  const length = w.length - at - 2;
  if (length > 0xffff) throw new RangeError(`${what} Length ${length} exceeds 65535`);
  w.setU16(at, length);
}

/** RFC 4724 §2: the End-of-RIB marker for a family. */
export function endOfRib(family: Family, ctx: CodecContext): Uint8Array {
  // "An UPDATE message with no reachable Network Layer Reachability Information (NLRI) and empty
  // withdrawn NLRI is specified as the End-of-RIB marker that can be used by a BGP speaker to
  // indicate to its peer the completion of the initial routing update after the session is
  // established. For the IPv4 unicast address family, the End-of-RIB marker is an UPDATE message
  // with the minimum length. For any other address family, it is an UPDATE message that
  // contains only the MP_UNREACH_NLRI attribute with no withdrawn routes for that <AFI, SAFI>."
  if (family === IPV4) return encodeUpdate({ type: 'update', withdrawn: [], attributes: [], nlri: [] }, ctx);
  const { afi, safi } = afiSafiOf(family);
  const unreach: MpUnreach = { code: AttrType.MpUnreachNlri, kind: 'mp-unreach', flags: AttrFlag.Optional, afi, safi, withdrawn: [] };
  return encodeUpdate({ type: 'update', withdrawn: [], attributes: [unreach], nlri: [] }, ctx);
}

export function isEndOfRib(msg: UpdateMessage): Family | undefined {
  if (msg.withdrawn.length > 0 || msg.nlri.length > 0) return undefined;
  if (msg.attributes.length === 0) return IPV4;
  const only = msg.attributes[0];
  if (msg.attributes.length !== 1 || only?.kind !== 'mp-unreach') return undefined;
  if (only.withdrawn.length > 0 || (only.rawWithdrawn && only.rawWithdrawn.length > 0)) return undefined;
  return familyOf(only.afi, only.safi);
}

// ===== Splitting a batch into messages =====

/** One UPDATE being filled by buildUpdates. */
interface Piece {
  withdrawnV4: Nlri[];
  withdrawnMp: Nlri[];
  nlriField: Nlri[];
  nlriMp: Nlri[];
  size: number;
}

// MP attributes built here always use the 2-octet length (Optional | Extended Length).
const MP_FLAGS = AttrFlag.Optional | AttrFlag.ExtendedLength;
const MP_UNREACH_OVERHEAD = 4 + 3; // header + AFI/SAFI
const EMPTY_UPDATE_SIZE = HEADER_LENGTH + 4;

/**
 * Split into as few UPDATEs as fit ctx.maxMessageSize: withdrawals (v4 field and MP_UNREACH) and
 * announcements (NLRI field or MP_REACH nlri) sharing one attribute list. Attributes repeat in
 * each piece. IPv6 NLRI (and IPv4 NLRI when the attribute list's MP_REACH is AFI 1, RFC 8950)
 * go into a copy of the MP_REACH found in `attributes`; its own nlri is ignored. MP_REACH and
 * MP_UNREACH never share a message, so the MP attribute can always be first (RFC 7606 §5.1).
 */
export function buildUpdates(input: { withdrawn: Nlri[]; attributes: PathAttribute[]; nlri: Nlri[] }, ctx: CodecContext): Uint8Array[] {
  const template = input.attributes.find((a): a is MpReach => a.kind === 'mp-reach');
  const mpFamily = template ? familyOf(template.afi, template.safi) : undefined;
  const others = input.attributes.filter((a) => a.kind !== 'mp-reach' && a.kind !== 'mp-unreach');
  const othersSize = encodedSize(others, ctx);
  const mpReachOverhead = template ? 4 + 5 + template.nextHop.length : 0;
  const withdrawnMpFamily = singleFamily(input.withdrawn.filter((n) => n.family !== IPV4), 'withdrawn');

  const pieces: Piece[] = [];
  let piece = newPiece();
  const fits = (extra: number): boolean => piece.size + extra <= ctx.maxMessageSize;
  const flush = (): void => {
    if (piece.size > EMPTY_UPDATE_SIZE) pieces.push(piece);
    piece = newPiece();
  };
  const place = (cost: (p: Piece) => number, push: (p: Piece) => void): void => {
    if (!fits(cost(piece))) {
      flush();
      if (!fits(cost(piece))) throw new RangeError(`one prefix with its attributes does not fit in ${ctx.maxMessageSize} octets`);
    }
    piece.size += cost(piece);
    push(piece);
  };

  for (const n of input.withdrawn) {
    const size = prefixWireLength(n, ctx.addPathSend.has(n.family));
    if (n.family === IPV4) place(() => size, (p) => p.withdrawnV4.push(n));
    else place((p) => size + (p.withdrawnMp.length === 0 ? MP_UNREACH_OVERHEAD : 0), (p) => p.withdrawnMp.push(n));
  }
  for (const n of input.nlri) {
    const size = prefixWireLength(n, ctx.addPathSend.has(n.family));
    const viaMp = n.family === mpFamily;
    if (!viaMp && n.family !== IPV4) throw new Error(`no MP_REACH_NLRI for ${n.family} in the attribute list`);
    const attrsCost = (p: Piece): number => (p.nlriField.length === 0 && p.nlriMp.length === 0 ? othersSize : 0);
    if (viaMp) {
      if (piece.withdrawnMp.length > 0 && piece.nlriMp.length === 0) flush(); // keep MP_REACH first
      place((p) => size + attrsCost(p) + (p.nlriMp.length === 0 ? mpReachOverhead : 0), (p) => p.nlriMp.push(n));
    } else {
      place((p) => size + attrsCost(p), (p) => p.nlriField.push(n));
    }
  }
  flush();
  return pieces.map((p) => encodeUpdate(pieceMessage(p, template, others, withdrawnMpFamily), ctx));
}

function newPiece(): Piece {
  return { withdrawnV4: [], withdrawnMp: [], nlriField: [], nlriMp: [], size: EMPTY_UPDATE_SIZE };
}

function singleFamily(prefixes: Nlri[], what: string): Family | undefined {
  const first = prefixes[0]?.family;
  if (prefixes.some((n) => n.family !== first)) throw new Error(`${what}: more than one MP family in one batch`);
  return first;
}

function encodedSize(attrs: PathAttribute[], ctx: CodecContext): number {
  const w = new Writer(256);
  for (const a of attrs) encodeAttribute(w, a, ctx);
  return w.length;
}

function pieceMessage(p: Piece, template: MpReach | undefined, others: PathAttribute[], withdrawnFamily: Family | undefined): UpdateMessage {
  const attributes: PathAttribute[] = [];
  if (p.withdrawnMp.length > 0 && withdrawnFamily) {
    const { afi, safi } = afiSafiOf(withdrawnFamily);
    attributes.push({ code: AttrType.MpUnreachNlri, kind: 'mp-unreach', flags: MP_FLAGS, afi, safi, withdrawn: p.withdrawnMp });
  }
  if (p.nlriMp.length > 0 && template) {
    attributes.push({ code: AttrType.MpReachNlri, kind: 'mp-reach', flags: MP_FLAGS, afi: template.afi, safi: template.safi, nextHop: template.nextHop, reserved: 0, nlri: p.nlriMp });
  }
  if (p.nlriMp.length > 0 || p.nlriField.length > 0) attributes.push(...others);
  return { type: 'update', withdrawn: p.withdrawnV4, attributes, nlri: p.nlriField };
}
