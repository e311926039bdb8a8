// SPDX-License-Identifier: Apache-2.0
// KeyNlri, the prefix the RIB keeps (its key, the NLRI's fields read from it), must be the NLRI
// it was made from for every reader: fields, JSON, and the bytes it writes on the wire. The wire
// bytes are checked against another implementation's: every prefix of a RIPE RIS updates dump.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import fc from 'fast-check';
import { encodePrefixes, prefixToString } from '../../src/bgp/messages/nlri.ts';
import { decodeUpdate } from '../../src/bgp/messages/update.ts';
import type { CodecContext, Family, Nlri } from '../../src/bgp/messages/types.ts';
import { KeyNlri, prefixKey } from '../../src/rib/prefix-key.ts';
import { fullAddress } from '../../src/kernel-sync/resolve.ts';
import { Writer } from '../../src/util/reader.ts';
import { readMrtFile, readMrtMessages } from '../../src/util/mrt.ts';
import { RIS_FILE } from '../../scripts/mrt-stats.ts';

const nlriArb: fc.Arbitrary<Nlri> = fc
  .record({ v6: fc.boolean(), bytes: fc.uint8Array({ minLength: 16, maxLength: 16 }), bits: fc.integer({ min: 0, max: 128 }), pathId: fc.option(fc.nat({ max: 0xffffffff }), { nil: undefined }) })
  .map(({ v6, bytes, bits, pathId }) => {
    const length = v6 ? bits : bits % 33;
    const address = bytes.slice(0, (length + 7) >> 3);
    const family: Family = v6 ? 'ipv6-unicast' : 'ipv4-unicast';
    return pathId === undefined ? { family, length, address } : { family, length, address, pathId };
  });

/** The NLRI with the bits past its length cleared (RFC 4271 §4.3: they are not the prefix). */
function masked(n: Nlri): Nlri {
  const address = n.address.slice();
  if (n.length & 7) address[address.length - 1]! &= (0xff << (8 - (n.length & 7))) & 0xff;
  return n.pathId === undefined ? { family: n.family, length: n.length, address } : { family: n.family, length: n.length, address, pathId: n.pathId };
}

function wire(prefixes: Nlri[], addPath: boolean): Uint8Array {
  const w = new Writer();
  encodePrefixes(w, prefixes, addPath);
  return w.finish();
}

describe('KeyNlri', () => {
  it('reads back the masked NLRI it was made from: fields, plain form, JSON, key and destination key', () => {
    fc.assert(
      fc.property(nlriArb, (n) => {
        const k = KeyNlri.of(n);
        const m = masked(n);
        assert.equal(k.family, n.family);
        assert.equal(k.length, n.length);
        assert.equal(k.pathId, n.pathId);
        assert.deepEqual(k.address, m.address);
        assert.deepEqual(k.plain(), m);
        assert.equal(JSON.stringify(k), JSON.stringify(m));
        assert.equal(prefixKey(k), prefixKey(n));
        assert.equal(KeyNlri.of(k), k);
        assert.equal(k.destKey, prefixKey({ family: n.family, length: n.length, address: n.address }));
        assert.equal(prefixToString(k), prefixToString(m));
      }),
      { numRuns: 2000 },
    );
  });

  it('writes the wire bytes of the masked NLRI, with and without ADD-PATH (RFC 7911 §3)', () => {
    fc.assert(
      fc.property(fc.array(nlriArb, { maxLength: 8 }), fc.boolean(), (list, addPath) => {
        assert.deepEqual(wire(list.map((n) => KeyNlri.of(n)), addPath), wire(list.map(masked), addPath));
      }),
      { numRuns: 1000 },
    );
  });

  it('gives the kernel the same destination address as the NLRI (padded to the family size)', () => {
    fc.assert(
      fc.property(nlriArb, (n) => {
        const family = n.family === 'ipv4-unicast' ? 2 : 10;
        assert.deepEqual(fullAddress(KeyNlri.of(n), family), fullAddress(masked(n), family));
      }),
      { numRuns: 1000 },
    );
  });

  it('writes every prefix of a RIPE RIS updates dump as the router that sent it did', { skip: existsSync(RIS_FILE) ? false : `no ${RIS_FILE}` }, () => {
    const ctx: CodecContext = { as4: true, maxMessageSize: 4096, addPathReceive: new Set(), addPathSend: new Set(), extendedNextHopIpv4: false, peerType: 'ebgp', families: new Set<Family>(['ipv4-unicast', 'ipv6-unicast']) };
    let fields = 0;
    let prefixes = 0;
    for (const m of readMrtMessages(readMrtFile(RIS_FILE)).messages) {
      if (m.message[18] !== 2) continue; // UPDATEs only
      const body = m.message.subarray(19);
      const decoded = decodeUpdate(body, ctx);
      // RFC 4271 §4.3: withdrawn routes, then path attributes, then the NLRI field to the end.
      const withdrawnLength = (body[0]! << 8) | body[1]!;
      const withdrawnField = body.subarray(2, 2 + withdrawnLength);
      const attributesLength = (body[2 + withdrawnLength]! << 8) | body[3 + withdrawnLength]!;
      const nlriField = body.subarray(4 + withdrawnLength + attributesLength);
      for (const [field, list] of [[withdrawnField, decoded.message.withdrawn], [nlriField, decoded.message.nlri]] as const) {
        if (!list.length) continue;
        assert.deepEqual(wire(list.map((n) => KeyNlri.of(n)), false), field);
        fields++;
        prefixes += list.length;
      }
    }
    // The dump's IPv4 NLRI and withdrawn prefixes (test/messages/mrt-ris.test.ts counts them).
    assert.equal(prefixes, 150389 + 2173);
    assert.ok(fields > 1000);
  });
});
