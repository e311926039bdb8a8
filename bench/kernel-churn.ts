// SPDX-License-Identifier: Apache-2.0
// Kernel sync under pod churn, in one process: the RIB and KernelSync with the real kernel, in a
// network namespace of their own. N /32 BGP routes (via 10.0.0.2, on a veth's 10.0.0.1/24) are
// installed; then V veth pairs come up and go, as Calico makes one per pod (each host end gets an
// IPv6 link-local address once duplicate address detection is done, and the kernel sends a link
// message for every state change), each with a route to its pod as Felix adds it. Then the
// monitor "overruns" (kernel sync is told so, as the socket would on ENOBUFS) and resyncs. What that costs the main thread is the measure: link and
// address changes must not plan every programmed route again. Then the routes are removed.
// Usage (root): node --import tsx bench/kernel-churn.ts [N] [V]   (defaults 100000, 20)
// It creates the namespace `tern-churn-<pid>`, runs itself inside it with calico-node's Node
// flags, and deletes it afterwards. Numbers are in docs/performance.md.
import { execFileSync, spawnSync } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { decodeUpdate, encodeUpdate } from '../src/bgp/messages/update.ts';
import { attributesForAnnounce, type RouteAttributes } from '../src/bgp/messages/route-view.ts';
import type { Family, Nlri } from '../src/bgp/messages/types.ts';
import { ACCEPT_ALL } from '../src/policy/compile.ts';
import { Rib } from '../src/rib/rib.ts';
import { ipv4ToBytes } from '../src/util/ip.ts';
import { KernelSync } from '../src/kernel-sync/kernel-sync.ts';
import { RTPROT } from '../src/kernel-sync/rtnetlink/index.ts';
import type { Speaker } from '../src/speaker.ts';
import type { Logger } from '../src/observability/log.ts';
import { ternNodeArgs } from './lib/node-flags.ts';
import { ASN, CTX, ROUTER_ID, SELF, client } from '../test/rib/rr-fixtures.ts';

const FAMILY: Family = 'ipv4-unicast';
const PER_UPDATE = 800;
const INPUT_SLICE_MS = 10;

const silent = { child: () => silent, info() {}, warn() {}, error() {}, debug() {}, trace() {} } as unknown as Logger;

