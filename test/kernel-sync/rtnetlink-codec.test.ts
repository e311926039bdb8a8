// SPDX-License-Identifier: Apache-2.0
// rtnetlink codec properties and edge cases: encode → decode round trips over generated routes
// (unicast v4/v6 with gateway/oif/onlink/metric, blackhole/unreachable/prohibit, ECMP with 2-4
// hops, RTA_VIA, tables above 255), links and addresses; several messages per datagram; dump
// requests against iproute2's bytes; every garbling of the input throws only
// NetlinkDecodeError, with the exact reason for the hand-made ones.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  NLM_F,
  NetlinkDecodeError,
  RTA,
  RTM,
  RTN,
  RTNH_F,
  RTPROT,
  concatMessages,
  decodeNetlink,
  encodeDone,
  encodeDumpRequest,
  encodeError,
  encodeKernelMessage,
  encodeRouteRequest,
  splitMessages,
} from '../../src/kernel-sync/rtnetlink/index.ts';
import type { AddrMessage, LinkMessage, NetlinkEvent, NextHop, RouteMessage } from '../../src/kernel-sync/rtnetlink/index.ts';
import { fromHex, toHex } from '../../src/util/reader.ts';
import { datagrams } from './rtnetlink-fixtures.ts';

const u32 = fc.integer({ min: 0, max: 0xffffffff });
const ifindex = fc.integer({ min: 1, max: 0x7fffffff });
const bytes = (n: number): fc.Arbitrary<Uint8Array> => fc.uint8Array({ minLength: n, maxLength: n });

function routeArb(): fc.Arbitrary<RouteMessage> {
  return fc.constantFrom<2 | 10>(2, 10).chain((family) => {
    const size = family === 2 ? 4 : 16;
    const addr = bytes(size);
    const common = {
      dstLength: fc.integer({ min: 0, max: size * 8 }),
      tos: fc.constant(0),
      // Tables above 255 only fit in RTA_TABLE.
      table: fc.oneof(fc.constantFrom(254, 255, 253), fc.integer({ min: 1, max: 251 }), fc.integer({ min: 256, max: 0xffffffff })),
      protocol: fc.constantFrom(RTPROT.BIRD, RTPROT.BOOT, RTPROT.STATIC, RTPROT.KERNEL),
      scope: fc.constantFrom(0, 253, 254),
      dst: fc.option(addr, { nil: undefined }),
      priority: fc.option(u32, { nil: undefined }),
    };
    const hop: fc.Arbitrary<NextHop> = fc.record(
      {
        gateway: addr,
        oif: ifindex,
        flags: fc.constantFrom(0, RTNH_F.ONLINK),
        weight: fc.integer({ min: 1, max: 256 }),
      },
      { requiredKeys: ['oif', 'flags', 'weight'], noNullPrototype: true },
    );
    const unicast = fc.record(
      {
        ...common,
        routeType: fc.constant(RTN.UNICAST),
        flags: fc.constantFrom(0, RTNH_F.ONLINK),
        gateway: addr,
        oif: ifindex,
        prefsrc: addr,
      },
      { requiredKeys: ['dstLength', 'tos', 'table', 'protocol', 'scope', 'routeType', 'flags'], noNullPrototype: true },
    );
    const viaV6 = fc.record({ ...common, routeType: fc.constant(RTN.UNICAST), flags: fc.constant(0), via: fc.record({ family: fc.constant(10), address: bytes(16) }, { noNullPrototype: true }), oif: ifindex }, { noNullPrototype: true });
    const reject = fc.record({ ...common, routeType: fc.constantFrom(RTN.BLACKHOLE, RTN.UNREACHABLE, RTN.PROHIBIT), flags: fc.constant(0) }, { noNullPrototype: true });
    const ecmp = fc.record({ ...common, routeType: fc.constant(RTN.UNICAST), flags: fc.constant(0), multipath: fc.array(hop, { minLength: 2, maxLength: 4 }) }, { noNullPrototype: true });
    return fc.oneof(unicast, reject, ecmp, ...(family === 2 ? [viaV6] : [])).map((r) => {
      const route: RouteMessage = { type: 'route', family, srcLength: 0, unknown: [], ...r };
      for (const k of Object.keys(route) as (keyof RouteMessage)[]) if (route[k] === undefined) delete route[k];
      return route;
    });
  });
}

