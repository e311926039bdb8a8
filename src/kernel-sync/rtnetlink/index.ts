// SPDX-License-Identifier: Apache-2.0
// Public surface of the rtnetlink codec: pure TypeScript, no sockets. The native addon
// (src/native/) moves bytes; this module turns them into typed events and back.
export * from './constants.ts';
export { NetlinkDecodeError } from './errors.ts';
export { decodeNetlink } from './decode.ts';
export { type DumpKind, type RouteOp, RouteRequests, appendRouteRequest, concatMessages, encodeDumpRequest, encodeKernelMessage, encodeRouteRequest } from './encode.ts';
export { LeWriter } from './le.ts';
export { type RouteBody, checkRouteBody } from './route.ts';
export { type NlHeader, encodeDone, encodeError, splitMessages } from './nlmsg.ts';
export type { AddrMessage, LinkMessage, NetlinkEvent, NextHop, RouteFamily, RouteMessage, RtMessage, UnknownAttribute, Via } from './types.ts';
