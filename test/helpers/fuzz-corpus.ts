// SPDX-License-Identifier: Apache-2.0
// The hostile-input corpus and its generators. Corpus files live in test/fixtures/regress/
// <class>/<name>.hex: comment lines (`# what it is and which CVE/class`, then `# expect:`,
// `# session:`, `# stage:`, optional `# data:`, `# log:`, `# live:`) followed by the frame as
// hex. The fast-check generators build structurally valid messages out of named fields and
// mutate exactly one field (or produce random bytes). Shared by test/security/*.test.ts and
// scripts/fuzz.ts; nothing here talks to a daemon.
import { readdirSync, readFileSync, writeFileSync, mkdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { decodeMessage } from '../../src/bgp/messages/index.ts';
import { BgpNotificationError } from '../../src/bgp/messages/errors.ts';
import type { Rfc7606Action } from '../../src/bgp/messages/errors.ts';
import { validateOpen } from '../../src/bgp/messages/negotiate.ts';
import { DEFAULT_CONTEXT, type BgpMessage, type CodecContext } from '../../src/bgp/messages/types.ts';
import { fromHex, toHex } from '../../src/util/reader.ts';
import { EBGP, EBGP_OLD, IBGP } from '../fixtures/messages/update/build.ts';

export const REGRESS_DIR = new URL('../fixtures/regress/', import.meta.url).pathname;
export const FUZZ_DIR = join(REGRESS_DIR, 'fuzz');

export type Expectation =
  | { kind: 'notification'; code: number; subcode: number }
  | { kind: 'rfc7606'; action: Rfc7606Action }
  | { kind: 'accept' }
  /** The input is a NOTIFICATION from the peer: Tern closes and answers nothing. */
  | { kind: 'peer-notification' }
  /** Fuzz finding: decode or throw BgpNotificationError; the session survives or resets cleanly. */
  | { kind: 'no-crash' };

export interface RegressCase {
  /** "<class>/<name>" */
  id: string;
  description: string;
  expect: Expectation;
  session: 'ibgp' | 'ebgp' | 'ebgp-old';
  extended: boolean;
  stage: 'open' | 'established';
  /** Expected NOTIFICATION data, hex. */
  data?: string;
  /** A regular expression the daemon's log must match once the input was sent. */
  log?: RegExp;
  /** False when the input cannot be replayed over a live session (reason in the file). */
  live: boolean;
  frame: Uint8Array;
}

export function parseExpectation(text: string): Expectation {
  const [kind, arg] = text.trim().split(/\s+/);
  switch (kind) {
    case 'notification': {
      const [code, subcode] = (arg ?? '').split('/').map(Number);
      if (!Number.isInteger(code) || !Number.isInteger(subcode)) throw new Error(`bad expectation "${text}"`);
      return { kind, code: code!, subcode: subcode! };
    }
    case 'rfc7606':
      return { kind, action: arg as Rfc7606Action };
    case 'accept':
    case 'peer-notification':
    case 'no-crash':
      return { kind };
    default:
      throw new Error(`bad expectation "${text}"`);
  }
}

export function parseCase(id: string, text: string): RegressCase {
  const comments: string[] = [];
  const hex: string[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) comments.push(line.slice(1).trim());
    else if (line.trim()) hex.push(line.trim());
  }
  const field = (name: string): string | undefined => comments.find((c) => c.startsWith(`${name}:`))?.slice(name.length + 1).trim();
  const session = field('session') ?? 'ibgp';
  const log = field('log');
  const data = field('data');
  const c: RegressCase = {
    id,
    description: comments[0] ?? id,
    expect: parseExpectation(field('expect') ?? 'no-crash'),
    session: session.split(/\s+/)[0] as RegressCase['session'],
    extended: /\bextended\b/.test(session),
    stage: field('stage') === 'open' ? 'open' : 'established',
    live: !(field('live') ?? '').startsWith('no'),
    frame: fromHex(hex.join('')),
  };
  if (log) c.log = new RegExp(log);
  if (data) c.data = data;
  return c;
}

/** Every corpus file under test/fixtures/regress (fuzz findings included), sorted by id. */
export function loadCorpus(dir = REGRESS_DIR): RegressCase[] {
  const out: RegressCase[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d)) {
      const p = join(d, e);
      if (statSync(p).isDirectory()) walk(p);
      else if (e.endsWith('.hex')) out.push(parseCase(relative(dir, p).replace(/\.hex$/, ''), readFileSync(p, 'utf8')));
    }
  };
  walk(dir);
  return out.sort((a, b) => a.id.localeCompare(b.id));
}

