// SPDX-License-Identifier: Apache-2.0
// RTM_NEWROUTE / RTM_DELROUTE payloads: struct rtmsg (12 bytes) + RTA_* attributes, including
// RTA_MULTIPATH (an array of struct rtnexthop, each 8 bytes + its own attributes) and RTA_VIA.
// Decoding keeps attributes the model does not name in `unknown`; encoding writes only the
// modelled fields. Families other than AF_INET/AF_INET6 (ipmr, MPLS) are not modelled.
import {
  ADDRESS_LENGTH,
  AF,
  NLA_HDRLEN,
  RTA,
  RTMSG_LEN,
  RTNEXTHOP_LEN,
  RT_TABLE,
} from './constants.ts';
import { type RawAttr, attrAddress, attrU32, readAttrs, writeAttr, writeAttrU32 } from './attrs.ts';
import { NetlinkDecodeError } from './errors.ts';
import { LeReader, LeWriter, align4 } from './le.ts';
import type { NextHop, RouteFamily, RouteMessage, Via } from './types.ts';

/** Decodes an rtmsg payload; undefined for families the model does not cover. */
export function decodeRoute(p: LeReader): RouteMessage | undefined {
  const start = p.offset;
  p.need(RTMSG_LEN, 'struct rtmsg');
  const family = p.u8();
  const dstLength = p.u8();
  const srcLength = p.u8();
  const tos = p.u8();
  const table = p.u8();
  const protocol = p.u8();
  const scope = p.u8();
  const routeType = p.u8();
  const flags = p.u32();
  // rtnetlink.h: RTNL_FAMILY_IPMR 128 / IP6MR 129 and AF_MPLS 28 also come back from AF_UNSPEC dumps.
  if (family !== AF.INET && family !== AF.INET6) return undefined;
  const size = ADDRESS_LENGTH[family]!;
  if (dstLength > size * 8 || srcLength > size * 8) {
    throw new NetlinkDecodeError(`rtm_dst_len ${dstLength} / rtm_src_len ${srcLength} too long for family ${family}`, start);
  }
  const route: RouteMessage = {
    type: 'route',
    family,
    dstLength,
    srcLength,
    tos,
    table,
    protocol,
    scope,
    routeType,
    flags,
    unknown: [],
  };
  for (const a of readAttrs(p, 'route')) applyRouteAttr(route, a, size);
  return route;
}

function applyRouteAttr(route: RouteMessage, a: RawAttr, size: number): void {
  switch (a.type) {
    case RTA.DST:
      route.dst = attrAddress(a, size, 'RTA_DST');
      return;
    case RTA.GATEWAY:
      route.gateway = attrAddress(a, size, 'RTA_GATEWAY');
      return;
    case RTA.OIF:
      route.oif = attrU32(a, 'RTA_OIF');
      return;
    case RTA.PRIORITY:
      route.priority = attrU32(a, 'RTA_PRIORITY');
      return;
    case RTA.PREFSRC:
      route.prefsrc = attrAddress(a, size, 'RTA_PREFSRC');
      return;
    case RTA.TABLE:
      // rtnetlink.h: rtm_table is 8 bits; tables above 255 are only in RTA_TABLE, which wins.
      route.table = attrU32(a, 'RTA_TABLE');
      return;
    case RTA.VIA:
      route.via = decodeVia(a);
      return;
    case RTA.MULTIPATH:
      route.multipath = decodeMultipath(a, size);
      return;
    default:
      route.unknown.push({ type: a.type, value: a.value.slice() });
  }
}

/** struct rtvia: __kernel_sa_family_t (u16, host order) then the address. */
function decodeVia(a: RawAttr): Via {
  if (a.value.length < 2) throw new NetlinkDecodeError(`RTA_VIA payload is ${a.value.length} bytes, expected >= 2`, a.offset);
  const family = a.value[0]! | (a.value[1]! << 8);
  const address = a.value.slice(2);
  const expected = ADDRESS_LENGTH[family];
  if (expected !== undefined && address.length !== expected) {
    throw new NetlinkDecodeError(`RTA_VIA address is ${address.length} bytes, family ${family} needs ${expected}`, a.offset);
  }
  return { family, address };
}