const linkArb: fc.Arbitrary<LinkMessage> = fc
  .record(
    {
      index: ifindex,
      name: fc.stringMatching(/^[a-z][a-z0-9.-]{0,14}$/),
      flags: u32,
      mtu: fc.integer({ min: 68, max: 65536 }),
      kind: fc.constantFrom('veth', 'vxlan', 'ipip', 'wireguard'),
      linkType: fc.constantFrom(1, 768, 772, 65534),
      operState: fc.integer({ min: 0, max: 6 }),
      address: bytes(6),
      master: ifindex,
    },
    { requiredKeys: ['index', 'flags', 'linkType'], noNullPrototype: true },
  )
  .map((l) => ({ type: 'link', ...l }));

const addrArb: fc.Arbitrary<AddrMessage> = fc.constantFrom<2 | 10>(2, 10).chain((family) =>
  fc
    .record(
      {
        prefixLength: fc.integer({ min: 0, max: family === 2 ? 32 : 128 }),
        flags: fc.oneof(fc.integer({ min: 0, max: 0xff }), fc.integer({ min: 0x100, max: 0xfff })),
        scope: fc.constantFrom(0, 253, 254),
        index: ifindex,
        address: bytes(family === 2 ? 4 : 16),
        local: bytes(family === 2 ? 4 : 16),
        label: fc.stringMatching(/^[a-z0-9:]{1,15}$/),
      },
      { requiredKeys: ['prefixLength', 'flags', 'scope', 'index'], noNullPrototype: true },
    )
    .map((a) => ({ type: 'addr', family, ...a })),
);

function only(events: NetlinkEvent[]): NetlinkEvent {
  assert.equal(events.length, 1);
  return events[0]!;
}

function throwsDecode(bytes: Uint8Array, reason: RegExp, offset?: number): void {
  assert.throws(
    () => decodeNetlink(bytes),
    (e: unknown) => {
      assert.ok(e instanceof NetlinkDecodeError, String(e));
      assert.match(e.message, reason);
      if (offset !== undefined) assert.equal(e.offset, offset);
      return true;
    },
  );
}

describe('rtnetlink round trips (fast-check)', () => {
  it('route requests: decode(encodeRouteRequest(op, r, seq)) is r, with the op as kind', () => {
    fc.assert(
      fc.property(routeArb(), fc.constantFrom('new', 'replace', 'del') as fc.Arbitrary<'new' | 'replace' | 'del'>, u32, (route, op, seq) => {
        const bytes = encodeRouteRequest(op, route, seq);
        assert.equal(bytes.length % 4, 0);
        assert.deepEqual(decodeNetlink(bytes), [{ kind: op === 'del' ? 'del' : 'new', seq, message: route }]);
      }),
      { numRuns: 500 },
    );
  });

  it('links and addresses as the kernel sends them round-trip', () => {
    fc.assert(
      fc.property(fc.oneof(linkArb, addrArb), fc.constantFrom('new', 'del') as fc.Arbitrary<'new' | 'del'>, u32, (message, kind, seq) => {
        assert.deepEqual(decodeNetlink(encodeKernelMessage(kind, message, seq, NLM_F.MULTI)), [{ kind, seq, message }]);
      }),
      { numRuns: 300 },
    );
  });

  it('a datagram holding a whole dump decodes to every message in order, then done', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(routeArb(), linkArb, addrArb), { maxLength: 12 }), u32, fc.boolean(), (messages, seq, interrupted) => {
        const datagram = concatMessages([...messages.map((m) => encodeKernelMessage('new', m, seq, NLM_F.MULTI)), encodeDone(seq, { interrupted })]);
        const expected: NetlinkEvent[] = [...messages.map((message) => ({ kind: 'new' as const, seq, message })), { kind: 'done', seq, interrupted }];
        assert.deepEqual(decodeNetlink(datagram), expected);
      }),
      { numRuns: 200 },
    );
  });
});

