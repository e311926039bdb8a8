// SPDX-License-Identifier: Apache-2.0
// PrefixTable (src/rib/prefix-table.ts) against a Map<string, V>: IPv4 keys are kept under
// numbers, so two prefixes whose numbers collided would read each other's values, and keys made
// back from the numbers must be the keys that went in. Random sets, deletes and clears over
// prefixes of every IPv4 length (0 to 32, where the numbering changes), IPv4 keys with an
// ADD-PATH id and IPv6 prefixes must give the Map's answers, and the same keys, values and
// entries (in the table's own order).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Nlri } from '../../src/bgp/messages/types.ts';
import { prefixKey } from '../../src/rib/prefix-key.ts';
import { PrefixTable } from '../../src/rib/prefix-table.ts';

/** Prefixes that differ in few bits (a small address pool) and at the edges of the numbering. */
const ipv4 = fc.record({
  length: fc.oneof(fc.constantFrom(0, 1, 7, 8, 24, 30, 31, 32), fc.integer({ min: 0, max: 32 })),
  address: fc.oneof(fc.constantFrom(0, 0xffffffff, 0x80000000, 0x7fffffff, 0x0a000000), fc.integer({ min: 0, max: 0xffffffff })),
  pathId: fc.option(fc.integer({ min: 0, max: 3 }), { nil: undefined, freq: 4 }),
}).map(({ length, address, pathId }): Nlri => ({
  family: 'ipv4-unicast', length, address: Uint8Array.of(address >>> 24, (address >>> 16) & 255, (address >>> 8) & 255, address & 255).subarray(0, (length + 7) >> 3), ...(pathId !== undefined ? { pathId } : {}),
}));
const ipv6 = fc.record({ length: fc.integer({ min: 0, max: 128 }), bytes: fc.uint8Array({ minLength: 16, maxLength: 16 }) })
  .map(({ length, bytes }): Nlri => ({ family: 'ipv6-unicast', length, address: bytes.subarray(0, (length + 7) >> 3) }));
const key = fc.oneof({ arbitrary: ipv4, weight: 4 }, { arbitrary: ipv6, weight: 1 }).map(prefixKey);

type Op = { kind: 'set'; key: string; value: number } | { kind: 'delete'; key: string } | { kind: 'clear' };
const op = (keys: string[]): fc.Arbitrary<Op> => fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant('set' as const), key: fc.constantFrom(...keys), value: fc.integer() }), weight: 6 },
  { arbitrary: fc.record({ kind: fc.constant('delete' as const), key: fc.constantFrom(...keys) }), weight: 3 },
  { arbitrary: fc.constant({ kind: 'clear' as const }), weight: 1 },
);

function sameAsModel(table: PrefixTable<number>, model: Map<string, number>, keys: string[]): void {
  assert.equal(table.size, model.size);
  for (const k of keys) {
    assert.equal(table.get(k), model.get(k), `get ${JSON.stringify(k)}`);
    assert.equal(table.has(k), model.has(k), `has ${JSON.stringify(k)}`);
  }
  const entries = [...table.entries()];
  assert.deepEqual(new Map(entries), model, 'entries');
  assert.equal(entries.length, model.size, 'each entry once');
  assert.deepEqual([...table.keys()], entries.map(([k]) => k), 'keys in entry order');
  assert.deepEqual([...table.values()], entries.map(([, v]) => v), 'values in entry order');
  assert.deepEqual([...table], entries, 'iteration is entries');
}

test('PrefixTable answers as a Map<string, V> would', () => {
  fc.assert(fc.property(fc.uniqueArray(key, { minLength: 1, maxLength: 40 }).chain((keys) => fc.tuple(fc.constant(keys), fc.array(op(keys), { maxLength: 80 }))), ([keys, ops]) => {
    const table = new PrefixTable<number>();
    const model = new Map<string, number>();
    for (const o of ops) {
      if (o.kind === 'set') {
        assert.equal(table.set(o.key, o.value), table, 'set returns the table');
        model.set(o.key, o.value);
      } else if (o.kind === 'delete') assert.equal(table.delete(o.key), model.delete(o.key), `delete ${JSON.stringify(o.key)}`);
      else {
        table.clear();
        model.clear();
      }
    }
    sameAsModel(table, model, keys);
  }), { numRuns: 400 });
});

test('every IPv4 prefix length keeps its own numbers: the first and last prefix of each length', () => {
  const table = new PrefixTable<string>();
  const keys: string[] = [];
  for (let length = 0; length <= 32; length++) {
    for (const address of [0, 0xffffffff, 0x80000000]) {
      const k = prefixKey({ family: 'ipv4-unicast', length, address: Uint8Array.of(address >>> 24, (address >>> 16) & 255, (address >>> 8) & 255, address & 255).subarray(0, (length + 7) >> 3) });
      if (keys.includes(k)) continue;
      keys.push(k);
      table.set(k, k);
    }
  }
  assert.equal(table.size, keys.length);
  for (const k of keys) assert.equal(table.get(k), k);
  assert.deepEqual(new Set(table.keys()), new Set(keys));
});

test('a key no IPv4 prefix can have (length past 32) is kept by its string, apart from real ones', () => {
  const table = new PrefixTable<string>();
  const odd = String.fromCharCode(0x34, 33, 0, 0, 0, 0, 0);
  const real = prefixKey({ family: 'ipv4-unicast', length: 1, address: Uint8Array.of(0) });
  table.set(odd, 'odd').set(real, 'real');
  assert.equal(table.get(odd), 'odd');
  assert.equal(table.get(real), 'real');
  assert.deepEqual(new Set(table.keys()), new Set([odd, real]));
});
