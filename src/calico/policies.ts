// SPDX-License-Identifier: Apache-2.0
// Calico's BIRD filters as Tern policies (bird_ipam.cfg / bird_aggr.cfg / bird.cfg in master):
//   - the per-peer export filter: LOCAL_PREF normalisation, the peer's export BGPFilters, then
//     calico_export_to_bgp_peers (disabled pools, tunnel routes to iBGP, eBPF-local routes,
//     apply_communities, calico_aggr, service routes, RR service ranges, pools), falling off: reject;
//   - the per-peer import filter: the peer's import BGPFilters, then accept;
//   - calico_kernel_programming: service ranges out, BGP route metric, WireGuard peers, per-pool
//     tunnel / Felix-owned rejects, else accept.
// Not expressible, and left out (see docs/calico-render.md): Felix's kernel metric on learned
// routes (Tern treats them as normal priority), the import filter's `preference = 200`, and
// krt_metric derived from LOCAL_PREF for programmed BGP routes.
import { createHash } from 'node:crypto';
import type { Cluster } from './model.ts';
import { specOf, str } from './model.ts';
import { BIRD_INT_MAX, filterTerms, hasRules, type Direction, type Term } from './filters.ts';
import { canonicalCidr, ipFamily, parseCidr, type IpFamily } from './net.ts';
import type { ServiceRoutes } from './services.ts';
import type { KObj } from './resources.ts';

export interface Pool {
  cidr: string;
  family: IpFamily;
  disableBGPExport: boolean;
  ipip: boolean;
  ipipMode: string;
  vxlan: boolean;
}

/** Which pool types BIRD programs cluster routes for (BGPConfiguration.programClusterRoutes). */
export interface ClusterRoutePolicy {
  ipip: boolean;
  noEncap: boolean;
}

export interface Block {
  cidr: string;
  family: IpFamily;
  state: string;
}

export function clusterRoutePolicy(c: Cluster): ClusterRoutePolicy {
  switch (str(c.global.programClusterRoutes)) {
    case 'Disabled':
      return { ipip: false, noEncap: false };
    case 'Enabled':
      return { ipip: true, noEncap: true };
    case 'EnabledIPIPOnly':
      return { ipip: true, noEncap: false };
    default: // EnabledNoEncapOnly, unset, or unknown: the master default.
      return { ipip: false, noEncap: true };
  }
}

export function pools(c: Cluster): Pool[] {
  const out: Pool[] = [];
  for (const p of c.snap.ipPools) {
    const s = specOf(p);
    const cidr = canonicalCidr(str(s.cidr));
    if (!cidr) continue;
    const ipipMode = str(s.ipipMode);
    const vxlanMode = str(s.vxlanMode);
    out.push({
      cidr,
      family: ipFamily(cidr.split('/')[0]!)!,
      disableBGPExport: s.disableBGPExport === true,
      ipip: ipipMode === 'Always' || ipipMode === 'CrossSubnet',
      ipipMode,
      vxlan: vxlanMode === 'Always' || vxlanMode === 'CrossSubnet',
    });
  }
  return out.sort((a, b) => (a.cidr < b.cidr ? -1 : a.cidr > b.cidr ? 1 : 0));
}

function programsPool(p: Pool, policy: ClusterRoutePolicy): boolean {
  if (p.vxlan) return false;
  return p.ipip ? policy.ipip : policy.noEncap;
}

/** Local IPAM blocks: affinities for this node of type host (or none), `pending` dropped. */
export function blocks(c: Cluster): Block[] {
  const out: Block[] = [];
  for (const a of c.snap.blockAffinities) {
    const s = specOf(a);
    if (str(s.node) !== c.env.NODENAME) continue;
    if (str(s.type) !== '' && str(s.type) !== 'host') continue;
    const state = str(s.state);
    if (state === 'pending') continue; // calico#6867: pending affinities are not advertised
    const cidr = canonicalCidr(str(s.cidr));
    if (!cidr) continue;
    out.push({ cidr, family: ipFamily(cidr.split('/')[0]!)!, state });
  }
  return out.sort((a, b) => (a.cidr < b.cidr ? -1 : a.cidr > b.cidr ? 1 : 0));
}

export function normalRoutePriority(c: Cluster, family: IpFamily): number {
  const v = family === 4 ? c.global.ipv4NormalRoutePriority : c.global.ipv6NormalRoutePriority;
  return typeof v === 'number' ? v : 1024;
}

/** Prefix advertisements (node.<name> replaces the global list): cidr → sorted unique communities. */
function communityRules(c: Cluster, family: IpFamily): { cidr: string; communities: string[] }[] {
  const src = c.perNode?.prefixAdvertisements !== undefined ? c.perNode : c.global;
  const ads = Array.isArray(src?.prefixAdvertisements) ? (src.prefixAdvertisements as Record<string, unknown>[]) : [];
  const defined = Array.isArray(c.global.communities) ? (c.global.communities as Record<string, unknown>[]) : [];
  const out: { cidr: string; communities: string[] }[] = [];
  for (const ad of ads) {
    const cidr = str(ad.cidr);
    if (!cidr || (cidr.includes(':') ? 6 : 4) !== family) continue;
    const set = new Set<string>();
    for (const name of (ad.communities as unknown[] | undefined) ?? []) {
      const n = str(name);
      if (/^\d+:\d+(:\d+)?$/.test(n)) set.add(n);
      else {
        const d = defined.find((x) => str(x.name) === n);
        if (d) set.add(str(d.value));
      }
    }
    const communities = [...set].sort();
    if (communities.length > 0) out.push({ cidr, communities });
  }
  return out;
}

