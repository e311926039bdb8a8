// SPDX-License-Identifier: Apache-2.0
// Helpers for the MRT tests: `bgpdump -m` lines (the one-line format of Debian's bgpdump 1.6)
// formatted from what src/util/mrt.ts reads, so a dump can be compared with an independent
// reader, and running bgpdump itself.
import { spawnSync } from 'node:child_process';
import { asPathToString, type RouteAttributes } from '../../src/bgp/messages/route-view.ts';
import { prefixToString } from '../../src/bgp/messages/nlri.ts';
import { bytesToIp, u32ToDotted } from '../../src/util/ip.ts';
import { AsPathSegmentType } from '../../src/bgp/messages/iana.ts';
import { mrtRibAttributes, type MrtTableDump } from '../../src/util/mrt.ts';

const ORIGINS = ['IGP', 'EGP', 'INCOMPLETE'];

/** bgpdump writes IPv4-mapped IPv6 addresses with a dotted tail. */
export function bgpdumpAddress(b: Uint8Array): string {
  if (b.length === 16 && b.subarray(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff) return `::ffff:${bytesToIp(b.subarray(12))}`;
  return bytesToIp(b);
}

/** One `bgpdump -m` line per RIB entry: TABLE_DUMP2[_AP]|time|B|peer|peerAS|prefix|[pathId|]path|origin|nh|lp|med|comms|AG|aggr| */
export function bgpdumpLines(dump: MrtTableDump): string[] {
  const lines: string[] = [];
  for (const rib of dump.ribs) {
    for (const e of rib.entries) {
      const peer = rib.peerIndexTable.peers[e.peerIndex]!;
      const a = mrtRibAttributes(e.attributes, rib.nlri);
      const head = [rib.addPath ? 'TABLE_DUMP2_AP' : 'TABLE_DUMP2', String(rib.timestamp), 'B', bytesToIp(peer.address), String(peer.asn), prefixToString(rib.nlri)];
      if (rib.addPath) head.push(String(e.pathId));
      lines.push([...head, ...attributeFields(a)].join('|') + '|');
    }
  }
  return lines;
}

/** bgpdump: sequences as space-separated ASNs, sets as {a,b}. */
function bgpdumpAsPath(a: RouteAttributes): string {
  return a.asPath.map((sg) => (sg.type === AsPathSegmentType.AsSet ? `{${sg.asns.join(',')}}` : sg.asns.join(' '))).join(' ');
}

function attributeFields(a: RouteAttributes): string[] {
  return [
    bgpdumpAsPath(a),
    // bgpdump prints INCOMPLETE for an entry without ORIGIN, and the record's timestamp.
    a.origin === undefined ? 'INCOMPLETE' : (ORIGINS[a.origin] ?? ''),
    a.nextHop ? bgpdumpAddress(a.nextHop) : '255.255.255.255',
    String(a.localPref ?? 0),
    String(a.med ?? 0),
    a.communities.map((c) => `${c >>> 16}:${c & 0xffff}`).join(' '),
    a.atomicAggregate ? 'AG' : 'NAG',
    a.aggregator ? `${a.aggregator.asn} ${bytesToIp(a.aggregator.address)}` : '',
  ];
}

/** The RouteView-like projection `tern show routes --json` gives of a path (see control/views.ts). */
export function routeFields(a: Readonly<RouteAttributes>): Record<string, unknown> {
  return {
    nextHop: a.nextHop ? bytesToIp(a.nextHop) : null,
    linkLocalNextHop: a.linkLocalNextHop ? bytesToIp(a.linkLocalNextHop) : null,
    asPathText: asPathToString(a.asPath),
    origin: a.origin === undefined ? null : (['igp', 'egp', 'incomplete'][a.origin] ?? null),
    localPref: a.localPref ?? null,
    med: a.med ?? null,
    communities: a.communities.map((c) => `${c >>> 16}:${c & 0xffff}`),
    largeCommunities: a.largeCommunities.map(([g, l1, l2]) => `${g}:${l1}:${l2}`),
    extendedCommunities: a.extendedCommunities.map((c) => Buffer.from(c).toString('hex')),
    originatorId: a.originatorId === undefined ? null : u32ToDotted(a.originatorId),
    clusterList: a.clusterList.map(u32ToDotted),
    atomicAggregate: a.atomicAggregate,
    aggregator: a.aggregator ? `${a.aggregator.asn} ${bytesToIp(a.aggregator.address)}` : null,
  };
}

export const BGPDUMP = '/usr/bin/bgpdump';

export function bgpdumpAvailable(): boolean {
  return spawnSync(BGPDUMP, ['-h'], { encoding: 'utf8' }).error === undefined;
}

export function bgpdumpSkip(): string | false {
  return bgpdumpAvailable() ? false : 'bgpdump is not installed (scripts/install-peers.sh installs Debian\'s bgpdump)';
}

/** `bgpdump -m FILE` output lines. */
export function runBgpdump(file: string): string[] {
  const r = spawnSync(BGPDUMP, ['-m', file], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`bgpdump failed (${String(r.status)}): ${r.stderr}`);
  return r.stdout.split('\n').filter((l) => l !== '');
}
