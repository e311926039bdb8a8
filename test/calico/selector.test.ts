// SPDX-License-Identifier: Apache-2.0
// Calico's selector language (libcalico-go lib/selector semantics), including the absent-label
// rules of != and `not in`, precedence, quoting, and malformed input.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseSelector, SelectorError } from '../../src/calico/selector.ts';

const L = { 'route-reflector': 'true', zone: 'a', 'projectcalico.org/name': 'n1', app: 'calico-bird-0' };

const CASES: [string, boolean][] = [
  ['all()', true],
  ['global()', true],
  ['', true],
  ['has(zone)', true],
  ['has(rack)', false],
  ['!has(rack)', true],
  ["route-reflector == 'true'", true],
  ['route-reflector == "false"', false],
  ["zone != 'b'", true],
  ["rack != 'b'", true], // absent label: != holds
  ["zone in {'a', 'b'}", true],
  ['zone in {"b"}', false],
  ["zone not in {'b'}", true],
  ["rack not in {'b'}", true], // absent label: not in holds
  ["rack in {'b'}", false],
  ["has(zone) && zone == 'b' || app == 'calico-bird-0'", true], // && binds tighter
  ["has(zone) && (zone == 'b' || app == 'x')", false],
  ["!(zone == 'a')", false],
  ["projectcalico.org/name == 'n1'", true],
  ["app contains 'bird'", true],
  ["app starts with 'calico'", true],
  ["app ends with '-1'", false],
  ["all() && !has(route-reflector)", false],
];

for (const [sel, want] of CASES) {
  test(`selector ${JSON.stringify(sel)} → ${want}`, () => {
    assert.equal(parseSelector(sel)(L), want);
  });
}

test('malformed selectors throw SelectorError', () => {
  for (const bad of ['has(zone', "zone == 'a", 'zone ==', 'zone in {a}', '&& has(x)', 'has(x) has(y)', "zone not 'a'", '(has(x)']) {
    assert.throws(() => parseSelector(bad), SelectorError, bad);
  }
});