/** rtnetlink.h RTNH_OK / RTNH_NEXT over RTA_MULTIPATH's payload. */
function decodeMultipath(a: RawAttr, size: number): NextHop[] {
  const start = a.offset + NLA_HDRLEN;
  const r = new LeReader(a.buf, start, start + a.value.length);
  const hops: NextHop[] = [];
  while (r.remaining > 0) {
    const hopStart = r.offset;
    const len = r.u16('rtnh_len');
    if (len < RTNEXTHOP_LEN) throw new NetlinkDecodeError(`rtnh_len ${len} < ${RTNEXTHOP_LEN}`, hopStart);
    const flags = r.u8('rtnh_flags');
    const hops1 = r.u8('rtnh_hops');
    const oif = r.u32('rtnh_ifindex');
    const hop: NextHop = { oif, flags, weight: hops1 + 1 };
    for (const h of readAttrs(r.sub(len - RTNEXTHOP_LEN, 'rtnexthop attributes'), 'nexthop')) {
      if (h.type === RTA.GATEWAY) hop.gateway = attrAddress(h, size, 'nexthop RTA_GATEWAY');
      else if (h.type === RTA.VIA) hop.via = decodeVia(h);
    }
    r.skipPadding(align4(len) - len);
    hops.push(hop);
  }
  return hops;
}

/** Writes struct rtmsg + attributes. Throws RangeError for values that cannot be encoded. */
export function writeRoute(w: LeWriter, route: RouteMessage): void {
  checkRoute(route);
  writeRouteBody(w, route, route.dst, route.dstLength, route.srcLength, route.tos);
}

/** What a route says besides its destination: a RouteMessage, or one of kernel sync's shared
 *  route forms, written with a destination given apart (no RouteMessage built per route). */
export interface RouteBody {
  readonly family: RouteFamily;
  readonly table: number;
  readonly protocol: number;
  readonly scope: number;
  readonly routeType: number;
  readonly flags: number;
  readonly gateway?: Uint8Array | undefined;
  readonly oif?: number | undefined;
  readonly priority?: number | undefined;
  readonly prefsrc?: Uint8Array | undefined;
  readonly via?: Via | undefined;
  readonly multipath?: readonly NextHop[] | undefined;
}

/** The bytes writeRoute writes for `body` with destination `dst`/`dstLength`. The caller has
 *  checked the values (checkRouteBody): nothing is thrown half-way through a message. */
export function writeRouteBody(w: LeWriter, body: RouteBody, dst: Uint8Array | undefined, dstLength: number, srcLength = 0, tos = 0): void {
  const bigTable = body.table > 0xff;
  w.u8(body.family);
  w.u8(dstLength);
  w.u8(srcLength);
  w.u8(tos);
  // iproute2 convention: a table id that does not fit in 8 bits goes in RTA_TABLE, rtm_table UNSPEC.
  w.u8(bigTable ? RT_TABLE.UNSPEC : body.table);
  w.u8(body.protocol);
  w.u8(body.scope);
  w.u8(body.routeType);
  w.u32(body.flags);
  if (bigTable) writeAttrU32(w, RTA.TABLE, body.table);
  if (dst !== undefined) writeAttr(w, RTA.DST, dst);
  if (body.priority !== undefined) writeAttrU32(w, RTA.PRIORITY, body.priority);
  if (body.prefsrc !== undefined) writeAttr(w, RTA.PREFSRC, body.prefsrc);
  if (body.gateway !== undefined) writeAttr(w, RTA.GATEWAY, body.gateway);
  if (body.via !== undefined) writeVia(w, body.via);
  if (body.oif !== undefined) writeAttrU32(w, RTA.OIF, body.oif);
  if (body.multipath !== undefined) writeMultipath(w, body.multipath);
}

/** A route body's bytes (struct rtmsg and attributes) with a zero destination, and where the
 *  destination's length and address go: the routes that share a body differ only there. */
export interface RouteBodyTemplate {
  readonly bytes: Uint8Array;
  /** Address bytes of the body's family. */
  readonly size: number;
  /** rtm_dst_len's offset (in struct rtmsg). */
  readonly dstLengthAt: number;
  /** RTA_DST's value offset. */
  readonly dstAt: number;
}

