// SPDX-License-Identifier: Apache-2.0
// RFC 7606 over real sessions: a Tern daemon on loopback, an injector per peer sort (iBGP and
// eBGP) sending every FRR RFC 7606 case (test/fixtures/messages/update/frr-rfc7606-cases.json,
// wrapped into a full UPDATE with valid mandatory attributes and one NLRI) plus the
// message-layout cases, and the outcome read back from Tern itself: the peer's Adj-RIB-In as
// `tern show routes --json --table adj-in` prints it, the NOTIFICATION on the socket, and the
// NOTIFICATION counters of `tern show peers --json`. Non-reset cases share one session per sort
// (pipelined, then one barrier); each reset case gets its own session, and the resets are
// counted: exactly the ones the RFC demands, no more.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { RouteView } from '../../src/control/views.ts';
import { AS_PATH_65001, AS_PATH_EMPTY, LOCAL_PREF_100, ORIGIN_IGP, attrHex, updateMessage } from '../fixtures/messages/update/build.ts';
import { Injector, Lab, eventually, type PeerType } from '../helpers/injector.ts';
import { fromHex } from '../../src/util/reader.ts';

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
  ternNotification?: [number, number];
}

type Expect = { kind: 'withdraw' } | { kind: 'discard'; absent: (r: RouteView) => boolean; what: string } | { kind: 'none' } | { kind: 'reset'; code: number; subcode: number; data?: string };

interface LiveCase {
  name: string;
  sort: PeerType;
  /** The malformed frame for prefix index i. */
  frame: (i: number) => Uint8Array;
  expect: Expect;
}

const fixture = JSON.parse(readFileSync(new URL('../fixtures/messages/update/frr-rfc7606-cases.json', import.meta.url), 'utf8')) as { cases: FrrCase[] };
// A next hop outside loopback and the martian ranges (RFC 7606 §7.3 checks it).
const NEXT_HOP = attrHex(3, 0x40, '0a000002');

/** 10.x.y.0/24, one per case, as NLRI hex and as text. */
function prefix(i: number): { hex: string; text: string } {
  const b = [10, 100 + (i >> 8), i & 0xff];
  return { hex: '18' + b.map((x) => x.toString(16).padStart(2, '0')).join(''), text: `${b.join('.')}.0/24` };
}

/** What a correct peer of this sort sends: ORIGIN, AS_PATH, NEXT_HOP (+ LOCAL_PREF for iBGP). */
function baseAttrs(sort: PeerType): Map<number, string> {
  const m = new Map<number, string>([
    [1, ORIGIN_IGP],
    [2, sort === 'ebgp' ? AS_PATH_65001 : AS_PATH_EMPTY],
    [3, NEXT_HOP],
  ]);
  if (sort === 'ibgp') m.set(5, LOCAL_PREF_100);
  return m;
}

function goodUpdate(sort: PeerType, i: number): Uint8Array {
  return updateMessage({ attrs: [...baseAttrs(sort).values()], nlri: prefix(i).hex });
}

// How an attribute shows in `show routes --json` once discarded (RFC 7606 "attribute discard":
// the route stays, the attribute is gone).
const ABSENT: Record<number, { what: string; absent: (r: RouteView, sort: PeerType) => boolean }> = {
  5: { what: 'localPref null', absent: (r) => r.localPref === null },
  6: { what: 'atomicAggregate false', absent: (r) => r.atomicAggregate === false },
  7: { what: 'aggregator null', absent: (r) => r.aggregator === null },
  9: { what: 'originatorId null', absent: (r) => r.originatorId === null },
  10: { what: 'clusterList empty', absent: (r) => r.clusterList.length === 0 },
  17: { what: 'AS path is AS_PATH alone', absent: (r, sort) => JSON.stringify(r.asPath) === (sort === 'ebgp' ? '[65001]' : '[]') },
  18: { what: 'aggregator null', absent: (r) => r.aggregator === null },
};

