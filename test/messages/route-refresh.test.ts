// SPDX-License-Identifier: Apache-2.0
// ROUTE-REFRESH (RFC 2918 §3) with the RFC 7313 subtype; bad length → 7/1 with the message as data.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BgpNotificationError, DEFAULT_CONTEXT, decodeMessage, decodeRouteRefresh, encodeRouteRefresh, withHeader } from '../../src/bgp/messages/index.ts';
import { fromHex, toHex } from '../../src/util/reader.ts';

describe('ROUTE-REFRESH', () => {
  const VECTORS: [string, string, { afi: number; safi: number; subtype: number }][] = [
    ['bgp4r Route_refresh_Test / BGP_soft_reset.cap: IPv4 unicast', 'ffffffffffffffffffffffffffffffff00170500010001', { afi: 1, safi: 1, subtype: 0 }],
    ['bgp-add-path.cap: BoRR (RFC 7313)', 'ffffffffffffffffffffffffffffffff00170500010101', { afi: 1, safi: 1, subtype: 1 }],
    ['bgp-add-path.cap: EoRR (RFC 7313)', 'ffffffffffffffffffffffffffffffff00170500010201', { afi: 1, safi: 1, subtype: 2 }],
    ['bgp4r: AFI 2 SAFI 2', 'ffffffffffffffffffffffffffffffff00170500020002', { afi: 2, safi: 2, subtype: 0 }],
  ];
  for (const [name, hex, fields] of VECTORS) {
    it(name, () => {
      const m = decodeMessage(fromHex(hex), DEFAULT_CONTEXT).message;
      assert.deepEqual(m, { type: 'route-refresh', ...fields });
      assert.equal(toHex(encodeRouteRefresh({ type: 'route-refresh', ...fields })), hex);
    });
  }

  it('an unknown subtype is kept (RFC 7313 §4: the receiver ignores it)', () => {
    assert.deepEqual(decodeRouteRefresh(fromHex('00020701')), { type: 'route-refresh', afi: 2, subtype: 7, safi: 1 });
  });

  for (const bodyHex of ['000101', '0001010100', '0001020100000000']) {
    it(`body of ${bodyHex.length / 2} octets → 7/1 with the complete message as data (RFC 7313 §5)`, () => {
      const body = fromHex(bodyHex);
      assert.throws(
        () => decodeRouteRefresh(body),
        (e: unknown) => e instanceof BgpNotificationError && e.code === 7 && e.subcode === 1 && toHex(e.data) === toHex(withHeader(5, body)),
      );
      // Through the dispatcher a message under the 23-octet minimum is already a header error.
      const whole = withHeader(5, body);
      const want = body.length < 4 ? [1, 2] : [7, 1];
      assert.throws(() => decodeMessage(whole, DEFAULT_CONTEXT), (e: unknown) => e instanceof BgpNotificationError && e.code === want[0] && e.subcode === want[1]);
    });
  }
});
