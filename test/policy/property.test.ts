// SPDX-License-Identifier: Apache-2.0
// Random valid policies (written as YAML, read by parseConfig) evaluated on random routes: never
// throws, never mutates the input, a verdict is always accept or reject with a decidedBy that
// names the policy, and an accept always comes from a term with `action: accept`.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { AsPathSegmentType } from '../../src/bgp/messages/iana.ts';
import { compilePolicy } from '../../src/policy/compile.ts';
import { EXPORT_TO_EBGP, EXPORT_TO_IBGP, attrs, policiesFrom, route } from './helpers.ts';

const v4 = fc.tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 32 })).map(([a, l]) => {
  const n = l === 0 ? 0 : ((a << 24) & (0xffffffff << (32 - l))) >>> 0;
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}/${l}`;
});
const small = <T>(arb: fc.Arbitrary<T>) => fc.oneof(arb, fc.array(arb, { minLength: 1, maxLength: 3 }));

const match = fc.record(
  {
    prefix: small(v4),
    prefixWithin: small(v4),
    prefixLength: small(fc.constantFrom(8, '16-24', { min: 24 })),
    community: small(fc.constantFrom('1:1', '2:2', 'no-export')),
    largeCommunity: small(fc.constantFrom('1:2:3', '4:5:6')),
    asPathContains: small(fc.constantFrom(65001, 65002)),
    neighborAs: small(fc.constantFrom(65001, 65002)),
    originAs: small(fc.constantFrom(65001, 65002)),
    asPathLength: small(fc.constantFrom(0, '1-2')),
    asPathPrefix: fc.constantFrom([65001], [[65001, 65002], [65002]]),
    source: small(fc.constantFrom('bgp', 'kernel')),
    interface: small(fc.constantFrom('cali*', 'tunl0', 'eth?')),
    nextHop: small(fc.constantFrom('10.192.0.9', '10.0.0.0/8')),
    peerType: small(fc.constantFrom('ibgp', 'ebgp')),
    not: fc.record({ prefixWithin: v4 }, { requiredKeys: [] }),
  },
  { requiredKeys: [] },
);

const term = fc
  .record(
    {
      match,
      addCommunities: small(fc.constantFrom('1:1', '3:3')),
      removeCommunities: small(fc.constantFrom('1:1', '2:2')),
      addLargeCommunities: fc.constantFrom('1:2:3', '7:8:9'),
      removeLargeCommunities: fc.constantFrom('1:2:3'),
      localPref: fc.nat(),
      med: fc.nat(),
      prepend: fc.integer({ min: 1, max: 10 }),
      nextHop: fc.constantFrom('self', 'keep', '192.0.2.1'),
      action: fc.constantFrom('accept', 'reject'),
    },
    { requiredKeys: ['action'] },
  );

const routeArb = fc.record({
  prefix: v4,
  communities: fc.subarray([0x00010001, 0x00020002, 0xffffff01]),
  large: fc.subarray([[1, 2, 3] as [number, number, number]]),
  path: fc.array(fc.constantFrom(65001, 65002, 65003), { maxLength: 4 }),
  set: fc.boolean(),
  iface: fc.constantFrom(undefined, 'cali1', 'tunl0', 'eth0'),
});

test('random valid policies on random routes: total, pure, consistent verdicts', () => {
  fc.assert(
    fc.property(fc.array(term, { minLength: 1, maxLength: 5 }), fc.array(routeArb, { minLength: 1, maxLength: 5 }), fc.boolean(), (terms, routes, ibgp) => {
      const spec = policiesFrom(stringify({ p: terms }).replace(/^/gm, '  '))['p']!;
      const p = compilePolicy('p', spec);
      for (const r of routes) {
        const asPath = [{ type: AsPathSegmentType.AsSequence, asns: r.path }, ...(r.set ? [{ type: AsPathSegmentType.AsSet, asns: [65009] }] : [])];
        const input = route(r.prefix, attrs({ asPath, communities: r.communities, largeCommunities: r.large, nextHop: Uint8Array.of(10, 192, 0, 9) }), {
          source: r.iface ? 'kernel' : 'bgp',
          ...(r.iface ? { interface: r.iface } : {}),
        });
        const before = structuredClone(input);
        const v = p.evaluate(input, ibgp ? EXPORT_TO_IBGP : EXPORT_TO_EBGP);
        assert.deepEqual(input, before);
        assert.match(v.decidedBy, /^p( term \d+: (accept|reject)|: no term decided: reject)$/);
        assert.equal(v.accept, v.decidedBy.endsWith(': accept'));
        if (v.accept) assert.equal(spec[Number(/term (\d+)/.exec(v.decidedBy)![1])]!.action, 'accept');
        assert.ok(v.prepend >= 0 && v.prepend <= 10 * terms.length);
      }
    }),
    { numRuns: 300 },
  );
});
