// SPDX-License-Identifier: Apache-2.0
// Properties (fast-check): decodeUpdate never throws anything but BgpNotificationError, whatever
// the bytes; encode → decode gives back generated UPDATEs exactly; buildUpdates pieces each fit
// and together carry every prefix.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { buildUpdates, decodeUpdate, encodeUpdate } from '../../src/bgp/messages/update.ts';
import { BgpNotificationError } from '../../src/bgp/messages/errors.ts';
import type { AsPathSegment, CodecContext, Family, Nlri, PathAttribute, UpdateMessage } from '../../src/bgp/messages/types.ts';
import { EBGP, EBGP_OLD, IBGP, attrHex } from '../fixtures/messages/update/build.ts';
import { fromHex } from '../../src/util/reader.ts';

const ALL: Family[] = ['ipv4-unicast', 'ipv6-unicast'];
const ADDPATH: CodecContext = { ...IBGP, addPathReceive: new Set(ALL), addPathSend: new Set(ALL) };
const CONTEXTS: CodecContext[] = [EBGP, IBGP, EBGP_OLD, ADDPATH];

function decodeOnlyNotifications(body: Uint8Array, ctx: CodecContext): void {
  try {
    decodeUpdate(body, ctx);
  } catch (e) {
    if (!(e instanceof BgpNotificationError)) throw e;
    assert.equal(e.code, 3);
  }
}

// Attribute-shaped noise reaches deeper than raw bytes: real type codes and flags, random values.
const KNOWN_TYPES = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 14, 15, 16, 17, 18, 32, 99, 200];
const noisyAttribute = fc
  .tuple(fc.constantFrom(...KNOWN_TYPES), fc.constantFrom(0x40, 0x80, 0xc0, 0x50, 0x90, 0xd0, 0xe0, 0x00, 0x60), fc.uint8Array({ maxLength: 40 }))
  .map(([type, flags, value]) => attrHex(type, flags, Buffer.from(value).toString('hex')));
const mpNoise = fc
  .tuple(fc.constantFrom('0001', '0002', '0019'), fc.constantFrom('01', '04', '80', '85'), fc.uint8Array({ maxLength: 40 }), fc.boolean())
  .map(([afi, safi, rest, reach]) => attrHex(reach ? 14 : 15, 0x80, afi + safi + Buffer.from(rest).toString('hex')));

describe('decodeUpdate on arbitrary input throws only BgpNotificationError', () => {
  it('random bytes, every context', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.constantFrom(...CONTEXTS), (bytes, ctx) => decodeOnlyNotifications(bytes, ctx)),
      { numRuns: 3000 },
    );
  });
  it('well-framed UPDATEs of random attributes and prefixes', () => {
    const body = fc.tuple(fc.array(fc.oneof(noisyAttribute, mpNoise), { maxLength: 8 }), fc.uint8Array({ maxLength: 20 }), fc.uint8Array({ maxLength: 20 }));
    fc.assert(
      fc.property(body, fc.constantFrom(...CONTEXTS), ([attrs, withdrawn, nlri], ctx) => {
        const a = attrs.join('');
        const w = Buffer.from(withdrawn).toString('hex');
        const u16 = (n: number): string => n.toString(16).padStart(4, '0');
        decodeOnlyNotifications(fromHex(u16(withdrawn.length) + w + u16(a.length / 2) + a + Buffer.from(nlri).toString('hex')), ctx);
      }),
      { numRuns: 3000 },
    );
  });
});

// ===== Generators of valid UPDATEs =====

function prefixOf(family: Family, pathId: boolean): fc.Arbitrary<Nlri> {
  const max = family === 'ipv4-unicast' ? 32 : 128;
  return fc.tuple(fc.integer({ min: 0, max }), fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.nat()).map(([length, bytes, id]) => {
    const n: Nlri = { family, length, address: bytes.slice(0, (length + 7) >> 3) };
    if (pathId) n.pathId = id >>> 0;
    return n;
  });
}

function asPath(as4: boolean): fc.Arbitrary<AsPathSegment[]> {
  const asn = as4 ? fc.integer({ min: 1, max: 0xffffffff }) : fc.integer({ min: 1, max: 0xffff });
  return fc.array(
    fc.tuple(fc.integer({ min: 1, max: 4 }), fc.array(asn, { minLength: 1, maxLength: 12 })).map(([type, asns]) => ({ type, asns })),
    { maxLength: 4 },
  );
}

const u32 = fc.integer({ min: 0, max: 0xffffffff });
const extLen = fc.boolean().map((b) => (b ? 0x10 : 0));

