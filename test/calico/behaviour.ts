// SPDX-License-Identifier: Apache-2.0
// Behavioural comparison of a golden's BIRD filters with the Tern policies compiled for the same
// inputs: sample routes are derived from the prefixes, communities, AS paths and LOCAL_PREF values
// the golden mentions (each prefix, a more specific, a host route inside, a supernet), in several
// forms (iBGP- and eBGP-learned, Felix kernel routes on cali*/tunl0/vxlan.calico/bpfout.cali,
// a connected subnet, a static blackhole), and run through
//   - each peer's export filter and Tern export policy (verdict, communities, large communities,
//     LOCAL_PREF, prepends),
//   - each peer's import filter and Tern import policy (BGP-learned routes only),
//   - calico_kernel_programming and Tern's kernel export policy (verdict and IPIP tunnel).
// Sample routes stay inside what both sides model alike: BGP routes carry no interface (BIRD sets
// ifname on them, Tern never matches `interface` on BGP routes) and kernel routes have normal
// priority (krt_metric 1024; Tern keeps no kernel metric on routes).
import type { TernConfig } from '../../src/config/index.ts';
import { resolvePolicy } from '../../src/policy/compile.ts';
import type { PolicyContext, PolicyInput, CompiledPolicy } from '../../src/policy/types.ts';
import type { PeerRef } from '../../src/rib/types.ts';
import { AsPathSegmentType } from '../../src/bgp/messages/iana.ts';
import { ipToBytes } from '../../src/util/ip.ts';
import { networkOf, parseCidr, type Cidr } from '../../src/calico/net.ts';
import { BirdProgram, type BirdRoute } from './bird-filter.ts';
import type { GoldenFamily } from './bird-golden.ts';

interface Sample {
  what: string;
  route: BirdRoute;
}

function child(c: Cidr, extra: number): Cidr | undefined {
  const max = c.bytes.length * 8;
  if (c.length + extra > max) return undefined;
  return { ...c, bytes: new Uint8Array(c.bytes), length: c.length + extra };
}

function hostInside(c: Cidr): Cidr {
  const b = new Uint8Array(c.bytes);
  b[b.length - 1]! |= 1;
  return { ...c, bytes: b, length: b.length * 8 };
}

function supernet(c: Cidr): Cidr | undefined {
  if (c.length === 0) return undefined;
  return parseCidr(networkOf({ ...c, length: c.length - 1 }));
}

/** Sample prefixes for a family: those the golden names, derived ones, and a few unrelated. */
function samplePrefixes(texts: string[], family: 4 | 6): Cidr[] {
  const re = family === 4 ? /\b\d+\.\d+\.\d+\.\d+\/\d+\b/g : /\b[0-9a-f]{1,4}(?::[0-9a-f]{0,4}){2,7}\/\d+\b/g;
  const seen = new Map<string, Cidr>();
  const add = (c: Cidr | undefined) => {
    if (!c) return;
    const key = networkOf(c);
    if (!seen.has(key)) seen.set(key, parseCidr(key)!);
  };
  const base = family === 4 ? ['203.0.113.0/24', '0.0.0.0/0', '192.168.1.0/26', '77.1.5.0/24'] : ['2001:db8::/32', '::/0', 'fd00:dead::/64'];
  for (const t of [...texts.join('\n').matchAll(re)].map((m) => m[0]).concat(base)) {
    const c = parseCidr(t);
    if (!c) continue;
    add(c);
    add(child(c, 1));
    add(child(c, 2));
    add(hostInside(c));
    add(supernet(c));
  }
  return [...seen.values()];
}

function literals(texts: string[]) {
  const all = texts.join('\n');
  const communities = [...all.matchAll(/\((\d+),\s*(\d+)\)/g)].map((m) => `${m[1]},${m[2]}`);
  const large = [...all.matchAll(/\((\d+),\s*(\d+),\s*(\d+)\)/g)].map((m) => `${m[1]},${m[2]},${m[3]}`);
  const paths = [...all.matchAll(/\[=\s*([\d\s]+)\*\s*=\]/g)].map((m) => m[1]!.trim().split(/\s+/).map(Number));
  const prefs = [...all.matchAll(/bgp_local_pref (?:=|>) (\d+)\)/g)].flatMap((m) => [Number(m[1]), Number(m[1]) + 1]);
  return { communities: [...new Set(communities)], large: [...new Set(large)], paths, prefs: [...new Set(prefs)] };
}

