// SPDX-License-Identifier: Apache-2.0
// The export rewrite: RFC 4271 §5.1.2–§5.1.5 and RFC 4456 §8 / §10.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { RouteAttributes } from '../../src/bgp/messages/route-view.ts';
import { AsPathSegmentType } from '../../src/bgp/messages/iana.ts';
import type { AsPathSegment } from '../../src/bgp/messages/types.ts';
import { rewriteForExport } from '../../src/reflector/index.ts';
import type { ExportRewriteOptions } from '../../src/reflector/index.ts';
import type { Path, PeerRef } from '../../src/rib/types.ts';
import { bytesToIp } from '../../src/util/ip.ts';
import { CFG, attrs, id, ip, path, peer, seq, set } from './fixtures.ts';

const SELF4 = ip('192.0.2.254');
const SELF6 = ip('2001:db8::254');
const SELF6_LL = ip('fe80::254');

const ebgpIn = peer('isp-a', 'ebgp', { asn: 65100, address: '198.51.100.1' });
const clientIn = peer('client-a', 'ibgp', { rrClient: true, routerId: '10.0.0.1', address: '10.0.0.1' });
const nonClientIn = peer('rr-2', 'ibgp', { routerId: '10.0.0.2', address: '10.0.0.2' });
const ebgpOut = peer('isp-b', 'ebgp', { asn: 65200, address: '203.0.113.9' });
const clientOut = peer('client-b', 'ibgp', { rrClient: true, routerId: '10.0.0.11', address: '10.0.0.11' });
const nonClientOut = peer('rr-3', 'ibgp', { routerId: '10.0.0.12', address: '10.0.0.12' });

function opts(over: Partial<ExportRewriteOptions> = {}): ExportRewriteOptions {
  return { cfg: CFG, nextHopMode: 'auto', self: { ipv4: SELF4, ipv6: SELF6 }, family: 'ipv4-unicast', ...over };
}

/** Export `p` with its own attributes (an export policy that changed nothing). */
function send(p: Path, to: PeerRef, over: Partial<ExportRewriteOptions> = {}): RouteAttributes | undefined {
  return rewriteForExport(p.attrs, p, to, opts(over));
}

function must(a: RouteAttributes | undefined): RouteAttributes {
  assert.ok(a, 'expected attributes, got undefined (route not sent)');
  return a;
}

function hop(a: RouteAttributes | undefined): string | undefined {
  return a?.nextHop === undefined ? undefined : bytesToIp(a.nextHop);
}

// ===== AS_PATH (RFC 4271 §5.1.2) =====

test('§5.1.2: to eBGP our AS is prepended into the leading AS_SEQUENCE; to iBGP the path is untouched', () => {
  const p = path('bgp', ebgpIn, attrs({ asPath: [seq(65100, 65101)], nextHop: ip('198.51.100.1') }));
  assert.deepEqual(must(send(p, ebgpOut)).asPath, [seq(65000, 65100, 65101)]);
  assert.deepEqual(must(send(p, clientOut)).asPath, [seq(65100, 65101)]);
  assert.deepEqual(must(send(p, nonClientOut)).asPath, [seq(65100, 65101)]);
});

test('§5.1.2: an originated route gets [our AS] to eBGP and an empty AS_PATH to iBGP', () => {
  const p = path('originated', undefined, attrs());
  assert.deepEqual(must(send(p, ebgpOut)).asPath, [seq(65000)]);
  assert.deepEqual(must(send(p, clientOut)).asPath, []);
});

test('§5.1.2 b) 2): a path led by an AS_SET gets a new AS_SEQUENCE in front', () => {
  const p = path('bgp', ebgpIn, attrs({ asPath: [set(65100, 65101)] }));
  assert.deepEqual(must(send(p, ebgpOut)).asPath, [seq(65000), set(65100, 65101)]);
});

test('prepend counts: policy prepends add to the mandatory one, eBGP only', () => {
  const p = path('bgp', ebgpIn, attrs({ asPath: [seq(65100)] }));
  assert.deepEqual(must(send(p, ebgpOut, { prepend: 2 })).asPath, [seq(65000, 65000, 65000, 65100)]);
  assert.deepEqual(must(send(p, ebgpOut, { prepend: 0 })).asPath, [seq(65000, 65100)]);
  assert.deepEqual(must(send(p, ebgpOut, { prepend: -3 })).asPath, [seq(65000, 65100)]);
  // To iBGP a prepend would make every internal peer see its own AS: not applied.
  assert.deepEqual(must(send(p, clientOut, { prepend: 3 })).asPath, [seq(65100)]);
  const originated = path('originated', undefined, attrs());
  assert.deepEqual(must(send(originated, ebgpOut, { prepend: 1 })).asPath, [seq(65000, 65000)]);
});