/** Saves a failing fuzz input as test/fixtures/regress/fuzz/<hash>.hex; returns its path. */
export function saveFuzzFinding(frame: Uint8Array, what: string, session: 'ibgp' | 'ebgp', extended: boolean): string {
  mkdirSync(FUZZ_DIR, { recursive: true });
  const name = createHash('sha256').update(frame).digest('hex').slice(0, 16);
  const path = join(FUZZ_DIR, `${name}.hex`);
  const hex = toHex(frame).replace(/(.{64})/g, '$1\n').trimEnd();
  const oneLine = what.replace(/[\r\n]+/g, ' ').slice(0, 300);
  writeFileSync(path, `# fuzz finding (scripts/fuzz.ts): ${oneLine}\n# expect: no-crash\n# session: ${session}${extended ? ' extended' : ''}\n# stage: established\n${hex}\n`);
  return path;
}

// ===== Decoder oracle =====

export function contextFor(c: Pick<RegressCase, 'session' | 'extended'>): CodecContext {
  const base = c.session === 'ibgp' ? IBGP : c.session === 'ebgp' ? EBGP : EBGP_OLD;
  return c.extended ? { ...base, maxMessageSize: 65535 } : base;
}

export type DecoderResult =
  | { kind: 'decoded'; message: BgpMessage; action: Rfc7606Action }
  | { kind: 'notification'; code: number; subcode: number; data: Uint8Array }
  /** Anything else thrown: always a bug (decoders throw only BgpNotificationError). */
  | { kind: 'crash'; error: unknown };

/**
 * What Tern's codec makes of one frame, as the session would see it: header and message
 * decoding, and for an OPEN the RFC 4271 §6.2 validation the session runs next.
 */
export function decodeAsSession(frame: Uint8Array, ctx: CodecContext, openPeer?: { localAsn: number; peerAsn: number; localBgpId: number }): DecoderResult {
  try {
    const d = decodeMessage(frame, ctx);
    if (d.message.type === 'open' && openPeer) validateOpen(d.message, openPeer);
    return { kind: 'decoded', message: d.message, action: d.action };
  } catch (e) {
    if (e instanceof BgpNotificationError) return { kind: 'notification', code: e.code, subcode: e.subcode, data: e.data };
    return { kind: 'crash', error: e };
  }
}

export const OPEN_STAGE_CONTEXT = DEFAULT_CONTEXT;

// ===== Structure-aware generators =====

/** One named piece of a message; `length` fields are recomputed unless they are the mutated one. */
export interface Field {
  name: string;
  bytes: Uint8Array;
}

