// SPDX-License-Identifier: Apache-2.0
// What a programmed kernel route says besides its destination: type, scope, flags, table,
// protocol, metric and next hops. Every route that says the same shares one RouteForm, so a
// programmed route is its record's prefix plus a pointer, not a RouteMessage of its own (at 100k
// routes those were ~160 bytes each that the young collector copied and every full collection
// marked: 9 % of an install's CPU). The RouteMessage a request needs is built when it is sent.
import type { Nlri } from '../bgp/messages/types.ts';
import type { NextHop, RouteBody, RouteMessage } from './rtnetlink/index.ts';
import { RTN, RT_SCOPE } from './rtnetlink/index.ts';
import { KeyNlri } from '../rib/prefix-key.ts';

/** What a route says besides its prefix (RouteBody without the fields we never program), every
 *  field present: one object shape for every form. */
export type RouteForm = { readonly [K in FormField]-?: RouteBody[K] };

/** The fields of a form. */
type FormField = Exclude<keyof RouteBody, 'prefsrc' | 'via'>;

/** The form of a route (a new object: see RouteForms for a shared one). */
/** `r`: a route, or a form being built (resolve.ts fills one scratch object per route and asks
 *  RouteForms for the shared form that says the same). */
export function formOf(r: RouteBody): RouteForm {
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

/**
 * What a delete of the route `form` says: its table, protocol and metric, no type, scope or next
 * hop. The kernel then deletes our route to the prefix whatever next hops it has (and never
 * another protocol's: it matches rtm_protocol). With the next hops, a delete of a route whose
 * replacement the kernel refused (it kept the old next hops) or that someone rewrote in our
 * protocol's name found nothing (ESRCH), and that route stayed. One body per form (a template
 * per form in RouteRequests).
 */
export function deleteBodyOf(form: RouteForm): RouteBody {
  let body = DELETE_BODIES.get(form);
  if (!body) {
    body = { family: form.family, table: form.table, protocol: form.protocol, scope: RT_SCOPE.NOWHERE, routeType: RTN.UNSPEC, flags: 0, priority: form.priority };
    DELETE_BODIES.set(form, body);
  }
  return body;
}

const DELETE_BODIES = new WeakMap<RouteForm, RouteBody>();

/** A built route carries no attributes we do not know; one frozen empty list serves them all. */
const NO_UNKNOWN = Object.freeze([]) as unknown as RouteMessage['unknown'];

/** Does `r` say exactly what `form` says (multipath sets: the same hops, in the same order)? */
export function hasForm(r: RouteBody, form: RouteForm): boolean {
  return r.family === form.family && r.table === form.table && r.protocol === form.protocol && r.scope === form.scope && r.routeType === form.routeType &&
    r.flags === form.flags && r.oif === form.oif && r.priority === form.priority && sameGateway(r.gateway, form.gateway) && sameHops(r.multipath, form.multipath);
}

function sameHops(a: readonly NextHop[] | undefined, b: readonly NextHop[] | undefined): boolean {
  if (a === b) return true;
  if (!a || !b || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x.oif !== y.oif || x.flags !== y.flags || x.weight !== y.weight || x.via !== y.via || !sameGateway(x.gateway, y.gateway)) return false;
  }
  return true;
}

function sameGateway(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  if (a === b) return true;
  if (!a || !b || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Forms shared by consecutive routes that say the same (the routes of one peer, one next hop):
 *  the last form made is reused while routes match it. `r` may be a scratch object the caller
 *  refills: a new form copies its fields. */
export class RouteForms {
  private last: RouteForm | undefined;

  of(r: RouteBody): RouteForm {
    if (this.last && hasForm(r, this.last)) return this.last;
    this.last = formOf(r);
    return this.last;
  }
}

/** The full address of a prefix (4 or 16 octets, bits past the length cleared), in a new array:
 *  for a route built whole (views, a restart's leftovers); requests use fullAddressInto. */
export function fullAddress(nlri: Nlri, family: 2 | 10): Uint8Array {
  return fullAddressInto(nlri, new Uint8Array(family === 2 ? 4 : 16));
}

/** The full address of a prefix (4 or 16 octets, bits past the length cleared) written into
 *  `out`, which it returns: a request's destination without an array per route. */
export function fullAddressInto(nlri: Nlri, out: Uint8Array): Uint8Array {
  out.fill(0);
  if (nlri instanceof KeyNlri) return nlri.addressInto(out);
  const bytes = nlri.address;
  const n = Math.min(bytes.length, out.length, (nlri.length + 7) >> 3);
  for (let i = 0; i < n; i++) out[i] = bytes[i]!;
  const rest = nlri.length & 7;
  if (rest && n === (nlri.length + 7) >> 3) out[n - 1]! &= (0xff << (8 - rest)) & 0xff;
  return out;
}
