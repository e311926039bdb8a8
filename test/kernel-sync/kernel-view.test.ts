// SPDX-License-Identifier: Apache-2.0
// KernelView: the kernel's routes of one table split into ours (protocol 12) and everybody
// else's, keyed as the kernel keys them (family, masked prefix, metric), and the longest-prefix
// lookup over the others that recursive next hops go through.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { KernelView, routeKey } from '../../src/kernel-sync/kernel-view.ts';
import { RTN, RTPROT } from '../../src/kernel-sync/rtnetlink/index.ts';
import { bytesToIp } from '../../src/util/ip.ts';
import { IF, ip, kroute } from './kernel-fixtures.ts';

const gw = (v: KernelView, a: string): string | undefined => {
  const r = v.lookup(ip(a));
  return r ? `${r.dst ? bytesToIp(r.dst) : "0.0.0.0"}/${r.dstLength}${r.gateway ? ` via ${bytesToIp(r.gateway)}` : ''}${r.priority ? ` metric ${r.priority}` : ''}` : undefined;
};

describe('routeKey', () => {
  it('host bits beyond the prefix length do not matter; family, length and metric do', () => {
    assert.equal(routeKey(2, ip('10.0.0.5'), 24), routeKey(2, ip('10.0.0.0'), 24));
    assert.notEqual(routeKey(2, ip('10.0.0.0'), 24), routeKey(2, ip('10.0.0.0'), 25));
    assert.notEqual(routeKey(2, ip('10.0.0.0'), 24, 0), routeKey(2, ip('10.0.0.0'), 24, 100));
    assert.notEqual(routeKey(2, ip('0.0.0.0'), 0), routeKey(10, ip('::'), 0));
    assert.equal(routeKey(2, undefined, 0), routeKey(2, ip('0.0.0.0'), 0), 'a default route has no RTA_DST');
  });

  it('property: two addresses share a key at length L exactly when their first L bits agree', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.integer({ min: 0, max: 128 }), (a, b, len) => {
        let same = true;
        for (let bit = 0; bit < len; bit++) if (((a[bit >> 3]! >> (7 - (bit & 7))) & 1) !== ((b[bit >> 3]! >> (7 - (bit & 7))) & 1)) same = false;
        assert.equal(routeKey(10, a, len) === routeKey(10, b, len), same);
      }),
    );
  });
});

describe('KernelView', () => {
  it('splits routes into ours (our protocol) and others; deletes by key', () => {
    const v = new KernelView(RTPROT.BIRD);
    v.apply('new', kroute('10.1.0.0/24', { protocol: RTPROT.BIRD, gateway: ip('10.0.0.2'), oif: IF.eth0 }));
    v.apply('new', kroute('10.244.0.5/32', { protocol: RTPROT.BOOT, oif: IF.cali1 }));
    assert.deepEqual([v.owned.size, v.others.size], [1, 1]);
    assert.equal(v.lookup(ip('10.1.0.9')), undefined, 'our own routes never resolve next hops');
    v.apply('del', kroute('10.1.0.0/24', { protocol: RTPROT.BIRD }));
    v.apply('del', kroute('10.244.0.5/32', { protocol: RTPROT.BOOT }));
    assert.deepEqual([v.owned.size, v.others.size, v.lookup(ip('10.244.0.5'))], [0, 0, undefined]);
  });

  it('lookup: the longest matching prefix; a deleted one falls back to the next', () => {
    const v = new KernelView(RTPROT.BIRD);
    v.apply('new', kroute('0.0.0.0/0', { dst: undefined, dstLength: 0, gateway: ip('10.0.0.254'), oif: IF.eth0 }));
    v.apply('new', kroute('192.168.0.0/16', { gateway: ip('10.0.0.253'), oif: IF.eth0 }));
    v.apply('new', kroute('192.168.5.0/24', { oif: IF.eth0 }));
    assert.equal(gw(v, '192.168.5.7'), '192.168.5.0/24');
    assert.equal(gw(v, '192.168.6.7'), '192.168.0.0/16 via 10.0.0.253');
    assert.equal(gw(v, '8.8.8.8'), '0.0.0.0/0 via 10.0.0.254');
    v.apply('del', kroute('192.168.5.0/24'));
    assert.equal(gw(v, '192.168.5.7'), '192.168.0.0/16 via 10.0.0.253');
    assert.equal(v.lookup(ip('fd00::1')), undefined, 'no IPv6 route');
  });

  it('lookup: the lowest metric among routes for the same prefix; a replace re-indexes', () => {
    const v = new KernelView(RTPROT.BIRD);
    v.apply('new', kroute('192.168.0.0/16', { gateway: ip('10.0.0.9'), oif: IF.eth0, priority: 100 }));
    v.apply('new', kroute('192.168.0.0/16', { gateway: ip('10.0.0.8'), oif: IF.eth0, priority: 20 }));
    assert.equal(gw(v, '192.168.1.1'), '192.168.0.0/16 via 10.0.0.8 metric 20');
    v.apply('new', kroute('192.168.0.0/16', { gateway: ip('10.0.0.7'), oif: IF.eth0, priority: 20 }));
    assert.equal(v.others.size, 2, 'same key: replaced, not added');
    assert.equal(gw(v, '192.168.1.1'), '192.168.0.0/16 via 10.0.0.7 metric 20');
    v.apply('del', kroute('192.168.0.0/16', { priority: 20 }));
    assert.equal(gw(v, '192.168.1.1'), '192.168.0.0/16 via 10.0.0.9 metric 100');
  });

  it('keeps blackholes (lookup returns them: the caller decides they do not resolve)', () => {
    const v = new KernelView(RTPROT.BIRD);
    v.apply('new', kroute('10.244.0.0/26', { protocol: RTPROT.STATIC, routeType: RTN.BLACKHOLE }));
    assert.equal(v.lookup(ip('10.244.0.1'))?.routeType, RTN.BLACKHOLE);
  });

  it('clear() forgets everything', () => {
    const v = new KernelView(RTPROT.BIRD);
    v.apply('new', kroute('10.1.0.0/24', { protocol: RTPROT.BIRD }));
    v.apply('new', kroute('10.2.0.0/24'));
    v.clear();
    assert.deepEqual([v.owned.size, v.others.size, v.lookup(ip('10.2.0.1'))], [0, 0, undefined]);
  });

  it('property: lookup agrees with a linear scan for the longest match (then lowest metric)', () => {
    const arbRoute = fc.record({ a: fc.nat(255), b: fc.nat(255), len: fc.integer({ min: 0, max: 24 }), metric: fc.nat(3) });
    fc.assert(
      fc.property(fc.array(arbRoute, { maxLength: 20 }), fc.nat(255), fc.nat(255), (routes, x, y) => {
        const v = new KernelView(RTPROT.BIRD);
        for (const r of routes) v.apply('new', kroute(`10.${r.a}.${r.b}.0/${8 + r.len}`, { priority: r.metric, gateway: ip(`10.0.0.${r.metric + 1}`) }));
        const target = ip(`10.${x}.${y}.1`);
        const matches = [...v.others.values()].filter((r) => {
          for (let bit = 0; bit < r.dstLength; bit++) if (((target[bit >> 3]! >> (7 - (bit & 7))) & 1) !== ((r.dst![bit >> 3]! >> (7 - (bit & 7))) & 1)) return false;
          return true;
        });
        const best = matches.sort((p, q) => q.dstLength - p.dstLength || (p.priority ?? 0) - (q.priority ?? 0))[0];
        const got = v.lookup(target);
        assert.deepEqual(got && [got.dstLength, got.priority], best && [best.dstLength, best.priority]);
      }),
    );
  });
});