/**
 * calico_export_to_bgp_peers(internal_peer) for one family, as terms. internal_peer (peer AS ==
 * effective local AS) is fixed per policy rather than matched with `peerType`, so a peer with its
 * own localASNumber is classed as BIRD classes it.
 */
export function calicoExportTerms(c: Cluster, family: IpFamily, svc: ServiceRoutes, internalPeer: boolean): Term[] {
  const ps = pools(c).filter((p) => p.family === family);
  const policy = clusterRoutePolicy(c);
  const terms: Term[] = [];
  const disabled = ps.filter((p) => p.disableBGPExport).map((p) => p.cidr);
  if (disabled.length > 0) terms.push({ name: 'bgp-export-disabled', match: { prefixWithin: disabled }, action: 'reject' });
  // Felix-programmed tunnel routes never go to iBGP peers (tunl0 too when Felix owns IPIP).
  const tunnels = ['*.cali', '*.calico', ...(policy.ipip ? [] : ['tunl0'])];
  if (internalPeer) terms.push({ name: 'tunnel-routes-to-ibgp', match: { interface: tunnels }, action: 'reject' });
  terms.push({ name: 'local-routes', match: { interface: 'bpf*.cali' }, action: 'reject' });
  for (const r of communityRules(c, family)) {
    const std = r.communities.filter((x) => x.split(':').length === 2);
    const large = r.communities.filter((x) => x.split(':').length === 3);
    const t: Term = { name: 'communities', match: { prefixWithin: r.cidr } };
    if (std.length > 0) t.addCommunities = std;
    if (large.length > 0) t.addLargeCommunities = large;
    terms.push(t);
  }
  for (const b of blocks(c).filter((x) => x.family === family)) {
    if (b.state === 'pendingDeletion') continue; // still blackholed, but no longer accepted
    terms.push({ name: 'local-block', match: { prefix: b.cidr }, action: 'accept' });
    // `net ~ block && krt_metric < N`: by now LOCAL_PREF = 2^31−1 − krt_metric for every route.
    terms.push({ name: 'elevated-in-local-block', match: { prefixWithin: b.cidr, localPref: { min: BIRD_INT_MAX - normalRoutePriority(c, family) + 1, max: 4294967295 } }, action: 'accept' });
    terms.push({ name: 'inside-local-block', match: { prefixWithin: b.cidr }, action: 'reject' });
  }
  const statics = svc.staticRoutes.filter((r) => (r.includes(':') ? 6 : 4) === family);
  if (statics.length > 0) terms.push({ name: 'service-routes', match: { prefixWithin: statics }, action: 'accept' });
  if (c.me.rrClusterId !== '') {
    const ofFamily = (xs: string[]) => xs.filter((x) => (x.includes(':') ? 6 : 4) === family);
    const lb = ofFamily(svc.loadBalancerIPs);
    const ext = ofFamily(svc.externalIPs);
    if (lb.length > 0) terms.push({ name: 'rr-lb-ranges', match: { prefixWithin: lb }, action: 'accept' });
    if (ext.length > 0) terms.push({ name: 'rr-external-ranges', match: { prefixWithin: ext }, action: 'accept' });
  }
  const enabled = ps.filter((p) => !p.disableBGPExport).map((p) => p.cidr);
  if (enabled.length > 0) terms.push({ name: 'ip-pool', match: { prefixWithin: enabled }, action: 'accept' });
  return terms;
}

/** The export filter's first step: non-BGP routes get LOCAL_PREF 2^31−1 − krt_metric (normal priority). */
function normalisationTerm(c: Cluster, family: IpFamily): Term {
  return {
    name: 'normal-priority',
    match: { not: { source: 'bgp' } },
    localPref: BIRD_INT_MAX - normalRoutePriority(c, family),
  };
}

export interface PolicySet {
  policies: Record<string, Term[]>;
  warnings: string[];
}

/** Policy names are 1-100 of [A-Za-z0-9_.-]; long filter lists are hashed. */
function policyName(base: string, filters: string[]): string {
  const n = [base, ...filters].join('_');
  if (n.length <= 100) return n;
  const h = createHash('sha256').update(n).digest('hex').slice(0, 16);
  return `${n.slice(0, 100 - 17)}_${h}`;
}

export class PolicyBuilder {
  readonly policies: Record<string, Term[]> = {};
  private readonly filters: Map<string, KObj>;

  private readonly c: Cluster;
  private readonly svc: ServiceRoutes;
  private readonly warnings: string[];

