// SPDX-License-Identifier: Apache-2.0
// Builders for the kernel-sync unit tests: decoded link/address/route messages as the kernel
// sends them, RIB paths and destinations, and policy verdicts. Test-only; no I/O.
import type { Attrs, Destination, Path, PeerRef } from '../../src/rib/types.ts';
import type { PolicyVerdict } from '../../src/policy/types.ts';
import type { AddrMessage, LinkMessage, NextHop, RouteMessage } from '../../src/kernel-sync/rtnetlink/index.ts';
import { RTN, RTPROT, RT_SCOPE } from '../../src/kernel-sync/rtnetlink/index.ts';
import { InterfaceTable, IFF_LOOPBACK, IFF_UP } from '../../src/kernel-sync/interfaces.ts';
import { ipToBytes } from '../../src/util/ip.ts';

export const ip = (text: string): Uint8Array => {
  const b = ipToBytes(text);
  if (!b) throw new Error(`bad address ${text}`);
  return b;
};

export function link(index: number, name: string, flags = IFF_UP): LinkMessage {
  return { type: 'link', index, name, flags, linkType: 1 };
}

export function addr(index: number, cidr: string, local?: string): AddrMessage {
  const [a, len] = cidr.split('/') as [string, string];
  const address = ip(a);
  return { type: 'addr', family: address.length === 4 ? 2 : 10, prefixLength: Number(len), flags: 0, scope: 0, index, address, ...(local ? { local: ip(local) } : {}) };
}

export const IF = { lo: 1, eth0: 2, tunl0: 3, cali1: 4, eth1: 5 } as const;

/** lo; eth0 10.0.0.1/24 + fd00::1/64; tunl0 (up, a /32 as Calico gives it); cali1 (no address); eth1 down on 172.16.0.1/24. */
export function interfaces(opts: { tunnel?: boolean } = {}): InterfaceTable {
  const t = new InterfaceTable();
  t.applyLink('new', link(IF.lo, 'lo', IFF_UP | IFF_LOOPBACK));
  t.applyLink('new', link(IF.eth0, 'eth0'));
  if (opts.tunnel !== false) t.applyLink('new', link(IF.tunl0, 'tunl0'));
  t.applyLink('new', link(IF.cali1, 'cali1'));
  t.applyLink('new', link(IF.eth1, 'eth1', 0));
  t.applyAddr('new', addr(IF.lo, '127.0.0.1/8'));
  t.applyAddr('new', addr(IF.eth0, '10.0.0.1/24'));
  t.applyAddr('new', addr(IF.eth0, 'fd00::1/64'));
  if (opts.tunnel !== false) t.applyAddr('new', addr(IF.tunl0, '10.244.7.1/32'));
  t.applyAddr('new', addr(IF.eth1, '172.16.0.1/24'));
  return t;
}

/** A kernel route (as decoded from a dump or notification). */
export function kroute(cidr: string, opts: Partial<RouteMessage> & { via?: never } = {}): RouteMessage {
  const [a, len] = cidr.split('/') as [string, string];
  const dst = ip(a);
  return {
    type: 'route', family: dst.length === 4 ? 2 : 10, dstLength: Number(len), srcLength: 0, tos: 0, table: 254,
    protocol: RTPROT.STATIC, scope: RT_SCOPE.UNIVERSE, routeType: RTN.UNICAST, flags: 0, dst, unknown: [], ...opts,
  };
}

export function hop(gateway: string | undefined, oif: number, flags = 0): NextHop {
  return { ...(gateway ? { gateway: ip(gateway) } : {}), oif, flags, weight: 1 };
}

let peerId = 0;
export function peer(name: string, address: string): PeerRef {
  return { id: ++peerId, name, asn: 65000, type: 'ibgp', address: ip(address), addressText: address, rrClient: false, routerId: 0 };
}

export function path(prefix: string, opts: { nextHop?: string; source?: Path['source']; peer?: PeerRef; blackhole?: boolean; iface?: string } = {}): Path {
  const [a, len] = prefix.split('/') as [string, string];
  const address = ip(a);
  const family = address.length === 4 ? 'ipv4-unicast' : 'ipv6-unicast';
  const attrs = { key: `nh=${opts.nextHop ?? ''}`, ...(opts.nextHop ? { nextHop: ip(opts.nextHop) } : {}) } as unknown as Attrs;
  return {
    destKey: prefix, nlri: { family, length: Number(len), address: address.subarray(0, Math.ceil(Number(len) / 8)) }, source: opts.source ?? 'bgp',
    ...(opts.peer ? { peer: opts.peer } : {}), ...(opts.blackhole ? { blackhole: true } : {}), ...(opts.iface ? { interface: opts.iface } : {}),
    attrs, stale: false, receivedAt: 0,
  };
}

/** A destination whose decision is `best` with the ECMP set `multipath` (default: just the best). */
export function destination(prefix: string, best: Path | undefined, multipath: Path[] = best ? [best] : []): Destination {
  const [a, len] = prefix.split('/') as [string, string];
  const address = ip(a);
  const paths = multipath.length ? multipath : best ? [best] : [];
  return {
    key: prefix, family: address.length === 4 ? 'ipv4-unicast' : 'ipv6-unicast', nlri: { family: address.length === 4 ? 'ipv4-unicast' : 'ipv6-unicast', length: Number(len), address },
    paths, pathCount: paths.length, decision: { ...(best ? { best } : {}), multipath, reasons: new Map() },
  };
}

export function accept(extra: Partial<PolicyVerdict> = {}): PolicyVerdict {
  return { accept: true, attrs: {}, prepend: 0, decidedBy: 'test: accept', ...extra };
}

export function reject(decidedBy = 'kernel-export term 1: reject'): PolicyVerdict {
  return { accept: false, attrs: {}, prepend: 0, decidedBy };
}

/** Verdicts: every path accepted unless listed. */
export function verdicts(dest: Destination, overrides: [Path, PolicyVerdict][] = []): Map<Path, PolicyVerdict> {
  const m = new Map<Path, PolicyVerdict>();
  for (const p of dest.decision.multipath.length ? dest.decision.multipath : dest.decision.best ? [dest.decision.best] : []) m.set(p, accept());
  for (const [p, v] of overrides) m.set(p, v);
  return m;
}