describe('KernelView.otherWithSameKey (the clash check before installing a route)', () => {
  it('finds another protocol\'s route with the same family, prefix and metric, and only that', () => {
    const v = new KernelView(RTPROT.BIRD);
    const felix = kroute('10.65.0.0/26', { routeType: RTN.BLACKHOLE, protocol: 80 });
    v.apply('new', felix);
    v.apply('new', kroute('10.66.0.0/26', { protocol: RTPROT.BIRD })); // ours: never a clash
    assert.equal(v.otherWithSameKey(2, ip('10.65.0.0'), 26, 0), felix);
    assert.equal(v.otherWithSameKey(2, ip('10.65.0.0'), 26, 100), undefined, 'another metric is another route');
    assert.equal(v.otherWithSameKey(2, ip('10.66.0.0'), 26, 0), undefined);
    assert.equal(v.otherWithSameKey(2, ip('10.65.0.0'), 32, 0), undefined);
    v.apply('del', felix);
    assert.equal(v.otherWithSameKey(2, ip('10.65.0.0'), 26, 0), undefined);
  });

  it('property: the same answer as a lookup of every other route, through adds, replaces, deletes and clears', () => {
    const op = fc.record({ kind: fc.constantFrom('new', 'del', 'clear'), a: fc.integer({ min: 0, max: 3 }), len: fc.constantFrom(24, 26, 32), metric: fc.constantFrom(0, 100), ours: fc.boolean() });
    fc.assert(fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
      const v = new KernelView(RTPROT.BIRD);
      const others = new Map<string, unknown>();
      for (const o of ops) {
        if (o.kind === 'clear') {
          v.clear();
          others.clear();
          continue;
        }
        const r = kroute(`10.0.${o.a}.0/${o.len}`, { protocol: o.ours ? RTPROT.BIRD : RTPROT.STATIC, priority: o.metric || undefined });
        v.apply(o.kind as 'new' | 'del', r);
        const key = routeKey(2, r.dst, r.dstLength, o.metric);
        if (!o.ours) {
          if (o.kind === 'new') others.set(key, r);
          else others.delete(key);
        }
        for (const a of [0, 1, 2, 3]) for (const len of [24, 26, 32]) for (const metric of [0, 100]) {
          const k = routeKey(2, ip(`10.0.${a}.0`), len, metric);
          assert.equal(v.otherWithSameKey(2, ip(`10.0.${a}.0`), len, metric), others.get(k), `10.0.${a}.0/${len} metric ${metric}`);
        }
      }
    }), { numRuns: 200 });
  });
});
