// SPDX-License-Identifier: Apache-2.0
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { prefixKey } from '../../src/rib/prefix-key.ts';

test('prefix keys ignore bits past the prefix length and separate families, lengths and path ids', () => {
  const a = prefixKey({ family: 'ipv4-unicast', length: 20, address: Uint8Array.of(10, 1, 0x1f) });
  const b = prefixKey({ family: 'ipv4-unicast', length: 20, address: Uint8Array.of(10, 1, 0x10) });
  assert.equal(a, b);
  assert.notEqual(prefixKey({ family: 'ipv4-unicast', length: 8, address: Uint8Array.of(10) }), prefixKey({ family: 'ipv6-unicast', length: 8, address: Uint8Array.of(10) }));
  assert.notEqual(prefixKey({ family: 'ipv4-unicast', length: 8, address: Uint8Array.of(10) }), prefixKey({ family: 'ipv4-unicast', length: 9, address: Uint8Array.of(10, 0) }));
  assert.notEqual(
    prefixKey({ family: 'ipv4-unicast', length: 8, address: Uint8Array.of(10), pathId: 1 }),
    prefixKey({ family: 'ipv4-unicast', length: 8, address: Uint8Array.of(10), pathId: 2 }),
  );
});

test('distinct masked IPv6 prefixes never share a key', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.integer({ min: 0, max: 128 }), (x, y, len) => {
      const bytes = Math.ceil(len / 8);
      const mask = (b: Uint8Array) => {
        const out = b.slice(0, bytes);
        if (len & 7) out[bytes - 1]! &= (0xff << (8 - (len & 7))) & 0xff;
        return out;
      };
      const same = mask(x).every((v, i) => v === mask(y)[i]);
      const kx = prefixKey({ family: 'ipv6-unicast', length: len, address: x.slice(0, bytes) });
      const ky = prefixKey({ family: 'ipv6-unicast', length: len, address: y.slice(0, bytes) });
      assert.equal(kx === ky, same);
    }),
  );
});