function samples(g: GoldenFamily, family: 4 | 6, nodeSubnet: Cidr | undefined): Sample[] {
  const lit = literals(g.texts);
  const out: Sample[] = [];
  const base = { communities: new Set<string>(), large: new Set<string>(), path: [] as number[] };
  const nhSame = nodeSubnet ? hostInside(nodeSubnet) : parseCidr(family === 4 ? '10.192.0.3' : 'fd00::3')!;
  const nhOther = parseCidr(family === 4 ? '172.31.0.9' : '2001:db8:ffff::9')!;
  for (const net of samplePrefixes(g.texts, family)) {
    const p = networkOf(net);
    out.push({ what: `${p} iBGP`, route: { ...base, net, source: 'RTS_BGP', localPref: 2147482623, nextHop: nhSame } });
    out.push({ what: `${p} iBGP off-subnet`, route: { ...base, net, source: 'RTS_BGP', localPref: 100, nextHop: nhOther } });
    out.push({ what: `${p} eBGP`, route: { ...base, net, source: 'RTS_BGP', localPref: 100, path: [65000, 65001], nextHop: nhOther } });
    for (const ifname of ['cali1234abcd', 'tunl0', 'vxlan.calico', 'bpfout.cali', 'wireguard.cali']) {
      out.push({ what: `${p} kernel ${ifname}`, route: { ...base, net, source: 'RTS_INHERIT', ifname, krtMetric: 1024 } });
    }
    out.push({ what: `${p} connected eth0`, route: { ...base, net, source: 'RTS_DEVICE', ifname: 'eth0' } });
    out.push({ what: `${p} static`, route: { ...base, net, source: 'RTS_STATIC' } });
    for (const c of lit.communities) out.push({ what: `${p} eBGP community ${c}`, route: { ...base, net, source: 'RTS_BGP', localPref: 100, communities: new Set([c]), nextHop: nhOther } });
    for (const c of lit.large) out.push({ what: `${p} eBGP large ${c}`, route: { ...base, net, source: 'RTS_BGP', localPref: 100, large: new Set([c]), nextHop: nhOther } });
    for (const pref of lit.prefs) out.push({ what: `${p} iBGP LOCAL_PREF ${pref}`, route: { ...base, net, source: 'RTS_BGP', localPref: pref, nextHop: nhSame } });
    for (const path of lit.paths) out.push({ what: `${p} eBGP path ${path.join(' ')}`, route: { ...base, net, source: 'RTS_BGP', localPref: 100, path: [...path, 65099], nextHop: nhOther } });
  }
  return out;
}

function ternInput(s: BirdRoute, family: 4 | 6, from: PeerRef): PolicyInput {
  const fam = family === 4 ? 'ipv4-unicast' : 'ipv6-unicast';
  const source = s.source === 'RTS_BGP' ? 'bgp' : s.source === 'RTS_STATIC' ? 'originated' : s.source === 'RTS_DEVICE' ? 'connected' : 'kernel';
  const attrs = {
    asPath: s.path.length > 0 ? [{ type: AsPathSegmentType.AsSequence, asns: [...s.path] }] : [],
    atomicAggregate: false,
    communities: [...s.communities].map((c) => {
      const [a, b] = c.split(',').map(Number);
      return ((a! << 16) | b!) >>> 0;
    }),
    largeCommunities: [...s.large].map((c) => c.split(',').map(Number) as [number, number, number]),
    extendedCommunities: [],
    clusterList: [],
    unknown: [],
    ...(s.localPref !== undefined && s.source === 'RTS_BGP' ? { localPref: s.localPref } : {}),
    ...(s.nextHop ? { nextHop: s.nextHop.bytes } : {}),
  };
  const input: PolicyInput = {
    nlri: { family: fam, length: s.net.length, address: s.net.bytes.slice(0, Math.ceil(s.net.length / 8)) },
    family: fam,
    attrs,
    source,
    ...(s.ifname && source !== 'bgp' ? { interface: s.ifname } : {}),
    ...(source === 'bgp' ? { from } : {}),
  };
  return input;
}

function peerRef(name: string, asn: number, address: string, localAsn: number): PeerRef {
  return { id: 7, name, asn, type: asn === localAsn ? 'ibgp' : 'ebgp', address: ipToBytes(address)!, addressText: address, rrClient: false, routerId: 0 } as PeerRef;
}

const commText = (n: number) => `${n >>> 16},${n & 0xffff}`;
const sortJoin = (xs: Iterable<string>) => [...xs].sort().join(' ');

