// SPDX-License-Identifier: Apache-2.0
// Golden tests on bytes the Linux kernel sent (and iproute2 sent it), captured by
// scripts/capture-rtnetlink.sh: dumps compared field by field with what `ip -json` printed for
// the same bytes, one monitor notification each way, acks, an EEXIST and an ext-ack error, and
// iproute2's own requests compared with our encoder.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NLM_F, RTM, RTNH_F, RTN, RTPROT, RT_SCOPE, decodeNetlink, encodeRouteRequest, splitMessages } from '../../src/kernel-sync/rtnetlink/index.ts';
import type { NetlinkEvent, RouteMessage } from '../../src/kernel-sync/rtnetlink/index.ts';
import { ipToBytes } from '../../src/util/ip.ts';
import { toHex } from '../../src/util/reader.ts';
import {
  addrAsIpJson,
  addrOracle,
  datagrams,
  decodeFixture,
  fixtureText,
  linkAsIpJson,
  linkNames,
  linkOracle,
  messagesOf,
  routeAsIpJson,
} from './rtnetlink-fixtures.ts';

const json = (name: string): Record<string, unknown>[] => JSON.parse(fixtureText(name)) as Record<string, unknown>[];
const ip = (text: string): Uint8Array => ipToBytes(text)!;

describe('rtnetlink: kernel dumps against the ip -json oracle', () => {
  it('route dump (table all): every IPv4/IPv6 route, in order, matches ip -json route', () => {
    const events = decodeFixture('route-dump.hex');
    const names = linkNames(events);
    const routes = messagesOf(events, 'route').map((r) => routeAsIpJson(r, names));
    const oracle = json('route-dump.json');
    assert.ok(oracle.length >= 40, `oracle has ${oracle.length} routes`);
    assert.equal(routes.length, oracle.length);
    for (let i = 0; i < oracle.length; i++) assert.deepEqual(routes[i], oracle[i], `route ${i}: ${JSON.stringify(oracle[i])}`);
    const last = events.filter((e) => e.kind === 'done');
    assert.equal(last.length, 1, 'exactly one NLMSG_DONE');
    assert.deepEqual(last[0], { kind: 'done', seq: (events.find((e) => e.kind === 'new' && e.message.type === 'route') as { seq: number }).seq, interrupted: false });
  });

  it("route dump holds Calico's routes with the exact kernel fields", () => {
    const events = decodeFixture('route-dump.hex');
    const names = linkNames(events);
    const index = (name: string): number => [...names].find(([, n]) => n === name)![0];
    const byDst = (dst: string, len: number, table = 254): RouteMessage => {
      const found = messagesOf(events, 'route').find((r) => r.dst !== undefined && toHex(r.dst) === toHex(ip(dst)) && r.dstLength === len && r.table === table);
      assert.ok(found, `${dst}/${len} table ${table}`);
      return found;
    };
    const ipip = byDst('10.244.1.0', 26);
    assert.equal(ipip.flags & RTNH_F.ONLINK, RTNH_F.ONLINK);
    assert.deepEqual([ipip.protocol, ipip.routeType, ipip.oif, toHex(ipip.gateway!)], [RTPROT.BIRD, RTN.UNICAST, index('tunl0'), '0a000002']);
    assert.deepEqual([byDst('10.244.0.0', 26).routeType, byDst('10.244.0.0', 26).oif], [RTN.BLACKHOLE, undefined]);
    const workload = byDst('10.244.0.5', 32);
    assert.deepEqual([workload.protocol, workload.scope, workload.oif], [RTPROT.BOOT, RT_SCOPE.LINK, index('cali123')]);
    const ecmp = byDst('10.244.2.0', 26);
    assert.deepEqual(ecmp.multipath?.map((h) => [toHex(h.gateway!), h.oif, h.weight]), [['0a000002', index('eth0'), 1], ['0a000003', index('eth0'), 3]]);
    // A table above 255: rtm_table says RT_TABLE_COMPAT (252), RTA_TABLE has the real id.
    assert.equal(byDst('10.244.3.0', 26, 1000).table, 1000);
    assert.equal(byDst('fd00:10:244:4::', 122, 1000).table, 1000);
    assert.equal(byDst('10.244.4.0', 26).priority, 512);
    assert.deepEqual(byDst('10.244.8.0', 26).via, { family: 10, address: ip('fe80::2') });
    assert.equal(toHex(byDst('fd00:10:244:1::', 122).gateway!), toHex(ip('fe80::1')));
    assert.equal(byDst('fd00:10:244:3::', 122).multipath?.length, 2);
  });

  it('link dump matches ip -d -json link (index, name, flags, mtu, operstate, type, MAC, kind)', () => {
    const links = messagesOf(decodeFixture('link-dump.hex'), 'link');
    const oracle = json('link-dump.json');
    assert.equal(links.length, oracle.length);
    assert.ok(oracle.length >= 9);
    for (let i = 0; i < oracle.length; i++) assert.deepEqual(linkAsIpJson(links[i]!), linkOracle(oracle[i]!), String(oracle[i]!.ifname));
  });

  it('addr dump matches ip -json addr, link by link', () => {
    const addrs = messagesOf(decodeFixture('addr-dump.hex'), 'addr');
    const oracle = json('addr-dump.json');
    let total = 0;
    for (const link of oracle) {
      const mine = addrs.filter((a) => a.index === link.ifindex).map(addrAsIpJson);
      const theirs = (link.addr_info as Record<string, unknown>[]).map(addrOracle);
      assert.deepEqual(mine, theirs, String(link.ifname));
      total += theirs.length;
    }
    assert.equal(addrs.length, total);
    assert.ok(addrs.some((a) => a.label === 'eth0:vip'));
  });
});

