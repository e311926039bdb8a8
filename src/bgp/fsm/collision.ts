// SPDX-License-Identifier: Apache-2.0
// Connection collision (RFC 4271 §6.8, RFC 6286 §2.3) between the (at most two) connections a
// peer can have at once: one we initiated and one the peer initiated. Pure decisions over a
// view of the connections; the session driver carries them out by feeding OpenCollisionDump to
// the losing connection's FSM (which sends Cease / Connection Collision Resolution) or by
// refusing a new socket. Nothing here holds sockets or state of its own.
import { CeaseSubcode } from '../messages/iana.ts';
import type { NotificationMessage } from '../messages/types.ts';
import { ceaseNotification } from './timers.ts';
import type { FsmState } from './types.ts';

export type Direction = 'outgoing' | 'incoming';

export interface ConnectionView {
  id: number;
  /** Who initiated the TCP connection: us (outgoing) or the peer (incoming). */
  direction: Direction;
  state: FsmState;
}

export interface Speaker {
  /** BGP Identifier as an unsigned 32-bit number. */
  bgpId: number;
  asn: number;
}

/** RFC 4486 §4: "Connection Rejected" for a connection we refuse after accepting it. */
export const CONNECTION_REJECTED: NotificationMessage = ceaseNotification(CeaseSubcode.ConnectionRejected);

// ===== A new incoming TCP connection =====
export type Admission =
  | { kind: 'reject'; reason: string; notification?: NotificationMessage }
  | { kind: 'attach'; id: number } // hand the socket to this waiting (Active) connection
  | { kind: 'second' }; // run it as a second connection; the OPENs will decide

/**
 * What to do with a TCP connection the peer just opened.
 * - RFC 4271 §6.8: "a connection collision with an existing BGP connection that is in the
 *   Established state causes closing of the newly created connection" (with Cease / Connection
 *   Rejected, RFC 4486 §4).
 * - RFC 4271 §8.2.2 Idle: "refuses all incoming BGP connections" (stopped, or backing off).
 * - A connection waiting in Active takes the socket; otherwise (an outgoing connection is in
 *   progress or in OpenSent/OpenConfirm) both run until an OPEN arrives, at most two at once.
 */
export function admitIncoming(conns: readonly ConnectionView[]): Admission {
  if (conns.some((c) => c.state === 'Established')) {
    return { kind: 'reject', reason: 'session already established', notification: CONNECTION_REJECTED };
  }
  const live = conns.filter((c) => c.state !== 'Idle');
  if (live.length === 0) return { kind: 'reject', reason: 'session idle' };
  const waiting = live.find((c) => c.state === 'Active');
  if (waiting) return { kind: 'attach', id: waiting.id };
  if (live.some((c) => c.direction === 'incoming') || live.length >= 2) {
    return { kind: 'reject', reason: 'an incoming connection is already in progress', notification: CONNECTION_REJECTED };
  }
  return { kind: 'second' };
}

// ===== An OPEN arrived on one connection =====
/**
 * Which direction survives a collision: the connection initiated by the speaker with the higher
 * BGP Identifier. RFC 4271 §6.8: "Comparing BGP Identifiers is done by converting them to host
 * byte order and treating them as (4-octet long) unsigned integers." RFC 6286 §2.3: "If the BGP
 * Identifiers of the peers involved in the connection collision are identical, then the
 * connection initiated by the BGP speaker with the larger AS number is preserved."
 * Undefined when both are equal (nothing to tell them apart).
 */
export function survivingDirection(local: Speaker, remote: Speaker): Direction | undefined {
  const l = local.bgpId >>> 0;
  const r = remote.bgpId >>> 0;
  if (l !== r) return l > r ? 'outgoing' : 'incoming';
  if (local.asn !== remote.asn) return local.asn > remote.asn ? 'outgoing' : 'incoming';
  return undefined;
}

/**
 * RFC 4271 §6.8: "Upon receipt of an OPEN message, the local system MUST examine all of its
 * connections that are in the OpenConfirm state" (connections in OpenSent do not know the
 * peer's identifier yet and are checked when their own OPEN arrives). Returns the ids of the
 * connections to close with Cease / Connection Collision Resolution; empty when no collision.
 */
export function resolveCollision(args: {
  local: Speaker;
  /** From the OPEN just received. */
  remote: Speaker;
  receivedOn: ConnectionView;
  conns: readonly ConnectionView[];
}): number[] {
  const others = args.conns.filter((c) => c.id !== args.receivedOn.id);
  // §6.8: against an Established connection the newly created one always loses.
  if (others.some((c) => c.state === 'Established')) return [args.receivedOn.id];
  const confirmed = others.filter((c) => c.state === 'OpenConfirm');
  if (confirmed.length === 0) return [];
  const keep = survivingDirection(args.local, args.remote);
  const dump = new Set<number>();
  for (const existing of confirmed) {
    // Same direction twice, or identical speakers: keep the existing one, close the new one.
    if (keep === undefined || existing.direction === args.receivedOn.direction) dump.add(args.receivedOn.id);
    else dump.add(existing.direction === keep ? args.receivedOn.id : existing.id);
  }
  return [...dump];
}

/**
 * A connection reached Established: every other connection to the peer goes (§6.8). Those that
 * sent an OPEN get Cease / Connection Collision Resolution (`dump`); the others (an outgoing
 * connect still in progress, or waiting) are just dropped (`discard`).
 */
export function othersOnEstablished(conns: readonly ConnectionView[], establishedId: number): { dump: number[]; discard: number[] } {
  const dump: number[] = [];
  const discard: number[] = [];
  for (const c of conns) {
    if (c.id === establishedId) continue;
    if (c.state === 'OpenSent' || c.state === 'OpenConfirm' || c.state === 'Established') dump.push(c.id);
    else discard.push(c.id);
  }
  return { dump, discard };
}
