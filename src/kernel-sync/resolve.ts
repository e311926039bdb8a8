// SPDX-License-Identifier: Apache-2.0
// What one Loc-RIB destination should look like in the kernel, as BIRD's kernel protocol with
// Calico's `calico_kernel_programming` filter would write it: BGP routes via their next hop on a
// directly connected subnet, or through the tunnel device (`krt_tunnel`: `via NH dev tunl0
// onlink`) always or across subnets, or recursively through another route (`gateway
// recursive`); ECMP sets as multipath routes; originated blackholes; the metric from policy.
// Pure: the caller passes the interfaces, the kernel view and the export verdicts.
import type { Nlri } from '../bgp/messages/types.ts';
import type { Destination, Path } from '../rib/types.ts';
import type { PolicyVerdict } from '../policy/types.ts';
import type { InterfaceTable } from './interfaces.ts';
import type { KernelView } from './kernel-view.ts';
import { RTN, RT_SCOPE } from './rtnetlink/index.ts';
import type { NextHop, RouteMessage } from './rtnetlink/index.ts';
import { RouteForms, routeOf, type RouteForm } from './route-form.ts';

export { fullAddress } from './route-form.ts';

export interface ProgramSettings {
  protocol: number;
  table: number;
  metric: number;
  tunnel: { device: string; mode: 'always' | 'crossSubnet' | 'never' };
}

export type Desired =
  /** recursive: a next hop was found through another route (it must be redone when routes change). */
  | { kind: 'route'; route: RouteMessage; recursive?: boolean }
  /** Nothing to install (not a BGP best path, or the export policy rejected it). */
  | { kind: 'none'; why: string }
  /** A route we want but cannot build (no way to reach the next hop). */
  | { kind: 'unresolved'; why: string };

const RTNH_F_ONLINK = 4;

/** The export verdict of each path the decision uses (a Map, or one that evaluates on demand). */
export interface Verdicts {
  get(path: Path): PolicyVerdict | undefined;
}

export function desiredRoute(...args: Parameters<typeof desiredForm>): Desired {
  const wanted = desiredForm(...args);
  if (wanted.kind !== 'route') return wanted;
  return { kind: 'route', route: routeOf(wanted.form, args[0].nlri), recursive: wanted.recursive };
}

/** What desiredForm answers for a route to install: its form (shared by the routes that say the
 *  same; the prefix is the destination's) and whether a next hop was resolved recursively. */
export interface WantedForm {
  readonly kind: 'route';
  readonly form: RouteForm;
  readonly recursive: boolean;
}

export type DesiredForm = WantedForm | Exclude<Desired, { kind: 'route' }>;

const NO_ROUTE = { kind: 'none', why: 'no route' } as const;
const NOT_A_BLACKHOLE = { kind: 'none', why: 'originated route (not a blackhole)' } as const;

/**
 * desiredRoute without building the route: the kernel route one destination should have, as a
 * shared form. Programming writes the netlink request straight from the form and the prefix; a
 * route message, its address array and the answer's wrapper per route were most of what
 * planning allocated (~370 bytes a route at 100k routes).
 */