describe('rtnetlink: kernel notifications, acks and errors', () => {
  it('ip monitor route: RTM_NEWROUTE, RTM_NEWROUTE (v6 blackhole), RTM_DELROUTE in order', () => {
    const events = decodeFixture('route-monitor.hex');
    const names = linkNames(events);
    const changes = events.filter((e): e is Extract<NetlinkEvent, { kind: 'new' | 'del' }> => (e.kind === 'new' || e.kind === 'del') && e.message.type === 'route');
    // What ip printed for these bytes, one line per notification.
    const lines = fixtureText('route-monitor.txt').trim().split('\n');
    assert.equal(changes.length, lines.length);
    assert.deepEqual(changes.map((c) => c.kind), lines.map((l) => (l.startsWith('Deleted ') ? 'del' : 'new')));
    const rendered = changes.map((c) => routeAsIpJson(c.message as RouteMessage, names));
    assert.deepEqual(rendered[0], { dst: '10.244.9.0/26', gateway: '10.0.0.2', dev: 'tunl0', protocol: 'bird', flags: ['onlink'] });
    assert.deepEqual(rendered[1], { type: 'blackhole', dst: 'fd00:10:244:9::/122', dev: 'lo', protocol: 'bird', metric: 1024, flags: [], pref: 'medium' });
    assert.deepEqual(rendered[2], rendered[0]);
    // The kernel copies the nlmsg_seq of the request that caused a change into the notification
    // (rtmsg_fib uses info->nlh->nlmsg_seq), so a monitor socket must not match on seq.
    assert.ok(changes.every((c) => c.seq !== 0), 'notifications carry the causing request seq');
  });

  it('NLMSG_ERROR with extended ack: errno ENETUNREACH and the kernel text ip printed', () => {
    const events = decodeFixture('route-add-error.hex');
    const [request] = splitMessages(datagrams('route-add-error.request.hex')[0]!);
    assert.deepEqual(events, [{ kind: 'error', seq: request!.header.seq, errno: 101, message: 'Nexthop has invalid gateway' }]);
    assert.equal(fixtureText('route-add-error.stderr').trim(), 'Error: Nexthop has invalid gateway.');
  });

  it('NLMSG_ERROR without ext-ack text: EEXIST', () => {
    const events = decodeFixture('route-add-exists.hex');
    assert.deepEqual(events.map((e) => [e.kind, 'errno' in e ? e.errno : 0, 'message' in e ? e.message : undefined]), [['error', 17, undefined]]);
    assert.equal(fixtureText('route-add-exists.stderr').trim(), 'RTNETLINK answers: File exists');
  });

  for (const name of ['request-add-onlink', 'request-replace-blackhole', 'request-add-multipath', 'request-add-v6-table', 'request-del']) {
    it(`${name}: the kernel acked (NLMSG_ERROR 0, capped) with the request's seq`, () => {
      const requests = datagrams(`${name}.request.hex`).flatMap((d) => splitMessages(d));
      const route = requests.find((m) => m.header.type === RTM.NEWROUTE || m.header.type === RTM.DELROUTE)!;
      const acks = decodeFixture(`${name}.hex`).filter((e) => e.kind === 'ack');
      assert.deepEqual(acks, [{ kind: 'ack', seq: route.header.seq }]);
    });
  }
});

