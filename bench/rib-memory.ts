// SPDX-License-Identifier: Apache-2.0
// The RIB alone, in one process, no sockets: what a full table costs Tern per route, and whether a
// withdrawal of it leaves anything behind. One feeder (an iBGP route-reflector client) sends N
// IPv4 /32s in UPDATEs of 800 prefixes with one attribute set, as the BIRD feeder of the
// reflector scenario does; M monitors share its export class and read (and encode) everything
// after every 10 UPDATEs, about what the daemon's 100 ms send coalescing lets pile up. Then the
// feeder withdraws every prefix, in an order unrelated to the announce's, as BIRD does: it
// announces a static protocol's routes in their order, but withdraws them as it prunes its table,
// in the order of its prefix hash. A withdrawal in the announce's order finds each route's
// objects next to the last one's, in cache; in hash order each is a cache miss, and the RIB's
// withdrawal costs about twice the CPU (1M × 1: 3.3 → 6.5 s, as in the daemon).
//
// Usage: node --expose-gc [node flags] --import tsx bench/rib-memory.ts [N] [M] [--json]
//        [--withdraw-in-order] (withdraw in the announce's order, as this did before)
// It reports CPU seconds per phase, live heap bytes per route after the announce (after a full
// GC), how much the old generation grew during the withdrawal (garbage included: V8 flags and
// allocation sites decide that, and the peak RSS follows it), and the live heap after it.
// Run it with the deployment's flags (bench/lib/node-flags.ts) to see what a daemon would.
// test/rib/memory.test.ts runs it at a small N. Numbers are in docs/performance.md.
import { getHeapSpaceStatistics } from 'node:v8';
import { decodeUpdate, encodeUpdate } from '../src/bgp/messages/update.ts';
import { attributesForAnnounce, type RouteAttributes } from '../src/bgp/messages/route-view.ts';
import type { Family, Nlri } from '../src/bgp/messages/types.ts';
import { ACCEPT_ALL } from '../src/policy/compile.ts';
import { encodeBatch } from '../src/rib/packer.ts';
import { Rib } from '../src/rib/rib.ts';
import { ipv4ToBytes } from '../src/util/ip.ts';
// The route reflector of the update-group tests: AS 64512, clients c2, c3, ... at 10.0.1.N.
import { ASN, CTX, ROUTER_ID, SELF, client } from '../test/rib/rr-fixtures.ts';

const FAMILY: Family = 'ipv4-unicast';
const PER_UPDATE = 800;
const UPDATES_PER_READ = 10;

export interface RibMemoryResult {
  prefixes: number;
  monitors: number;
  /** The order of the withdrawal: 'shuffled' (a fixed pseudo-random permutation, like BIRD's
   *  hash order) or 'announce' (the order the prefixes were announced in). */
  withdrawOrder: WithdrawOrder;
  announceCpuS: number;
  withdrawCpuS: number;
  /** Live heap after the announce (after a full GC), per route. */
  heapBytesPerRoute: number;
  /** Old-space growth while withdrawing (before any full GC runs), per route: objects promoted
   *  or pretenured that were garbage, mostly. */
  withdrawOldGrowthBytesPerRoute: number;
  /** Large-object-space growth while withdrawing, per route: hash tables V8 reallocates as the
   *  Maps shrink, freed at the next full GC. */
  withdrawLargeGrowthBytesPerRoute: number;
  /** Live heap after the withdrawal, less the live heap before the announce. */
  heapLeftAfterWithdrawBytes: number;
  /** Routes every monitor was sent, per monitor. */
  sent: number[];
}

export type WithdrawOrder = 'shuffled' | 'announce';

/** The feeder's j-th prefix, a /32. */
function prefix(j: number): Nlri {
  return { family: FAMILY, length: 32, address: new Uint8Array([11 + (j >>> 24), (j >>> 16) & 255, (j >>> 8) & 255, j & 255]) };
}

/** 0 .. n-1, in the withdrawal's order: Fisher-Yates with a fixed-seed LCG (the same order every run). */
function withdrawalOrder(n: number, order: WithdrawOrder): Uint32Array {
  const out = new Uint32Array(n);
  for (let i = 0; i < n; i++) out[i] = i;
  if (order === 'announce') return out;
  let seed = 0x2545f491;
  for (let i = n - 1; i > 0; i--) {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    const j = seed % (i + 1);
    const t = out[i]!;
    out[i] = out[j]!;
    out[j] = t;
  }
  return out;
}

function spaceUsed(name: string): number {
  return getHeapSpaceStatistics().find((s) => s.space_name === name)?.space_used_size ?? 0;
}

function cpuS(since: NodeJS.CpuUsage): number {
  const c = process.cpuUsage(since);
  return (c.user + c.system) / 1e6;
}

