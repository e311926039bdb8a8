// SPDX-License-Identifier: Apache-2.0
// Regression inputs for the malformed-input bug classes of other BGP implementations
// (reliability.md §4: FRR, GoBGP, BIRD CVEs), one file per input under test/fixtures/regress/,
// fuzz findings included (test/fixtures/regress/fuzz/). Each is replayed through the decoder
// (exact NOTIFICATION or RFC 7606 action) and through a live session of a Tern daemon on
// loopback (same outcome on the wire, the log line where one is named). Plus the generated
// classes: a truncated OPEN at every offset, attributes in every order, encoder loops that must
// terminate, NOTIFICATION in every FSM state, a route too big for a non-extended peer, and a
// flood during which a timer must keep firing.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decodeUpdate, encodeUpdate, buildUpdates } from '../../src/bgp/messages/update.ts';
import { routeAttributes } from '../../src/bgp/messages/route-view.ts';
import { encodeBatch } from '../../src/rib/packer.ts';
import { BgpNotificationError } from '../../src/bgp/messages/errors.ts';
import { encodeMessage } from '../../src/bgp/messages/index.ts';
import { buildOpen } from '../../src/bgp/messages/negotiate.ts';
import { AS_PATH_65001, AS_PATH_EMPTY, EBGP, IBGP, LOCAL_PREF_100, NEXT_HOP_10_0_0_2, ORIGIN_IGP, attrHex, updateBody, updateMessage } from '../fixtures/messages/update/build.ts';
import { DEFAULT_CONTEXT, type PathAttribute } from '../../src/bgp/messages/types.ts';
import { dottedToU32 } from '../../src/util/ip.ts';
import { Injector, Lab, LoopWatch, RawPeer, TERN_ASN, EBGP_ASN, eventually, liveVerdict, sleep, type PeerType } from '../helpers/injector.ts';
import { contextFor, decodeAsSession, loadCorpus, type RegressCase } from '../helpers/fuzz-corpus.ts';

const CORPUS = loadCorpus();
const TERN_ID = dottedToU32('127.0.0.1')!;
const NLRI_HEX = '180a6401';
const NLRI_TEXT = '10.100.1.0/24';

function openPeer(c: RegressCase): { localAsn: number; peerAsn: number; localBgpId: number } {
  return { localAsn: TERN_ASN, peerAsn: c.session === 'ibgp' ? TERN_ASN : EBGP_ASN, localBgpId: TERN_ID };
}

function hex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}

describe('regression corpus through the decoder (test/fixtures/regress)', () => {
  it('has one input per §4 class at least', () => {
    const classes = new Set(CORPUS.map((c) => c.id.split('/')[0]));
    for (const cls of ['open-rfc9072', 'open-truncated', 'capability-length', 'mp-reach-nexthop', 'eor-lookalike', 'attribute-order', 'zero-length-nlri', 'nlri-without-attributes', 'next-hop-length', 'community-lengths', 'length-underflow', 'marker', 'aggregator', 'unknown-transitive', 'as-path', 'long-as-path', 'notification-data', 'route-refresh']) {
      assert.ok(classes.has(cls), `class ${cls}`);
    }
  });

  for (const c of CORPUS) {
    it(`${c.id}: ${c.description} → ${JSON.stringify(c.expect)}`, () => {
      const ctx = c.stage === 'open' ? DEFAULT_CONTEXT : contextFor(c);
      const r = decodeAsSession(c.frame, ctx, c.stage === 'open' ? openPeer(c) : undefined);
      assert.notEqual(r.kind, 'crash', r.kind === 'crash' ? String(r.error) : '');
      const e = c.expect;
      switch (e.kind) {
        case 'notification':
          assert.equal(r.kind === 'notification' ? `${r.code}/${r.subcode}` : `decoded (${r.kind === 'decoded' ? r.action : ''})`, `${e.code}/${e.subcode}`);
          if (c.data !== undefined && r.kind === 'notification') assert.equal(hex(r.data), c.data, 'NOTIFICATION data');
          return;
        case 'rfc7606':
          assert.equal(r.kind, 'decoded', JSON.stringify(r));
          assert.equal(r.kind === 'decoded' && r.action, e.action);
          if (r.kind === 'decoded' && r.message.type === 'update' && e.action === 'none') {
            // BIRD OTC incident class: what Tern re-encodes is byte-identical to what it received.
            assert.equal(hex(encodeUpdate(r.message, ctx)), hex(c.frame), 're-encoding is byte-identical');
          }
          return;
        case 'accept':
          assert.equal(r.kind, 'decoded', JSON.stringify(r));
          assert.equal(r.kind === 'decoded' && r.action, 'none');
          return;
        case 'peer-notification':
          assert.equal(r.kind === 'decoded' && r.message.type, 'notification');
          return;
        case 'no-crash':
          return; // not a crash is the whole requirement (checked above)
      }
    });
  }
});

