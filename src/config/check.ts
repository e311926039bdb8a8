// SPDX-License-Identifier: Apache-2.0
// Generic validator driven by the schema tables in schema.ts: type, range, unknown keys (with
// "did you mean"), required keys and defaults. Collects every problem instead of stopping at the
// first. Knows nothing about YAML or line numbers (parse.ts maps paths to positions) and nothing
// about rules across keys (build.ts).
import { communityValue, largeCommunityValue } from '../policy/spec.ts';
import { isLinkLocalV6, isMulticast, isUnspecified, parseAddress, parsePrefix } from './addr.ts';
import type { FieldSpec, ValueType } from './schema.ts';

export type PathSeg = string | number;

export interface RawProblem {
  path: PathSeg[];
  message: string;
  /** Point at the key itself (unknown keys) rather than its value. */
  atKey?: boolean;
  /** The key is absent: point at the enclosing mapping. */
  missing?: boolean;
}

export class ProblemSink {
  readonly problems: RawProblem[] = [];
  add(path: PathSeg[], message: string, opts: { atKey?: boolean; missing?: boolean } = {}): void {
    this.problems.push({ path, message, ...opts });
  }
}

export const INVALID: unique symbol = Symbol('invalid');
export type Checked = unknown;

export function formatPath(path: readonly PathSeg[]): string {
  let out = '';
  for (const seg of path) out += typeof seg === 'number' ? `[${seg}]` : out === '' ? seg : `.${seg}`;
  return out;
}

/** Checks `raw` against `type`; returns the value (defaults filled, addresses canonical) or INVALID. */
export function checkValue(type: ValueType, raw: unknown, path: PathSeg[], sink: ProblemSink): Checked | typeof INVALID {
  switch (type.kind) {
    case 'integer':
      return checkInteger(type, raw, path, sink);
    case 'boolean':
      if (typeof raw === 'boolean') return raw;
      return fail(sink, path, `must be true or false (got ${show(raw)})`);
    case 'false':
      if (raw === false) return raw;
      return fail(sink, path, `must be false (got ${show(raw)})`);
    case 'string':
      return checkString(type, raw, path, sink);
    case 'enum':
      if (typeof raw === 'string' && type.values.includes(raw)) return raw;
      return fail(sink, path, `must be ${describeType(type)} (got ${show(raw)})${didYouMean(raw, type.values)}`);
    case 'address':
      return checkAddress(type, raw, path, sink);
    case 'prefix':
      return checkPrefix(type, raw, path, sink);
    case 'list':
      return checkList(type, raw, path, sink);
    case 'object':
      return checkObject(type.fields, raw, path, sink);
    case 'oneOf':
      return checkOneOf(type, raw, path, sink);
    case 'community':
      return checkCommunity(raw, path, sink);
    case 'largeCommunity':
      return checkLargeCommunity(raw, path, sink);
    case 'range':
      return checkRange(type, raw, path, sink);
    case 'map':
      return checkMap(type, raw, path, sink);
  }
}

function checkPrefix(type: Extract<ValueType, { kind: 'prefix' }>, raw: unknown, path: PathSeg[], sink: ProblemSink) {
  if (typeof raw !== 'string') {
    return fail(sink, path, `must be ${type.allowAddress ? 'an address or prefix string' : 'a prefix string'} like 10.0.0.0/24 (got ${show(raw)})`);
  }
  const text = raw.trim();
  if (type.allowAddress && !text.includes('/')) {
    const a = parseAddress(text);
    if (typeof a === 'string' || a.zone !== undefined) return fail(sink, path, `not an address or prefix (got ${show(raw)})`);
    return `${a.canonical}/${a.bytes.length * 8}`;
  }
  const p = parsePrefix(text);
  return typeof p === 'string' ? fail(sink, path, p) : p.canonical;
}

function checkCommunity(raw: unknown, path: PathSeg[], sink: ProblemSink) {
  const value = typeof raw === 'string' ? communityValue(raw.trim()) : undefined;
  if (typeof raw !== 'string' || value === undefined) {
    return fail(sink, path, `not a community: must be "ASN:VALUE" with both parts 0-65535, or no-export, no-advertise, no-export-subconfed (got ${show(raw)})`);
  }
  // Canonical text: well-known names in lower case, numbers without leading zeros.
  const text = raw.trim().toLowerCase();
  return /^\d/.test(text) ? `${value >>> 16}:${value & 0xffff}` : text;
}