/** Compare one family of a golden with the Tern config; returns mismatch descriptions (capped). */
export function compareFilters(g: GoldenFamily, family: 4 | 6, config: TernConfig, nodeSubnet: Cidr | undefined): string[] {
  const problems: string[] = [];
  const program = new BirdProgram();
  for (const t of g.texts) program.add(t);
  const sampleSet = samples(g, family, nodeSubnet);
  const other = peerRef('sample-source', 65000, family === 4 ? '172.31.0.9' : '2001:db8:ffff::9', config.asn);
  const report = (msg: string) => {
    if (problems.length < 12) problems.push(msg);
  };
  for (const gp of g.peers) {
    const tp = config.peers.find((p) => p.name === gp.name);
    if (!tp) continue; // reported by the peer comparison
    const ref = peerRef(gp.name, tp.asn, tp.address, config.asn);
    const exp = resolvePolicy(tp.export, config.policies, tp.name, 'export');
    const imp = resolvePolicy(tp.import, config.policies, tp.name, 'import');
    const expBody = BirdProgram.body(gp.exportFilter);
    const impBody = BirdProgram.body(gp.importFilter);
    for (const s of sampleSet) {
      compareOne(`${gp.name} export ${s.what}`, program.run(expBody, s.route), exp, ternInput(s.route, family, other), { direction: 'export', peer: ref, localAsn: config.asn }, s.route, report, true);
      if (s.route.source === 'RTS_BGP') {
        compareOne(`${gp.name} import ${s.what}`, program.run(impBody, s.route), imp, ternInput(s.route, family, ref), { direction: 'import', peer: ref, localAsn: config.asn }, s.route, report, false);
      }
    }
  }
  const kernelBody = program.filters.get('calico_kernel_programming');
  if (kernelBody && config.kernel) {
    const kernel = resolvePolicy(config.kernel.export, config.policies, 'kernel', 'export');
    const kctx: PolicyContext = { direction: 'export', peer: other, localAsn: config.asn };
    for (const s of sampleSet) {
      if (s.route.source !== 'RTS_BGP' && s.route.source !== 'RTS_STATIC') continue; // BIRD never re-exports kernel/device routes
      const b = program.run(kernelBody, s.route);
      const t = kernel.evaluate(ternInput(s.route, family, other), kctx);
      if (b.accept !== t.accept) report(`kernel ${s.what}: BIRD ${b.accept ? 'accept' : 'reject'}${b.fault ? ` (${b.fault})` : ''}, Tern ${t.decidedBy}`);
      else if (b.accept) {
        const bt = b.route.krtTunnel === 'tunl0';
        const tt = t.tunnel === 'always';
        if (bt !== tt) report(`kernel ${s.what}: BIRD tunnel ${bt}, Tern tunnel ${t.tunnel}`);
      }
    }
  }
  return problems;
}

function compareOne(
  what: string,
  b: { accept: boolean; route: BirdRoute; fault?: string },
  policy: CompiledPolicy,
  input: PolicyInput,
  ctx: PolicyContext,
  before: BirdRoute,
  report: (m: string) => void,
  isExport: boolean,
): void {
  const t = policy.evaluate(input, ctx);
  if (b.accept !== t.accept) {
    report(`${what}: BIRD ${b.accept ? 'accept' : 'reject'}${b.fault ? ` (${b.fault})` : ''}, Tern ${t.decidedBy}`);
    return;
  }
  if (!b.accept) return;
  const bc = sortJoin(b.route.communities);
  const tc = sortJoin(t.attrs.communities.map(commText));
  if (bc !== tc) report(`${what}: communities BIRD [${bc}] Tern [${tc}]`);
  const bl = sortJoin(b.route.large);
  const tl = sortJoin(t.attrs.largeCommunities.map((l) => l.join(',')));
  if (bl !== tl) report(`${what}: large communities BIRD [${bl}] Tern [${tl}]`);
  if ((isExport || b.route.localPref !== before.localPref) && b.route.localPref !== t.attrs.localPref) report(`${what}: LOCAL_PREF BIRD ${b.route.localPref} Tern ${t.attrs.localPref}`);
  // BIRD's filter prepends land in bgp_path; Tern's prependAsPath lands in the attributes and
  // its `prepend` count (extra own-AS copies towards eBGP) in the verdict.
  const ternPath = [...new Array<number>(t.prepend).fill(ctx.localAsn), ...t.attrs.asPath.flatMap((seg) => seg.asns)];
  if (b.route.path.join(' ') !== ternPath.join(' ')) report(`${what}: AS path BIRD [${b.route.path.join(' ')}] Tern [${ternPath.join(' ')}]`);
}

