// SPDX-License-Identifier: Apache-2.0
// Loads the kernel captures made by scripts/capture-rtnetlink.sh and renders decoded messages
// the way iproute2 6.1 prints them in -json, so tests can compare field by field with the
// oracle files stored beside the bytes.
import { readFileSync } from 'node:fs';
import { IFA_F, IFF, RTM_F, RTNH_F, RTA } from '../../src/kernel-sync/rtnetlink/index.ts';
import type { AddrMessage, LinkMessage, NetlinkEvent, RouteMessage } from '../../src/kernel-sync/rtnetlink/index.ts';
import { decodeNetlink } from '../../src/kernel-sync/rtnetlink/index.ts';
import { bytesToIp } from '../../src/util/ip.ts';
import { fromHex } from '../../src/util/reader.ts';

const DIR = new URL('../fixtures/rtnetlink/', import.meta.url);

export function fixtureText(name: string): string {
  return readFileSync(new URL(name, DIR), 'utf8');
}

/** One datagram per non-comment line. */
export function datagrams(name: string): Uint8Array[] {
  return fixtureText(name)
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.startsWith('#'))
    .map(fromHex);
}

export function decodeFixture(name: string): NetlinkEvent[] {
  return datagrams(name).flatMap((d) => decodeNetlink(d));
}

export function messagesOf<T extends 'route' | 'link' | 'addr'>(
  events: NetlinkEvent[],
  type: T,
): Extract<RouteMessage | LinkMessage | AddrMessage, { type: T }>[] {
  const out: Extract<RouteMessage | LinkMessage | AddrMessage, { type: T }>[] = [];
  for (const e of events) {
    if ((e.kind === 'new' || e.kind === 'del') && e.message.type === type) {
      out.push(e.message as Extract<RouteMessage | LinkMessage | AddrMessage, { type: T }>);
    }
  }
  return out;
}

/** ifindex → name from every link message in the capture (iproute2 looks names up over netlink too). */
export function linkNames(events: NetlinkEvent[]): Map<number, string> {
  const names = new Map<number, string>();
  for (const l of messagesOf(events, 'link')) if (l.name !== undefined) names.set(l.index, l.name);
  return names;
}

// iproute2 lib/rt_names.c and ip/iproute.c tables, for the values the captures hold.
const ROUTE_TYPES: Record<number, string> = { 2: 'local', 3: 'broadcast', 4: 'anycast', 5: 'multicast', 6: 'blackhole', 7: 'unreachable', 8: 'prohibit', 9: 'throw' };
const PROTOCOLS: Record<number, string> = { 2: 'kernel', 4: 'static', 9: 'ra', 11: 'zebra', 12: 'bird', 16: 'dhcp', 186: 'bgp' };
const SCOPES: Record<number, string> = { 0: 'global', 200: 'site', 253: 'link', 254: 'host', 255: 'nowhere' };
const TABLES: Record<number, string> = { 253: 'default', 254: 'main', 255: 'local' };
const RTA_PREF_NAMES: Record<number, string> = { 0: 'medium', 1: 'high', 3: 'low' };

function nexthopFlags(flags: number): string[] {
  const out: string[] = [];
  if (flags & RTNH_F.DEAD) out.push('dead');
  if (flags & RTNH_F.ONLINK) out.push('onlink');
  if (flags & RTNH_F.PERVASIVE) out.push('pervasive');
  if (flags & RTNH_F.OFFLOAD) out.push('offload');
  if (flags & RTNH_F.TRAP) out.push('trap');
  if (flags & RTM_F.NOTIFY) out.push('notify');
  if (flags & RTNH_F.LINKDOWN) out.push('linkdown');
  if (flags & RTNH_F.UNRESOLVED) out.push('unresolved');
  if (flags & RTM_F.OFFLOAD) out.push('rt_offload');
  if (flags & RTM_F.TRAP) out.push('rt_trap');
  return out;
}

function prefix(address: Uint8Array | undefined, length: number, family: number): string {
  if (address === undefined || length === 0) return length === 0 ? 'default' : '?';
  return length === (family === 2 ? 32 : 128) ? bytesToIp(address) : `${bytesToIp(address)}/${length}`;
}

/** What `ip -json route show table all` prints for one route (iproute2 6.1 print_route). */
export function routeAsIpJson(r: RouteMessage, names: Map<number, string>): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  if (r.routeType !== 1) o.type = ROUTE_TYPES[r.routeType] ?? String(r.routeType);
  o.dst = prefix(r.dst, r.dstLength, r.family);
  if (r.via !== undefined) o.via = { family: r.via.family === 10 ? 'inet6' : 'inet', host: bytesToIp(r.via.address) };
  if (r.gateway !== undefined) o.gateway = bytesToIp(r.gateway);
  if (r.oif !== undefined) o.dev = names.get(r.oif) ?? `if${r.oif}`;
  if (r.table !== 254) o.table = TABLES[r.table] ?? String(r.table);
  if (r.protocol !== 3) o.protocol = PROTOCOLS[r.protocol] ?? String(r.protocol); // RTPROT_BOOT is not printed
  if (r.scope !== 0) o.scope = SCOPES[r.scope] ?? String(r.scope);
  if (r.prefsrc !== undefined) o.prefsrc = bytesToIp(r.prefsrc);
  if (r.priority !== undefined) o.metric = r.priority;
  o.flags = nexthopFlags(r.flags);
  const pref = r.unknown.find((a) => a.type === RTA.PREF);
  if (pref !== undefined) o.pref = RTA_PREF_NAMES[pref.value[0]!] ?? String(pref.value[0]);
  if (r.multipath !== undefined) {
    o.nexthops = r.multipath.map((h) => {
      const hop: Record<string, unknown> = {};
      if (h.gateway !== undefined) hop.gateway = bytesToIp(h.gateway);
      hop.dev = names.get(h.oif) ?? `if${h.oif}`;
      hop.weight = h.weight;
      hop.flags = nexthopFlags(h.flags);
      return hop;
    });
  }
  return o;
}