function checkLargeCommunity(raw: unknown, path: PathSeg[], sink: ProblemSink) {
  const value = typeof raw === 'string' ? largeCommunityValue(raw.trim()) : undefined;
  if (!value) return fail(sink, path, `not a large community: must be "A:B:C" with each part 0-4294967295 (got ${show(raw)})`);
  return value.join(':');
}

/** `5`, `"26-32"`, `"26"` or `{min, max}` (either may be left out) → {min, max}. */
function checkRange(type: Extract<ValueType, { kind: 'range' }>, raw: unknown, path: PathSeg[], sink: ProblemSink) {
  let min: unknown;
  let max: unknown;
  if (typeof raw === 'number') min = max = raw;
  else if (typeof raw === 'string') {
    const m = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(raw);
    if (!m) return fail(sink, path, `must be ${describeType(type)} (got ${show(raw)})`);
    min = Number(m[1]);
    max = m[2] === undefined ? min : Number(m[2]);
  } else if (isMapping(raw)) {
    const unknown = Object.keys(raw).filter((k) => k !== 'min' && k !== 'max');
    for (const key of unknown) sink.add([...path, key], `unknown key${didYouMean(key, ['min', 'max'])}`, { atKey: true });
    if (unknown.length > 0) return INVALID;
    min = raw.min ?? type.min;
    max = raw.max ?? type.max;
  } else return fail(sink, path, `must be ${describeType(type)} (got ${show(raw)})`);
  const bounds = { kind: 'integer', min: type.min, max: type.max } as const;
  if (checkInteger(bounds, min, path, sink) === INVALID || checkInteger(bounds, max, path, sink) === INVALID) return INVALID;
  if ((min as number) > (max as number)) return fail(sink, path, `range is empty: min ${String(min)} is more than max ${String(max)}`);
  return { min, max };
}

/** Like a list of mappings, a map keeps every well-named entry, INVALID values included, so
 * rules elsewhere know the name exists; badly named keys are reported and left out. */
function checkMap(type: Extract<ValueType, { kind: 'map' }>, raw: unknown, path: PathSeg[], sink: ProblemSink) {
  if (!isMapping(raw)) return fail(sink, path, `must be ${describeType(type)} (got ${show(raw)})`);
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw)) {
    if (!type.keyPattern.test(key)) sink.add([...path, key], `name must be ${type.keyText} (got ${show(key)})`, { atKey: true });
    else setOwn(out, key, checkValue(type.of, value, [...path, key], sink));
  }
  return out;
}

