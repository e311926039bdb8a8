// SPDX-License-Identifier: Apache-2.0
// Every action, one test each, with the exact verdict; then the evaluation rules: terminal vs
// non-terminal terms, accumulation, fall-through reject, input never mutated, decidedBy text,
// and the `all` / `none` policies and resolvePolicy.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ACCEPT_ALL, REJECT_ALL, compilePolicy, resolvePolicy } from '../../src/policy/compile.ts';
import { EXPORT_TO_EBGP, EXPORT_TO_IBGP, attrs, comm, deepFreeze, policiesFrom, policy, route, seq } from './helpers.ts';

const NH = Uint8Array.of(10, 192, 0, 9); // helpers.route's default next hop

test('action: accept and reject end the policy', () => {
  const p = policy('[{match: {prefix: 10.0.0.0/8}, action: reject}, {action: accept}]');
  const rejected = p.evaluate(route('10.0.0.0/8'), EXPORT_TO_EBGP);
  assert.deepEqual(rejected, { accept: false, attrs: attrs({ nextHop: NH }), prepend: 0, decidedBy: 'p term 0: reject' });
  const accepted = p.evaluate(route('11.0.0.0/8'), EXPORT_TO_EBGP);
  assert.deepEqual(accepted, { accept: true, attrs: attrs({ nextHop: NH }), prepend: 0, decidedBy: 'p term 1: accept' });
});

test('addCommunities: appended once each, well-known names by value', () => {
  const p = policy('[{addCommunities: ["65000:100", no-export, "65000:100"], action: accept}]');
  const v = p.evaluate(route('10.0.0.0/8', { communities: [comm('1:1'), 0xffffff01] }), EXPORT_TO_EBGP);
  assert.deepEqual(v.attrs.communities, [comm('1:1'), 0xffffff01, comm('65000:100')]);
  assert.equal(v.accept, true);
});

test('removeCommunities', () => {
  const p = policy('[{removeCommunities: ["1:1", no-advertise], action: accept}]');
  const v = p.evaluate(route('10.0.0.0/8', { communities: [comm('1:1'), comm('2:2'), 0xffffff02, comm('1:1')] }), EXPORT_TO_EBGP);
  assert.deepEqual(v.attrs.communities, [comm('2:2')]);
});

test('addLargeCommunities (Calico large_community golden: add (65001, 300, 400))', () => {
  const p = policy('[{match: {largeCommunity: "65000:100:200"}, addLargeCommunities: "65001:300:400", action: accept}, {action: reject}]');
  const v = p.evaluate(route('10.0.0.0/8', { largeCommunities: [[65000, 100, 200]] }), EXPORT_TO_EBGP);
  assert.deepEqual(v.attrs.largeCommunities, [
    [65000, 100, 200],
    [65001, 300, 400],
  ]);
  assert.equal(v.decidedBy, 'p term 0: accept');
  assert.deepEqual(p.evaluate(route('10.0.0.0/8'), EXPORT_TO_EBGP).decidedBy, 'p term 1: reject');
});

test('removeLargeCommunities', () => {
  const p = policy('[{removeLargeCommunities: ["1:2:3"], action: accept}]');
  const v = p.evaluate(route('10.0.0.0/8', { largeCommunities: [[1, 2, 3], [1, 2, 4]] }), EXPORT_TO_EBGP);
  assert.deepEqual(v.attrs.largeCommunities, [[1, 2, 4]]);
});

test('localPref and med', () => {
  const p = policy('[{localPref: 2147483547, med: 0, action: accept}]');
  const v = p.evaluate(route('10.0.0.0/8', { localPref: 100, med: 50 }), EXPORT_TO_IBGP);
  assert.deepEqual([v.attrs.localPref, v.attrs.med], [2147483547, 0]);
});

test('prepend: counted in the verdict, the AS path itself left to the exporter', () => {
  const p = policy('[{prepend: 2}, {prepend: 3, action: accept}]');
  const v = p.evaluate(route('10.0.0.0/8', { asPath: [seq(65001)] }), EXPORT_TO_EBGP);
  assert.equal(v.prepend, 5);
  assert.deepEqual(v.attrs.asPath, [seq(65001)]);
});

