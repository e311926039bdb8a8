// SPDX-License-Identifier: Apache-2.0
// RFC 7606 table tests. Part 1 replays FRR's RFC 7606 conformance cases (the external oracle,
// transcribed in test/fixtures/messages/update/frr-rfc7606-cases.json with provenance) against
// decodeUpdate, per peer type. Part 2 covers the cases FRR's table does not (message layout,
// MP attributes twice, unknown well-known, missing well-known, duplicates, order).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { decodeUpdate } from '../../src/bgp/messages/update.ts';
import { routeAttributes } from '../../src/bgp/messages/route-view.ts';
import { BgpNotificationError } from '../../src/bgp/messages/errors.ts';
import type { Rfc7606Action } from '../../src/bgp/messages/errors.ts';
import type { CodecContext } from '../../src/bgp/messages/types.ts';
import { AS_PATH_65001, AS_PATH_EMPTY, EBGP, EBGP_OLD, IBGP, LOCAL_PREF_100, NEXT_HOP_10_0_0_2, ORIGIN_IGP, attrHex, updateBody } from '../fixtures/messages/update/build.ts';

interface FrrCase {
  file: string;
  name: string;
  type?: number;
  flags?: number;
  hex?: string;
  nexthop?: string;
  ebgp: string | null;
  ibgp: string | null;
  tern?: string;
  why?: string;
  passedOn?: boolean;
  ternNotification?: [number, number];
  spec: string;
}

const fixture = JSON.parse(readFileSync(new URL('../fixtures/messages/update/frr-rfc7606-cases.json', import.meta.url), 'utf8')) as { cases: FrrCase[] };
const NLRI_10_1_0_1 = '200a010001';

const ACTION: Record<string, Rfc7606Action | 'session-reset'> = {
  withdraw: 'treat-as-withdraw',
  discard: 'attribute-discard',
  none: 'none',
  'session-reset': 'session-reset',
};

/** The attributes ExaBGP sends by default for that peer sort, with the case's attribute in place. */
function caseBody(c: FrrCase, sort: 'ebgp' | 'ibgp'): Uint8Array {
  const base = new Map<number, string>([
    [1, ORIGIN_IGP],
    [2, sort === 'ebgp' ? AS_PATH_65001 : AS_PATH_EMPTY],
    [3, c.nexthop ? attrHex(3, 0x40, c.nexthop) : NEXT_HOP_10_0_0_2],
  ]);
  if (sort === 'ibgp') base.set(5, LOCAL_PREF_100);
  if (c.type !== undefined) base.set(c.type, attrHex(c.type, c.flags!, c.hex!));
  return updateBody({ attrs: [...base.values()], nlri: NLRI_10_1_0_1 });
}

describe('RFC 7606: FRR conformance cases (FRRouting/frr tests/topotests/bgp_rfc7606_*/cases.py)', () => {
  for (const c of fixture.cases) {
    for (const sort of ['ebgp', 'ibgp'] as const) {
      const frr = c[sort];
      if (frr === null) continue;
      const expected = ACTION[c.tern ?? frr]!;
      const ctx: CodecContext = sort === 'ebgp' ? EBGP : IBGP;
      const type = c.type ?? 3;
      it(`${c.file}/${c.name} from ${sort} → ${expected}${c.tern ? ` (FRR: ${frr}; ${c.why})` : ''}`, () => {
        const body = caseBody(c, sort);
        if (expected === 'session-reset') {
          const [code, subcode] = c.ternNotification!;
          assert.throws(() => decodeUpdate(body, ctx), (e: unknown) => e instanceof BgpNotificationError && e.code === code && e.subcode === subcode);
          return;
        }
        const d = decodeUpdate(body, ctx);
        assert.equal(d.action, expected, JSON.stringify(d.problems));
        // Whatever the action, the NLRI is still returned so the RIB can act on it.
        assert.equal(d.message.nlri.length, 1);
        if (expected === 'none') {
          assert.deepEqual(d.problems, []);
          const kept = d.message.attributes.find((a) => a.code === type);
          assert.equal(kept?.kind, 'unknown');
          if (c.passedOn !== undefined) {
            const unknown = routeAttributes(d.message, 'ipv4-unicast', ctx).unknown;
            assert.equal(unknown.some((a) => a.code === type), c.passedOn);
          }
          return;
        }
        const problem = d.problems.find((p) => p.attrType === type);
        assert.ok(problem, `a problem for attribute ${type}`);
        assert.equal(problem.action, expected);
        assert.equal(problem.code, 3);
        assert.ok(problem.rule.startsWith('RFC '), problem.rule);
        // Discarded and withdrawn attributes are not in the decoded list.
        assert.equal(d.message.attributes.some((a) => a.code === type), false);
      });
    }
  }
});