describe('generated classes through the decoder', () => {
  it('truncated OPEN at every offset: 1/2 below 29 octets, 2/0 from there (FRR CVE-2022-43681)', () => {
    const base = CORPUS.find((c) => c.id === 'open-truncated/base-open')!.frame;
    for (let length = 19; length < base.length; length++) {
      const frame = base.slice(0, length);
      frame[16] = length >> 8;
      frame[17] = length & 0xff;
      const r = decodeAsSession(frame, DEFAULT_CONTEXT, { localAsn: TERN_ASN, peerAsn: TERN_ASN, localBgpId: TERN_ID });
      const want = length < 29 ? '1/2' : '2/0';
      assert.equal(r.kind === 'notification' ? `${r.code}/${r.subcode}` : r.kind, want, `OPEN cut to ${length} octets`);
    }
  });

  it('attributes in every order (7! = 5040): same action, same route (GoBGP CVE-2026-41643)', () => {
    const attrs = [ORIGIN_IGP, AS_PATH_65001, NEXT_HOP_10_0_0_2, attrHex(17, 0xc0, '000100010001'), attrHex(4, 0x80, '00000007'), attrHex(8, 0xc0, 'fde80001'), attrHex(32, 0xc0, '0000fde9000000010000000200'.slice(0, 24))];
    let reference: string | undefined;
    let count = 0;
    for (const order of permutations(attrs.length)) {
      const d = decodeUpdate(updateBody({ attrs: order.map((i) => attrs[i]!), nlri: NLRI_HEX }), EBGP);
      const seen = canonical({ action: d.action, route: routeAttributes(d.message, 'ipv4-unicast', EBGP), problems: d.problems.map((p) => [p.attrType, p.action]).sort() });
      reference ??= seen;
      assert.equal(seen, reference, `order ${order.join(',')}`);
      count++;
    }
    assert.equal(count, 5040);
    assert.match(reference!, /"action":"attribute-discard"/);
  });

  it('encoders terminate on inputs too large for the message (FRR CVE-2016-4049 class)', () => {
    const huge: PathAttribute = { code: 2, kind: 'as-path', flags: 0x50, fourOctet: true, segments: [{ type: 2, asns: Array.from({ length: 20_000 }, (_, i) => 64512 + (i % 400)) }] };
    const nlri = [{ family: 'ipv4-unicast' as const, length: 24, address: Uint8Array.of(10, 1, 2) }];
    const start = Date.now();
    assert.throws(() => buildUpdates({ withdrawn: [], attributes: [huge], nlri }, EBGP), RangeError);
    assert.throws(() => buildUpdates({ withdrawn: [], attributes: [huge], nlri }, { ...EBGP, maxMessageSize: 65535 }), RangeError);
    assert.throws(() => encodeUpdate({ type: 'update', withdrawn: [], attributes: [huge], nlri }, { ...EBGP, maxMessageSize: 65535 }), RangeError);
    assert.ok(Date.now() - start < 2000, 'no runaway loop');
  });

  it('a route too large for the peer is withdrawn, never thrown out of the packer (RFC 8654 §4)', () => {
    const asPath = [{ type: 2, asns: Array.from({ length: 1500 }, (_, i) => 64512 + (i % 400)) }];
    const attrs = { key: 'big', origin: 0, asPath, nextHop: Uint8Array.of(10, 0, 0, 2), atomicAggregate: false, communities: [], largeCommunities: [], extendedCommunities: [], clusterList: [], unknown: [] };
    const nlri = [{ family: 'ipv4-unicast' as const, length: 24, address: Uint8Array.of(10, 1, 2) }];
    const frames = encodeBatch({ family: 'ipv4-unicast', withdrawals: [], announcements: [{ attrs, nlri }], singles: [], prefixes: 1, upTo: 1 }, EBGP);
    assert.equal(frames.length, 1);
    const d = decodeUpdate(frames[0]!.subarray(19), EBGP);
    assert.deepEqual([d.message.withdrawn.length, d.message.nlri.length, d.message.attributes.length], [1, 0, 0], 'sent as a withdrawal');
    const extended = encodeBatch({ family: 'ipv4-unicast', withdrawals: [], announcements: [{ attrs, nlri }], singles: [], prefixes: 1, upTo: 1 }, { ...EBGP, maxMessageSize: 65535 });
    assert.equal(decodeUpdate(extended[0]!.subarray(19), EBGP).message.nlri.length, 1, 'announced where it fits');
  });
});

