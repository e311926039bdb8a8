// SPDX-License-Identifier: Apache-2.0
// RouteRequests: route requests encoded back to back, numbered and acked when they are cut into
// datagrams. The bytes must be exactly what encodeRouteRequest writes for each route, whether the
// request is made from a RouteMessage or from a shared form plus the prefix (as kernel sync
// programs), and a route the wire format cannot carry must throw without leaving half a message.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { RouteRequests, decodeNetlink, encodeRouteRequest, RTN, RTNH_F, RTPROT, RT_SCOPE, type NextHop, type RouteMessage, type RouteOp } from '../../src/kernel-sync/rtnetlink/index.ts';
import { formOf, fullAddressInto } from '../../src/kernel-sync/route-form.ts';
import { KeyNlri } from '../../src/rib/prefix-key.ts';
import type { Nlri } from '../../src/bgp/messages/types.ts';

const concat = (parts: Uint8Array[]) => Uint8Array.from(parts.flatMap((p) => [...p]));

const address = (size: number) => fc.uint8Array({ minLength: size, maxLength: size });

/** Routes kernel sync writes: unicast via a gateway (on-link or not), multipath, blackholes;
 *  main and big tables; with and without a metric. */
const route = fc.constantFrom(2 as const, 10 as const).chain((family) => {
  const size = family === 2 ? 4 : 16;
  const hop: fc.Arbitrary<NextHop> = fc.record({ gateway: address(size), oif: fc.integer({ min: 1, max: 5000 }), flags: fc.constantFrom(0, RTNH_F.ONLINK), weight: fc.integer({ min: 1, max: 256 }) });
  return fc.record({
    dstLength: fc.integer({ min: 0, max: size * 8 }),
    dst: address(size),
    table: fc.constantFrom(254, 100, 1000, 0xfffffff0),
    priority: fc.option(fc.integer({ min: 1, max: 0xffffffff }), { nil: undefined }),
    kind: fc.constantFrom('via', 'multipath', 'blackhole'),
    gateway: address(size),
    oif: fc.integer({ min: 1, max: 5000 }),
    flags: fc.constantFrom(0, RTNH_F.ONLINK),
    hops: fc.array(hop, { minLength: 2, maxLength: 4 }),
  }).map((r): RouteMessage => ({
    type: 'route', family, dstLength: r.dstLength, srcLength: 0, tos: 0, table: r.table, protocol: RTPROT.BIRD,
    scope: RT_SCOPE.UNIVERSE, routeType: r.kind === 'blackhole' ? RTN.BLACKHOLE : RTN.UNICAST, flags: r.kind === 'via' ? r.flags : 0,
    dst: masked(r.dst, r.dstLength), priority: r.priority, unknown: [],
    ...(r.kind === 'via' ? { gateway: r.gateway, oif: r.oif } : r.kind === 'multipath' ? { multipath: r.hops } : {}),
  }));
});

function masked(bytes: Uint8Array, length: number): Uint8Array {
  const out = new Uint8Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) {
    const bits = length - i * 8;
    out[i] = bits >= 8 ? bytes[i]! : bits <= 0 ? 0 : bytes[i]! & (0xff << (8 - bits)) & 0xff;
  }
  return out;
}

const op = fc.constantFrom<RouteOp>('new', 'replace', 'del');