test('nextHop: self, keep, or an address (which also becomes NEXT_HOP)', () => {
  assert.equal(policy('[{nextHop: self, action: accept}]').evaluate(route('10.0.0.0/8'), EXPORT_TO_EBGP).nextHop, 'self');
  assert.equal(policy('[{nextHop: keep, action: accept}]').evaluate(route('10.0.0.0/8'), EXPORT_TO_EBGP).nextHop, 'keep');
  const v = policy('[{nextHop: 192.0.2.1, action: accept}]').evaluate(route('10.0.0.0/8'), EXPORT_TO_EBGP);
  assert.deepEqual(v.nextHop, Uint8Array.of(192, 0, 2, 1));
  assert.deepEqual(v.attrs.nextHop, Uint8Array.of(192, 0, 2, 1));
  const v6 = policy('[{nextHop: "fd00::1", action: accept}]').evaluate(route('fd00:1::/64'), EXPORT_TO_EBGP);
  assert.equal(v6.nextHop instanceof Uint8Array && v6.nextHop.length, 16);
  // No nextHop action: no request in the verdict.
  assert.equal(policy('[{action: accept}]').evaluate(route('10.0.0.0/8'), EXPORT_TO_EBGP).nextHop, undefined);
});

test('non-terminal terms accumulate; later matches see earlier modifications', () => {
  const p = policy(`
    - {match: {prefixWithin: 10.0.0.0/8}, addCommunities: "1:1"}
    - {match: {prefixLength: 24}, addCommunities: "2:2", localPref: 200}
    - {match: {community: "2:2"}, med: 7}
    - {match: {community: "1:1"}, action: accept}`);
  const v = p.evaluate(route('10.1.2.0/24'), EXPORT_TO_IBGP);
  assert.deepEqual(
    { accept: v.accept, decidedBy: v.decidedBy, communities: v.attrs.communities, localPref: v.attrs.localPref, med: v.attrs.med },
    { accept: true, decidedBy: 'p term 3: accept', communities: [comm('1:1'), comm('2:2')], localPref: 200, med: 7 },
  );
  const other = p.evaluate(route('10.1.0.0/16'), EXPORT_TO_IBGP);
  assert.deepEqual([other.attrs.communities, other.attrs.localPref, other.attrs.med], [[comm('1:1')], undefined, undefined]);
});

test('falling off the end rejects, keeping the modifications made so far', () => {
  const p = policy('[{addCommunities: "9:9"}, {match: {prefix: 192.0.2.0/24}, action: accept}]');
  const v = p.evaluate(route('10.0.0.0/8'), EXPORT_TO_EBGP);
  assert.deepEqual([v.accept, v.decidedBy, v.attrs.communities], [false, 'p: no term decided: reject', [comm('9:9')]]);
});

test('the input route is never mutated; changed verdict attributes are a private copy, unchanged ones the input itself', () => {
  const p = policy(`
    - {addCommunities: "1:1", removeCommunities: "5:5", addLargeCommunities: "1:2:3", removeLargeCommunities: "7:7:7"}
    - {localPref: 5, med: 6, prepend: 1, nextHop: 192.0.2.1, action: accept}`);
  const input = deepFreeze(route('10.0.0.0/8', { communities: [comm('5:5')], largeCommunities: [[7, 7, 7]], asPath: [seq(1)] }));
  const before = structuredClone(input);
  const v = p.evaluate(input, EXPORT_TO_EBGP);
  assert.deepEqual(input, before);
  assert.notEqual(v.attrs, input.attrs);
  // A policy that changes nothing hands back the input (read-only): no copy per route.
  const plain = ACCEPT_ALL.evaluate(input, EXPORT_TO_EBGP);
  assert.equal(plain.attrs, input.attrs);
  const matchOnly = policy('[{match: {prefixWithin: 10.0.0.0/8}, action: accept}]').evaluate(input, EXPORT_TO_EBGP);
  assert.equal(matchOnly.attrs, input.attrs);
});