export function desiredForm(
  dest: Destination,
  verdicts: Verdicts,
  ifaces: InterfaceTable,
  view: KernelView,
  cfg: ProgramSettings,
  nextHops: NextHopCache = new NextHopCache(),
  forms: WantedForms = new WantedForms(),
): DesiredForm {
  const best = dest.decision.best;
  if (!best) return NO_ROUTE;
  const bestVerdict = verdicts.get(best);
  if (!bestVerdict?.accept) return { kind: 'none', why: bestVerdict ? `kernel export policy: ${bestVerdict.decidedBy}` : 'not exported' };
  const family = dest.family === 'ipv4-unicast' ? 2 : 10;
  const priority = priorityOf(family, bestVerdict.metric ?? cfg.metric);
  if (best.source === 'originated') {
    if (!best.blackhole) return NOT_A_BLACKHOLE;
    return forms.of(family, cfg, priority, RTN.BLACKHOLE, undefined, undefined, 0, undefined, false);
  }
  if (best.source !== 'bgp') return { kind: 'none', why: `the best route is a ${best.source} route` };
  // One path, the usual case: its next hop, without the ECMP bookkeeping below (and without
  // reading the ECMP set, which a destination of one path makes at each read).
  if (dest.pathCount <= 1 || dest.decision.multipath.length <= 1) {
    const hop = nextHops.resolve(best, bestVerdict, ifaces, view, cfg);
    if (typeof hop === 'string') return { kind: 'unresolved', why: hop };
    return forms.of(family, cfg, priority, RTN.UNICAST, hop.gateway, hop.oif, hop.flags, undefined, hop.recursive === true);
  }
  // BIRD's `merge paths`: every accepted member of the ECMP set becomes a next hop.
  const members = dest.decision.multipath.filter((p) => p.source === 'bgp' && verdicts.get(p)?.accept);
  const hops: NextHop[] = [];
  const problems: string[] = [];
  let recursive = false;
  for (const path of members.length ? members : [best]) {
    const hop = nextHops.resolve(path, verdicts.get(path)!, ifaces, view, cfg);
    if (typeof hop === 'string') problems.push(hop);
    else {
      recursive ||= hop.recursive === true;
      const { recursive: _r, ...plain } = hop;
      if (!hops.some((h) => sameHop(h, plain))) hops.push(plain);
    }
  }
  if (hops.length === 0) return { kind: 'unresolved', why: problems.join('; ') || 'no next hop' };
  if (hops.length === 1) {
    const h = hops[0]!;
    return forms.of(family, cfg, priority, RTN.UNICAST, h.gateway, h.oif, h.flags, undefined, recursive);
  }
  return forms.of(family, cfg, priority, RTN.UNICAST, undefined, undefined, 0, hops, recursive);
}

/**
 * The answers desiredForm gives, shared: consecutive routes that say the same (one peer's
 * routes through one next hop) get one form and one answer object. The fields are written into a
 * scratch object and compared with the last form, so a route that matches allocates nothing.
 */
export class WantedForms {
  private readonly forms = new RouteForms();
  private readonly scratch = { family: 2 as 2 | 10, table: 0, protocol: 0, scope: 0, routeType: 0, flags: 0, gateway: undefined as Uint8Array | undefined, oif: undefined as number | undefined, priority: undefined as number | undefined, multipath: undefined as readonly NextHop[] | undefined };
  private last: WantedForm | undefined;

  of(family: 2 | 10, cfg: ProgramSettings, priority: number, routeType: number, gateway: Uint8Array | undefined, oif: number | undefined, flags: number, multipath: readonly NextHop[] | undefined, recursive: boolean): WantedForm {
    const s = this.scratch;
    s.family = family;
    s.table = cfg.table;
    s.protocol = cfg.protocol;
    s.scope = routeType === RTN.UNICAST && gateway === undefined && !multipath ? RT_SCOPE.LINK : RT_SCOPE.UNIVERSE;
    s.routeType = routeType;
    s.flags = flags;
    s.gateway = gateway;
    s.oif = oif;
    s.priority = priority || undefined;
    s.multipath = multipath;
    const form = this.forms.of(s);
    const last = this.last;
    if (last && last.form === form && last.recursive === recursive) return last;
    this.last = { kind: 'route', form, recursive };
    return this.last;
  }
}

type ResolvedHop = NextHop & { recursive?: true };

/**
 * The last next hop resolved, reused while a path with the same (interned) attributes asks under
 * the same verdict's tunnel mode, settings, interfaces and other protocols' routes: the routes of
 * one peer share one attribute set, and resolving the same next hop per route (scans of the
 * addresses, a longest match) was a tenth of installing 100k routes. Failures are not kept: their
 * text names the path.
 */
export class NextHopCache {
  private attrs: Path['attrs'] | undefined;
  private tunnel: PolicyVerdict['tunnel'];
  private cfg: ProgramSettings | undefined;
  private ifacesGeneration = -1;
  private viewGeneration = -1;
  private hop: ResolvedHop | undefined;

  resolve(path: Path, verdict: PolicyVerdict, ifaces: InterfaceTable, view: KernelView, cfg: ProgramSettings): ResolvedHop | string {
    if (this.hop && path.attrs === this.attrs && verdict.tunnel === this.tunnel && cfg === this.cfg && ifaces.generation === this.ifacesGeneration && view.generation === this.viewGeneration) return this.hop;
    const hop = resolveNextHop(path, verdict, ifaces, view, cfg);
    if (typeof hop === 'string') return hop;
    this.attrs = path.attrs;
    this.tunnel = verdict.tunnel;
    this.cfg = cfg;
    this.ifacesGeneration = ifaces.generation;
    this.viewGeneration = view.generation;
    this.hop = hop;
    return hop;
  }
}