/** `obj[key] = value` that stays an own data property even for a key like "__proto__". */
export function setOwn(obj: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

function fail(sink: ProblemSink, path: PathSeg[], message: string): typeof INVALID {
  sink.add(path, message);
  return INVALID;
}

function checkInteger(type: Extract<ValueType, { kind: 'integer' }>, raw: unknown, path: PathSeg[], sink: ProblemSink) {
  if (typeof raw !== 'number') return fail(sink, path, `must be an integer (got ${show(raw)})`);
  if (!Number.isInteger(raw)) return fail(sink, path, `must be a whole number (got ${show(raw)})`);
  if ((raw >= type.min && raw <= type.max) || type.also?.includes(raw)) return raw;
  return fail(sink, path, `must be ${describeRange(type)} (got ${raw})`);
}

function checkString(type: Extract<ValueType, { kind: 'string' }>, raw: unknown, path: PathSeg[], sink: ProblemSink) {
  if (typeof raw !== 'string') return fail(sink, path, `must be a string (got ${show(raw)})`);
  if (raw === '') return fail(sink, path, 'must not be empty');
  if (type.maxLength !== undefined && raw.length > type.maxLength) {
    return fail(sink, path, `must be at most ${type.maxLength} characters (got ${raw.length})`);
  }
  if (type.pattern && !type.pattern.test(raw)) return fail(sink, path, `must be ${type.patternText ?? type.pattern.source} (got ${show(raw)})`);
  return raw;
}

function checkAddress(type: Extract<ValueType, { kind: 'address' }>, raw: unknown, path: PathSeg[], sink: ProblemSink) {
  const want = type.keywords ? describeType(type) : type.family === 'ipv4' ? 'an IPv4 address (dotted quad)' : 'an IP address';
  if (typeof raw !== 'string') return fail(sink, path, `must be ${want} (got ${show(raw)})`);
  if (type.keywords?.includes(raw.trim())) return raw.trim();
  const a = parseAddress(raw.trim());
  if (typeof a === 'string') {
    const reason = type.family === 'ipv4' || type.keywords ? `must be ${want}` : a;
    return fail(sink, path, `${reason} (got ${show(raw)})${didYouMean(raw, type.keywords ?? [])}`);
  }
  if (type.family === 'ipv4' && a.family !== 'ipv4-unicast') return fail(sink, path, `must be ${want} (got ${show(raw)})`);
  if (a.zone !== undefined && !type.zone) return fail(sink, path, `must not name an interface with % (got ${show(raw)})`);
  if (a.zone !== undefined && !isLinkLocalV6(a)) {
    return fail(sink, path, `only IPv6 link-local addresses (fe80::/10) may name an interface with % (got ${show(raw)})`);
  }
  if (type.zone && a.zone === undefined && isLinkLocalV6(a)) {
    return fail(sink, path, `an IPv6 link-local address must name its interface, like ${a.canonical}%eth0 (got ${show(raw)})`);
  }
  if (!type.allowUnspecified && isUnspecified(a)) return fail(sink, path, `must not be the unspecified address ${a.canonical}`);
  if (!type.allowMulticast && isMulticast(a)) return fail(sink, path, `must be a unicast address (got ${a.canonical})`);
  return a.canonical;
}

function checkList(type: Extract<ValueType, { kind: 'list' }>, raw: unknown, path: PathSeg[], sink: ProblemSink) {
  // A list of lists written as one flat list (asPathPrefix: [65000, 65001]) is its one item.
  const flatSingle = type.single && type.of.kind === 'list' && Array.isArray(raw) && raw.length > 0 && raw.every((x) => !Array.isArray(x));
  if (!Array.isArray(raw) || flatSingle) {
    if (type.single && shapeMatches(type.of, raw)) {
      const one = checkValue(type.of, raw, path, sink);
      return one === INVALID ? INVALID : [one];
    }
    return fail(sink, path, `must be ${describeType(type)} (got ${show(raw)})`);
  }
  if (type.minItems !== undefined && raw.length < type.minItems) {
    return fail(sink, path, `must have at least ${type.minItems} item${type.minItems === 1 ? '' : 's'}`);
  }
  const out: unknown[] = [];
  const seen = new Map<string, number>();
  let ok = true;
  raw.forEach((item, i) => {
    const v = checkValue(type.of, item, [...path, i], sink);
    out.push(v);
    if (v === INVALID) {
      ok = false;
      return;
    }
    const key = JSON.stringify(v);
    const first = seen.get(key);
    if (type.unique && first !== undefined) {
      sink.add([...path, i], `duplicate ${show(v)} (also ${formatPath([...path, first])})`);
      ok = false;
    }
    seen.set(key, i);
  });
  // Lists of mappings keep their indices, with INVALID holes, so later rules can name items by
  // their real position; a list of scalars with a bad item is unusable as a whole.
  return ok || type.of.kind === 'object' ? out : INVALID;
}

/** Unknown keys, required keys, defaults; then each known key by its own type. */
export function checkObject(fields: readonly FieldSpec[], raw: unknown, path: PathSeg[], sink: ProblemSink): Record<string, unknown> | typeof INVALID {
  if (!isMapping(raw)) return fail(sink, path, `must be a mapping of keys (got ${show(raw)})`);
  const known = fields.map((f) => f.key);
  for (const key of Object.keys(raw)) {
    if (!known.includes(key)) sink.add([...path, key], `unknown key${didYouMean(key, known)}`, { atKey: true });
  }
  const out: Record<string, unknown> = {};
  for (const field of fields) {
    const value = Object.hasOwn(raw, field.key) ? raw[field.key] : undefined;
    if (value === undefined || value === null) {
      if (field.required) sink.add([...path, field.key], 'is required', { missing: true });
      else if (field.default !== undefined) out[field.key] = structuredClone(field.default);
      continue;
    }
    const checked = checkValue(field.type, value, [...path, field.key], sink);
    if (checked !== INVALID) out[field.key] = checked;
  }
  return out;
}

function checkOneOf(type: Extract<ValueType, { kind: 'oneOf' }>, raw: unknown, path: PathSeg[], sink: ProblemSink) {
  const option = type.options.find((o) => shapeMatches(o, raw));
  // A lone `false` option only matches false itself; `true` gets the message for the whole union.
  if (!option || (option.kind === 'false' && raw !== false)) {
    return fail(sink, path, `must be ${describeType(type)} (got ${show(raw)})`);
  }
  return checkValue(option, raw, path, sink);
}

function shapeMatches(type: ValueType, raw: unknown): boolean {
  switch (type.kind) {
    case 'integer':
      return typeof raw === 'number';
    case 'boolean':
    case 'false':
      return typeof raw === 'boolean';
    case 'string':
    case 'enum':
    case 'address':
    case 'prefix':
      return typeof raw === 'string';
    case 'community':
    case 'largeCommunity':
      return typeof raw === 'string';
    case 'range':
      return typeof raw === 'number' || typeof raw === 'string' || isMapping(raw);
    case 'list':
      return Array.isArray(raw);
    case 'object':
    case 'map':
      return isMapping(raw);
    case 'oneOf':
      return type.options.some((o) => shapeMatches(o, raw));
  }
}

export function isMapping(raw: unknown): raw is Record<string, unknown> {
  return typeof raw === 'object' && raw !== null && !Array.isArray(raw);
}

/** Human text for a type, used in error messages and in docs/config.md. */
export function describeType(type: ValueType): string {
  switch (type.kind) {
    case 'integer':
      return `an integer ${describeRange(type)}`;
    case 'boolean':
      return 'true or false';
    case 'false':
      return 'false';
    case 'string':
      return type.patternText ? `a string of ${type.patternText}` : 'a string';
    case 'enum':
      return `one of ${type.values.join(', ')}`;
    case 'address': {
      const address = type.family === 'ipv4' ? 'an IPv4 address' : 'an IPv4 or IPv6 address';
      return type.keywords ? `${type.keywords.join(', ')}, or ${address}` : address;
    }
    case 'prefix':
      return type.allowAddress ? 'an IPv4 or IPv6 address or prefix' : 'an IPv4 or IPv6 prefix';
    case 'community':
      return 'a community "ASN:VALUE" or no-export, no-advertise, no-export-subconfed';
    case 'largeCommunity':
      return 'a large community "A:B:C"';
    case 'range':
      return `a number, "MIN-MAX" or {min, max}, between ${type.min} and ${type.max}`;
    case 'map':
      return `a mapping from names (${type.keyText}) to ${describeType(type.of)}`;
    case 'list':
      return type.single ? `${describeType(type.of)}, or a list of them` : `a list, each item ${describeType(type.of)}`;
    case 'object':
      return 'a mapping';
    case 'oneOf':
      return type.options.map(describeType).join(', or ');
  }
}

function describeRange(type: Extract<ValueType, { kind: 'integer' }>): string {
  const also = type.also?.length ? `${type.also.join(' or ')} or ` : '';
  return `${also}between ${type.min} and ${type.max}`;
}

/** Short rendering of a bad value for "(got …)". */
export function show(raw: unknown): string {
  if (raw === null || raw === undefined) return 'nothing';
  if (typeof raw === 'string') return JSON.stringify(raw.length > 40 ? `${raw.slice(0, 40)}…` : raw);
  if (Array.isArray(raw)) return 'a list';
  if (typeof raw === 'object') return 'a mapping';
  return String(raw);
}

/** ` (did you mean "holdTime"?)` for a near miss (case, separators, a typo or two, a prefix), else "". */
export function didYouMean(raw: unknown, candidates: readonly string[]): string {
  if (typeof raw !== 'string' || raw.length === 0) return '';
  const norm = (s: string) => s.toLowerCase().replace(/[-_ ]/g, '');
  const limit = raw.length <= 3 ? 1 : raw.length <= 8 ? 2 : 3;
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const a = norm(raw);
    const b = norm(c);
    const d = a.length >= 3 && (b.startsWith(a) || a.startsWith(b)) ? Math.min(1, editDistance(a, b)) : editDistance(a, b);
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best !== undefined && bestDistance <= limit ? ` (did you mean "${best}"?)` : '';
}

/** Optimal string alignment distance: insertions, deletions, substitutions, adjacent swaps. */
function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}