describe("rtnetlink: our encoder against iproute2's requests", () => {
  /** iproute2's request bytes, the route they decode to, and its nlmsg_seq. */
  function ipRequest(name: string): { bytes: Uint8Array; route: RouteMessage; seq: number; flags: number } {
    for (const d of datagrams(`${name}.request.hex`)) {
      const [m] = splitMessages(d);
      if (m === undefined || (m.header.type !== RTM.NEWROUTE && m.header.type !== RTM.DELROUTE)) continue;
      const [event] = decodeNetlink(d);
      assert.ok(event !== undefined && (event.kind === 'new' || event.kind === 'del') && event.message.type === 'route');
      return { bytes: d, route: event.message, seq: m.header.seq, flags: m.header.flags };
    }
    throw new Error(`no route request in ${name}`);
  }

  const base = { type: 'route' as const, family: 2 as const, srcLength: 0, tos: 0, table: 254, protocol: RTPROT.BIRD, scope: 0, flags: 0, unknown: [] };
  const exact: [string, 'new' | 'replace' | 'del', RouteMessage][] = [
    ['request-add-onlink', 'new', { ...base, dstLength: 26, routeType: RTN.UNICAST, flags: RTNH_F.ONLINK, dst: ip('10.244.10.0'), gateway: ip('10.0.0.2'), oif: 3 }],
    ['request-replace-blackhole', 'replace', { ...base, dstLength: 26, routeType: RTN.BLACKHOLE, dst: ip('10.244.10.0') }],
    ['request-del', 'del', { ...base, dstLength: 26, routeType: RTN.UNSPEC, scope: RT_SCOPE.NOWHERE, dst: ip('10.244.10.0') }],
    [
      'request-add-multipath',
      'new',
      {
        ...base,
        dstLength: 26,
        routeType: RTN.UNICAST,
        dst: ip('10.244.11.0'),
        multipath: [
          { gateway: ip('10.0.0.2'), oif: 5, flags: 0, weight: 2 },
          { gateway: ip('10.0.0.3'), oif: 5, flags: RTNH_F.ONLINK, weight: 1 },
        ],
      },
    ],
  ];
  for (const [name, op, route] of exact) {
    it(`${name}: encodeRouteRequest('${op}') is byte-identical to iproute2's request`, () => {
      const theirs = ipRequest(name);
      assert.equal(toHex(encodeRouteRequest(op, route, theirs.seq)), toHex(theirs.bytes));
    });
  }

  it('request-add-v6-table: same route and flags (iproute2 orders attributes differently)', () => {
    const theirs = ipRequest('request-add-v6-table');
    assert.equal(theirs.route.table, 1000);
    assert.equal(theirs.route.priority, 512);
    const mine = encodeRouteRequest('new', theirs.route, theirs.seq);
    const [m] = splitMessages(mine);
    assert.equal(m!.header.flags, theirs.flags);
    assert.equal(theirs.flags, NLM_F.REQUEST | NLM_F.ACK | NLM_F.CREATE | NLM_F.EXCL);
    assert.deepEqual(decodeNetlink(mine), decodeNetlink(theirs.bytes));
  });
});