const LINK_FLAG_NAMES: [number, string][] = [
  [IFF.LOOPBACK, 'LOOPBACK'],
  [IFF.BROADCAST, 'BROADCAST'],
  [IFF.POINTOPOINT, 'POINTOPOINT'],
  [IFF.MULTICAST, 'MULTICAST'],
  [IFF.NOARP, 'NOARP'],
  [IFF.PROMISC, 'PROMISC'],
  [IFF.UP, 'UP'],
  [IFF.LOWER_UP, 'LOWER_UP'],
  [IFF.DORMANT, 'DORMANT'],
];
const OPERSTATES = ['UNKNOWN', 'NOTPRESENT', 'DOWN', 'LOWERLAYERDOWN', 'TESTING', 'DORMANT', 'UP'];
const LINK_TYPES: Record<number, string> = { 1: 'ether', 768: 'ipip', 772: 'loopback', 65534: 'none' };

/** The subset of `ip -d -json link show` the model carries (iproute2 print_link_flags etc.). */
export function linkAsIpJson(l: LinkMessage): Record<string, unknown> {
  const flags: string[] = [];
  // print_link_flags: "NO-CARRIER" when up but not running; IFF_RUNNING itself is not printed.
  if (l.flags & IFF.UP && !(l.flags & IFF.RUNNING)) flags.push('NO-CARRIER');
  for (const [bit, name] of LINK_FLAG_NAMES) if (l.flags & bit) flags.push(name);
  const o: Record<string, unknown> = { ifindex: l.index, ifname: l.name, flags: flags.sort(), mtu: l.mtu };
  if (l.operState !== undefined) o.operstate = OPERSTATES[l.operState];
  o.link_type = LINK_TYPES[l.linkType] ?? String(l.linkType);
  if (l.address !== undefined) o.address = [...l.address].map((b) => b.toString(16).padStart(2, '0')).join(':');
  if (l.kind !== undefined) o.info_kind = l.kind;
  return o;
}

/** The same subset picked out of one oracle entry. M-DOWN describes the IFLA_LINK peer, not this link. */
export function linkOracle(j: Record<string, unknown>): Record<string, unknown> {
  const o: Record<string, unknown> = {
    ifindex: j.ifindex,
    ifname: j.ifname,
    flags: (j.flags as string[]).filter((f) => f !== 'M-DOWN').sort(),
    mtu: j.mtu,
    operstate: j.operstate,
    link_type: j.link_type,
    address: j.address,
  };
  const info = j.linkinfo as { info_kind?: string } | undefined;
  if (info?.info_kind !== undefined) o.info_kind = info.info_kind;
  return o;
}

const ADDR_FLAG_NAMES: [number, string][] = [
  [IFA_F.SECONDARY, 'secondary'],
  [IFA_F.NODAD, 'nodad'],
  [IFA_F.OPTIMISTIC, 'optimistic'],
  [IFA_F.DADFAILED, 'dadfailed'],
  [IFA_F.HOMEADDRESS, 'home'],
  [IFA_F.DEPRECATED, 'deprecated'],
  [IFA_F.TENTATIVE, 'tentative'],
  [IFA_F.MANAGETEMPADDR, 'mngtmpaddr'],
  [IFA_F.NOPREFIXROUTE, 'noprefixroute'],
  [IFA_F.MCAUTOJOIN, 'autojoin'],
  [IFA_F.STABLE_PRIVACY, 'stable-privacy'],
];

/** What `ip -json addr show` prints in addr_info, minus lifetimes (iproute2 print_addrinfo). */
export function addrAsIpJson(a: AddrMessage): Record<string, unknown> {
  const o: Record<string, unknown> = { family: a.family === 2 ? 'inet' : 'inet6' };
  const local = a.local ?? a.address;
  if (local !== undefined) o.local = bytesToIp(local);
  if (a.address !== undefined && a.local !== undefined && bytesToIp(a.address) !== bytesToIp(a.local)) o.address = bytesToIp(a.address);
  o.prefixlen = a.prefixLength;
  o.scope = SCOPES[a.scope] ?? String(a.scope);
  if (!(a.flags & IFA_F.PERMANENT)) o.dynamic = true;
  for (const [bit, name] of ADDR_FLAG_NAMES) {
    // if_addr.h: IFA_F_TEMPORARY is IFA_F_SECONDARY; iproute2 names it by family.
    if (a.flags & bit) o[bit === IFA_F.SECONDARY && a.family === 10 ? 'temporary' : name] = true;
  }
  if (a.label !== undefined) o.label = a.label;
  return o;
}

export function addrOracle(j: Record<string, unknown>): Record<string, unknown> {
  const { valid_life_time: _v, preferred_life_time: _p, ...rest } = j;
  return rest;
}