/** JSON with object keys sorted, so equal values compare equal whatever the insertion order. */
function canonical(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) =>
    x && typeof x === 'object' && !Array.isArray(x) && !(x instanceof Uint8Array) ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => a.localeCompare(b))) : x instanceof Uint8Array ? Buffer.from(x).toString('hex') : x,
  );
}

function* permutations(n: number): Generator<number[]> {
  const a = Array.from({ length: n }, (_, i) => i);
  const c = new Array<number>(n).fill(0);
  yield a.slice();
  let i = 0;
  while (i < n) {
    if (c[i]! < i) {
      const j = i % 2 === 0 ? 0 : c[i]!;
      [a[j], a[i]] = [a[i]!, a[j]!];
      yield a.slice();
      c[i]!++;
      i = 0;
    } else {
      c[i] = 0;
      i++;
    }
  }
}

// ===== Live =====

// eBGP import runs AS-path matches over every route, the very long ones included (BIRD
// CVE-2026-49943 overflowed in path-mask matching).
const EBGP_IMPORT = [
  { name: 'very-long', match: { asPathLength: ['2049-65535'], neighborAs: [EBGP_ASN] }, localPref: 50, action: 'accept' },
  { name: 'poisoned', match: { asPathContains: [64999] }, action: 'reject' },
  { name: 'rest', match: { asPathPrefix: [[EBGP_ASN]] }, action: 'accept' },
];

function goodUpdate(sort: PeerType): Uint8Array {
  const attrs = sort === 'ebgp' ? [ORIGIN_IGP, AS_PATH_65001, NEXT_HOP_10_0_0_2] : [ORIGIN_IGP, AS_PATH_EMPTY, NEXT_HOP_10_0_0_2, LOCAL_PREF_100];
  return updateMessage({ attrs, nlri: NLRI_HEX });
}

function announcesTestPrefix(c: RegressCase): boolean {
  const r = decodeAsSession(c.frame, contextFor(c));
  return r.kind === 'decoded' && r.message.type === 'update' && r.message.nlri.some((n) => n.length === 24 && hex(n.address) === '0a6401');
}

/** Log text of the records from `from` on: message plus every string field, for `# log:` patterns. */
function logText(lab: Lab, from: number): string {
  return lab
    .logs(from)
    .map((r) => Object.values(r).filter((v) => typeof v === 'string').join(' | '))
    .join('\n');
}

