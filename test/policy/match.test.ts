// SPDX-License-Identifier: Apache-2.0
// Every match condition, one test each: a route that matches (accepted by the term) and routes
// that do not (rejected by falling off the end), with the exact decidedBy text.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AsPathSegmentType } from '../../src/bgp/messages/iana.ts';
import type { PolicyInput } from '../../src/policy/types.ts';
import { EXPORT_TO_EBGP, EXPORT_TO_IBGP, comm, ifaceRoute, policy, route, seq } from './helpers.ts';

const ACCEPTED = 'p term 0: accept';
const FELL_OFF = 'p: no term decided: reject';

/** Asserts which routes the one-term policy `{match: <m>, action: accept}` accepts. */
function check(match: string, yes: PolicyInput[], no: PolicyInput[], ctx = EXPORT_TO_EBGP): void {
  const p = policy(`[{match: ${match}, action: accept}]`);
  for (const r of yes) {
    const v = p.evaluate(r, ctx);
    assert.deepEqual([v.accept, v.decidedBy], [true, ACCEPTED], `${match} should match ${JSON.stringify(r.nlri)}`);
  }
  for (const r of no) {
    const v = p.evaluate(r, ctx);
    assert.deepEqual([v.accept, v.decidedBy], [false, FELL_OFF], `${match} should not match ${JSON.stringify(r.nlri)}`);
  }
}

test('prefix: exact prefix only (not more or less specific, not the other family)', () => {
  check('{prefix: 10.244.1.0/26}', [route('10.244.1.0/26')], [route('10.244.1.0/27'), route('10.244.0.0/16'), route('10.244.1.64/26'), route('::/0')]);
  check('{prefix: "fd00:1::/64"}', [route('fd00:1::/64')], [route('fd00:1::/65'), route('fd00:2::/64'), route('10.0.0.0/8')]);
});

test('prefixWithin: equal or more specific (BIRD net ~ P), both families, /0', () => {
  check('{prefixWithin: 10.244.0.0/16}', [route('10.244.0.0/16'), route('10.244.1.0/26'), route('10.244.255.7/32')], [
    route('10.0.0.0/8'),
    route('10.245.0.0/24'),
    route('10.244.0.0/15'),
  ]);
  check('{prefixWithin: "fd00:96::/112"}', [route('fd00:96::/112'), route('fd00:96::ff00/120')], [route('fd00:96::1:0/112'), route('fd00::/64')]);
  check('{prefixWithin: 0.0.0.0/0}', [route('0.0.0.0/0'), route('192.0.2.0/24')], [route('::/0')]);
});

test('prefixLength: single value, "min-max" string, {min, max}', () => {
  check('{prefixLength: 32}', [route('10.0.0.1/32')], [route('10.0.0.0/31')]);
  check('{prefixLength: "26-32"}', [route('10.0.0.0/26'), route('10.0.0.1/32')], [route('10.0.0.0/25')]);
  check('{prefixLength: {min: 8, max: 16}}', [route('10.0.0.0/8'), route('10.1.0.0/16')], [route('10.1.0.0/17'), route('0.0.0.0/0')]);
  check('{prefixLength: {min: 64}}', [route('fd00::/64'), route('fd00::1/128')], [route('fd00::/48')]);
});

test('family', () => {
  check('{family: ipv6-unicast}', [route('fd00::/64')], [route('10.0.0.0/8')]);
});

test('community: "ASN:VALUE" and well-known names', () => {
  check('{community: "65000:100"}', [route('10.0.0.0/8', { communities: [comm('1:1'), comm('65000:100')] })], [
    route('10.0.0.0/8', { communities: [comm('65000:101')] }),
    route('10.0.0.0/8'),
  ]);
  check('{community: no-export}', [route('10.0.0.0/8', { communities: [0xffffff01] })], [route('10.0.0.0/8', { communities: [0xffffff02] })]);
  check('{community: no-advertise}', [route('10.0.0.0/8', { communities: [0xffffff02] })], [route('10.0.0.0/8', { communities: [0xffffff03] })]);
  check('{community: no-export-subconfed}', [route('10.0.0.0/8', { communities: [0xffffff03] })], [route('10.0.0.0/8', { communities: [0xffffff01] })]);
});

