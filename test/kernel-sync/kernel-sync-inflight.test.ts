// SPDX-License-Identifier: Apache-2.0
// KernelSync with several batches in flight: a destination whose last request is unanswered is
// not planned again until that answer is in (its record is not yet what the kernel has), and
// then it is, with what the Loc-RIB wants by then. Answers may come back in any order: each
// record tracks its own batch, so none is left waiting for an answer that already came. The
// channel is a fake whose answers the test gives; nothing is sent to a kernel. It reads the
// requests back from the bytes KernelSync encoded.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EventEmitter } from 'node:events';
import { KernelSync, type KernelSyncOptions } from '../../src/kernel-sync/kernel-sync.ts';
import { ACCEPT_ALL } from '../../src/policy/compile.ts';
import { prefixKey } from '../../src/rib/prefix-key.ts';
import { RTPROT, decodeNetlink, type RouteMessage, type RouteRequests } from '../../src/kernel-sync/rtnetlink/index.ts';
import type { RouteResult } from '../../src/kernel-sync/channel.ts';
import type { Destination } from '../../src/rib/types.ts';
import type { Rib } from '../../src/rib/rib.ts';
import type { Speaker } from '../../src/speaker.ts';
import type { Logger } from '../../src/observability/log.ts';
import { IF, destination, interfaces, path, peer } from './kernel-fixtures.ts';
import { bytesToIp } from '../../src/util/ip.ts';

const silent = { child: () => silent, info() {}, warn() {}, error() {}, debug() {}, trace() {} } as unknown as Logger;
const opts: KernelSyncOptions = {
  learn: false, program: true, protocol: RTPROT.BIRD, table: 254, metric: 0, exportPolicy: ACCEPT_ALL,
  ignoreInterfaces: [], tunnel: { device: 'tunl0', mode: 'never' }, persist: true, deferralTime: 240,
};

interface Call { requests: { op: string; route: RouteMessage }[]; answer: (ok?: boolean) => void }
interface Internals { channel: unknown; markDirty(key: string): void }

function setup(): { k: KernelSync; loc: Map<string, Destination>; calls: Call[]; want: (prefix: string, nextHop: string) => string } {
  const loc = new Map<string, Destination>();
  const k = new KernelSync(opts, { loc, destinationListeners: [] } as unknown as Rib, { events: new EventEmitter() } as unknown as Speaker, silent);
  // The interfaces of the fixtures: eth0 up with 10.0.0.1/24, so 10.0.0.x next hops are direct.
  const ifs = interfaces();
  for (const [index, name] of [[IF.lo, 'lo'], [IF.eth0, 'eth0']] as const) {
    const l = ifs.byIndex(index)!;
    k.ifaces.applyLink('new', { type: 'link', index, name, flags: l.up ? 1 | (l.loopback ? 8 : 0) : 0 } as Parameters<typeof k.ifaces.applyLink>[1]);
  }
  for (const a of ifs.addresses()) k.ifaces.applyAddr('new', { type: 'addr', family: a.family, index: a.index, prefixLength: a.prefixLength, flags: 0, scope: 0, address: a.address });
  const calls: Call[] = [];
  (k as unknown as Internals).channel = {
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
    (k as unknown as Internals).markDirty(key);
    return key;
  };
  return { k, loc, calls, want };
}

const turn = () => new Promise((r) => setImmediate(r));
const text = (c: Call) => c.requests.map((r) => `${r.op} ${bytesToIp(r.route.dst!)}/${r.route.dstLength} via ${r.route.gateway ? bytesToIp(r.route.gateway) : '-'}`);

describe('KernelSync: batches in flight', () => {
  it('a destination changed while its request is unanswered is sent again only after the answer, as the Loc-RIB wants it then', async () => {
    const { k, calls, want } = setup();
    const a = want('10.9.0.0/24', '10.0.0.2');
    await turn();
    assert.deepEqual(calls.map(text), [['replace 10.9.0.0/24 via 10.0.0.2']]);
    want('10.9.0.0/24', '10.0.0.3');
    want('10.9.0.0/24', '10.0.0.4');
    await turn();
    await turn();
    assert.equal(calls.length, 1, 'nothing more for it while its request is in flight');
    assert.equal(k.programmed.get(a)?.state, 'pending');
    calls[0]!.answer();
    for (let i = 0; i < 5 && calls.length < 2; i++) await turn();
    assert.deepEqual(calls.slice(1).map(text), [['replace 10.9.0.0/24 via 10.0.0.4']]);
    calls[1]!.answer();
    for (let i = 0; i < 5; i++) await turn();
    assert.equal(k.programmed.get(a)?.state, 'installed');
    assert.equal(bytesToIp(k.programmed.get(a)!.form!.gateway!), '10.0.0.4');
  });

  it('answers in any order: a later batch answered first leaves no destination waiting', async () => {
    const { k, calls, want } = setup();
    // 1001 destinations: a batch of 1000, then a batch of one (PROGRAM_BATCH is 1000).
    const keys = Array.from({ length: 1001 }, (_, i) => want(`10.${100 + (i >> 8)}.${i & 255}.0/24`, '10.0.0.2'));
    for (let i = 0; i < 5 && calls.length < 2; i++) await turn();
    assert.deepEqual(calls.map((c) => c.requests.length), [1000, 1]);
    const last = keys[1000]!;
    calls[1]!.answer(); // the second batch first
    for (let i = 0; i < 3; i++) await turn();
    assert.equal(k.programmed.get(last)?.state, 'installed');
    // The last destination changes again while the first batch is still unanswered: it is free
    // to go (its own batch was answered), and goes once the flush gets to it.
    want(`10.103.232.0/24`, '10.0.0.9');
    calls[0]!.answer();
    for (let i = 0; i < 10 && calls.length < 3; i++) await turn();
    assert.deepEqual(calls.slice(2).map(text), [['replace 10.103.232.0/24 via 10.0.0.9']]);
    calls[2]!.answer();
    for (let i = 0; i < 5; i++) await turn();
    assert.deepEqual(k.counts(), { pending: 0, installed: 1001, failed: 0, unresolved: 0 });
  });

  it('a route the wire format cannot carry fails alone: the rest of its batch is sent', async () => {
    const { k, calls, want } = setup();
    // An IPv4 route via an IPv6 next hop on eth0's subnet: RTA_GATEWAY of the wrong size (RFC 5549 needs RTA_VIA).
    const odd = want('10.9.0.0/24', 'fd00::2');
    const fine = want('10.8.0.0/24', '10.0.0.2');
    await turn();
    assert.deepEqual(calls.map(text), [['replace 10.8.0.0/24 via 10.0.0.2']]);
    assert.equal(k.programmed.get(odd)?.state, 'failed');
    assert.match(k.programmed.get(odd)?.error ?? '', /netlink request not encoded: gateway is 16 bytes, the route's family needs 4/);
    calls[0]!.answer();
    for (let i = 0; i < 5; i++) await turn();
    assert.equal(k.programmed.get(fine)?.state, 'installed');
    assert.equal(k.stats.failures, 1);
  });
});