/** The kernel next hop for one BGP path, or why there is none. */
function resolveNextHop(path: Path, verdict: PolicyVerdict, ifaces: InterfaceTable, view: KernelView, cfg: ProgramSettings): ResolvedHop | string {
  const nh = path.attrs.nextHop;
  if (!nh) return `${pathName(path)}: no next hop`;
  if (ifaces.isLocal(nh)) return `${pathName(path)}: next hop ${text(nh)} is our own address`;
  const direct = ifaces.onLink(nh);
  const mode = verdict.tunnel ?? cfg.tunnel.mode;
  // Calico's cross-subnet rule: tunnel unless the next hop shares one of our subnets.
  const useTunnel = nh.length === 4 && (mode === 'always' || (mode === 'crossSubnet' && !direct));
  if (useTunnel) {
    const tunnel = ifaces.byName(cfg.tunnel.device);
    if (!tunnel) return `${pathName(path)}: tunnel device ${cfg.tunnel.device} not found`;
    return { gateway: nh, oif: tunnel.index, flags: RTNH_F_ONLINK, weight: 1 };
  }
  if (direct) return { gateway: nh, oif: direct.index, flags: 0, weight: 1 };
  // `gateway recursive`: go where the route to the next hop goes.
  const via = view.lookup(nh);
  if (!via || via.routeType !== RTN.UNICAST) return `${pathName(path)}: no route to next hop ${text(nh)}`;
  if (via.multipath?.length) {
    const first = via.multipath[0]!;
    return { gateway: first.gateway ?? nh, oif: first.oif, flags: first.gateway ? first.flags : 0, weight: 1, recursive: true };
  }
  if (via.oif === undefined) return `${pathName(path)}: the route to ${text(nh)} has no interface`;
  return { gateway: via.gateway ?? nh, oif: via.oif, flags: via.gateway ? via.flags & RTNH_F_ONLINK : 0, weight: 1, recursive: true };
}

/** IPv6 metric the kernel gives a route sent without RTA_PRIORITY (IP6_RT_PRIO_USER). */
const IP6_RT_PRIO_USER = 1024;

/**
 * The metric the kernel will store: an IPv6 route sent with metric 0 is stored at 1024, so ask
 * for 1024 outright — otherwise our key for the route (clash check, adoption, re-install after a
 * delete) is not the kernel's, and NLM_F_REPLACE overwrites another protocol's IPv6 route.
 */
function priorityOf(family: 2 | 10, metric: number): number {
  return metric || (family === 10 ? IP6_RT_PRIO_USER : 0);
}

/** What sameRoute compares: a route, or the form of a programmed one (route-form.ts). */
export type RouteSayings = Pick<RouteMessage, 'routeType' | 'priority' | 'table' | 'gateway' | 'oif' | 'flags'> & { readonly multipath?: readonly NextHop[] | undefined };

/** Do two kernel routes say the same thing (so no rewrite is needed)? */
export function sameRoute(a: RouteSayings, b: RouteSayings): boolean {
  if (a === b) return true; // one shared form (route-form.ts)
  if (a.routeType !== b.routeType || (a.priority ?? 0) !== (b.priority ?? 0) || a.table !== b.table) return false;
  const hopsA = a.multipath ?? (a.oif !== undefined || a.gateway ? [{ gateway: a.gateway, oif: a.oif ?? 0, flags: a.flags & RTNH_F_ONLINK, weight: 1 }] : []);
  const hopsB = b.multipath ?? (b.oif !== undefined || b.gateway ? [{ gateway: b.gateway, oif: b.oif ?? 0, flags: b.flags & RTNH_F_ONLINK, weight: 1 }] : []);
  return hopsA.length === hopsB.length && hopsA.every((h) => hopsB.some((g) => sameHop(h, g)));
}

function sameHop(a: NextHop, b: NextHop): boolean {
  const ga = a.gateway;
  const gb = b.gateway;
  const sameGateway = ga === gb || (!!ga && !!gb && ga.length === gb.length && ga.every((x, i) => x === gb[i]));
  return sameGateway && a.oif === b.oif && (a.flags & RTNH_F_ONLINK) === (b.flags & RTNH_F_ONLINK);
}

function pathName(path: Path): string {
  return path.peer ? `path from ${path.peer.name}` : `${path.source} path`;
}

function text(b: Uint8Array): string {
  return b.length === 4 ? b.join('.') : Array.from({ length: 8 }, (_, i) => ((b[i * 2]! << 8) | b[i * 2 + 1]!).toString(16)).join(':');
}

