// SPDX-License-Identifier: Apache-2.0
// Prefix encoding (RFC 4271 §4.3, RFC 4760 §5, RFC 7911 §3) and the text form.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodePrefixes, encodePrefixes, parsePrefix, prefixToString } from '../../src/bgp/messages/nlri.ts';
import { BgpNotificationError } from '../../src/bgp/messages/errors.ts';
import { Reader, Writer, fromHex } from '../../src/util/reader.ts';

const overrun = (): Error => BgpNotificationError.invalidNetworkField('overrun');
const decodeHex = (hex: string, family: 'ipv4-unicast' | 'ipv6-unicast', addPath = false) =>
  decodePrefixes(new Reader(fromHex(hex), overrun), family, addPath);

describe('decodePrefixes', () => {
  it('decodes /0, /8, /24, /32 IPv4 prefixes (trailing bits kept as received)', () => {
    const got = decodeHex('00' + '080a' + '18c0a801' + '200a000001' + '170a0001', 'ipv4-unicast');
    assert.deepEqual(got.map(prefixToString), ['0.0.0.0/0', '10.0.0.0/8', '192.168.1.0/24', '10.0.0.1/32', '10.0.0.0/23']);
    assert.deepEqual([...got[4]!.address], [10, 0, 1]); // the /23 kept its stray bit for re-encoding
  });
  it('decodes IPv6 with ADD-PATH path ids (RFC 7911 §3)', () => {
    const got = decodeHex('00000007' + '2020010db8' + '00000009' + '00', 'ipv6-unicast', true);
    assert.deepEqual(got.map((n) => [prefixToString(n), n.pathId]), [['2001:db8::/32 (path 7)', 7], ['::/0 (path 9)', 9]]);
  });
  it('prefix length beyond the family maximum → 3/10', () => {
    assert.throws(() => decodeHex('21' + '0a00000000', 'ipv4-unicast'), (e: unknown) => e instanceof BgpNotificationError && e.subcode === 10);
    assert.throws(() => decodeHex('81' + '00'.repeat(17), 'ipv6-unicast'), (e: unknown) => e instanceof BgpNotificationError && e.subcode === 10);
  });
  it('prefix overrunning the field → 3/10; truncated path id → 3/10', () => {
    assert.throws(() => decodeHex('180a00', 'ipv4-unicast'), (e: unknown) => e instanceof BgpNotificationError && e.subcode === 10);
    assert.throws(() => decodeHex('000000', 'ipv4-unicast', true), (e: unknown) => e instanceof BgpNotificationError && e.subcode === 10);
  });
  it('decode ∘ encode is the identity on the wire', () => {
    const prefix = fc.tuple(fc.integer({ min: 0, max: 32 }), fc.uint8Array({ minLength: 4, maxLength: 4 }), fc.option(fc.nat(), { nil: undefined }));
    fc.assert(
      fc.property(fc.array(prefix, { maxLength: 20 }), fc.boolean(), (list, addPath) => {
        const nlri = list.map(([length, bytes, id]) => ({ family: 'ipv4-unicast' as const, length, address: bytes.slice(0, (length + 7) >> 3), ...(addPath ? { pathId: id ?? 0 } : {}) }));
        const w = new Writer();
        encodePrefixes(w, nlri, addPath);
        const wire = w.finish();
        assert.deepEqual(decodePrefixes(new Reader(wire, overrun), 'ipv4-unicast', addPath), nlri);
      }),
    );
  });
});

describe('prefix text', () => {
  it('parsePrefix masks host bits and keeps ceil(len/8) bytes', () => {
    const p = parsePrefix('10.1.0.77/26');
    assert.deepEqual(p, { family: 'ipv4-unicast', length: 26, address: Uint8Array.of(10, 1, 0, 64) });
    assert.deepEqual(parsePrefix('2001:db8::1/32'), { family: 'ipv6-unicast', length: 32, address: Uint8Array.of(0x20, 0x01, 0x0d, 0xb8) });
    assert.deepEqual(parsePrefix('0.0.0.0/0')?.address, new Uint8Array(0));
  });
  it('parsePrefix rejects bad text', () => {
    for (const bad of ['10.0.0.0', '10.0.0.0/33', '2001:db8::/129', 'x/8', '10.0.0.0/-1', '10.0.0.0/']) assert.equal(parsePrefix(bad), undefined, bad);
  });
  it('prefixToString masks trailing bits', () => {
    assert.equal(prefixToString({ family: 'ipv4-unicast', length: 23, address: Uint8Array.of(10, 0, 1) }), '10.0.0.0/23');
    assert.equal(prefixToString({ family: 'ipv6-unicast', length: 48, address: Uint8Array.of(0x2a, 0, 0xbd, 0xc0, 0xe0, 0x03) }), '2a00:bdc0:e003::/48');
  });
  it('parse → toString round trip for canonical text', () => {
    for (const t of ['192.168.221.192/26', '10.2.0.1/32', '::/0', '2001:db8:1:1::/64', 'fd00::/8']) assert.equal(prefixToString(parsePrefix(t)!), t);
  });
});