test('§5.1.2 b) 1): overflowing a 255-ASN segment starts a new AS_SEQUENCE', () => {
  const long = new Array<number>(254).fill(65100);
  const p = path('bgp', ebgpIn, attrs({ asPath: [seq(...long)] }));
  const out = must(send(p, ebgpOut, { prepend: 2 })).asPath;
  assert.equal(out.length, 2);
  assert.deepEqual(out[0], seq(65000, 65000));
  assert.equal(out[1]!.asns.length, 255);
  assert.equal(out[1]!.asns[0], 65000);
  assert.deepEqual(out[1]!.asns.slice(1), long);
});

test('property: to eBGP the flattened path is (1 + prepend) × our AS then the original; no segment exceeds 255', () => {
  const segment = fc.record({ type: fc.constantFrom(AsPathSegmentType.AsSequence, AsPathSegmentType.AsSet), asns: fc.array(fc.integer({ min: 1, max: 4_294_967_295 }), { minLength: 1, maxLength: 255 }) });
  fc.assert(
    fc.property(fc.array(segment, { maxLength: 4 }), fc.integer({ min: 0, max: 600 }), (generated, prepend) => {
      const asPath: AsPathSegment[] = generated.map((s) => ({ type: s.type, asns: [...s.asns] })); // plain objects for deepEqual
      const p = path('bgp', ebgpIn, attrs({ asPath }));
      const out = must(send(p, ebgpOut, { prepend })).asPath;
      const flat = (s: AsPathSegment[]) => s.flatMap((x) => x.asns);
      assert.deepEqual(flat(out), [...new Array<number>(1 + prepend).fill(65000), ...flat(asPath)]);
      for (const s of out) assert.ok(s.asns.length >= 1 && s.asns.length <= 255);
      // Sets are kept as sets, in order, after the prepended sequence(s).
      assert.deepEqual(out.filter((s) => s.type === AsPathSegmentType.AsSet), asPath.filter((s) => s.type === AsPathSegmentType.AsSet));
      const toIbgp = must(send(p, clientOut, { prepend })).asPath;
      assert.deepEqual(toIbgp, asPath);
    }),
  );
});

test('RFC 5065: confederation segments never leave for an eBGP peer', () => {
  const p = path('bgp', nonClientIn, attrs({ asPath: [{ type: AsPathSegmentType.AsConfedSequence, asns: [64512] }, seq(65100)], nextHop: ip('10.0.0.2') }));
  assert.deepEqual(must(send(p, ebgpOut)).asPath, [seq(65000, 65100)]);
});

// ===== NEXT_HOP (RFC 4271 §5.1.3) =====

test('§5.1.3: every next-hop mode × receiver type × source', () => {
  const sources: Record<string, Path> = {
    ebgp: path('bgp', ebgpIn, attrs({ asPath: [seq(65100)], nextHop: ip('198.51.100.1') })),
    ibgp: path('bgp', clientIn, attrs({ nextHop: ip('10.0.0.1'), localPref: 100 })),
    originated: path('originated', undefined, attrs()),
    kernelWithGateway: path('kernel', undefined, attrs({ nextHop: ip('10.2.2.2') })),
  };
  const S = '192.0.2.254';
  // mode → receiver → source → NEXT_HOP sent
  const expected: Record<'self' | 'keep' | 'auto', Record<'ibgp' | 'ebgp', Record<string, string>>> = {
    self: {
      ibgp: { ebgp: S, ibgp: S, originated: S, kernelWithGateway: S },
      ebgp: { ebgp: S, ibgp: S, originated: S, kernelWithGateway: S },
    },
    keep: {
      // An originated route has no next hop to keep: self.
      ibgp: { ebgp: '198.51.100.1', ibgp: '10.0.0.1', originated: S, kernelWithGateway: '10.2.2.2' },
      ebgp: { ebgp: '198.51.100.1', ibgp: '10.0.0.1', originated: S, kernelWithGateway: '10.2.2.2' },
    },
    auto: {
      ibgp: { ebgp: '198.51.100.1', ibgp: '10.0.0.1', originated: S, kernelWithGateway: S },
      ebgp: { ebgp: S, ibgp: S, originated: S, kernelWithGateway: S },
    },
  };
  for (const mode of ['self', 'keep', 'auto'] as const) {
    for (const [toType, to] of [['ibgp', clientOut], ['ebgp', ebgpOut]] as const) {
      for (const [name, p] of Object.entries(sources)) {
        assert.equal(hop(send(p, to, { nextHopMode: mode })), expected[mode][toType][name], `${mode} → ${toType} from ${name}`);
      }
    }
  }
});