function frrCases(): LiveCase[] {
  const out: LiveCase[] = [];
  for (const c of fixture.cases) {
    for (const sort of ['ebgp', 'ibgp'] as const) {
      const frr = c[sort];
      if (frr === null) continue;
      let verdict = c.tern ?? frr;
      // A session over loopback may use loopback next hops (Tern's loopbackNextHop, decode.ts):
      // 127.0.0.1 is a martian only between hosts. The unit test covers the martian case.
      if (c.name === 'nexthop-loopback') verdict = 'none';
      const frame = (i: number): Uint8Array => {
        const attrs = baseAttrs(sort);
        if (c.nexthop) attrs.set(3, attrHex(3, 0x40, c.nexthop));
        if (c.type !== undefined) attrs.set(c.type, attrHex(c.type, c.flags!, c.hex!));
        return updateMessage({ attrs: [...attrs.values()], nlri: prefix(i).hex });
      };
      out.push({ name: `${c.file}/${c.name}`, sort, frame, expect: toExpect(verdict, c, sort) });
    }
  }
  return out;
}

function toExpect(verdict: string, c: FrrCase, sort: PeerType): Expect {
  switch (verdict) {
    case 'withdraw':
      return { kind: 'withdraw' };
    case 'none':
      return { kind: 'none' };
    case 'discard': {
      const a = ABSENT[c.type!];
      if (!a) throw new Error(`no visible field for attribute ${c.type}`);
      return { kind: 'discard', what: a.what, absent: (r) => a.absent(r, sort) };
    }
    case 'session-reset':
      return { kind: 'reset', code: c.ternNotification![0], subcode: c.ternNotification![1] };
    default:
      throw new Error(`unknown verdict ${verdict}`);
  }
}