describe('rtnetlink control messages', () => {
  const request = { length: 52, type: RTM.NEWROUTE, flags: NLM_F.REQUEST | NLM_F.ACK, seq: 9, pid: 0 };

  it('NLMSG_ERROR 0 is an ack; non-zero is an error with the ext-ack text', () => {
    assert.deepEqual(decodeNetlink(encodeError(9, 0, request)), [{ kind: 'ack', seq: 9 }]);
    assert.deepEqual(decodeNetlink(encodeError(9, 17, request)), [{ kind: 'error', seq: 9, errno: 17 }]);
    assert.deepEqual(decodeNetlink(encodeError(9, 22, request, 'Invalid prefix for given prefix length')), [
      { kind: 'error', seq: 9, errno: 22, message: 'Invalid prefix for given prefix length' },
    ]);
  });

  it('a batch of acks and an error in one datagram keep their seqs', () => {
    const datagram = concatMessages([encodeError(1, 0, request), encodeError(2, 3, request, 'No such process'), encodeError(3, 0, request)]);
    assert.deepEqual(decodeNetlink(datagram), [{ kind: 'ack', seq: 1 }, { kind: 'error', seq: 2, errno: 3, message: 'No such process' }, { kind: 'ack', seq: 3 }]);
  });

  it('NLMSG_DONE: empty payload (old kernels), interrupted dump, and a dump error', () => {
    assert.deepEqual(decodeNetlink(fromHex('10000000 0300 0200 05000000 00000000')), [{ kind: 'done', seq: 5, interrupted: false }]);
    assert.deepEqual(decodeNetlink(encodeDone(6, { interrupted: true })), [{ kind: 'done', seq: 6, interrupted: true }]);
    assert.deepEqual(decodeNetlink(encodeDone(7, { errno: 90 })), [{ kind: 'error', seq: 7, errno: 90 }]);
  });

  it('NLMSG_ERROR not capped: TLVs start after the whole echoed request, attribute offset too', () => {
    // Header (flags ACK_TLVS only) + error -101 + echoed 20-byte request + MSG "bad" + OFFS 16.
    const echoed = '14000000 1800 0506 0b000000 00000000 02180000';
    const tlvs = '08000100 62616400 08000200 10000000';
    const body = `9bffffff ${echoed} ${tlvs}`;
    const hex = `${(16 + fromHex(body).length).toString(16).padStart(2, '0')}000000 0200 0002 0b000000 00000000 ${body}`;
    assert.deepEqual(decodeNetlink(fromHex(hex)), [{ kind: 'error', seq: 11, errno: 101, message: 'bad', attrOffset: 16 }]);
  });

  it('NLMSG_NOOP, other rtnetlink types (RTM_NEWNEIGH) and other route families (ipmr) are skipped', () => {
    const noop = fromHex('10000000 0100 0000 01000000 00000000');
    const neigh = fromHex('1c000000 1c00 0000 02000000 00000000 02000000 05000000 02000000');
    const ipmr = fromHex('1c000000 1800 0000 03000000 00000000 80000000 fe000005 00000000');
    assert.deepEqual(decodeNetlink(concatMessages([noop, neigh, ipmr, encodeDone(4)])), [{ kind: 'done', seq: 4, interrupted: false }]);
  });

  it('unmodelled route attributes are kept in wire order; NLA_F_NESTED is masked off types', () => {
    const hex = '30000000 1800 0000 01000000 00000000 0a000000 fe020001 00000000 05001400 00000000 0c00 0880 08000200 dc050000';
    const event = only(decodeNetlink(fromHex(hex)));
    assert.ok(event.kind === 'new' && event.message.type === 'route');
    assert.deepEqual(event.message.unknown, [
      { type: RTA.PREF, value: fromHex('00') },
      { type: RTA.METRICS, value: fromHex('08000200 dc050000') },
    ]);
  });
});