test('largeCommunity', () => {
  check('{largeCommunity: "65000:100:200"}', [route('10.0.0.0/8', { largeCommunities: [[65000, 100, 200]] })], [
    route('10.0.0.0/8', { largeCommunities: [[65000, 100, 201]] }),
    route('10.0.0.0/8', { communities: [comm('65000:100')] }),
  ]);
});

test('asPathContains: anywhere in the path, sets included', () => {
  check('{asPathContains: 65002}', [
    route('10.0.0.0/8', { asPath: [seq(65001, 65002, 65003)] }),
    route('10.0.0.0/8', { asPath: [seq(65001), { type: AsPathSegmentType.AsSet, asns: [65009, 65002] }] }),
  ], [route('10.0.0.0/8', { asPath: [seq(65001, 65003)] }), route('10.0.0.0/8')]);
});

test('neighborAs: first AS of the leading AS_SEQUENCE, confederation segments skipped', () => {
  check('{neighborAs: 65001}', [
    route('10.0.0.0/8', { asPath: [seq(65001, 65002)] }),
    route('10.0.0.0/8', { asPath: [{ type: AsPathSegmentType.AsConfedSequence, asns: [64600] }, seq(65001)] }),
  ], [
    route('10.0.0.0/8', { asPath: [seq(65002, 65001)] }),
    route('10.0.0.0/8', { asPath: [{ type: AsPathSegmentType.AsSet, asns: [65001] }] }),
    route('10.0.0.0/8'),
  ]);
});

test('originAs: last AS, unless the path ends in an AS_SET', () => {
  check('{originAs: 65003}', [route('10.0.0.0/8', { asPath: [seq(65001, 65003)] }), route('10.0.0.0/8', { asPath: [seq(65003)] })], [
    route('10.0.0.0/8', { asPath: [seq(65003, 65001)] }),
    route('10.0.0.0/8', { asPath: [seq(65001), { type: AsPathSegmentType.AsSet, asns: [65003] }] }),
    route('10.0.0.0/8'),
  ]);
});

test('asPathLength: AS_SET counts 1, confederation segments 0 (RFC 4271 §9.1.2.2 (a), RFC 5065 §5.3)', () => {
  check('{asPathLength: "2-3"}', [
    route('10.0.0.0/8', { asPath: [seq(1, 2)] }),
    route('10.0.0.0/8', { asPath: [seq(1, 2), { type: AsPathSegmentType.AsSet, asns: [7, 8, 9] }] }),
    route('10.0.0.0/8', { asPath: [{ type: AsPathSegmentType.AsConfedSequence, asns: [5, 6] }, seq(1, 2)] }),
  ], [route('10.0.0.0/8', { asPath: [seq(1)] }), route('10.0.0.0/8', { asPath: [seq(1, 2, 3, 4)] })]);
  check('{asPathLength: 0}', [route('10.0.0.0/8')], [route('10.0.0.0/8', { asPath: [seq(1)] })]);
});

test('asPathPrefix: the path starts with the sequence, across segments (Calico [= 65000 65001 * =])', () => {
  check('{asPathPrefix: [65000, 65001]}', [
    route('10.0.0.0/8', { asPath: [seq(65000, 65001)] }),
    route('10.0.0.0/8', { asPath: [seq(65000, 65001, 65009)] }),
    route('10.0.0.0/8', { asPath: [seq(65000), seq(65001)] }),
  ], [
    route('10.0.0.0/8', { asPath: [seq(65000)] }),
    route('10.0.0.0/8', { asPath: [seq(65001, 65000)] }),
    route('10.0.0.0/8', { asPath: [seq(65000), { type: AsPathSegmentType.AsSet, asns: [65001] }] }),
  ]);
});

test('source', () => {
  check('{source: kernel}', [ifaceRoute('10.0.0.0/8', 'eth0')], [route('10.0.0.0/8'), ifaceRoute('10.0.0.0/8', 'eth0', 'connected')]);
  check('{source: originated}', [route('10.0.0.0/8', {}, { source: 'originated' })], [route('10.0.0.0/8')]);
});