function validUpdate(ctx: CodecContext): fc.Arbitrary<UpdateMessage> {
  const v4PathId = ctx.addPathSend.has('ipv4-unicast');
  const v6PathId = ctx.addPathSend.has('ipv6-unicast');
  const ibgp = ctx.peerType === 'ibgp';
  const optional = <T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> => fc.option(arb, { nil: undefined });
  return fc
    .record({
      withdrawn: fc.array(prefixOf('ipv4-unicast', v4PathId), { maxLength: 5 }),
      nlri: fc.array(prefixOf('ipv4-unicast', v4PathId), { maxLength: 5 }),
      mpReach: optional(fc.tuple(fc.array(prefixOf('ipv6-unicast', v6PathId), { minLength: 1, maxLength: 5 }), fc.constantFrom(16, 32), fc.uint8Array({ minLength: 32, maxLength: 32 }))),
      mpUnreach: optional(fc.array(prefixOf('ipv6-unicast', v6PathId), { maxLength: 5 })),
      origin: fc.integer({ min: 0, max: 2 }),
      segments: asPath(ctx.as4),
      nextHop: fc.tuple(fc.integer({ min: 1, max: 126 }), fc.uint8Array({ minLength: 3, maxLength: 3 })),
      med: optional(u32),
      localPref: optional(u32),
      atomic: fc.boolean(),
      aggregator: optional(fc.tuple(ctx.as4 ? fc.integer({ min: 1, max: 0xffffffff }) : fc.integer({ min: 1, max: 0xffff }), fc.uint8Array({ minLength: 4, maxLength: 4 }))),
      communities: fc.array(u32, { maxLength: 80 }),
      rr: optional(fc.tuple(u32, fc.array(u32, { minLength: 1, maxLength: 5 }))),
      ext: fc.array(fc.uint8Array({ minLength: 8, maxLength: 8 }), { maxLength: 4 }),
      large: fc.array(fc.tuple(u32, u32, u32), { maxLength: 4 }),
      unknown: optional(fc.tuple(fc.integer({ min: 200, max: 254 }), fc.uint8Array({ maxLength: 30 }), fc.boolean())),
      ext1: extLen,
      ext2: extLen,
    })
    .map((g) => {
      const attrs: PathAttribute[] = [];
      if (g.mpUnreach) attrs.push({ code: 15, kind: 'mp-unreach', flags: 0x80 | g.ext1, afi: 2, safi: 1, withdrawn: g.mpUnreach });
      if (g.mpReach) {
        const [nlri, nhLen, nh] = g.mpReach;
        attrs.push({ code: 14, kind: 'mp-reach', flags: 0x80 | g.ext2, afi: 2, safi: 1, nextHop: nh.slice(0, nhLen), reserved: 0, nlri });
      }
      attrs.push({ code: 1, kind: 'origin', flags: 0x40, origin: g.origin });
      attrs.push({ code: 2, kind: 'as-path', flags: 0x40 | g.ext1, segments: g.segments, fourOctet: ctx.as4 });
      attrs.push({ code: 3, kind: 'next-hop', flags: 0x40, nextHop: Uint8Array.of(g.nextHop[0], ...g.nextHop[1]) });
      if (g.med !== undefined) attrs.push({ code: 4, kind: 'med', flags: 0x80, med: g.med });
      if (ibgp && g.localPref !== undefined) attrs.push({ code: 5, kind: 'local-pref', flags: 0x40, localPref: g.localPref });
      if (g.atomic) attrs.push({ code: 6, kind: 'atomic-aggregate', flags: 0x40 });
      if (g.aggregator) attrs.push({ code: 7, kind: 'aggregator', flags: 0xc0, asn: g.aggregator[0], address: g.aggregator[1], fourOctet: ctx.as4 });
      if (g.communities.length > 0) attrs.push({ code: 8, kind: 'communities', flags: 0xc0 | g.ext2, communities: g.communities });
      if (ibgp && g.rr) {
        attrs.push({ code: 9, kind: 'originator-id', flags: 0x80, originatorId: g.rr[0] });
        attrs.push({ code: 10, kind: 'cluster-list', flags: 0x80, clusterIds: g.rr[1] });
      }
      if (g.ext.length > 0) attrs.push({ code: 16, kind: 'extended-communities', flags: 0xc0, communities: g.ext });
      if (g.large.length > 0) attrs.push({ code: 32, kind: 'large-communities', flags: 0xc0, communities: g.large });
      if (g.unknown) attrs.push({ code: g.unknown[0], kind: 'unknown', flags: g.unknown[2] ? 0xe0 : 0x80, value: g.unknown[1] });
      return { type: 'update' as const, withdrawn: g.withdrawn, attributes: attrs, nlri: g.nlri };
    });
}

