// SPDX-License-Identifier: Apache-2.0
// PrefixSet (numbers / masked bytes per length) against a bit-by-bit reference, both families.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { PrefixSet } from '../../src/policy/prefix-set.ts';
import { bytesToIp } from '../../src/util/ip.ts';

function bit(b: Uint8Array, i: number): number {
  return ((b[i >> 3] ?? 0) >> (7 - (i & 7))) & 1;
}

/** Does prefix p/pl contain r/rl (equal included)? Bit by bit. */
function naiveCovers(p: Uint8Array, pl: number, r: Uint8Array, rl: number): boolean {
  if (rl < pl) return false;
  for (let i = 0; i < pl; i++) if (bit(p, i) !== bit(r, i)) return false;
  return true;
}

function masked(b: Uint8Array, len: number): Uint8Array {
  const out = new Uint8Array(b.length);
  for (let i = 0; i < len; i++) if (bit(b, i)) out[i >> 3]! |= 0x80 >> (i & 7);
  return out;
}

const family = fc.constantFrom(4, 16);
const prefixOf = (width: number) =>
  fc.record({ bytes: fc.uint8Array({ minLength: width, maxLength: width }), len: fc.integer({ min: 0, max: width * 8 }) });

test('covers / hasExact agree with a bit-by-bit reference (NLRI bytes truncated as on the wire)', () => {
  fc.assert(
    fc.property(
      family.chain((w) => fc.tuple(fc.constant(w), fc.array(prefixOf(w), { minLength: 1, maxLength: 6 }), prefixOf(w))),
      ([width, prefixes, r]) => {
        const set = PrefixSet.of(prefixes.map((p) => `${bytesToIp(masked(p.bytes, p.len))}/${p.len}`));
        // Route bytes as an NLRI carries them: ceil(len/8) bytes, trailing bits possibly set.
        const nlri = r.bytes.slice(0, Math.ceil(r.len / 8));
        const covers = prefixes.some((p) => naiveCovers(p.bytes, p.len, r.bytes, r.len));
        const exact = prefixes.some((p) => p.len === r.len && naiveCovers(p.bytes, p.len, r.bytes, r.len));
        assert.equal(set.covers(nlri, r.len, width), covers);
        assert.equal(set.hasExact(nlri, r.len, width), exact);
        // A prefix of the other family never matches.
        assert.equal(set.covers(nlri, r.len, width === 4 ? 16 : 4), false);
      },
    ),
    { numRuns: 3000 },
  );
});

test('an IPv6 /32 NLRI (4 address bytes) is still keyed as IPv6', () => {
  const set = PrefixSet.of(['2001:db8::/32']);
  assert.equal(set.hasExact(Uint8Array.of(0x20, 0x01, 0x0d, 0xb8), 32, 16), true);
  assert.equal(set.covers(Uint8Array.of(0x20, 0x01, 0x0d, 0xb8), 32, 4), false);
});

test('text that is not a prefix is refused at compile time', () => {
  assert.throws(() => PrefixSet.of(['10.0.0.0/33']), /not a prefix/);
  assert.throws(() => PrefixSet.of(['bogus/8']), /not a prefix/);
});
