// SPDX-License-Identifier: Apache-2.0
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { nlriFromKey, prefixKey } from '../../src/rib/prefix-key.ts';

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

test('the key is the spec: family char, length char, masked address bytes, then "#" and the path id in base 36', () => {
  // The definition, written the slow way; prefixKey builds the same string in one call per length.
  const spec = (family: 'ipv4-unicast' | 'ipv6-unicast', len: number, address: Uint8Array, pathId?: number): string => {
    let k = (family === 'ipv4-unicast' ? '4' : '6') + String.fromCharCode(len);
    for (let i = 0; i < Math.ceil(len / 8); i++) k += String.fromCharCode(i === len >> 3 ? address[i]! & (0xff << (8 - (len & 7))) & 0xff : address[i]!);
    return pathId === undefined ? k : `${k}#${pathId.toString(36)}`;
  };
  fc.assert(
    fc.property(fc.boolean(), fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.integer({ min: 0, max: 128 }), fc.option(fc.integer({ min: 0, max: 0xffffffff }), { nil: undefined }), (v4, bytes, len0, pathId) => {
      const family = v4 ? 'ipv4-unicast' : 'ipv6-unicast';
      const len = v4 ? len0 % 33 : len0;
      const address = bytes.slice(0, Math.ceil(len / 8));
      const key = prefixKey({ family, length: len, address, ...(pathId === undefined ? {} : { pathId }) });
      assert.equal(key, spec(family, len, address, pathId));
      assert.deepEqual(nlriFromKey(key), { family, length: len, address: Uint8Array.from(spec(family, len, address).slice(2), (c) => c.charCodeAt(0)), ...(pathId === undefined ? {} : { pathId }) });
    }),
    { numRuns: 2000 },
  );
});