test('interface: globs like BIRD ifname ~ "..."; BGP routes have no interface', () => {
  check('{interface: "cali*"}', [ifaceRoute('10.0.0.1/32', 'cali12ab'), ifaceRoute('10.0.0.1/32', 'cali')], [
    ifaceRoute('10.0.0.1/32', 'xcali1'),
    route('10.0.0.1/32'),
  ]);
  check('{interface: "*.calico"}', [ifaceRoute('10.0.0.1/32', 'vxlan.calico')], [ifaceRoute('10.0.0.1/32', 'vxlanXcalico')]);
  check('{interface: "eth?"}', [ifaceRoute('10.0.0.1/32', 'eth0')], [ifaceRoute('10.0.0.1/32', 'eth10')]);
  check('{interface: tunl0}', [ifaceRoute('10.0.0.1/32', 'tunl0')], [ifaceRoute('10.0.0.1/32', 'tunl01')]);
});

test('nextHop: an address or a prefix', () => {
  const via = (nh: string) => route('10.0.0.0/8', { nextHop: Uint8Array.from(nh.split('.').map(Number)) });
  check('{nextHop: 10.192.0.3}', [via('10.192.0.3')], [via('10.192.0.4'), route('10.0.0.0/8', { nextHop: undefined })]);
  check('{nextHop: 10.192.0.0/24}', [via('10.192.0.3'), via('10.192.0.255')], [via('10.192.1.3')]);
});

test('peerType: the type of the peer the policy is attached to', () => {
  check('{peerType: ibgp}', [route('10.0.0.0/8')], [], EXPORT_TO_IBGP);
  check('{peerType: ibgp}', [], [route('10.0.0.0/8')], EXPORT_TO_EBGP);
  check('{peerType: ebgp}', [route('10.0.0.0/8')], [], EXPORT_TO_EBGP);
});

test('not: holds when the nested conditions do not all hold', () => {
  check('{not: {prefixWithin: 77.0.0.0/16}}', [route('77.1.0.0/16'), route('10.0.0.0/8')], [route('77.0.0.0/16'), route('77.0.3.0/24')]);
  check('{prefixWithin: 10.0.0.0/8, not: {prefixWithin: 10.1.0.0/16, prefixLength: 32}}', [route('10.1.0.0/24'), route('10.2.0.1/32')], [
    route('10.1.0.1/32'),
  ]);
});

test('a list is any-of; several conditions are all-of', () => {
  check('{prefix: [10.1.0.0/16, 10.2.0.0/16]}', [route('10.1.0.0/16'), route('10.2.0.0/16')], [route('10.3.0.0/16')]);
  check('{community: ["1:1", "2:2"]}', [route('1.0.0.0/8', { communities: [comm('2:2')] })], [route('1.0.0.0/8', { communities: [comm('3:3')] })]);
  check('{interface: ["*.cali", "*.calico", tunl0]}', [ifaceRoute('1.1.1.1/32', 'tunl0'), ifaceRoute('1.1.1.1/32', 'a.cali')], [ifaceRoute('1.1.1.1/32', 'eth0')]);
  check('{asPathPrefix: [[65000, 65001], [65002]]}', [route('1.0.0.0/8', { asPath: [seq(65002, 7)] })], [route('1.0.0.0/8', { asPath: [seq(65000, 7)] })]);
  check('{prefixLength: [8, "24-25"]}', [route('10.0.0.0/8'), route('10.0.0.0/25')], [route('10.0.0.0/16')]);
  // all-of: a route inside the pool but of the wrong length fails as a whole
  check('{prefixWithin: 10.0.0.0/8, prefixLength: 32, family: ipv4-unicast}', [route('10.9.9.9/32')], [route('10.9.9.0/24'), route('11.9.9.9/32')]);
});

test('an empty match, or none, matches every route', () => {
  check('{}', [route('10.0.0.0/8'), route('::/0')], []);
  const p = policy('[{action: accept}]');
  assert.equal(p.evaluate(route('192.0.2.0/24'), EXPORT_TO_EBGP).accept, true);
});