test('§5.1.3: the export policy next hop overrides the configured mode', () => {
  const p = path('bgp', clientIn, attrs({ nextHop: ip('10.0.0.1') }));
  assert.equal(hop(send(p, clientOut, { nextHopMode: 'keep', policyNextHop: 'self' })), '192.0.2.254');
  assert.equal(hop(send(p, ebgpOut, { nextHopMode: 'self', policyNextHop: 'keep' })), '10.0.0.1');
  assert.equal(hop(send(p, ebgpOut, { nextHopMode: 'auto', policyNextHop: ip('192.0.2.77') })), '192.0.2.77');
  // An IPv6 address on an IPv4 route does not fit: the configured mode applies.
  assert.equal(hop(send(p, ebgpOut, { nextHopMode: 'auto', policyNextHop: ip('2001:db8::77') })), '192.0.2.254');
});

test('no usable next hop for the family → undefined (do not send)', () => {
  const p = path('originated', undefined, attrs());
  assert.equal(send(p, clientOut, { self: { ipv6: SELF6 } }), undefined);
  const p6 = path('originated', undefined, attrs(), 'ipv6-unicast');
  assert.equal(send(p6, clientOut, { family: 'ipv6-unicast', self: { ipv4: SELF4 } }), undefined);
  // keep with an IPv6 next hop on an IPv4 route and no RFC 8950: falls back to self, or nothing.
  const v6hop = path('bgp', clientIn, attrs({ nextHop: ip('2001:db8::1') }));
  assert.equal(hop(send(v6hop, nonClientOut, { nextHopMode: 'keep' })), '192.0.2.254');
  assert.equal(send(v6hop, nonClientOut, { nextHopMode: 'keep', self: {} }), undefined);
  assert.equal(hop(send(v6hop, nonClientOut, { nextHopMode: 'keep', extendedNextHopIpv4: true })), '2001:db8::1');
});

test('§5.1.3: a next hop that is the receiving peer\'s own address is never sent to it', () => {
  // eBGP neighbour announced a third-party next hop that is client-b's address.
  const p = path('bgp', ebgpIn, attrs({ asPath: [seq(65100)], nextHop: ip('10.0.0.11') }));
  assert.equal(send(p, clientOut, { nextHopMode: 'keep' }), undefined);
  assert.equal(hop(send(p, nonClientOut, { nextHopMode: 'keep' })), '10.0.0.11');
  const originated = path('originated', undefined, attrs());
  assert.equal(send(originated, ebgpOut, { policyNextHop: ip('203.0.113.9') }), undefined);
});

test('IPv6 self: global plus link-local; link-local only on an unnumbered session; RFC 8950 for IPv4', () => {
  const p6 = path('originated', undefined, attrs(), 'ipv6-unicast');
  const both = must(send(p6, ebgpOut, { family: 'ipv6-unicast', self: { ipv6: SELF6, ipv6LinkLocal: SELF6_LL } }));
  assert.equal(bytesToIp(both.nextHop!), '2001:db8::254');
  assert.equal(bytesToIp(both.linkLocalNextHop!), 'fe80::254');
  const globalOnly = must(send(p6, ebgpOut, { family: 'ipv6-unicast', self: { ipv6: SELF6 } }));
  assert.equal(bytesToIp(globalOnly.nextHop!), '2001:db8::254');
  assert.equal(globalOnly.linkLocalNextHop, undefined);
  const llOnly = must(send(p6, ebgpOut, { family: 'ipv6-unicast', self: { ipv6LinkLocal: SELF6_LL } }));
  assert.equal(bytesToIp(llOnly.nextHop!), 'fe80::254');
  assert.equal(llOnly.linkLocalNextHop, undefined);
  const v4 = path('originated', undefined, attrs());
  assert.equal(hop(send(v4, ebgpOut, { self: { ipv6: SELF6 }, extendedNextHopIpv4: true })), '2001:db8::254');
  assert.equal(send(v4, ebgpOut, { self: { ipv6: SELF6 } }), undefined);
});

