// SPDX-License-Identifier: Apache-2.0
// What a programmed kernel route says besides its destination: type, scope, flags, table,
// protocol, metric and next hops. Every route that says the same shares one RouteForm, so a
// programmed route is its record's prefix plus a pointer, not a RouteMessage of its own (at 100k
// routes those were ~160 bytes each that the young collector copied and every full collection
// marked: 9 % of an install's CPU). The RouteMessage a request needs is built when it is sent.
import type { Nlri } from '../bgp/messages/types.ts';
import type { NextHop, RouteFamily, RouteMessage } from './rtnetlink/index.ts';
import { fullAddress } from './resolve.ts';

export interface RouteForm {
  readonly family: RouteFamily;
  readonly table: number;
  readonly protocol: number;
  readonly scope: number;
  readonly routeType: number;
  readonly flags: number;
  readonly gateway: Uint8Array | undefined;
  readonly oif: number | undefined;
  /** RTA_PRIORITY, the metric. */
  readonly priority: number | undefined;
  readonly multipath: readonly NextHop[] | undefined;
}

/** The form of a route (a new object: see RouteForms for a shared one). */
export function formOf(r: RouteMessage): RouteForm {
  return { family: r.family, table: r.table, protocol: r.protocol, scope: r.scope, routeType: r.routeType, flags: r.flags, gateway: r.gateway, oif: r.oif, priority: r.priority, multipath: r.multipath };
}

/** The route a form and a prefix make, for a request or a view. */
export function routeOf(form: RouteForm, nlri: Nlri): RouteMessage {
  return {
    type: 'route',
    family: form.family,
    dstLength: nlri.length,
    srcLength: 0,
    tos: 0,
    table: form.table,
    protocol: form.protocol,
    scope: form.scope,
    routeType: form.routeType,
    flags: form.flags,
    dst: fullAddress(nlri, form.family),
    gateway: form.gateway,
    oif: form.oif,
    priority: form.priority,
    multipath: form.multipath as NextHop[] | undefined,
    unknown: NO_UNKNOWN,
  };
}

/** A built route carries no attributes we do not know; one frozen empty list serves them all. */
const NO_UNKNOWN = Object.freeze([]) as unknown as RouteMessage['unknown'];

/** Does `r` say exactly what `form` says (a multipath set: the same array)? */
export function hasForm(r: RouteMessage, form: RouteForm): boolean {
  return r.family === form.family && r.table === form.table && r.protocol === form.protocol && r.scope === form.scope && r.routeType === form.routeType &&
    r.flags === form.flags && r.oif === form.oif && r.priority === form.priority && r.multipath === form.multipath && sameGateway(r.gateway, form.gateway);
}

function sameGateway(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  if (a === b) return true;
  if (!a || !b || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Forms shared by consecutive routes that say the same (the routes of one peer, one next hop):
 *  the last form made is reused while routes match it. */
export class RouteForms {
  private last: RouteForm | undefined;

  of(r: RouteMessage): RouteForm {
    if (this.last && hasForm(r, this.last)) return this.last;
    this.last = formOf(r);
    return this.last;
  }
}