/** Message-layout and header cases the FRR table does not cover (RFC 4271 §6.1/§6.3, RFC 7606 §3-5). */
function layoutCases(): LiveCase[] {
  const out: LiveCase[] = [];
  const MP_REACH_V6 = attrHex(14, 0x90, '00020110' + '20010db8000000000000000000000001' + '00' + '2020010db8');
  const MP_UNREACH_V6 = attrHex(15, 0x90, '000201' + '2020010db8');
  for (const sort of ['ebgp', 'ibgp'] as const) {
    const base = (): string[] => [...baseAttrs(sort).values()];
    const add = (name: string, expect: Expect, frame: (i: number) => Uint8Array): void => {
      out.push({ name, sort, expect, frame });
    };
    // ----- non-reset -----
    add('attribute overruns the Path Attributes field (RFC 7606 §4)', { kind: 'withdraw' }, (i) => updateMessage({ attrs: [...base(), '800408000000'], nlri: prefix(i).hex }));
    add('two octets left in the Path Attributes field (RFC 7606 §4)', { kind: 'withdraw' }, (i) => updateMessage({ attrs: [...base(), '4001'], nlri: prefix(i).hex }));
    add('ORIGIN missing with NLRI (RFC 7606 §3 (d))', { kind: 'withdraw' }, (i) => updateMessage({ attrs: base().slice(1), nlri: prefix(i).hex }));
    add('NEXT_HOP missing with NLRI (RFC 7606 §3 (d))', { kind: 'withdraw' }, (i) => updateMessage({ attrs: base().filter((a) => a !== NEXT_HOP), nlri: prefix(i).hex }));
    add('NLRI and no attributes at all (CVE-2023-41358 class)', { kind: 'withdraw' }, (i) => updateMessage({ nlri: prefix(i).hex }));
    add('duplicate MED: the second is discarded (RFC 7606 §3 (g))', { kind: 'discard', what: 'med is the first', absent: (r) => r.med === 1 }, (i) =>
      updateMessage({ attrs: [...base(), attrHex(4, 0x80, '00000001'), attrHex(4, 0x80, '00000002')], nlri: prefix(i).hex }),
    );
    if (sort === 'ebgp') {
      add('LOCAL_PREF from an external peer (RFC 7606 §7.5)', { kind: 'discard', what: ABSENT[5]!.what, absent: (r) => ABSENT[5]!.absent(r, sort) }, (i) => updateMessage({ attrs: [...base(), LOCAL_PREF_100], nlri: prefix(i).hex }));
    }
    add('NEXT_HOP length 3 with NLRI (GoBGP CVE-2026-30405 class)', { kind: 'withdraw' }, (i) =>
      updateMessage({ attrs: [...base().filter((a) => a !== NEXT_HOP), attrHex(3, 0x40, '0a0000')], nlri: prefix(i).hex }),
    );
    // ----- resets (RFC 7606 keeps these: the NLRI cannot be located, or RFC 4271 §6.1) -----
    add('body shorter than the two length fields → header 1/2', { kind: 'reset', code: 1, subcode: 2, data: '0016' }, () => fromHex('ffffffffffffffffffffffffffffffff' + '0016' + '02' + '000000'));
    add('Withdrawn Routes Length overruns → 3/1', { kind: 'reset', code: 3, subcode: 1 }, () => updateRaw('00090000'));
    add('Total Path Attribute Length overruns → 3/1', { kind: 'reset', code: 3, subcode: 1 }, () => updateRaw('0000000940010100'));
    add('withdrawn /33 → 3/10 (RFC 7606 §5.3)', { kind: 'reset', code: 3, subcode: 10 }, () => updateMessage({ withdrawn: '210a000000ff' }));
    add('NLRI prefix overruns the message → 3/10', { kind: 'reset', code: 3, subcode: 10 }, () => updateMessage({ attrs: base(), nlri: '180a00' }));
    add('MP_REACH_NLRI twice → 3/1 (RFC 7606 §3 (g))', { kind: 'reset', code: 3, subcode: 1 }, () => updateMessage({ attrs: [MP_REACH_V6, ...base().slice(0, 2), MP_REACH_V6] }));
    add('MP_UNREACH_NLRI twice → 3/1', { kind: 'reset', code: 3, subcode: 1 }, () => updateMessage({ attrs: [MP_UNREACH_V6, MP_UNREACH_V6] }));
    add('unrecognized well-known attribute → 3/2 with it as data', { kind: 'reset', code: 3, subcode: 2, data: '406302beef' }, (i) =>
      updateMessage({ attrs: [...base(), attrHex(99, 0x40, 'beef')], nlri: prefix(i).hex }),
    );
    add('marker not all ones → 1/1', { kind: 'reset', code: 1, subcode: 1 }, () => fromHex('ffffffffffffffffffffffffffffff00' + '0017' + '02' + '00000000'));
    add('unknown message type 9 → 1/3 with the type as data', { kind: 'reset', code: 1, subcode: 3, data: '09' }, () => fromHex('ffffffffffffffffffffffffffffffff' + '0017' + '09' + '00000000'));
    add('KEEPALIVE of length 20 → 1/2', { kind: 'reset', code: 1, subcode: 2, data: '0014' }, () => fromHex('ffffffffffffffffffffffffffffffff' + '0014' + '04' + '00'));
    add('UPDATE of 4097 octets without RFC 8654 → 1/2', { kind: 'reset', code: 1, subcode: 2, data: '1001' }, () => {
      const f = new Uint8Array(4097).fill(0);
      f.fill(0xff, 0, 16);
      f.set([0x10, 0x01, 0x02], 16);
      return f;
    });
    add('OPEN in Established → FSM error 5/3 (RFC 6608)', { kind: 'reset', code: 5, subcode: 3 }, () =>
      fromHex('ffffffffffffffffffffffffffffffff' + '001d' + '01' + '04fde9001e7f000002' + '00'),
    );
    add('ROUTE-REFRESH of length 24 → 7/1 (RFC 7313 §5)', { kind: 'reset', code: 7, subcode: 1 }, () => fromHex('ffffffffffffffffffffffffffffffff' + '0018' + '05' + '0001000100'));
  }
  return out;
}

/** An UPDATE whose body is given whole (lengths inside it not recomputed). */
function updateRaw(bodyHex: string): Uint8Array {
  const body = fromHex(bodyHex);
  const out = new Uint8Array(19 + body.length);
  out.fill(0xff, 0, 16);
  out[16] = out.length >> 8;
  out[17] = out.length & 0xff;
  out[18] = 2;
  out.set(body, 19);
  return out;
}

const ALL = [...frrCases(), ...layoutCases()];
const RESETS = ALL.filter((c) => c.expect.kind === 'reset');

