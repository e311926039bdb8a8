// SPDX-License-Identifier: Apache-2.0
// A KernelSync whose netlink channel is a fake the test answers, and whose interfaces are the
// fixtures' (kernel-fixtures.ts): nothing is sent to a kernel. The requests are read back from
// the bytes KernelSync encoded; monitor notifications are fed as the kernel's bytes. Test-only.
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { KernelSync, type KernelSyncOptions } from '../../src/kernel-sync/kernel-sync.ts';
import { ACCEPT_ALL } from '../../src/policy/compile.ts';
import { prefixKey } from '../../src/rib/prefix-key.ts';
import { RTPROT, decodeNetlink, encodeKernelMessage, type AddrMessage, type LinkMessage, type RouteMessage, type RouteRequests, type RtMessage } from '../../src/kernel-sync/rtnetlink/index.ts';
import type { RouteResult } from '../../src/kernel-sync/channel.ts';
import type { NetlinkEvent } from '../../src/native/netlink.ts';
import type { Destination } from '../../src/rib/types.ts';
import type { Rib } from '../../src/rib/rib.ts';
import type { Speaker } from '../../src/speaker.ts';
import type { Logger } from '../../src/observability/log.ts';
import { IF, destination, interfaces, path, peer } from './kernel-fixtures.ts';
import { bytesToIp } from '../../src/util/ip.ts';

const silent = { child: () => silent, info() {}, warn() {}, error() {}, debug() {}, trace() {} } as unknown as Logger;
export const FAKE_KERNEL_OPTIONS: KernelSyncOptions = {
  learn: false, program: true, protocol: RTPROT.BIRD, table: 254, metric: 0, exportPolicy: ACCEPT_ALL,
  ignoreInterfaces: [], tunnel: { device: 'tunl0', mode: 'never' }, persist: true, deferralTime: 240,
};

export interface Call { requests: { op: string; route: RouteMessage }[]; answer: (ok?: boolean) => void }
interface Internals { channel: unknown; markDirty(key: string): void; onMonitor(e: NetlinkEvent): void }

export interface FakeKernel {
  k: KernelSync;
  loc: Map<string, Destination>;
  /** Every send, in order, with a way to answer it. */
  calls: Call[];
  /** The Loc-RIB now has `prefix` via `nextHop` (from node2), and tells kernel sync; its key. */
  want: (prefix: string, nextHop: string) => string;
  /** A monitor notification, as the kernel sends it. */
  notify: (kind: 'new' | 'del', message: RtMessage) => void;
  /** What the fake kernel's dumps return (a resync reads them): the interfaces and addresses
   *  applied at the start, and no routes; tests change them. */
  kernel: { links: LinkMessage[]; addrs: AddrMessage[]; routes: RouteMessage[] };
}

export function fakeKernel(options: Partial<KernelSyncOptions> = {}): FakeKernel {
  const loc = new Map<string, Destination>();
  const k = new KernelSync({ ...FAKE_KERNEL_OPTIONS, ...options }, { loc, destinationListeners: [] } as unknown as Rib, { events: new EventEmitter() } as unknown as Speaker, silent);
  // The interfaces of the fixtures: eth0 up with 10.0.0.1/24, so 10.0.0.x next hops are direct.
  const ifs = interfaces();
  const kernel: FakeKernel['kernel'] = { links: [], addrs: [], routes: [] };
  for (const [index, name] of [[IF.lo, 'lo'], [IF.eth0, 'eth0']] as const) {
    const l = ifs.byIndex(index)!;
    kernel.links.push({ type: 'link', index, name, flags: l.up ? 1 | (l.loopback ? 8 : 0) : 0 } as LinkMessage);
  }
  for (const a of ifs.addresses()) kernel.addrs.push({ type: 'addr', family: a.family, index: a.index, prefixLength: a.prefixLength, flags: 0, scope: 0, address: a.address });
  for (const l of kernel.links) k.ifaces.applyLink('new', l);
  for (const a of kernel.addrs) k.ifaces.applyAddr('new', a);
  const calls: Call[] = [];
  const internals = k as unknown as Internals;
  internals.channel = {
    close: () => undefined,
    dump: async (kind: 'link' | 'addr' | 'route', family?: number): Promise<RtMessage[]> =>
      kind === 'link' ? [...kernel.links] : kind === 'addr' ? [...kernel.addrs] : kernel.routes.filter((r) => r.family === family),
    send: (encoded: RouteRequests) => new Promise<RouteResult[]>((resolve) => {
      const requests = decodeNetlink(encoded.bytes(0, encoded.count)).map((ev) => {
        assert.ok(ev.kind === 'new' || ev.kind === 'del');
        return { op: ev.kind === 'new' ? 'replace' : 'del', route: ev.message as RouteMessage };
      });
      assert.equal(requests.length, encoded.count);
      calls.push({ requests, answer: (ok = true) => resolve(requests.map(() => (ok ? { ok: true } : { ok: false, errno: 101, message: 'unreachable' }))) });
    }),
  };
  const node2 = peer('node2', '10.0.0.2');
  const want = (prefix: string, nextHop: string): string => {
    const d = destination(prefix, path(prefix, { nextHop, peer: node2 }));
    const key = prefixKey(d.nlri);
    loc.set(key, d);
    internals.markDirty(key);
    return key;
  };
  const notify = (kind: 'new' | 'del', message: RtMessage): void => internals.onMonitor({ kind: 'datagram', data: Buffer.from(encodeKernelMessage(kind, message)) });
  return { k, loc, calls, want, notify, kernel };
}

export const turn = (): Promise<unknown> => new Promise((r) => setImmediate(r));

/** A send's requests as text: `replace 10.9.0.0/24 via 10.0.0.2`, and a delete (which carries
 *  no next hop: see deleteBodyOf) `del 10.9.0.0/24`, with ` via`/` dev` if it had one. */
export const text = (c: Call): string[] =>
  c.requests.map((r) => {
    const prefix = `${bytesToIp(r.route.dst!)}/${r.route.dstLength}`;
    if (r.op !== 'del') return `${r.op} ${prefix} via ${r.route.gateway ? bytesToIp(r.route.gateway) : '-'}`;
    return `del ${prefix}${r.route.gateway ? ` via ${bytesToIp(r.route.gateway)}` : ''}${r.route.oif !== undefined ? ` dev ${r.route.oif}` : ''}`;
  });