/** The template of `body` (checked: throws RangeError as checkRouteBody). */
export function routeBodyTemplate(body: RouteBody): RouteBodyTemplate {
  const size = ADDRESS_LENGTH[body.family];
  if (size === undefined) throw new RangeError(`route family ${body.family} is not AF_INET/AF_INET6`);
  const zero = new Uint8Array(size);
  checkRouteBody(body, zero, 0);
  const w = new LeWriter(128);
  writeRouteBody(w, body, zero, 0);
  // writeRouteBody: struct rtmsg, RTA_TABLE (big tables only), then RTA_DST.
  const dstAt = RTMSG_LEN + (body.table > 0xff ? NLA_HDRLEN + 4 : 0) + NLA_HDRLEN;
  return { bytes: w.finish(), size, dstLengthAt: 1, dstAt };
}

function writeVia(w: LeWriter, via: Via): void {
  const value = new Uint8Array(2 + via.address.length);
  value[0] = via.family & 0xff;
  value[1] = via.family >> 8;
  value.set(via.address, 2);
  writeAttr(w, RTA.VIA, value);
}

function writeMultipath(w: LeWriter, hops: readonly NextHop[]): void {
  // Not NLA_F_NESTED: RTA_MULTIPATH is an array of rtnexthop structs, not nested TLVs.
  const start = w.length;
  w.u16(0);
  w.u16(RTA.MULTIPATH);
  for (const hop of hops) {
    const hopStart = w.length;
    w.u16(0); // rtnh_len, patched below
    w.u8(hop.flags);
    w.u8(hop.weight - 1); // rtnh_hops is weight - 1
    w.u32(hop.oif);
    if (hop.gateway !== undefined) writeAttr(w, RTA.GATEWAY, hop.gateway);
    if (hop.via !== undefined) writeVia(w, hop.via);
    w.patchU16(hopStart, w.length - hopStart);
  }
  w.patchU16(start, w.length - start);
}

/** Throws RangeError for a route the wire format cannot carry (checkRouteBody, and its source length). */
export function checkRoute(route: RouteMessage): void {
  checkRouteBody(route, route.dst, route.dstLength);
  const size = ADDRESS_LENGTH[route.family]!;
  if (route.srcLength > size * 8) throw new RangeError(`srcLength ${route.srcLength} too long for family ${route.family}`);
}

/** Throws RangeError for a route body and destination the wire format cannot carry (an address
 *  of the wrong size for the family, a prefix length too long, a weight out of range). */
export function checkRouteBody(body: RouteBody, dst: Uint8Array | undefined, dstLength: number): void {
  const size = ADDRESS_LENGTH[body.family];
  if (size === undefined) throw new RangeError(`route family ${body.family} is not AF_INET/AF_INET6`);
  if (dstLength > size * 8) throw new RangeError(`dstLength ${dstLength} too long for family ${body.family}`);
  checkAddress(dst, size, 'dst');
  checkAddress(body.gateway, size, 'gateway');
  checkAddress(body.prefsrc, size, 'prefsrc');
  if (body.via !== undefined) checkVia(body.via);
  if (body.multipath === undefined) return; // not `?? []`: an empty array per route checked
  for (const hop of body.multipath) {
    checkAddress(hop.gateway, size, 'nexthop gateway');
    if (hop.via !== undefined) checkVia(hop.via);
    if (!Number.isInteger(hop.weight) || hop.weight < 1 || hop.weight > 256) {
      throw new RangeError(`nexthop weight ${hop.weight} not in 1..256`);
    }
  }
}

function checkAddress(address: Uint8Array | undefined, size: number, what: string): void {
  if (address !== undefined && address.length !== size) {
    throw new RangeError(`${what} is ${address.length} bytes, the route's family needs ${size}`);
  }
}

function checkVia(via: Via): void {
  const size = ADDRESS_LENGTH[via.family];
  if (size !== undefined) checkAddress(via.address, size, 'via address');
}

export function isRouteFamily(family: number): family is RouteFamily {
  return family === AF.INET || family === AF.INET6;
}