test('IPv6 keep: the global next hop is kept, the sender\'s link-local one is not passed on (RFC 2545 §3)', () => {
  const p6 = path('bgp', ebgpIn, attrs({ asPath: [seq(65100)], nextHop: ip('2001:db8:1::1'), linkLocalNextHop: ip('fe80::1') }), 'ipv6-unicast');
  const out = must(send(p6, clientOut, { family: 'ipv6-unicast', self: { ipv6: SELF6, ipv6LinkLocal: SELF6_LL } }));
  assert.equal(bytesToIp(out.nextHop!), '2001:db8:1::1');
  assert.equal(out.linkLocalNextHop, undefined);
  const self = must(send(p6, ebgpOut, { family: 'ipv6-unicast', self: { ipv6: SELF6, ipv6LinkLocal: SELF6_LL } }));
  assert.equal(bytesToIp(self.nextHop!), '2001:db8::254');
  assert.equal(bytesToIp(self.linkLocalNextHop!), 'fe80::254');
});

// ===== MED (RFC 4271 §5.1.4) =====

test('§5.1.4: a received MED goes to iBGP but never to another AS', () => {
  const fromEbgp = path('bgp', ebgpIn, attrs({ asPath: [seq(65100)], med: 50, nextHop: ip('198.51.100.1') }));
  assert.equal(must(send(fromEbgp, clientOut)).med, 50);
  assert.equal(must(send(fromEbgp, ebgpOut)).med, undefined);
  assert.equal('med' in must(send(fromEbgp, ebgpOut)), false);
  const fromIbgp = path('bgp', nonClientIn, attrs({ med: 70, nextHop: ip('10.0.0.2') }));
  assert.equal(must(send(fromIbgp, clientOut)).med, 70);
  assert.equal(must(send(fromIbgp, ebgpOut)).med, undefined);
});

test('§5.1.4: a MED set by our export policy, or on a route we originate, is sent to eBGP', () => {
  const fromEbgp = path('bgp', ebgpIn, attrs({ asPath: [seq(65100)], med: 50 }));
  const policySet = { ...fromEbgp.attrs, med: 10 };
  assert.equal(must(rewriteForExport(policySet, fromEbgp, ebgpOut, opts())).med, 10);
  const policyAdded = path('bgp', ebgpIn, attrs({ asPath: [seq(65100)] }));
  assert.equal(must(rewriteForExport({ ...policyAdded.attrs, med: 5 }, policyAdded, ebgpOut, opts())).med, 5);
  const originated = path('originated', undefined, attrs({ med: 30 }));
  assert.equal(must(send(originated, ebgpOut)).med, 30);
  const connected = path('connected', undefined, attrs({ med: 0 }));
  assert.equal(must(send(connected, ebgpOut)).med, 0);
});

// ===== LOCAL_PREF (RFC 4271 §5.1.5) =====

test('§5.1.5: no LOCAL_PREF to eBGP, even one set by policy; to iBGP the value or 100', () => {
  const p = path('bgp', clientIn, attrs({ localPref: 200, nextHop: ip('10.0.0.1') }));
  assert.equal('localPref' in must(send(p, ebgpOut)), false);
  assert.equal(must(rewriteForExport({ ...p.attrs, localPref: 300 }, p, ebgpOut, opts())).localPref, undefined);
  assert.equal(must(send(p, clientOut)).localPref, 200);
  const fromEbgp = path('bgp', ebgpIn, attrs({ asPath: [seq(65100)], nextHop: ip('198.51.100.1') }));
  assert.equal(must(send(fromEbgp, nonClientOut)).localPref, 100);
  assert.equal(must(send(path('originated', undefined, attrs()), clientOut)).localPref, 100);
  assert.equal(must(send(path('originated', undefined, attrs({ localPref: 0 })), clientOut)).localPref, 0);
});

// ===== RFC 4456 §8 / §10 =====

test('RFC 4456 §8: reflecting creates ORIGINATOR_ID from the source peer\'s router id and a CLUSTER_LIST with our cluster id', () => {
  const p = path('bgp', clientIn, attrs({ nextHop: ip('10.0.0.1'), localPref: 100 }));
  for (const to of [clientOut, nonClientOut]) {
    const out = must(send(p, to));
    assert.equal(out.originatorId, id('10.0.0.1'));
    assert.deepEqual(out.clusterList, [CFG.clusterId]);
  }
  // From a non-client to a client is reflection too.
  const q = path('bgp', nonClientIn, attrs({ nextHop: ip('10.0.0.2'), localPref: 100 }));
  assert.equal(must(send(q, clientOut)).originatorId, id('10.0.0.2'));
});

test('RFC 4456 §8: an existing ORIGINATOR_ID is never overwritten, and our cluster id is prepended', () => {
  const p = path('bgp', nonClientIn, attrs({ nextHop: ip('10.0.0.7'), localPref: 100, originatorId: id('10.0.0.7'), clusterList: [id('10.9.0.1'), id('10.9.0.2')] }));
  const out = must(send(p, clientOut));
  assert.equal(out.originatorId, id('10.0.0.7'));
  assert.deepEqual(out.clusterList, [CFG.clusterId, id('10.9.0.1'), id('10.9.0.2')]);
  // The path's stored attributes are untouched.
  assert.deepEqual(p.attrs.clusterList, [id('10.9.0.1'), id('10.9.0.2')]);
});