test('decidedBy names the policy, the term index (as in the config path) and the term name', () => {
  const p = policy('[{name: first, match: {prefix: 10.0.0.0/8}, action: reject}, {name: pool, action: accept}]', 'calico-export');
  assert.equal(p.evaluate(route('10.0.0.0/8'), EXPORT_TO_EBGP).decidedBy, 'calico-export term 0 (first): reject');
  assert.equal(p.evaluate(route('11.0.0.0/8'), EXPORT_TO_EBGP).decidedBy, 'calico-export term 1 (pool): accept');
  assert.equal(p.name, 'calico-export');
});

test('ACCEPT_ALL, REJECT_ALL', () => {
  const r = route('10.0.0.0/8', { communities: [comm('1:1')] });
  assert.deepEqual(ACCEPT_ALL.evaluate(r, EXPORT_TO_EBGP), { accept: true, attrs: r.attrs, prepend: 0, decidedBy: 'all: accept' });
  assert.deepEqual(REJECT_ALL.evaluate(r, EXPORT_TO_EBGP), { accept: false, attrs: r.attrs, prepend: 0, decidedBy: 'none: reject' });
  assert.equal(ACCEPT_ALL.prefixIndependent, true);
});

test('resolvePolicy: all, none, named (compiled once, shared), inline (named after the peer)', () => {
  const policies = policiesFrom('  only-ten: [{match: {prefixWithin: 10.0.0.0/8}, action: accept}]\n');
  assert.equal(resolvePolicy({ kind: 'all' }, policies, 'bird1'), ACCEPT_ALL);
  assert.equal(resolvePolicy({ kind: 'none' }, policies, 'bird1'), REJECT_ALL);
  const named = resolvePolicy({ kind: 'named', name: 'only-ten' }, policies, 'bird1');
  assert.equal(named, resolvePolicy({ kind: 'named', name: 'only-ten' }, policies, 'bird2'));
  assert.equal(named.evaluate(route('10.1.0.0/16'), EXPORT_TO_EBGP).decidedBy, 'only-ten term 0: accept');
  assert.throws(() => resolvePolicy({ kind: 'named', name: 'nope' }, policies, 'bird1'), /bird1: unknown policy "nope"/);
  const inline = resolvePolicy({ kind: 'inline', spec: [{ action: 'reject' }] }, policies, 'bird1', 'export');
  assert.equal(inline.evaluate(route('10.1.0.0/16'), EXPORT_TO_EBGP).decidedBy, 'bird1 export term 0: reject');
});

test('compilePolicy works on a spec written by hand, too', () => {
  const p = compilePolicy('hand', [{ match: { prefixWithin: ['192.0.2.0/24'], peerType: ['ebgp'] }, med: 10, action: 'accept' }]);
  const v = p.evaluate(route('192.0.2.128/25'), EXPORT_TO_EBGP);
  assert.deepEqual([v.accept, v.attrs.med, v.decidedBy], [true, 10, 'hand term 0: accept']);
  assert.equal(p.evaluate(route('192.0.2.128/25'), EXPORT_TO_IBGP).accept, false);
});

test('prependAsPath: the path starts with the listed ASNs, in order, as BIRD\'s bgp_path.prepend', () => {
  const p = policy('[{prependAsPath: [65000, 65001], action: accept}]');
  const v = p.evaluate(route('10.0.0.0/8', { asPath: [seq(65100, 65200)] }), EXPORT_TO_EBGP);
  assert.deepEqual(v.attrs.asPath, [seq(65000, 65001, 65100, 65200)]);
  assert.equal(v.prepend, 0, 'not the own-AS count');
  const empty = p.evaluate(route('10.0.0.0/8'), EXPORT_TO_EBGP);
  assert.deepEqual(empty.attrs.asPath, [seq(65000, 65001)]);
});