function throwsNotification(fn: () => unknown, code: number, subcode: number): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof BgpNotificationError, `expected BgpNotificationError, got ${String(e)}`);
    assert.equal(`${e.code}/${e.subcode}`, `${code}/${subcode}`, e.message);
    return true;
  });
}

const V4_ATTRS = [ORIGIN_IGP, AS_PATH_65001, NEXT_HOP_10_0_0_2];
const MP_REACH_V6 = attrHex(14, 0x90, '00020110' + '20010db8000000000000000000000001' + '00' + '2020010db8');
const MP_UNREACH_V6 = attrHex(15, 0x90, '000201' + '2020010db8');

describe('RFC 7606: message layout and cases outside FRR table', () => {
  it('body shorter than the two length fields → 3/1 Malformed Attribute List (RFC 4271 §6.3)', () => {
    throwsNotification(() => decodeUpdate(Uint8Array.of(0, 0, 0), EBGP), 3, 1);
  });
  it('Withdrawn Routes Length overruns the message → 3/1', () => {
    throwsNotification(() => decodeUpdate(Uint8Array.of(0, 9, 0, 0), EBGP), 3, 1);
  });
  it('Total Path Attribute Length overruns the message (NLRI cannot be located) → 3/1', () => {
    throwsNotification(() => decodeUpdate(Uint8Array.of(0, 0, 0, 9, 0x40, 1, 1, 0), EBGP), 3, 1);
  });
  it('withdrawn prefix /33 → 3/10 Invalid Network Field (RFC 7606 §5.3)', () => {
    throwsNotification(() => decodeUpdate(updateBody({ withdrawn: '210a000000ff' }), EBGP), 3, 10);
  });
  it('NLRI prefix overrunning the message → 3/10', () => {
    throwsNotification(() => decodeUpdate(updateBody({ attrs: V4_ATTRS, nlri: '180a00' }), EBGP), 3, 10);
  });
  it('MP_REACH_NLRI twice → 3/1 (RFC 7606 §3 (g))', () => {
    throwsNotification(() => decodeUpdate(updateBody({ attrs: [MP_REACH_V6, ORIGIN_IGP, AS_PATH_65001, MP_REACH_V6] }), EBGP), 3, 1);
  });
  it('MP_UNREACH_NLRI twice → 3/1', () => {
    throwsNotification(() => decodeUpdate(updateBody({ attrs: [MP_UNREACH_V6, MP_UNREACH_V6] }), EBGP), 3, 1);
  });
  it('MP_REACH next-hop length 5 for AFI 2 → session reset 3/9 (RFC 7606 §7.11, RFC 4760 §7)', () => {
    const bad = attrHex(14, 0x80, '000201050a00000101002020010db8');
    throwsNotification(() => decodeUpdate(updateBody({ attrs: [bad, ORIGIN_IGP, AS_PATH_65001] }), EBGP), 3, 9);
  });
  it('MP_REACH IPv6 prefix /129 → 3/9', () => {
    const bad = attrHex(14, 0x80, '00020110' + '20010db8000000000000000000000001' + '00' + '8120010db8000000000000000000000000ff');
    throwsNotification(() => decodeUpdate(updateBody({ attrs: [bad, ORIGIN_IGP, AS_PATH_65001] }), EBGP), 3, 9);
  });
  it('MP_REACH whose attribute length overruns the attribute field → 3/1', () => {
    const body = updateBody({ attrs: [ORIGIN_IGP, '800e20000201'] });
    throwsNotification(() => decodeUpdate(body, EBGP), 3, 1);
  });
  it('unrecognized well-known attribute → 3/2 with the attribute as data (RFC 4271 §6.3)', () => {
    const unknownWellKnown = attrHex(99, 0x40, 'beef');
    assert.throws(
      () => decodeUpdate(updateBody({ attrs: [...V4_ATTRS, unknownWellKnown], nlri: NLRI_10_1_0_1 }), EBGP),
      (e: unknown) => e instanceof BgpNotificationError && e.code === 3 && e.subcode === 2 && Buffer.from(e.data).toString('hex') === '406302beef',
    );
  });
  it('attribute overrunning the Path Attributes field → treat-as-withdraw, NLRI still located (RFC 7606 §4)', () => {
    // MED claims 8 octets, only 4 remain in the field; the NLRI after the field is intact.
    const body = updateBody({ attrs: [...V4_ATTRS, '800408000000'], nlri: NLRI_10_1_0_1 });
    const d = decodeUpdate(body, EBGP);
    assert.equal(d.action, 'treat-as-withdraw');
    assert.equal(d.problems[0]?.rule, 'RFC 7606 §4');
    assert.equal(d.message.nlri.length, 1);
  });
  it('two octets left in the attribute field → treat-as-withdraw (RFC 7606 §4)', () => {
    const d = decodeUpdate(updateBody({ attrs: [...V4_ATTRS, '4001'], nlri: NLRI_10_1_0_1 }), EBGP);
    assert.equal(d.action, 'treat-as-withdraw');
  });
  it('missing ORIGIN with NLRI → treat-as-withdraw 3/3 (RFC 7606 §3 (d))', () => {
    const d = decodeUpdate(updateBody({ attrs: [AS_PATH_65001, NEXT_HOP_10_0_0_2], nlri: NLRI_10_1_0_1 }), EBGP);
    assert.equal(d.action, 'treat-as-withdraw');
    assert.deepEqual(d.problems.map((p) => [p.attrType, p.subcode]), [[1, 3]]);
  });
  it('missing NEXT_HOP is fine when the only NLRI is in MP_REACH (RFC 4760 §3)', () => {
    const d = decodeUpdate(updateBody({ attrs: [MP_REACH_V6, ORIGIN_IGP, AS_PATH_65001] }), EBGP);
    assert.equal(d.action, 'none');
  });
  it('missing AS_PATH with MP_REACH NLRI → treat-as-withdraw, MP NLRI still returned', () => {
    const d = decodeUpdate(updateBody({ attrs: [MP_REACH_V6, ORIGIN_IGP] }), EBGP);
    assert.equal(d.action, 'treat-as-withdraw');
    const mp = d.message.attributes.find((a) => a.kind === 'mp-reach');
    assert.equal(mp?.kind === 'mp-reach' && mp.nlri.length, 1);
  });
  it('End-of-RIB and withdraw-only UPDATEs need no mandatory attributes (CVE-2023-46753 class)', () => {
    assert.equal(decodeUpdate(updateBody({}), EBGP).action, 'none');
    assert.equal(decodeUpdate(updateBody({ withdrawn: NLRI_10_1_0_1 }), EBGP).action, 'none');
    assert.equal(decodeUpdate(updateBody({ attrs: [MP_UNREACH_V6] }), EBGP).action, 'none');
    assert.equal(decodeUpdate(updateBody({ attrs: [attrHex(15, 0x80, '000201')] }), EBGP).action, 'none');
  });
  it('duplicate non-MP attribute → keep the first, discard the rest', () => {
    const d = decodeUpdate(updateBody({ attrs: [...V4_ATTRS, attrHex(4, 0x80, '00000001'), attrHex(4, 0x80, '00000002')], nlri: NLRI_10_1_0_1 }), EBGP);
    assert.equal(d.action, 'attribute-discard');
    const meds = d.message.attributes.filter((a) => a.kind === 'med');
    assert.deepEqual(meds.map((a) => a.kind === 'med' && a.med), [1]);
  });
  it('LOCAL_PREF from an external peer → attribute discard (RFC 7606 §7.5)', () => {
    const d = decodeUpdate(updateBody({ attrs: [...V4_ATTRS, LOCAL_PREF_100], nlri: NLRI_10_1_0_1 }), EBGP);
    assert.equal(d.action, 'attribute-discard');
    assert.equal(d.problems[0]?.attrType, 5);
  });
  it('well-formed ORIGINATOR_ID / CLUSTER_LIST from eBGP → discard; from iBGP → kept', () => {
    const rr = [attrHex(9, 0x80, '0a000002'), attrHex(10, 0x80, '0a000003')];
    const e = decodeUpdate(updateBody({ attrs: [...V4_ATTRS, ...rr], nlri: NLRI_10_1_0_1 }), EBGP);
    assert.equal(e.action, 'attribute-discard');
    assert.equal(e.problems.length, 2);
    const i = decodeUpdate(updateBody({ attrs: [ORIGIN_IGP, AS_PATH_EMPTY, NEXT_HOP_10_0_0_2, LOCAL_PREF_100, ...rr], nlri: NLRI_10_1_0_1 }), IBGP);
    assert.equal(i.action, 'none');
    const view = routeAttributes(i.message, 'ipv4-unicast', IBGP);
    assert.equal(view.originatorId, 0x0a000002);
    assert.deepEqual(view.clusterList, [0x0a000003]);
  });
  it('NEXT_HOP of length 5 → treat-as-withdraw 3/5 with NLRI; ignored (discard) in an MP-only UPDATE', () => {
    const badNh = attrHex(3, 0x40, '0a00000200');
    const d = decodeUpdate(updateBody({ attrs: [ORIGIN_IGP, AS_PATH_65001, badNh], nlri: NLRI_10_1_0_1 }), EBGP);
    assert.equal(d.action, 'treat-as-withdraw');
    assert.equal(d.problems.find((p) => p.attrType === 3)?.subcode, 5);
    const mp = decodeUpdate(updateBody({ attrs: [MP_REACH_V6, ORIGIN_IGP, AS_PATH_65001, badNh] }), EBGP);
    assert.equal(mp.action, 'attribute-discard');
  });
  it('MP_REACH with wrong flags → treat-as-withdraw, its NLRI still decoded', () => {
    const transitiveMp = attrHex(14, 0xc0, '00020110' + '20010db8000000000000000000000001' + '00' + '2020010db8');
    const d = decodeUpdate(updateBody({ attrs: [transitiveMp, ORIGIN_IGP, AS_PATH_65001] }), EBGP);
    assert.equal(d.action, 'treat-as-withdraw');
    const mp = d.message.attributes.find((a) => a.kind === 'mp-reach');
    assert.equal(mp?.kind === 'mp-reach' && mp.nlri.length, 1);
  });
  it('AS4_PATH between NEW speakers → attribute discard, logged (RFC 6793 §6)', () => {
    const as4 = attrHex(17, 0xc0, '020100030d40');
    const d = decodeUpdate(updateBody({ attrs: [...V4_ATTRS, as4], nlri: NLRI_10_1_0_1 }), EBGP);
    assert.equal(d.action, 'attribute-discard');
    assert.equal(d.problems[0]?.rule, 'RFC 6793 §6');
    assert.equal(routeAttributes(d.message, 'ipv4-unicast', EBGP).asPath[0]?.asns[0], 65001);
  });
  it('AS4_PATH before AS_PATH from an OLD speaker is merged (order never assumed; RFC 6793 §4.2.3)', () => {
    const as4 = attrHex(17, 0xc0, '020200030d4000030d41'); // AS4_PATH 200000 200001
    const asPath = attrHex(2, 0x40, '0203fde95ba05ba0'); // AS_PATH 65001 23456 23456
    const d = decodeUpdate(updateBody({ attrs: [as4, ORIGIN_IGP, asPath, NEXT_HOP_10_0_0_2], nlri: NLRI_10_1_0_1 }), EBGP_OLD);
    assert.equal(d.action, 'none');
    assert.deepEqual(routeAttributes(d.message, 'ipv4-unicast', EBGP_OLD).asPath, [{ type: 2, asns: [65001, 200000, 200001] }]);
  });
  it('AGGREGATOR of length 6 on a 4-octet session → discard; length 6 on a 2-octet session → kept', () => {
    const agg6 = attrHex(7, 0xc0, 'fde90a000002');
    assert.equal(decodeUpdate(updateBody({ attrs: [...V4_ATTRS, agg6], nlri: NLRI_10_1_0_1 }), EBGP).action, 'attribute-discard');
    const old = [ORIGIN_IGP, attrHex(2, 0x40, '0201fde9'), NEXT_HOP_10_0_0_2, agg6];
    assert.equal(decodeUpdate(updateBody({ attrs: old, nlri: NLRI_10_1_0_1 }), EBGP_OLD).action, 'none');
  });
  it('strongest action wins: discard + withdraw → treat-as-withdraw', () => {
    const d = decodeUpdate(updateBody({ attrs: [...V4_ATTRS, attrHex(6, 0x40, '00'), attrHex(8, 0xc0, '00')], nlri: NLRI_10_1_0_1 }), EBGP);
    assert.equal(d.action, 'treat-as-withdraw');
    assert.deepEqual(d.problems.map((p) => p.action), ['attribute-discard', 'treat-as-withdraw']);
  });
});