export function measureRib(n: number, m: number, withdrawOrder: WithdrawOrder = 'shuffled'): RibMemoryResult {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with node --expose-gc');
  const attrs: RouteAttributes = { origin: 0, asPath: [], nextHop: ipv4ToBytes('10.0.1.2'), localPref: 100, atomicAggregate: false, communities: [], largeCommunities: [], extendedCommunities: [], clusterList: [], unknown: [] };
  const announce: Uint8Array[] = [];
  const withdraw: Uint8Array[] = [];
  const order = withdrawalOrder(n, withdrawOrder);
  for (let i = 0; i < n; i += PER_UPDATE) {
    const end = Math.min(n, i + PER_UPDATE);
    const nlri: Nlri[] = [];
    const withdrawn: Nlri[] = [];
    for (let j = i; j < end; j++) {
      nlri.push(prefix(j));
      withdrawn.push(prefix(order[j]!));
    }
    announce.push(encodeUpdate({ type: 'update', withdrawn: [], attributes: attributesForAnnounce(attrs, FAMILY, nlri, CTX), nlri }, CTX).subarray(19));
    withdraw.push(encodeUpdate({ type: 'update', withdrawn, attributes: [], nlri: [] }, CTX).subarray(19));
  }
  const rib = new Rib({ localAsn: ASN, routerId: ROUTER_ID, clusterId: ROUTER_ID });
  const feeder = client(2);
  const members = [feeder, ...Array.from({ length: m }, (_, i) => client(3 + i))];
  for (const ref of members) {
    rib.setPeer({ ref, importPolicy: ACCEPT_ALL, exportPolicy: ACCEPT_ALL, nextHopMode: 'auto', allowOwnAs: 0 });
    rib.peerUp(ref.id, { families: [FAMILY], addPathTx: new Set(), self: SELF });
  }
  const sent = members.map(() => 0);
  // Every member reads, the feeder too (it is sent nothing: split horizon), as sessions do.
  const read = (): void => {
    members.forEach((ref, i) => {
      for (let batch = rib.takeOutput(ref.id, 2048); batch; batch = rib.takeOutput(ref.id, 2048)) {
        encodeBatch(batch, CTX, rib.encodeCache(ref.id));
        for (const a of batch.announcements) sent[i]! += a.nlri.length;
        sent[i]! += batch.singles.length;
      }
    });
  };
  const feed = (frames: Uint8Array[]): void => {
    frames.forEach((f, i) => {
      rib.applyUpdate(feeder.id, decodeUpdate(f, CTX), CTX, Date.now());
      if (i % UPDATES_PER_READ === UPDATES_PER_READ - 1 || i === frames.length - 1) read();
    });
  };
  gc();
  const base = process.memoryUsage().heapUsed;
  let t = process.cpuUsage();
  feed(announce);
  const announceCpuS = cpuS(t);
  announce.length = 0;
  gc();
  const loaded = process.memoryUsage().heapUsed;
  const oldBefore = spaceUsed('old_space');
  const largeBefore = spaceUsed('large_object_space');
  t = process.cpuUsage();
  feed(withdraw);
  const withdrawCpuS = cpuS(t);
  const oldGrowth = spaceUsed('old_space') - oldBefore;
  const largeGrowth = spaceUsed('large_object_space') - largeBefore;
  withdraw.length = 0;
  gc();
  return {
    prefixes: n,
    monitors: m,
    withdrawOrder,
    announceCpuS,
    withdrawCpuS,
    heapBytesPerRoute: Math.round((loaded - base) / n),
    withdrawOldGrowthBytesPerRoute: Math.round(oldGrowth / n),
    withdrawLargeGrowthBytesPerRoute: Math.round(largeGrowth / n),
    heapLeftAfterWithdrawBytes: process.memoryUsage().heapUsed - base,
    sent: sent.slice(1),
  };
}

if (process.argv[1]?.endsWith('rib-memory.ts')) {
  const args = process.argv.slice(2);
  const [n = 1_000_000, m = 1] = args.filter((a) => !a.startsWith('--')).map(Number);
  const r = measureRib(n, m, args.includes('--withdraw-in-order') ? 'announce' : 'shuffled');
  if (args.includes('--json')) process.stdout.write(JSON.stringify(r) + '\n');
  else {
    process.stdout.write(
      `RIB, ${n} prefixes, ${m} monitor(s): announce ${r.announceCpuS.toFixed(2)} CPU s, ${r.heapBytesPerRoute} heap bytes a route; ` +
        `withdraw (${r.withdrawOrder === 'shuffled' ? 'shuffled' : "in the announce's order"}) ${r.withdrawCpuS.toFixed(2)} CPU s, old space +${r.withdrawOldGrowthBytesPerRoute} and large objects +${r.withdrawLargeGrowthBytesPerRoute} bytes a route, ` +
        `${(r.heapLeftAfterWithdrawBytes / 2 ** 20).toFixed(1)} MiB left after; peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB\n`,
    );
  }
}