describe('RouteRequests', () => {
  it('numbered and cut into datagrams, its bytes are encodeRouteRequest\'s for each route, from a route or from its form and prefix', () => {
    // A few routes; each request takes one of them to another destination (as the routes of one
    // peer share one form: addBody encodes a form once and then writes only the destination).
    const request = fc.tuple(op, fc.nat(), fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.nat(128));
    fc.assert(
      fc.property(fc.array(route, { minLength: 1, maxLength: 3 }), fc.array(request, { minLength: 1, maxLength: 12 }), fc.integer({ min: 1, max: 0xfffff000 }), fc.integer({ min: 1, max: 5 }), (routes, picks, firstSeq, perDatagram) => {
        const forms = routes.map((r) => formOf(r));
        const requests = picks.map(([o, i, bytes, length]): [RouteOp, RouteMessage, number] => {
          const r = routes[i % routes.length]!;
          const size = r.family === 2 ? 4 : 16;
          const dstLength = length % (size * 8 + 1);
          return [o, { ...r, dst: masked(bytes.subarray(0, size), dstLength), dstLength }, i % routes.length];
        });
        const fromRoutes = new RouteRequests(2); // small: the buffer grows on the way
        const fromForms = new RouteRequests();
        // One scratch address per family for all of them, as kernel sync has.
        const scratch = { 2: new Uint8Array(4), 10: new Uint8Array(16) };
        for (const [o, r, form] of requests) {
          fromRoutes.add(o, r);
          // As kernel sync writes it: the shared form, and the prefix kept as its key.
          const nlri: Nlri = KeyNlri.of({ family: r.family === 2 ? 'ipv4-unicast' : 'ipv6-unicast', length: r.dstLength, address: r.dst! });
          fromForms.addBody(o, forms[form]!, fullAddressInto(nlri, scratch[r.family]), r.dstLength);
        }
        assert.equal(fromRoutes.count, requests.length);
        for (const encoded of [fromRoutes, fromForms]) {
          const datagrams: Uint8Array[] = [];
          const expected: Uint8Array[] = [];
          for (let from = 0; from < requests.length; from += perDatagram) {
            const to = Math.min(requests.length, from + perDatagram);
            for (let i = from; i < to; i++) {
              encoded.stamp(i, firstSeq + i, i === to - 1);
              expected.push(encodeRouteRequest(requests[i]![0], requests[i]![1], firstSeq + i, { ack: i === to - 1 }));
            }
            datagrams.push(encoded.bytes(from, to));
          }
          assert.deepEqual([...concat(datagrams)], [...concat(expected)]);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('a route the wire format cannot carry throws RangeError and leaves nothing behind', () => {
    const good = (last: number): RouteMessage => ({
      type: 'route', family: 2, dstLength: 32, srcLength: 0, tos: 0, table: 254, protocol: RTPROT.BIRD, scope: RT_SCOPE.UNIVERSE,
      routeType: RTN.UNICAST, flags: 0, dst: new Uint8Array([192, 0, 2, last]), gateway: new Uint8Array([10, 0, 0, 2]), oif: 2, unknown: [],
    });
    const bad: RouteMessage[] = [
      { ...good(9), gateway: new Uint8Array(16) }, // an IPv6 next hop on an IPv4 route
      { ...good(9), dstLength: 33 },
      { ...good(9), srcLength: 40 },
      { ...good(9), gateway: undefined, multipath: [{ gateway: new Uint8Array(4), oif: 2, flags: 0, weight: 0 }] },
    ];
    const requests = new RouteRequests();
    requests.add('replace', good(1));
    for (const r of bad) assert.throws(() => requests.add('replace', r), RangeError);
    // From a form: the form checked when first used, the destination each time.
    const form = formOf(good(3));
    requests.addBody('replace', form, new Uint8Array([192, 0, 2, 3]), 32);
    assert.throws(() => requests.addBody('replace', form, new Uint8Array(16), 32), RangeError);
    assert.throws(() => requests.addBody('replace', form, new Uint8Array(4), 33), RangeError);
    assert.throws(() => requests.addBody('replace', formOf(bad[0]!), new Uint8Array(4), 32), RangeError);
    requests.add('del', good(2));
    assert.equal(requests.count, 3);
    requests.stamp(0, 7, false);
    requests.stamp(1, 8, false);
    requests.stamp(2, 9, true);
    const events = decodeNetlink(requests.bytes(0, 3));
    assert.deepEqual(events.map((e) => [e.kind, e.seq, e.kind === 'new' || e.kind === 'del' ? [...(e.message as RouteMessage).dst!] : []]), [
      ['new', 7, [192, 0, 2, 1]],
      ['new', 8, [192, 0, 2, 3]],
      ['del', 9, [192, 0, 2, 2]],
    ]);
    const expected = [encodeRouteRequest('replace', good(1), 7, { ack: false }), encodeRouteRequest('replace', good(3), 8, { ack: false }), encodeRouteRequest('del', good(2), 9)];
    assert.deepEqual([...requests.bytes(0, 3)], [...concat(expected)]);
  });
});
