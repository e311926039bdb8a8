// SPDX-License-Identifier: Apache-2.0
// Service IP advertisement (confd's route generator, routes.go, and client.go's global routes):
// which service ranges and per-service /32 (/128) routes this node advertises (`staticRoutes`,
// BIRD `route X blackhole` + `net ~ X accept`) and which ranges must stay out of the kernel
// (`rejectCidrs`). Reads BGPConfiguration serviceClusterIPs / serviceExternalIPs /
// serviceLoadBalancerIPs / serviceLoadBalancerAggregation, Services and EndpointSlices.
import type { Cluster } from './model.ts';
import { specOf, str, type Spec } from './model.ts';
import { canonicalCidr, cidrContains, parseCidr, type Cidr } from './net.ts';
import type { KObj } from './resources.ts';

export interface ServiceRoutes {
  staticRoutes: string[];
  rejectCidrs: string[];
  /** Allow-lists, for the RR accept terms. */
  externalIPs: string[];
  loadBalancerIPs: string[];
}

const EXCLUDE_LABEL = 'node.kubernetes.io/exclude-from-external-load-balancers';

function cidrList(v: unknown): string[] {
  if (!Array.isArray(v)) return [];
  return v.map((b) => str((b as Spec | null)?.cidr)).filter((c) => c !== '');
}

function isSingle(cidr: string): boolean {
  const c = parseCidr(cidr);
  return c !== undefined && c.length === c.bytes.length * 8;
}

export function serviceRoutes(c: Cluster): ServiceRoutes {
  const g = c.global;
  const envClusterIPs = c.env.CALICO_ADVERTISE_CLUSTER_IPS;
  const clusterIPs = envClusterIPs ? envClusterIPs.split(',').map((s) => s.trim()).filter(Boolean) : cidrList(g.serviceClusterIPs);
  const externalIPs = cidrList(g.serviceExternalIPs);
  const loadBalancerIPs = cidrList(g.serviceLoadBalancerIPs);
  const aggregate = str(g.serviceLoadBalancerAggregation) !== 'Disabled';
  const excluded = c.me.labels[EXCLUDE_LABEL] === 'true';

  // Whole ranges: advertised by every node (unless excluded), always kept out of the kernel.
  const global = [
    ...clusterIPs,
    ...externalIPs.filter((x) => !isSingle(x)),
    ...(aggregate ? loadBalancerIPs.filter((x) => !isSingle(x)) : []),
  ];
  const rejectCidrs = dedupe(global.map((x) => canonicalCidr(x) ?? x));
  const statics = excluded ? [] : [...rejectCidrs];
  if (!excluded) {
    const ctx: SvcContext = {
      node: c.env.CALICO_K8S_NODE_REF || c.env.NODENAME,
      advertiseClusterIPs: clusterIPs.length > 0,
      externalNets: parseAll(externalIPs),
      lbNets: parseAll(loadBalancerIPs),
      aggregate,
    };
    for (const svc of c.snap.services) {
      const slices = c.snap.endpointSlices.filter((s) => sliceOf(s, svc));
      if (advertise(svc, slices, ctx)) statics.push(...routesFor(svc, ctx));
    }
  }
  return { staticRoutes: dedupe(statics), rejectCidrs, externalIPs, loadBalancerIPs };
}

interface SvcContext {
  node: string;
  advertiseClusterIPs: boolean;
  externalNets: Cidr[];
  lbNets: Cidr[];
  aggregate: boolean;
}

function parseAll(cidrs: string[]): Cidr[] {
  return cidrs.map((x) => parseCidr(x)).filter((x): x is Cidr => x !== undefined);
}

function dedupe(xs: string[]): string[] {
  return [...new Set(xs)];
}

function sliceOf(slice: KObj, svc: KObj): boolean {
  const ns = (o: KObj) => o.metadata?.namespace ?? 'default';
  return slice.metadata?.labels?.['kubernetes.io/service-name'] === svc.metadata?.name && ns(slice) === ns(svc);
}

function inAny(ip: string, nets: Cidr[], singleOnly = false): boolean {
  if (ip.includes('/')) return false; // Go's net.ParseIP: an address, not a CIDR
  const c = parseCidr(ip);
  if (!c) return false;
  return nets.some((n) => cidrContains(n, c) && (!singleOnly || n.length === n.bytes.length * 8));
}

function lbIngressIPs(svc: KObj): string[] {
  const status = (svc.status ?? {}) as Spec;
  const lb = (status.loadBalancer ?? {}) as Spec;
  const ingress = Array.isArray(lb.ingress) ? (lb.ingress as Spec[]) : [];
  return ingress.map((i) => str(i?.ip)).filter((x) => x !== '');
}

/** The API server's defaults for the Service fields confd reads. */
function svcFacts(svc: KObj) {
  const spec = specOf(svc);
  const type = str(spec.type) || 'ClusterIP';
  const clusterIP = str(spec.clusterIP);
  const clusterIPs = Array.isArray(spec.clusterIPs) ? (spec.clusterIPs as string[]) : clusterIP && clusterIP !== 'None' ? [clusterIP] : [];
  const families = Array.isArray(spec.ipFamilies) ? (spec.ipFamilies as string[]) : clusterIPs.map((ip) => (ip.includes(':') ? 'IPv6' : 'IPv4'));
  const etp = str(spec.externalTrafficPolicy) || (type === 'NodePort' || type === 'LoadBalancer' ? 'Cluster' : '');
  const externalIPs = Array.isArray(spec.externalIPs) ? (spec.externalIPs as string[]) : [];
  return { spec, type, clusterIP, clusterIPs, families, etp, externalIPs };
}

function advertise(svc: KObj, slices: KObj[], ctx: SvcContext): boolean {
  const f = svcFacts(svc);
  if (!['ClusterIP', 'NodePort', 'LoadBalancer'].includes(f.type)) return false;
  if (f.clusterIP === '' || f.clusterIP === 'None') return false;
  if (f.etp === 'Cluster') {
    const lbSingles = [str(f.spec.loadBalancerIP), ...lbIngressIPs(svc)].filter((x) => x !== '');
    if (f.type === 'LoadBalancer' && lbSingles.some((ip) => inAny(ip, ctx.lbNets, true))) return true;
    if (f.externalIPs.some((ip) => inAny(ip, ctx.externalNets, true))) return true;
  }
  if (f.etp !== 'Local' && ctx.aggregate) return false;
  for (const slice of slices) {
    if (!f.families.includes(str(slice.addressType))) continue;
    for (const ep of (slice.endpoints ?? []) as Spec[]) {
      const cond = (ep.conditions ?? {}) as Spec;
      if (cond.ready === false) continue; // an absent `ready` counts as ready
      if (f.etp !== 'Local') return true;
      if (str(ep.nodeName) === ctx.node) return true;
    }
  }
  return false;
}

function routesFor(svc: KObj, ctx: SvcContext): string[] {
  const f = svcFacts(svc);
  const ips = [
    ...(ctx.advertiseClusterIPs ? f.clusterIPs : []),
    ...f.externalIPs.filter((ip) => inAny(ip, ctx.externalNets)),
    ...lbIngressIPs(svc).filter((ip) => inAny(ip, ctx.lbNets)),
  ];
  return ips.map((ip) => (ip.includes(':') ? `${ip}/128` : `${ip}/32`)).map((x) => canonicalCidr(x) ?? x);
}