test('RFC 4456 §8: ORIGINATOR_ID and CLUSTER_LIST are never sent to eBGP', () => {
  const p = path('bgp', clientIn, attrs({ nextHop: ip('10.0.0.1'), localPref: 100, originatorId: id('10.0.0.7'), clusterList: [id('10.9.0.1')] }));
  const out = must(send(p, ebgpOut));
  assert.equal('originatorId' in out, false);
  assert.deepEqual(out.clusterList, []);
});

test('RR attributes appear only on reflection: not on eBGP-learned or originated routes sent to iBGP', () => {
  const fromEbgp = path('bgp', ebgpIn, attrs({ asPath: [seq(65100)], nextHop: ip('198.51.100.1'), originatorId: 42, clusterList: [43] }));
  const out = must(send(fromEbgp, clientOut));
  assert.equal('originatorId' in out, false);
  assert.deepEqual(out.clusterList, []);
  const originated = must(send(path('originated', undefined, attrs()), nonClientOut));
  assert.equal('originatorId' in originated, false);
  assert.deepEqual(originated.clusterList, []);
});

test('RFC 4456 §10: reflection changes no attribute but ORIGINATOR_ID and CLUSTER_LIST', () => {
  const a = attrs({
    origin: 1,
    asPath: [seq(65100, 65101), set(65102)],
    nextHop: ip('10.0.0.1'),
    med: 77,
    localPref: 250,
    atomicAggregate: true,
    aggregator: { asn: 65100, address: ip('198.51.100.50') },
    communities: [(65000 << 16) | 1, 0xffffff01],
    largeCommunities: [[65000, 1, 2]],
    extendedCommunities: [Uint8Array.of(0, 2, 0xfd, 0xe8, 0, 0, 0, 1)],
    unknown: [{ code: 99, kind: 'unknown', flags: 0xc0, value: Uint8Array.of(1, 2, 3) }],
  });
  const p = path('bgp', clientIn, a);
  for (const to of [clientOut, nonClientOut]) {
    const out = must(send(p, to, { prepend: 4 }));
    const { originatorId, clusterList, ...rest } = out;
    assert.equal(originatorId, id('10.0.0.1'));
    assert.deepEqual(clusterList, [CFG.clusterId]);
    const { clusterList: _c, ...expected } = a;
    assert.deepEqual(rest, expected);
  }
});

test('the input is never modified and the interning key is not copied', () => {
  const p = path('bgp', ebgpIn, attrs({ asPath: [seq(65100)], nextHop: ip('198.51.100.1'), med: 5, localPref: 120 }));
  const before = structuredClone({ ...p.attrs });
  const out = must(send(p, ebgpOut, { prepend: 2 }));
  assert.deepEqual({ ...p.attrs }, before);
  assert.equal('key' in out, false);
  out.asPath[0]!.asns.push(1);
  assert.deepEqual(p.attrs.asPath, [seq(65100)]);
});

test('iBGP auto: an originated route configured with its own next hop keeps it; one without goes out as self', async () => {
  const { rewriteForExport } = await import('../../src/reflector/index.ts');
  const { CFG, attrs, ip, path, peer } = await import('./fixtures.ts');
  const to = peer('i', 'ibgp');
  const self = { ipv4: ip('192.0.2.254') };
  const withHop = rewriteForExport(attrs({ nextHop: ip('198.51.100.7') }), path('originated', undefined, attrs({ nextHop: ip('198.51.100.7') })), to, { cfg: CFG, nextHopMode: 'auto', self, family: 'ipv4-unicast' });
  assert.deepEqual(withHop?.nextHop, ip('198.51.100.7'));
  const without = rewriteForExport(attrs(), path('originated', undefined, attrs()), to, { cfg: CFG, nextHopMode: 'auto', self, family: 'ipv4-unicast' });
  assert.deepEqual(without?.nextHop, ip('192.0.2.254'));
  const kernel = rewriteForExport(attrs({ nextHop: ip('198.51.100.9') }), path('kernel', undefined, attrs({ nextHop: ip('198.51.100.9') })), to, { cfg: CFG, nextHopMode: 'auto', self, family: 'ipv4-unicast' });
  assert.deepEqual(kernel?.nextHop, ip('192.0.2.254'), 'a kernel route\'s gateway is ours to reach, not the peer\'s');
});