describe('regression corpus over live sessions', () => {
  let lab: Lab;
  const injectors = new Map<string, Injector>();
  const openCases = CORPUS.filter((c) => c.live && c.stage === 'open');
  const establishedCases = CORPUS.filter((c) => c.live && c.stage === 'established');

  before(async () => {
    lab = await Lab.start({ ibgp: 110, ebgp: 30, peerExtra: (type) => (type === 'ebgp' ? { import: EBGP_IMPORT } : {}) });
  });
  after(async () => {
    for (const inj of injectors.values()) await inj.close();
    await lab.stop();
  });

  function injector(sort: PeerType, extended: boolean): Injector {
    const key = `${sort}${extended ? '+ext' : ''}`;
    let inj = injectors.get(key);
    if (!inj) injectors.set(key, (inj = new Injector(lab, sort, { extendedMessage: extended })));
    return inj;
  }

  it('established-stage inputs: the wire outcome matches the decoder, and the daemon lives', async () => {
    const failures: string[] = [];
    for (const c of establishedCases) {
      const inj = injector(c.session as PeerType, c.extended);
      await inj.ensureConnected();
      const withPrefix = announcesTestPrefix(c);
      if (withPrefix) {
        inj.send(goodUpdate(c.session as PeerType));
        assert.deepEqual(await inj.barrier(), { kind: 'alive' }, `${c.id}: baseline announcement`);
      }
      const logFrom = lab.logLines.length;
      if (c.expect.kind === 'no-crash') {
        // Fuzz findings: survive, or reset with a NOTIFICATION (the fuzz oracle).
        const v = await liveVerdict(inj, c.frame);
        if (!v.ok) failures.push(`${c.id}: ${v.detail}`);
        continue;
      }
      const outcome = await inj.inject(c.frame);
      const e = c.expect;
      const got = outcome.kind === 'reset' ? `reset ${outcome.notification ? `${outcome.notification.code}/${outcome.notification.subcode}` : 'without NOTIFICATION'}` : outcome.kind;
      const want = e.kind === 'notification' ? `reset ${e.code}/${e.subcode}` : e.kind === 'peer-notification' ? 'reset without NOTIFICATION' : 'alive';
      if (got !== want) failures.push(`${c.id}: expected ${want}, got ${got}`);
      if (c.data !== undefined && outcome.kind === 'reset' && outcome.notification && hex(outcome.notification.data) !== c.data) failures.push(`${c.id}: data ${hex(outcome.notification.data)}`);
      if (outcome.kind === 'alive' && withPrefix) {
        const present = (await inj.adjIn()).some((r) => r.prefix === NLRI_TEXT);
        const shouldBe = !(e.kind === 'rfc7606' && e.action === 'treat-as-withdraw');
        if (present !== shouldBe) failures.push(`${c.id}: ${NLRI_TEXT} ${present ? 'present' : 'absent'} after the input`);
      }
      if (c.log) {
        await sleep(20);
        const text = logText(lab, logFrom);
        if (!c.log.test(text)) failures.push(`${c.id}: no log line matching ${c.log} in:\n${text}`);
      }
    }
    assert.deepEqual(failures, []);
    // Every NOTIFICATION text that reached the log is capped and free of raw control characters.
    for (const r of lab.logs()) {
      for (const key of ['notification', 'error', 'reason']) {
        const v = r[key];
        if (typeof v !== 'string') continue;
        assert.ok(v.length <= 600, `${key} logged with ${v.length} characters`);
        assert.doesNotMatch(v, /[\u0000-\u001f\u007f\u202a-\u202e]/, `${key} logged with a raw control character`);
      }
    }
  });

  it('the long AS path was evaluated by the import policy and installed (BIRD CVE-2026-49943)', async () => {
    const inj = injector('ebgp', true);
    const rows = await lab.routes(inj.name, 'adj-in');
    const long = rows.find((r) => r.prefix === '10.100.2.0/24');
    assert.ok(long, 'the 2100-ASN route is in adj-in');
    assert.equal(long.asPath.length, 2100);
    assert.equal(long.reason, null, 'accepted by the import policy');
    const loc = (await lab.routes(inj.name, 'loc')).find((r) => r.prefix === '10.100.2.0/24');
    assert.equal(loc?.localPref, 50, 'the "very-long" term matched');
    assert.equal(loc?.best, true);
  });

  it('OPEN-stage inputs: exact NOTIFICATION, or KEEPALIVE for the valid ones', async () => {
    const failures: string[] = [];
    for (const c of openCases) {
      const { address } = await lab.takeAddress(c.session as PeerType);
      const raw = new RawPeer();
      await raw.connect(lab, address);
      const logFrom = lab.logLines.length;
      raw.send(c.frame);
      const e = c.expect;
      if (e.kind === 'accept') {
        await eventually(`${c.id}: KEEPALIVE`, async () => (raw.received.some((m) => m.type === 'keepalive') || raw.closed ? true : undefined), 5_000);
        const n = raw.received.find((m) => m.type === 'notification');
        if (n || raw.closed) failures.push(`${c.id}: expected KEEPALIVE, got ${n ? JSON.stringify(n) : 'close'}`);
        raw.close();
      } else {
        const r = await raw.closedWith();
        const got = r.notification ? `${r.notification.code}/${r.notification.subcode}` : r.closed ? 'close' : 'nothing';
        const want = e.kind === 'notification' ? `${e.code}/${e.subcode}` : 'close';
        if (got !== want) failures.push(`${c.id}: expected ${want}, got ${got}`);
        if (c.data !== undefined && r.notification && hex(r.notification.data) !== c.data) failures.push(`${c.id}: data ${hex(r.notification.data)}`);
        raw.close();
      }
      lab.noteReset(address);
      if (c.log) {
        await sleep(20);
        if (!c.log.test(logText(lab, logFrom))) failures.push(`${c.id}: no log line matching ${c.log}`);
      }
    }
    assert.deepEqual(failures, []);
  });

  it('truncated OPEN at every offset over TCP: the NOTIFICATION the decoder predicts, every time', async () => {
    const base = CORPUS.find((c) => c.id === 'open-truncated/base-open')!.frame;
    const failures: string[] = [];
    for (let length = 19; length < base.length; length++) {
      const frame = base.slice(0, length);
      frame[16] = length >> 8;
      frame[17] = length & 0xff;
      const { address } = await lab.takeAddress('ibgp');
      const raw = new RawPeer();
      await raw.connect(lab, address);
      raw.send(frame);
      const r = await raw.closedWith();
      raw.close();
      lab.noteReset(address);
      const got = r.notification ? `${r.notification.code}/${r.notification.subcode}` : 'none';
      if (got !== (length < 29 ? '1/2' : '2/0')) failures.push(`${length} octets: ${got}`);
    }
    assert.deepEqual(failures, []);
  });

  it('NOTIFICATION in OpenConfirm closes quietly, as in OpenSent and Established (BIRD 3 CVE-2025-59688)', async () => {
    const { address, name } = await lab.takeAddress('ibgp');
    const sentBefore = (await lab.peers()).find((p) => p.name === name)!.messagesSent.NOTIFICATION ?? 0;
    const raw = new RawPeer();
    await raw.connect(lab, address);
    raw.send(encodeMessage(buildOpen({ asn: TERN_ASN, bgpId: dottedToU32(address)!, holdTime: 30, families: ['ipv4-unicast'] }), DEFAULT_CONTEXT));
    await eventually('KEEPALIVE (OpenConfirm)', async () => (raw.received.some((m) => m.type === 'keepalive') ? true : undefined));
    raw.send(Uint8Array.from([...new Array<number>(16).fill(0xff), 0, 21, 3, 6, 2]));
    const r = await raw.closedWith();
    lab.noteReset(address);
    assert.deepEqual(r, { closed: true }, 'closed without answering');
    const peer = (await lab.peers()).find((p) => p.name === name)!;
    assert.match(peer.lastError ?? '', /received Cease \/ Administrative Shutdown/);
    assert.equal(peer.messagesSent.NOTIFICATION ?? 0, sentBefore, 'a NOTIFICATION is never answered (RFC 4271 §6.4)');
  });

  it('a route too large for a non-extended peer is not sent to it, and nothing crashes (RFC 8654)', async () => {
    const ibgp = injector('ibgp', false);
    await ibgp.ensureConnected();
    const ext = injector('ebgp', true);
    await ext.ensureConnected();
    // 15000 ASNs: about 60 kB of AS_PATH, legal only with extended messages.
    const asns = [EBGP_ASN, ...Array.from({ length: 14_999 }, (_, i) => 64512 + (i % 400))];
    let segs = '';
    for (let i = 0; i < asns.length; i += 255) {
      const chunk = asns.slice(i, i + 255);
      segs += '02' + chunk.length.toString(16).padStart(2, '0') + chunk.map((a) => a.toString(16).padStart(8, '0')).join('');
    }
    const frame = updateMessage({ attrs: [ORIGIN_IGP, attrHex(2, 0x50, segs), NEXT_HOP_10_0_0_2], nlri: '180a6463' });
    assert.ok(frame.length > 60_000 && frame.length <= 65_535);
    assert.deepEqual(await ext.inject(frame, 10_000), { kind: 'alive' });
    await eventually('the big route in the Loc-RIB', async () => ((await lab.routes(ext.name, 'loc')).some((r) => r.prefix === '10.100.99.0/24') ? true : undefined));
    await sleep(200);
    // Tern is alive, the non-extended iBGP session too, and it did not get the route.
    assert.deepEqual(await ibgp.barrier(), { kind: 'alive' });
    assert.equal(ibgp.peer!.routes.has('10.100.99.0/24'), false, 'not sent to a peer that cannot take it');
    assert.equal((await lab.peers()).find((p) => p.name === ibgp.name)?.state, 'Established');
  });

  it('a flood of malformed and maximal UPDATEs: the event loop keeps turning, the session survives', async (t) => {
    const inj = injector('ebgp', true);
    await inj.ensureConnected();
    const bad = updateMessage({ attrs: [ORIGIN_IGP, AS_PATH_65001, attrHex(3, 0x40, '0a00'), attrHex(8, 0xc0, 'fde800')], nlri: '180a6500' });
    const asns = Array.from({ length: 16_000 }, (_, i) => (i === 0 ? EBGP_ASN : 64512 + (i % 400)));
    let segs = '';
    for (let i = 0; i < asns.length; i += 255) {
      const chunk = asns.slice(i, i + 255);
      segs += '02' + chunk.length.toString(16).padStart(2, '0') + chunk.map((a) => a.toString(16).padStart(8, '0')).join('');
    }
    const big = updateMessage({ attrs: [ORIGIN_IGP, attrHex(2, 0x50, segs), NEXT_HOP_10_0_0_2], nlri: '180a6501' });
    const watch = new LoopWatch(10);
    const start = Date.now();
    let sent = 0;
    for (let round = 0; round < 100; round++) {
      for (let k = 0; k < 40; k++) inj.send(bad);
      inj.send(big);
      sent += 41;
      await new Promise((r) => setImmediate(r));
    }
    const outcome = await inj.barrier(60_000);
    watch.stop();
    t.diagnostic(`${sent} messages in ${Date.now() - start} ms; ${watch.ticks} timer ticks, longest gap ${watch.maxGapMs} ms`);
    assert.deepEqual(outcome, { kind: 'alive' });
    assert.equal(sent, 4100);
    assert.ok(watch.ticks >= 5, `timer fired ${watch.ticks} times`);
    assert.ok(watch.maxGapMs < 500, `longest event-loop stall ${watch.maxGapMs} ms over ${Date.now() - start} ms`);
  });
});

describe('decoder sanity for the live fixtures', () => {
  it('the baseline announcements are clean for both sorts', () => {
    assert.equal(decodeUpdate(goodUpdate('ibgp').subarray(19), IBGP).action, 'none');
    assert.equal(decodeUpdate(goodUpdate('ebgp').subarray(19), EBGP).action, 'none');
    assert.ok(BgpNotificationError);
  });
});