  constructor(c: Cluster, svc: ServiceRoutes, warnings: string[]) {
    this.c = c;
    this.svc = svc;
    this.warnings = warnings;
    this.filters = new Map(c.snap.bgpFilters.map((f) => [f.metadata?.name ?? '', f]));
  }

  /** The filters a peer names that exist and have rules for this direction and family. */
  private used(names: string[], dir: Direction, family: IpFamily): KObj[] {
    return names.map((n) => this.filters.get(n)).filter((f): f is KObj => f !== undefined && hasRules(f, dir, family));
  }

  exportPolicy(filterNames: string[], family: IpFamily, localAsn: number, sameAs: boolean): string {
    const used = this.used(filterNames, 'export', family);
    const kind = sameAs ? 'ibgp' : 'ebgp';
    const name = policyName(`calico-export-v${family}-${kind}`, used.map((f) => f.metadata?.name ?? ''));
    if (!this.policies[name]) {
      this.policies[name] = [
        normalisationTerm(this.c, family),
        ...used.flatMap((f) => filterTerms(f, 'export', family, localAsn, sameAs, this.warnings)),
        ...calicoExportTerms(this.c, family, this.svc, sameAs),
      ];
    }
    return name;
  }

  /** `all` without filters; otherwise the filters' import terms, then accept. */
  importPolicy(filterNames: string[], family: IpFamily, localAsn: number, sameAs: boolean): string {
    const used = this.used(filterNames, 'import', family);
    if (used.length === 0) return 'all';
    const kind = sameAs ? 'ibgp' : 'ebgp';
    const name = policyName(`calico-import-v${family}-${kind}`, used.map((f) => f.metadata?.name ?? ''));
    if (!this.policies[name]) {
      this.policies[name] = [...used.flatMap((f) => filterTerms(f, 'import', family, localAsn, sameAs, this.warnings)), { name: 'import-default', action: 'accept' }];
    }
    return name;
  }

  kernelPolicy(): string {
    const name = 'calico-kernel-programming';
    this.policies[name] = kernelTerms(this.c, this.svc);
    return name;
  }
}

/** calico_kernel_programming: which Loc-RIB routes are written to the kernel, and how. */
export function kernelTerms(c: Cluster, svc: ServiceRoutes): Term[] {
  const terms: Term[] = [];
  if (svc.rejectCidrs.length > 0) terms.push({ name: 'service-ranges', match: { prefixWithin: svc.rejectCidrs }, action: 'reject' });
  for (const family of [4, 6] as const) {
    terms.push({
      name: `bgp-metric-v${family}`,
      match: { source: 'bgp', family: family === 4 ? 'ipv4-unicast' : 'ipv6-unicast' },
      metric: normalRoutePriority(c, family),
    });
  }
  terms.push(...wireguardTerms(c));
  const policy = clusterRoutePolicy(c);
  for (const p of pools(c)) {
    if (p.family === 4 && c.me.net4 === '') continue; // no v4 subnet: confd emits no v4 pool statements
    if (p.vxlan) terms.push({ name: 'vxlan-pool', match: { prefixWithin: p.cidr }, action: 'reject' });
    else if (!programsPool(p, policy)) terms.push({ name: 'felix-cluster-routes', match: { prefixWithin: p.cidr }, action: 'reject' });
    else if (p.family === 6) continue; // v6: only rejects are written; the final accept covers the rest
    else if (p.ipipMode === 'Always') terms.push({ name: 'ipip-pool', match: { prefixWithin: p.cidr }, tunnel: 'always', action: 'accept' });
    else if (p.ipipMode === 'CrossSubnet') {
      // BIRD: bgp_next_hop ~ <our subnet> → no tunnel, else tunl0.
      terms.push({ name: 'ipip-same-subnet', match: { prefixWithin: p.cidr, source: 'bgp', nextHop: c.me.net4 }, tunnel: 'never', action: 'accept' });
      terms.push({ name: 'ipip-pool', match: { prefixWithin: p.cidr }, tunnel: 'always', action: 'accept' });
    } else terms.push({ name: 'no-encap-pool', match: { prefixWithin: p.cidr }, tunnel: 'never', action: 'accept' });
  }
  terms.push({ name: 'not-in-a-pool', action: 'accept' });
  return terms;
}

/** When we run WireGuard, Felix routes to WireGuard peers: keep BIRD's routes via them out. */
function wireguardTerms(c: Cluster): Term[] {
  const out: Term[] = [];
  for (const family of [4, 6] as const) {
    const mine = family === 4 ? c.me.wireguard4 : c.me.wireguard6;
    if (!mine) continue;
    const ips = c.nodes
      .filter((n) => n.name !== c.me.name && (family === 4 ? n.wireguard4 : n.wireguard6) !== '')
      .map((n) => (family === 4 ? n.ipv4 : n.ipv6))
      .filter((ip) => ip !== '' && parseCidr(ip) !== undefined)
      .sort();
    if (ips.length > 0) out.push({ name: `wireguard-peers-v${family}`, match: { source: 'bgp', nextHop: ips }, action: 'reject' });
  }
  return out;
}