/** CPU seconds of this process's main thread (utime + stime of its task). */
function mainThreadCpuS(): number {
  const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function updates(n: number): { announce: Uint8Array[]; withdraw: Uint8Array[] } {
  const attrs: RouteAttributes = { origin: 0, asPath: [], nextHop: ipv4ToBytes('10.0.0.2'), localPref: 100, atomicAggregate: false, communities: [], largeCommunities: [], extendedCommunities: [], clusterList: [], unknown: [] };
  const prefix = (j: number): Nlri => ({ family: FAMILY, length: 32, address: new Uint8Array([100 + (j >>> 24), (j >>> 16) & 255, (j >>> 8) & 255, j & 255]) });
  const announce: Uint8Array[] = [];
  const withdraw: Uint8Array[] = [];
  for (let i = 0; i < n; i += PER_UPDATE) {
    const nlri = Array.from({ length: Math.min(n, i + PER_UPDATE) - i }, (_, j) => prefix(i + j));
    announce.push(encodeUpdate({ type: 'update', withdrawn: [], attributes: attributesForAnnounce(attrs, FAMILY, nlri, CTX), nlri }, CTX).subarray(19));
    withdraw.push(encodeUpdate({ type: 'update', withdrawn: nlri, attributes: [], nlri: [] }, CTX).subarray(19));
  }
  return { announce, withdraw };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function inside(n: number, v: number): Promise<void> {
  const { announce, withdraw } = updates(n);
  const rib = new Rib({ localAsn: ASN, routerId: ROUTER_ID, clusterId: ROUTER_ID });
  const feeder = client(2);
  rib.setPeer({ ref: feeder, importPolicy: ACCEPT_ALL, exportPolicy: ACCEPT_ALL, nextHopMode: 'auto', allowOwnAs: 0 });
  rib.peerUp(feeder.id, { families: [FAMILY], addPathTx: new Set(), self: SELF });
  const speaker = { events: new EventEmitter(), recovering: false, allConverged: () => true } as unknown as Speaker;
  const kernel = new KernelSync({ learn: false, program: true, protocol: RTPROT.BIRD, table: 254, metric: 0, exportPolicy: ACCEPT_ALL, ignoreInterfaces: [], tunnel: { device: 'tunl0', mode: 'never' }, persist: true, deferralTime: 240 }, rib, speaker, silent);
  await kernel.start();
  // BGP input in slices, as the speaker's: the programming loop runs between them.
  const feed = async (frames: Uint8Array[], done: () => boolean): Promise<string> => {
    const [cpu0, t0] = [mainThreadCpuS(), performance.now()];
    for (let i = 0; i < frames.length; ) {
      const end = performance.now() + INPUT_SLICE_MS;
      while (i < frames.length && performance.now() < end) rib.applyUpdate(feeder.id, decodeUpdate(frames[i++]!, CTX), CTX, Date.now());
      await new Promise((r) => setImmediate(r));
    }
    for (let i = 0; !done(); i++) {
      if (i > 120_000) throw new Error('the kernel did not answer within 2 minutes');
      await sleep(1);
    }
    return `${((performance.now() - t0) / 1000).toFixed(2)} s, main thread ${(mainThreadCpuS() - cpu0).toFixed(2)} CPU s`;
  };
  const install = await feed(announce, () => kernel.stats.installs >= n);
  const cpu0 = mainThreadCpuS();
  for (let i = 0; i < v; i++) {
    execFileSync('ip', ['link', 'add', `cali${i}`, 'type', 'veth', 'peer', 'name', `pod${i}`]);
    execFileSync('ip', ['link', 'set', `cali${i}`, 'up']);
    execFileSync('ip', ['link', 'set', `pod${i}`, 'up']);
    // Felix's route to the pod (another protocol's: kernel sync watches how such routes change
    // the resolution of its own next hops).
    execFileSync('ip', ['route', 'add', `10.65.${i >> 8}.${i & 255}/32`, 'dev', `cali${i}`, 'scope', 'link', 'proto', 'boot']);
  }
  await sleep(4000); // duplicate address detection, then the link-local addresses
  for (let i = 0; i < v; i++) execFileSync('ip', ['link', 'del', `cali${i}`]);
  await sleep(1000);
  const churn = mainThreadCpuS() - cpu0;
  // A monitor overrun (ENOBUFS: notifications lost): kernel sync dumps the kernel and writes
  // again what differs from its records.
  const [resync0, resyncT0, resyncAll0] = [mainThreadCpuS(), performance.now(), process.cpuUsage()];
  const writes0 = kernel.stats.installs + kernel.stats.failures;
  (kernel as unknown as { onMonitor(e: { kind: 'overrun'; cause: 'ENOBUFS' }): void }).onMonitor({ kind: 'overrun', cause: 'ENOBUFS' });
  const busy = kernel as unknown as { resyncing: boolean; flushing: boolean; flushScheduled: boolean };
  for (let i = 0; busy.resyncing || busy.flushing || busy.flushScheduled; i++) {
    if (i > 120_000) throw new Error('the resync did not end within 2 minutes');
    await sleep(1);
  }
  const resyncAll = process.cpuUsage(resyncAll0);
  const resync = `${((performance.now() - resyncT0) / 1000).toFixed(2)} s, main thread ${(mainThreadCpuS() - resync0).toFixed(2)} CPU s (all threads ${((resyncAll.user + resyncAll.system) / 1e6).toFixed(2)}), ${kernel.stats.installs + kernel.stats.failures - writes0} routes written`;
  const remove = await feed(withdraw, () => kernel.stats.removals >= n);
  await kernel.stop();
  process.stdout.write(`kernel sync, ${n} routes: install ${install}; ${v} pod veths up and down: main thread ${churn.toFixed(2)} CPU s (spawning \`ip\` included); a resync after a monitor overrun: ${resync}; remove ${remove}\n`);
}

const [n = 100_000, v = 20] = process.argv.slice(2).map(Number);
if (process.env.TERN_CHURN_NS) await inside(n, v);
else {
  const ns = `tern-churn-${process.pid}`;
  execFileSync('ip', ['netns', 'add', ns]);
  try {
    const ip = (...args: string[]) => execFileSync('ip', ['-n', ns, ...args]);
    ip('link', 'set', 'lo', 'up');
    ip('link', 'add', 'd0', 'type', 'veth', 'peer', 'name', 'd1');
    ip('addr', 'add', '10.0.0.1/24', 'dev', 'd0');
    ip('link', 'set', 'd0', 'up');
    ip('link', 'set', 'd1', 'up');
    const self = fileURLToPath(import.meta.url);
    const r = spawnSync('ip', ['netns', 'exec', ns, process.execPath, ...ternNodeArgs('calico'), '--import', 'tsx', self, String(n), String(v)], { stdio: 'inherit', env: { ...process.env, TERN_CHURN_NS: ns } });
    process.exitCode = r.status ?? 1;
  } finally {
    execFileSync('ip', ['netns', 'del', ns]);
  }
}