describe('RFC 7606 over live sessions (FRR cases + message layout), iBGP and eBGP', () => {
  let lab: Lab;
  before(async () => {
    const perSort = (s: PeerType): number => RESETS.filter((c) => c.sort === s).length + 2;
    lab = await Lab.start({ ibgp: perSort('ibgp'), ebgp: perSort('ebgp') });
  });
  after(async () => {
    await lab.stop();
  });

  for (const sort of ['ibgp', 'ebgp'] as const) {
    it(`${sort}: every non-reset case on one session, outcome read from adj-in, no reset`, async () => {
      const cases = ALL.filter((c) => c.sort === sort && c.expect.kind !== 'reset');
      const inj = new Injector(lab, sort);
      await inj.connect();
      const notificationsBefore = await lab.notificationsSent();
      // Phase 1: a valid announcement per case, so a withdraw is visible as a disappearance.
      cases.forEach((_, i) => inj.send(goodUpdate(sort, i)));
      assert.deepEqual(await inj.barrier(), { kind: 'alive' });
      const announced = new Set((await inj.adjIn()).map((r) => r.prefix));
      cases.forEach((_, i) => assert.ok(announced.has(prefix(i).text), `valid announcement ${prefix(i).text} present`));
      // Phase 2: every malformed UPDATE, in sequence, then one barrier.
      cases.forEach((c, i) => inj.send(c.frame(i)));
      assert.deepEqual(await inj.barrier(), { kind: 'alive' }, 'the session survives every non-reset case');
      const rows = new Map((await inj.adjIn()).map((r) => [r.prefix, r]));
      const failures: string[] = [];
      cases.forEach((c, i) => {
        const row = rows.get(prefix(i).text);
        const e = c.expect;
        if (e.kind === 'withdraw' && row) failures.push(`${c.name}: expected treat-as-withdraw, route still present`);
        if (e.kind === 'none' && !row) failures.push(`${c.name}: expected accepted, route missing`);
        if (e.kind === 'discard') {
          if (!row) failures.push(`${c.name}: expected attribute discard, route missing`);
          else if (!e.absent(row)) failures.push(`${c.name}: expected ${e.what}, got ${JSON.stringify(row)}`);
        }
      });
      assert.deepEqual(failures, []);
      assert.equal(await lab.notificationsSent(), notificationsBefore, 'no NOTIFICATION sent');
      const peer = (await lab.peers()).find((p) => p.name === inj.name)!;
      assert.equal(peer.state, 'Established');
      assert.equal(inj.resets, 0);
      // RFC 7606 §3: errors are logged; each carries its rule.
      assert.ok(lab.logs().some((l) => l.msg === 'UPDATE with errors (RFC 7606)' && l.peer === inj.name));
      await inj.close();
    });
  }

  for (const sort of ['ibgp', 'ebgp'] as const) {
    it(`${sort}: each session-reset case sends exactly its NOTIFICATION and drops the peer's routes`, async () => {
      const cases = RESETS.filter((c) => c.sort === sort);
      const before = await lab.notificationsSent();
      const failures: string[] = [];
      const inj = new Injector(lab, sort);
      for (const [k, c] of cases.entries()) {
        await inj.connect();
        inj.send(goodUpdate(sort, 500 + k));
        assert.deepEqual(await inj.barrier(), { kind: 'alive' });
        assert.equal((await inj.adjIn()).length, 1, `${c.name}: route announced before the reset`);
        const outcome = await inj.inject(c.frame(500 + k));
        const e = c.expect as Extract<Expect, { kind: 'reset' }>;
        const got = outcome.kind === 'reset' && outcome.notification ? `${outcome.notification.code}/${outcome.notification.subcode}` : outcome.kind;
        if (got !== `${e.code}/${e.subcode}`) failures.push(`${c.name}: expected NOTIFICATION ${e.code}/${e.subcode}, got ${got}`);
        if (e.data !== undefined && outcome.kind === 'reset' && outcome.notification) {
          const data = Buffer.from(outcome.notification.data).toString('hex');
          if (data !== e.data) failures.push(`${c.name}: NOTIFICATION data ${data}, expected ${e.data}`);
        }
        // The reset drops the session's routes (no graceful restart negotiated).
        await eventually(`${c.name}: routes withdrawn after the reset`, async () => ((await inj.adjIn()).length === 0 ? true : undefined), 5_000);
      }
      assert.deepEqual(failures, []);
      assert.equal(inj.resets, cases.length, 'one reset per case');
      assert.equal((await lab.notificationsSent()) - before, cases.length, 'Tern sent exactly one NOTIFICATION per reset case, no more');
    });
  }

  it('counts: the RFC demands resets only for MP framing, header, layout and FSM errors', () => {
    const frrResets = ALL.filter((c) => c.name.startsWith('session_reset/'));
    assert.equal(frrResets.length, 8, 'FRR session_reset cases: 4 per sort');
    assert.ok(ALL.filter((c) => c.expect.kind !== 'reset').length > 100);
  });
});