const u8 = (n: number): Uint8Array => Uint8Array.of(n & 0xff);
const u16 = (n: number): Uint8Array => Uint8Array.of((n >> 8) & 0xff, n & 0xff);
const u32 = (n: number): Uint8Array => Uint8Array.of((n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
const cat = (...parts: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
};

function attribute(type: number, flags: number, value: Uint8Array, prefix: string): Field[] {
  const ext = (flags & 0x10) !== 0;
  return [
    { name: `${prefix}.flags`, bytes: u8(flags) },
    { name: `${prefix}.type`, bytes: u8(type) },
    { name: `${prefix}.length`, bytes: ext ? u16(value.length) : u8(value.length) },
    { name: `${prefix}.value`, bytes: value },
  ];
}

const prefixArb = fc.tuple(fc.integer({ min: 8, max: 32 }), fc.integer({ min: 1, max: 223 }), fc.integer({ min: 0, max: 255 })).map(([len, a, b]) => {
  const octets = (len + 7) >> 3;
  return cat(u8(len), Uint8Array.from([a, b, 7, 0].slice(0, octets)));
});

/** A valid UPDATE for an iBGP or eBGP 4-octet-AS session, as fields. */
export function validUpdateFields(sort: 'ibgp' | 'ebgp'): fc.Arbitrary<Field[]> {
  return fc
    .record({
      withdrawn: fc.array(prefixArb, { maxLength: 3 }),
      nlri: fc.array(prefixArb, { minLength: 1, maxLength: 3 }),
      origin: fc.integer({ min: 0, max: 2 }),
      path: fc.array(fc.integer({ min: 1, max: 4_000_000 }), { maxLength: 6 }),
      med: fc.option(fc.nat(), { nil: undefined }),
      communities: fc.array(fc.nat(), { maxLength: 3 }),
      large: fc.array(fc.tuple(fc.nat(), fc.nat(), fc.nat()), { maxLength: 2 }),
      v6: fc.boolean(),
    })
    .map((r) => {
      const asns = sort === 'ebgp' ? [65001, ...r.path] : r.path;
      const attrs: Field[] = [];
      if (r.v6) {
        const mp = cat(u16(2), u8(1), u8(16), Uint8Array.from([0x20, 0x01, 0x0d, 0xb8, ...new Array<number>(11).fill(0), 1]), u8(0), u8(32), Uint8Array.of(0x20, 0x01, 0x0d, 0xb8));
        attrs.push(...attribute(14, 0x90, mp, 'mp_reach'));
      }
      attrs.push(...attribute(1, 0x40, u8(r.origin), 'origin'));
      attrs.push(...attribute(2, 0x40, asns.length ? cat(u8(2), u8(asns.length), ...asns.map(u32)) : new Uint8Array(0), 'as_path'));
      attrs.push(...attribute(3, 0x40, Uint8Array.of(10, 0, 0, 2), 'next_hop'));
      if (r.med !== undefined) attrs.push(...attribute(4, 0x80, u32(r.med), 'med'));
      if (sort === 'ibgp') attrs.push(...attribute(5, 0x40, u32(100), 'local_pref'));
      if (r.communities.length) attrs.push(...attribute(8, 0xc0, cat(...r.communities.map(u32)), 'communities'));
      if (r.large.length) attrs.push(...attribute(32, 0xc0, cat(...r.large.flatMap((t) => t.map(u32))), 'large_communities'));
      const withdrawn = cat(...r.withdrawn);
      const attrBytes = cat(...attrs.map((f) => f.bytes));
      return [
        { name: 'withdrawn_length', bytes: u16(withdrawn.length) },
        { name: 'withdrawn', bytes: withdrawn },
        { name: 'attributes_length', bytes: u16(attrBytes.length) },
        ...attrs,
        { name: 'nlri', bytes: cat(...r.nlri) },
      ];
    });
}

export function validOpenFields(asn: number): fc.Arbitrary<Field[]> {
  return fc.record({ hold: fc.constantFrom(0, 3, 30, 90, 65535), bgpId: fc.integer({ min: 1, max: 0xffffffff }), gr: fc.boolean() }).map((r) => {
    const caps: Field[] = [
      { name: 'cap.mp.code', bytes: u8(1) },
      { name: 'cap.mp.length', bytes: u8(4) },
      { name: 'cap.mp.value', bytes: Uint8Array.of(0, 1, 0, 1) },
      { name: 'cap.as4.code', bytes: u8(65) },
      { name: 'cap.as4.length', bytes: u8(4) },
      { name: 'cap.as4.value', bytes: u32(asn) },
    ];
    if (r.gr) caps.push({ name: 'cap.gr.code', bytes: u8(64) }, { name: 'cap.gr.length', bytes: u8(6) }, { name: 'cap.gr.value', bytes: Uint8Array.of(0, 120, 0, 1, 1, 0x80) });
    const capBytes = cat(...caps.map((f) => f.bytes));
    return [
      { name: 'version', bytes: u8(4) },
      { name: 'my_as', bytes: u16(asn) },
      { name: 'hold_time', bytes: u16(r.hold) },
      { name: 'bgp_id', bytes: u32(r.bgpId) },
      { name: 'opt_params_length', bytes: u8(capBytes.length + 2) },
      { name: 'param.type', bytes: u8(2) },
      { name: 'param.length', bytes: u8(capBytes.length) },
      ...caps,
    ];
  });
}

const notificationFields: fc.Arbitrary<Field[]> = fc
  .tuple(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 0, max: 12 }), fc.string({ maxLength: 40 }))
  .map(([code, subcode, text]) => {
    const utf8 = new TextEncoder().encode(text);
    return [
      { name: 'code', bytes: u8(code) },
      { name: 'subcode', bytes: u8(subcode) },
      { name: 'shutdown.length', bytes: u8(utf8.length) },
      { name: 'shutdown.text', bytes: utf8 },
    ];
  });