describe('rtnetlink dump requests', () => {
  it("route and addr dumps are byte-identical to iproute2's (first message of its request)", () => {
    for (const [kind, file] of [['route', 'route-dump.request.hex'], ['addr', 'addr-dump.request.hex']] as const) {
      const theirs = datagrams(file)
        .flatMap((d) => d.subarray(0, new DataView(d.buffer, d.byteOffset).getUint32(0, true)))
        .find((d) => d[4] === (kind === 'route' ? RTM.GETROUTE : RTM.GETADDR))!;
      const seq = new DataView(theirs.buffer, theirs.byteOffset).getUint32(8, true);
      assert.equal(toHex(encodeDumpRequest(kind, 0, seq)), toHex(theirs), kind);
    }
  });

  it('route filters: protocol in rtm_protocol; tables <= 255 in rtm_table, larger ones in RTA_TABLE', () => {
    assert.equal(toHex(encodeDumpRequest('route', 2, 1, { table: 254, protocol: RTPROT.BIRD })), '1c0000001a000103010000000000000002000000fe0c000000000000');
    assert.equal(toHex(encodeDumpRequest('route', 10, 1, { table: 1000 })), '240000001a00010301000000000000000a0000000000000000000000' + '08000f00e8030000');
    assert.equal(toHex(encodeDumpRequest('link', 0, 2)), '20000000120001030200000000000000' + '00'.repeat(16));
  });
});

describe('rtnetlink request encoding', () => {
  const route: RouteMessage = { type: 'route', family: 2, dstLength: 26, srcLength: 0, tos: 0, table: 254, protocol: 12, scope: 0, routeType: 1, flags: 4, dst: fromHex('0af40100'), gateway: fromHex('0a000002'), oif: 3, unknown: [] };
  const flagsOf = (b: Uint8Array): number => splitMessages(b)[0]!.header.flags;

  it('netlink.h flag combinations: add = CREATE|EXCL, replace = CREATE|REPLACE, del = none; ACK unless asked not to', () => {
    assert.equal(flagsOf(encodeRouteRequest('new', route, 1)), NLM_F.REQUEST | NLM_F.ACK | NLM_F.CREATE | NLM_F.EXCL);
    assert.equal(flagsOf(encodeRouteRequest('replace', route, 1)), NLM_F.REQUEST | NLM_F.ACK | NLM_F.CREATE | NLM_F.REPLACE);
    assert.equal(flagsOf(encodeRouteRequest('del', route, 1)), NLM_F.REQUEST | NLM_F.ACK);
    assert.equal(flagsOf(encodeRouteRequest('replace', route, 1, { ack: false })), NLM_F.REQUEST | NLM_F.CREATE | NLM_F.REPLACE);
    assert.equal(splitMessages(encodeRouteRequest('del', route, 1))[0]!.header.type, RTM.DELROUTE);
  });

  it('values that do not fit the wire are RangeErrors, never silently changed', () => {
    assert.throws(() => encodeRouteRequest('new', { ...route, gateway: fromHex('0a0000') }, 1), RangeError);
    assert.throws(() => encodeRouteRequest('new', { ...route, dstLength: 33 }, 1), RangeError);
    assert.throws(() => encodeRouteRequest('new', { ...route, family: 7 as 2 }, 1), RangeError);
    assert.throws(() => encodeRouteRequest('new', { ...route, multipath: [{ oif: 1, flags: 0, weight: 0 }] }, 1), RangeError);
    assert.throws(() => encodeRouteRequest('new', { ...route, priority: 2 ** 32 }, 1), RangeError);
    assert.throws(() => encodeRouteRequest('new', route, -1), RangeError);
  });
});

