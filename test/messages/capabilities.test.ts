// SPDX-License-Identifier: Apache-2.0
// Capability tuples (RFC 5492): each known capability decodes from bytes other implementations
// wrote, encodes back to them, prints for `show peers`; malformed lengths are 2/0.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BgpNotificationError, capabilityToString, decodeCapabilities, encodeCapability } from '../../src/bgp/messages/index.ts';
import type { Capability } from '../../src/bgp/messages/index.ts';
import { Reader, Writer, fromHex, toHex } from '../../src/util/reader.ts';

const decode = (hex: string): Capability[] => decodeCapabilities(new Reader(fromHex(hex), () => BgpNotificationError.openUnspecific('overrun')));

// [hex, value, text] — hex from scapy test/contrib/bgp.uts (MP ipv6, GR 120 s with R and F,
// AS4 4294967295), bgp4r (route refresh 2 and 128), the packetlife captures (add-path 3 and
// enhanced RR from bgp-add-path.cap, MP flowspec and extended message from
// BGP_flowspec_redirect.cap, code 71 from its OPEN); the rest assembled from the RFC figures.
const CASES: [string, Capability, string][] = [
  ['010400020001', { kind: 'multiprotocol', code: 1, afi: 2, safi: 1 }, 'multiprotocol ipv6-unicast'],
  ['010400010085', { kind: 'multiprotocol', code: 1, afi: 1, safi: 133 }, 'multiprotocol afi 1 safi 133'],
  ['0200', { kind: 'route-refresh', code: 2 }, 'route-refresh'],
  ['8000', { kind: 'route-refresh', code: 128 }, 'route-refresh (pre-standard 128)'],
  ['0600', { kind: 'extended-message', code: 6 }, 'extended-message'],
  ['4600', { kind: 'enhanced-route-refresh', code: 70 }, 'enhanced-route-refresh'],
  ['4104ffffffff', { kind: 'as4', code: 65, asn: 4294967295 }, 'as4 4294967295'],
  [
    '4006807800010180',
    { kind: 'graceful-restart', code: 64, restarting: true, notification: false, restartTime: 120, families: [{ afi: 1, safi: 1, forwardingState: true }] },
    'graceful-restart time 120s restarting ipv4-unicast (forwarding)',
  ],
  ['4002c078', { kind: 'graceful-restart', code: 64, restarting: true, notification: true, restartTime: 120, families: [] }, 'graceful-restart time 120s restarting notification'],
  ['450400010103', { kind: 'add-path', code: 69, families: [{ afi: 1, safi: 1, sendReceive: 3 }] }, 'add-path ipv4-unicast send/receive'],
  [
    '45080001010100020102',
    { kind: 'add-path', code: 69, families: [{ afi: 1, safi: 1, sendReceive: 1 }, { afi: 2, safi: 1, sendReceive: 2 }] },
    'add-path ipv4-unicast receive, ipv6-unicast send',
  ],
  ['0506000100010002', { kind: 'extended-nexthop', code: 5, entries: [{ afi: 1, safi: 1, nextHopAfi: 2 }] }, 'extended-nexthop ipv4-unicast via afi 2'],
  ['4703010203', { kind: 'unknown', code: 71, value: Uint8Array.of(1, 2, 3) }, 'unknown capability 71 010203'],
];

describe('capabilities', () => {
  for (const [hex, value, text] of CASES) {
    it(text, () => {
      assert.deepEqual(decode(hex), [value]);
      const w = new Writer();
      encodeCapability(w, value);
      assert.equal(toHex(w.finish()), hex);
      assert.equal(capabilityToString(value).replace(/\s+/g, ' '), text);
    });
  }

  it('several in one parameter keep their order', () => {
    assert.deepEqual(
      decode('0200' + '4104000000fa' + '8000').map((c) => c.code),
      [2, 65, 128],
    );
  });

  const MALFORMED: [string, string][] = [
    ['multiprotocol of 5 octets', '01050001000100'],
    ['route refresh with a value', '020100'],
    ['AS4 of 3 octets', '4103000001'],
    ['graceful restart of 1 octet', '400100'],
    ['graceful restart with a partial family', '4004007800'],
    ['add-path of 3 octets', '4503000101'],
    ['add-path of 0 octets', '4500'],
    ['extended message with a value', '060101'],
    ['extended next hop of 4 octets', '050400010001'],
    ['enhanced route refresh with a value', '460100'],
  ];
  for (const [name, hex] of MALFORMED) {
    it(`${name} → 2/0`, () => {
      assert.throws(() => decode(hex), (e: unknown) => e instanceof BgpNotificationError && e.code === 2 && e.subcode === 0);
    });
  }

  it('a length running past the parameter → 2/0, whatever the code', () => {
    for (const code of [1, 2, 65, 99]) {
      assert.throws(() => decode(toHex(Uint8Array.of(code, 9, 0, 0))), (e: unknown) => e instanceof BgpNotificationError && e.code === 2 && e.subcode === 0);
    }
  });
});
