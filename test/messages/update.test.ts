// SPDX-License-Identifier: Apache-2.0
// UPDATE encoding details: End-of-RIB (RFC 4724 §2), size limits (RFC 4271 §4.1, RFC 8654),
// Extended Length promotion, splitting counts, and that decoded values do not alias the frame.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { buildUpdates, decodeUpdate, encodeUpdate, endOfRib, isEndOfRib } from '../../src/bgp/messages/update.ts';
import { parsePrefix } from '../../src/bgp/messages/nlri.ts';
import type { Nlri, PathAttribute, UpdateMessage } from '../../src/bgp/messages/types.ts';
import { EBGP, updateMessage } from '../fixtures/messages/update/build.ts';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const MARKER = 'ff'.repeat(16);

describe('End-of-RIB (RFC 4724 §2)', () => {
  it('IPv4: the minimum-length UPDATE', () => {
    assert.equal(hex(endOfRib('ipv4-unicast', EBGP)), MARKER + '0017' + '02' + '0000' + '0000');
  });
  it('IPv6: only an MP_UNREACH_NLRI with AFI 2 / SAFI 1 and no withdrawn routes', () => {
    assert.equal(hex(endOfRib('ipv6-unicast', EBGP)), MARKER + '001d' + '02' + '0000' + '0006' + '800f03000201');
  });
  it('isEndOfRib recognizes both and nothing else', () => {
    for (const family of ['ipv4-unicast', 'ipv6-unicast'] as const) {
      const wire = endOfRib(family, EBGP);
      assert.equal(isEndOfRib(decodeUpdate(wire.subarray(19), EBGP).message), family);
    }
    const withdrawOnly = decodeUpdate(updateMessage({ withdrawn: '0800' }).subarray(19), EBGP).message;
    assert.equal(isEndOfRib(withdrawOnly), undefined);
    const mpWithdraw = decodeUpdate(updateMessage({ attrs: ['800f0800020120' + '20010db8'] }).subarray(19), EBGP).message;
    assert.equal(isEndOfRib(mpWithdraw), undefined);
  });
});

const attrs: PathAttribute[] = [
  { code: 1, kind: 'origin', flags: 0x40, origin: 0 },
  { code: 2, kind: 'as-path', flags: 0x40, segments: [{ type: 2, asns: [65001] }], fourOctet: true },
  { code: 3, kind: 'next-hop', flags: 0x40, nextHop: Uint8Array.of(10, 0, 0, 1) },
];

function v4Prefixes(count: number): Nlri[] {
  return Array.from({ length: count }, (_, i) => parsePrefix(`10.${(i >> 8) & 0xff}.${i & 0xff}.0/24`)!);
}

describe('encodeUpdate', () => {
  it('throws RangeError above ctx.maxMessageSize (RFC 4271 §4.1), fits with RFC 8654', () => {
    const msg: UpdateMessage = { type: 'update', withdrawn: [], attributes: attrs, nlri: v4Prefixes(1100) };
    assert.throws(() => encodeUpdate(msg, EBGP), RangeError);
    assert.ok(encodeUpdate(msg, { ...EBGP, maxMessageSize: 65535 }).length > 4096);
  });
  it('sets Extended Length when a value exceeds 255 octets, and keeps it when received set', () => {
    const communities: PathAttribute = { code: 8, kind: 'communities', flags: 0xc0, communities: Array.from({ length: 100 }, (_, i) => i) };
    const wire = encodeUpdate({ type: 'update', withdrawn: [], attributes: [communities], nlri: [] }, EBGP);
    assert.equal(hex(wire.subarray(23, 27)), 'd0080190');
    const short: PathAttribute = { code: 4, kind: 'med', flags: 0x90, med: 5 };
    assert.equal(hex(encodeUpdate({ type: 'update', withdrawn: [], attributes: [short], nlri: [] }, EBGP).subarray(23)), '9004000400000005');
  });
  it('AS_SEQUENCE of 300 ASNs is written as two segments (255 + 45)', () => {
    const long: PathAttribute = { code: 2, kind: 'as-path', flags: 0x50, segments: [{ type: 2, asns: Array.from({ length: 300 }, (_, i) => i + 1) }], fourOctet: true };
    const wire = encodeUpdate({ type: 'update', withdrawn: [], attributes: [long], nlri: [] }, EBGP);
    const d = decodeUpdate(wire.subarray(19), EBGP);
    const back = d.message.attributes[0];
    assert.ok(back?.kind === 'as-path');
    assert.deepEqual(back.segments.map((s) => s.asns.length), [255, 45]);
  });
});

describe('decodeUpdate', () => {
  it('decoded addresses are copies: reusing the frame buffer does not change them', () => {
    const wire = updateMessage({ attrs: ['40010100', '400200', '4003040a000001'], nlri: '180a0102' });
    const d = decodeUpdate(wire.subarray(19), EBGP);
    wire.fill(0);
    assert.deepEqual([...d.message.nlri[0]!.address], [10, 1, 2]);
    const nh = d.message.attributes.find((a) => a.kind === 'next-hop');
    assert.ok(nh?.kind === 'next-hop');
    assert.deepEqual([...nh.nextHop], [10, 0, 0, 1]);
  });
});

describe('buildUpdates', () => {
  it('1,000 /24s with three attributes fit one 4096-octet UPDATE; 2,000 need two', () => {
    // 23 header+lengths + 20 attributes + 4 per /24 → (4096 - 43) / 4 = 1013 per message.
    assert.equal(buildUpdates({ withdrawn: [], attributes: attrs, nlri: v4Prefixes(1000) }, EBGP).length, 1);
    assert.equal(buildUpdates({ withdrawn: [], attributes: attrs, nlri: v4Prefixes(1013) }, EBGP).length, 1);
    assert.equal(buildUpdates({ withdrawn: [], attributes: attrs, nlri: v4Prefixes(1014) }, EBGP).length, 2);
    assert.equal(buildUpdates({ withdrawn: [], attributes: attrs, nlri: v4Prefixes(2000) }, EBGP).length, 2);
  });
  it('withdrawals share a message with announcements when they fit', () => {
    const pieces = buildUpdates({ withdrawn: v4Prefixes(10), attributes: attrs, nlri: v4Prefixes(5) }, EBGP);
    assert.equal(pieces.length, 1);
    const d = decodeUpdate(pieces[0]!.subarray(19), EBGP);
    assert.equal(d.message.withdrawn.length, 10);
    assert.equal(d.message.nlri.length, 5);
  });
  it('IPv6 NLRI without an MP_REACH in the attribute list is a programming error', () => {
    assert.throws(() => buildUpdates({ withdrawn: [], attributes: attrs, nlri: [parsePrefix('2001:db8::/32')!] }, EBGP), /MP_REACH/);
  });
  it('nothing to send → no messages', () => {
    assert.deepEqual(buildUpdates({ withdrawn: [], attributes: attrs, nlri: [] }, EBGP), []);
  });
});