describe('encode → decode round trip of generated UPDATEs', () => {
  for (const ctx of CONTEXTS) {
    it(`${ctx.peerType}, as4=${ctx.as4}, add-path=${ctx.addPathSend.size > 0}`, () => {
      const wide: CodecContext = { ...ctx, maxMessageSize: 65535 };
      fc.assert(
        fc.property(validUpdate(wide), (msg) => {
          const wire = encodeUpdate(msg, wide);
          assert.equal((wire[16]! << 8) | wire[17]!, wire.length);
          const d = decodeUpdate(wire.subarray(19), wide);
          assert.equal(d.action, 'none', JSON.stringify(d.problems));
          assert.deepEqual(d.message, msg);
          assert.deepEqual(encodeUpdate(d.message, wide), wire);
        }),
        { numRuns: 400 },
      );
    });
  }
});

describe('buildUpdates: split and reassemble', () => {
  const keyOf = (n: Nlri): string => `${n.family} ${n.length} ${Buffer.from(n.address).toString('hex')} ${n.pathId ?? ''}`;
  const sizes = fc.constantFrom(4096, 1024, 300, 65535);

  for (const base of [EBGP, ADDPATH]) {
    it(`every piece fits and the pieces carry every prefix (add-path=${base.addPathSend.size > 0})`, () => {
      const v4Id = base.addPathSend.has('ipv4-unicast');
      const v6Id = base.addPathSend.has('ipv6-unicast');
      fc.assert(
        fc.property(
          sizes,
          fc.array(fc.oneof(prefixOf('ipv4-unicast', v4Id), prefixOf('ipv6-unicast', v6Id)), { maxLength: 400 }),
          fc.array(prefixOf('ipv4-unicast', v4Id), { maxLength: 400 }),
          fc.array(prefixOf('ipv6-unicast', v6Id), { maxLength: 300 }),
          fc.array(u32, { maxLength: 40 }),
          (max, withdrawn, nlri4, nlri6, communities) => {
            const ctx: CodecContext = { ...base, maxMessageSize: max };
            const attributes: PathAttribute[] = [
              { code: 14, kind: 'mp-reach', flags: 0x80, afi: 2, safi: 1, nextHop: new Uint8Array(16).fill(0x20), reserved: 0, nlri: [] },
              { code: 1, kind: 'origin', flags: 0x40, origin: 0 },
              { code: 2, kind: 'as-path', flags: 0x40, segments: [{ type: 2, asns: [65001, 4200000000] }], fourOctet: true },
              { code: 3, kind: 'next-hop', flags: 0x40, nextHop: Uint8Array.of(10, 0, 0, 1) },
            ];
            if (communities.length > 0) attributes.push({ code: 8, kind: 'communities', flags: 0xc0, communities });
            const nlri = [...nlri4, ...nlri6];
            const pieces = buildUpdates({ withdrawn, attributes, nlri }, ctx);
            const gotWithdrawn: Nlri[] = [];
            const gotNlri: Nlri[] = [];
            for (const piece of pieces) {
              assert.ok(piece.length <= max, `piece of ${piece.length} > ${max}`);
              const d = decodeUpdate(piece.subarray(19), ctx);
              assert.equal(d.action, 'none', JSON.stringify(d.problems));
              gotWithdrawn.push(...d.message.withdrawn);
              gotNlri.push(...d.message.nlri);
              const mpIndex = d.message.attributes.findIndex((a) => a.kind === 'mp-reach' || a.kind === 'mp-unreach');
              if (mpIndex >= 0) assert.equal(mpIndex, 0, 'MP attribute first (RFC 7606 §5.1)');
              for (const a of d.message.attributes) {
                if (a.kind === 'mp-reach') gotNlri.push(...a.nlri);
                if (a.kind === 'mp-unreach') gotWithdrawn.push(...a.withdrawn);
              }
            }
            assert.deepEqual(gotWithdrawn.map(keyOf).sort(), withdrawn.map(keyOf).sort());
            assert.deepEqual(gotNlri.map(keyOf).sort(), nlri.map(keyOf).sort());
            if (withdrawn.length === 0 && nlri.length === 0) assert.equal(pieces.length, 0);
          },
        ),
        { numRuns: 150 },
      );
    });
  }
});