describe('rtnetlink decoder robustness', () => {
  const good = encodeRouteRequest('new', { type: 'route', family: 10, dstLength: 64, srcLength: 0, tos: 0, table: 1000, protocol: 12, scope: 0, routeType: 1, flags: 0, dst: new Uint8Array(16), multipath: [{ gateway: new Uint8Array(16), oif: 2, flags: 4, weight: 3 }, { oif: 3, flags: 0, weight: 1 }], unknown: [] }, 5);

  it('hand-made garbage names the reason and the offset', () => {
    throwsDecode(good.subarray(0, 15), /nlmsg_pid: need 4 bytes, 3 left/, 12);
    throwsDecode(fromHex('0c000000 1800 0000 00000000 00000000'), /nlmsg_len 12 < 16/, 0);
    throwsDecode(good.subarray(0, good.length - 4), /payload \(nlmsg_len \d+\)/, 16);
    throwsDecode(fromHex('18000000 1800 0000 00000000 00000000 02000000 00000000'), /struct rtmsg/);
    throwsDecode(fromHex('20000000 1800 0000 00000000 00000000 02210000 fe000001 00000000 04000100'), /rtm_dst_len 33/, 16);
    throwsDecode(fromHex('20000000 1800 0000 00000000 00000000 02000000 fe000001 00000000 03000100'), /nla_len 3 < 4/, 28);
    throwsDecode(fromHex('24000000 1800 0000 00000000 00000000 02000000 fe000001 00000000 0c000100 0a000000'), /payload: need 8 bytes, 4 left/);
    throwsDecode(fromHex('24000000 1800 0000 00000000 00000000 02200000 fe000001 00000000 07000100 0a0000 00'), /RTA_DST payload is 3 bytes, expected 4/, 28);
    throwsDecode(fromHex('24000000 1800 0000 00000000 00000000 02000000 fe000001 00000000 06000400 0300 0000'), /RTA_OIF payload is 2 bytes/, 28);
    throwsDecode(fromHex('24000000 1800 0000 00000000 00000000 02000000 fe000001 00000000 08000900 0400 0000'), /rtnh_len 4 < 8/, 32);
    throwsDecode(fromHex('1c000000 1400 0000 00000000 00000000 0a810000 01000000 00000000'), /ifa_prefixlen 129/, 16);
    throwsDecode(fromHex('1c000000 1000 0000 00000000 00000000 00000100 01000000 00000000'), /struct ifinfomsg/, 16);
    throwsDecode(fromHex('14000000 0200 0000 00000000 00000000 00000000'), /nlmsgerr|nlmsg_/);
  });

  it('arbitrary bytes: decodeNetlink returns events or throws NetlinkDecodeError, nothing else', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (b) => {
        try {
          decodeNetlink(b);
        } catch (e) {
          assert.ok(e instanceof NetlinkDecodeError, String(e));
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('mutated real messages (bit flips, truncation, byte splices) throw only NetlinkDecodeError', () => {
    const seeds = [good, ...datagrams('route-dump.hex').slice(0, 3), ...datagrams('route-add-error.hex'), encodeKernelMessage('new', { type: 'link', index: 3, name: 'tunl0', flags: 0x11043, linkType: 1, kind: 'veth', mtu: 1480 })];
    fc.assert(
      fc.property(fc.constantFrom(...seeds), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }), fc.nat(), (seed, edits, cut) => {
        const b = seed.slice();
        for (const [at, v] of edits) b[at % b.length] = v;
        const truncated = b.subarray(0, b.length - (cut % 8));
        for (const input of [b, truncated]) {
          try {
            decodeNetlink(input);
          } catch (e) {
            assert.ok(e instanceof NetlinkDecodeError, String(e));
          }
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('decoded values do not alias the receive buffer the addon reuses', () => {
    const b = encodeRouteRequest('new', { type: 'route', family: 2, dstLength: 24, srcLength: 0, tos: 0, table: 254, protocol: 12, scope: 0, routeType: 1, flags: 0, dst: fromHex('0a000100'), unknown: [] }, 1);
    const event = only(decodeNetlink(b));
    b.fill(0xff);
    assert.ok(event.kind === 'new' && event.message.type === 'route');
    assert.equal(toHex(event.message.dst!), '0a000100');
  });
});