const routeRefreshFields: fc.Arbitrary<Field[]> = fc.constantFrom(0, 1, 2).map((subtype) => [
  { name: 'afi', bytes: u16(1) },
  { name: 'subtype', bytes: u8(subtype) },
  { name: 'safi', bytes: u8(1) },
]);

/** A structurally valid message as (type, fields). */
export function validMessage(sort: 'ibgp' | 'ebgp'): fc.Arbitrary<{ type: number; fields: Field[] }> {
  return fc.oneof(
    { weight: 6, arbitrary: validUpdateFields(sort).map((fields) => ({ type: 2, fields })) },
    { weight: 1, arbitrary: validOpenFields(sort === 'ibgp' ? 65000 : 65001).map((fields) => ({ type: 1, fields })) },
    { weight: 1, arbitrary: notificationFields.map((fields) => ({ type: 3, fields })) },
    { weight: 1, arbitrary: routeRefreshFields.map((fields) => ({ type: 5, fields })) },
    { weight: 1, arbitrary: fc.constant({ type: 4, fields: [] as Field[] }) },
  );
}

/** How one field is damaged. */
const mutation = fc.oneof(
  fc.record({ kind: fc.constant('random' as const), seed: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
  fc.record({ kind: fc.constant('boundary' as const), value: fc.constantFrom(0, 1, 0x7f, 0x80, 0xfe, 0xff) }),
  fc.record({ kind: fc.constant('truncate' as const), keep: fc.nat() }),
  fc.record({ kind: fc.constant('extend' as const), extra: fc.uint8Array({ minLength: 1, maxLength: 40 }) }),
  fc.record({ kind: fc.constant('bitflip' as const), bit: fc.nat() }),
);

function mutate(bytes: Uint8Array, m: typeof mutation extends fc.Arbitrary<infer T> ? T : never): Uint8Array {
  const out = bytes.slice();
  switch (m.kind) {
    case 'random':
      for (let i = 0; i < out.length; i++) out[i] = m.seed[i % m.seed.length]!;
      return out;
    case 'boundary':
      out.fill(m.value);
      return out;
    case 'truncate':
      return out.subarray(0, out.length === 0 ? 0 : m.keep % out.length);
    case 'extend':
      return cat(out, m.extra);
    case 'bitflip':
      if (out.length) out[(m.bit >> 3) % out.length]! ^= 1 << (m.bit & 7);
      return out;
  }
}

/** A framed message with exactly one field mutated (the header Length included as a field). */
export function mutatedMessage(sort: 'ibgp' | 'ebgp'): fc.Arbitrary<{ frame: Uint8Array; what: string }> {
  return fc.tuple(validMessage(sort), fc.nat(), mutation).map(([msg, pick, m]) => {
    const names = ['header.marker', 'header.length', 'header.type', ...msg.fields.map((f) => f.name)];
    const target = names[pick % names.length]!;
    const body = cat(...msg.fields.map((f) => (f.name === target ? mutate(f.bytes, m) : f.bytes)));
    const marker = new Uint8Array(16).fill(0xff);
    let length = u16(19 + body.length);
    let type = u8(msg.type);
    if (target === 'header.length') length = mutate(length, m).subarray(0, 2);
    if (length.length < 2) length = cat(length, new Uint8Array(2 - length.length));
    if (target === 'header.type') type = cat(mutate(type, m), u8(0)).subarray(0, 1);
    const head = target === 'header.marker' ? cat(mutate(marker, m), new Uint8Array(16)).subarray(0, 16) : marker;
    return { frame: cat(head, length, type, body), what: `type ${msg.type}, ${target} ${m.kind}` };
  });
}

/** Random bytes behind a valid marker and a consistent length (so they reach the decoders). */
export const randomFrame: fc.Arbitrary<{ frame: Uint8Array; what: string }> = fc
  .tuple(fc.constantFrom(1, 2, 3, 4, 5), fc.uint8Array({ maxLength: 200 }))
  .map(([type, body]) => ({ frame: cat(new Uint8Array(16).fill(0xff), u16(19 + body.length), u8(type), body), what: `random body, type ${type}` }));

export function fuzzFrame(sort: 'ibgp' | 'ebgp'): fc.Arbitrary<{ frame: Uint8Array; what: string }> {
  return fc.oneof({ weight: 4, arbitrary: mutatedMessage(sort) }, { weight: 1, arbitrary: randomFrame });
}
