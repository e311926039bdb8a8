// SPDX-License-Identifier: Apache-2.0
// MRT (RFC 6396) TABLE_DUMP_V2 and BGP4MP: the reader against dumps written by Quagga and BIRD
// (mrtparse's samples, with Debian bgpdump's reading of them as the expected values), the
// writer byte for byte against the RFC figures, writer → reader round trips for arbitrary
// attributes, and Debian's bgpdump reading what the writer produced.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { readMrtMessages, readMrtTableDump, mrtRibAttributes, Bgp4mpSubtype, MrtType, TableDumpV2Subtype } from '../../src/util/mrt.ts';
import { bgp4mpMessageRecord, encodePeerIndexTable, encodeRibRecord, mrtRecord, type MrtRibEntryInput } from '../../src/observability/mrt-dump.ts';
import type { RouteAttributes } from '../../src/bgp/messages/route-view.ts';
import { parsePrefix } from '../../src/bgp/messages/nlri.ts';
import { AttrFlag, AsPathSegmentType } from '../../src/bgp/messages/iana.ts';
import { endOfRib } from '../../src/bgp/messages/update.ts';
import { DEFAULT_CONTEXT, type Nlri } from '../../src/bgp/messages/types.ts';
import { ipToBytes } from '../../src/util/ip.ts';
import { bgpdumpLines, bgpdumpSkip, runBgpdump } from './mrt-format.ts';

const FIXTURES = new URL('../fixtures/mrt/', import.meta.url);
const fixture = (name: string): Uint8Array => new Uint8Array(readFileSync(new URL(name, FIXTURES)));
const expectedLines = (name: string): string[] => readFileSync(new URL(`${name}.bgpdump.txt`, FIXTURES), 'utf8').split('\n').filter((l) => l !== '');
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const ip = (s: string): Uint8Array => ipToBytes(s)!;

for (const name of ['quagga_rib', 'bird-mrtdump_rib', 'bird6-mrtdump_rib']) {
  test(`TABLE_DUMP_V2 reader: ${name} reads as bgpdump reads it`, () => {
    const dump = readMrtTableDump(fixture(name));
    assert.equal(dump.skipped, 0);
    assert.deepEqual(bgpdumpLines(dump), expectedLines(name));
  });
}

test('TABLE_DUMP_V2 reader: BIRD ADD-PATH subtypes carry path ids (RFC 8050 §4)', () => {
  const dump = readMrtTableDump(fixture('bird-mrtdump_rib'));
  const addPath = dump.ribs.filter((r) => r.addPath);
  assert.ok(addPath.length > 0);
  assert.ok(addPath.every((r) => r.subtype === TableDumpV2Subtype.RibIpv4UnicastAddPath && r.entries.every((e) => e.pathId !== undefined)));
  assert.equal(dump.peerIndexTable?.viewName, 'master');
});

test('TABLE_DUMP_V2 reader: truncated records and unknown peer indexes are errors', () => {
  const data = fixture('quagga_rib');
  assert.throws(() => readMrtTableDump(data.subarray(0, data.length - 3)), /overruns the file/);
  const index = mrtRecord(0, MrtType.TableDumpV2, TableDumpV2Subtype.PeerIndexTable, encodePeerIndexTable(1, '', []));
  const rib = mrtRecord(0, MrtType.TableDumpV2, TableDumpV2Subtype.RibIpv4Unicast, encodeRibRecord(0, parsePrefix('10.0.0.0/8')!, false, [{ peerIndex: 0, originatedTimeSec: 0, attributes: attrs({}) }]));
  assert.throws(() => readMrtTableDump(concat(index, rib)), /names peer 0 of 0/);
  assert.throws(() => readMrtTableDump(rib), /before the PEER_INDEX_TABLE/);
});

test('PEER_INDEX_TABLE and RIB record bytes follow RFC 6396 §4.3.1-4.3.4', () => {
  const table = encodePeerIndexTable(0x0a000001, 'tern', [
    { bgpId: 0x0a000002, address: ip('192.0.2.2'), asn: 65001 },
    { bgpId: 0x0a000003, address: ip('2001:db8::3'), asn: 4_200_000_000 },
  ]);
  assert.equal(
    hex(table),
    '0a000001' + '0004' + hex(Buffer.from('tern')) + '0002' +
      // Peer Type 0x02 (AS4, IPv4) | BGP ID | 192.0.2.2 | AS 65001 (4 octets)
      '02' + '0a000002' + 'c0000202' + '0000fde9' +
      // Peer Type 0x03 (AS4, IPv6) | BGP ID | 2001:db8::3 | AS 4200000000
      '03' + '0a000003' + '20010db8000000000000000000000003' + 'fa56ea00',
  );
  const entry: MrtRibEntryInput = { peerIndex: 1, originatedTimeSec: 0x65000000, pathId: 7, attributes: attrs({ origin: 0, asPath: [{ type: AsPathSegmentType.AsSequence, asns: [65001] }], nextHop: ip('2001:db8::1') }) };
  const body = encodeRibRecord(5, parsePrefix('2001:db8:1::/48')!, true, [entry]);
  assert.equal(
    hex(body),
    '00000005' + '30' + '20010db80001' + '0001' + // sequence, /48, 6 prefix octets, 1 entry
      '0001' + '65000000' + '00000007' + // peer index, originated time, path id (RFC 8050)
      '0021' + // attribute length 33
      '400101' + '00' + // ORIGIN IGP
      '400206' + '0201' + '0000fde9' + // AS_PATH: one AS_SEQUENCE of one 4-octet ASN
      '800e11' + '10' + '20010db8000000000000000000000001', // MP_REACH_NLRI: next-hop length + next hop only
  );
});

test('TABLE_DUMP_V2 writer → reader round trip keeps every attribute', () => {
  const v4 = fc.tuple(fc.constant(10), fc.nat(255), fc.nat(255), fc.integer({ min: 1, max: 254 })).map((b) => new Uint8Array(b));
  const v6 = fc.tuple(fc.nat(0xffff), fc.nat(0xffff)).map(([x, y]) => ip(`2001:db8:${x.toString(16)}::${y.toString(16)}`));
  const u32 = fc.nat({ max: 0xffffffff });
  // AS 0 is an error in AS_PATH and AGGREGATOR (RFC 7607 §2), so the decoder would drop it.
  const asn = fc.integer({ min: 1, max: 0xffffffff });
  const segments = fc.array(fc.record({ type: fc.constantFrom(AsPathSegmentType.AsSequence, AsPathSegmentType.AsSet), asns: fc.array(asn, { minLength: 1, maxLength: 5 }) }), { maxLength: 3 });
  const common = {
    origin: fc.option(fc.constantFrom(0, 1, 2), { nil: undefined }),
    asPath: segments,
    med: fc.option(u32, { nil: undefined }),
    localPref: fc.option(u32, { nil: undefined }),
    atomicAggregate: fc.boolean(),
    aggregator: fc.option(fc.record({ asn, address: v4 }), { nil: undefined }),
    communities: fc.array(u32, { maxLength: 4 }),
    largeCommunities: fc.array(fc.tuple(u32, u32, u32), { maxLength: 3 }),
    extendedCommunities: fc.array(fc.uint8Array({ minLength: 8, maxLength: 8 }), { maxLength: 3 }),
    originatorId: fc.option(u32, { nil: undefined }),
    clusterList: fc.array(u32, { maxLength: 3 }),
    unknown: fc.constantFrom([], [{ code: 99, kind: 'unknown' as const, flags: AttrFlag.Optional | AttrFlag.Transitive, value: new Uint8Array([1, 2, 3]) }]),
  };
  const route = fc.oneof(
    fc.record({ family: fc.constant('ipv4-unicast' as const), nextHop: fc.option(v4, { nil: undefined }), ...common }),
    fc.record({ family: fc.constant('ipv6-unicast' as const), nextHop: fc.option(v6, { nil: undefined }), linkLocal: fc.boolean(), ...common }),
  );
  fc.assert(
    fc.property(fc.array(route, { minLength: 1, maxLength: 4 }), fc.boolean(), (routes, addPath) => {
      const records: Uint8Array[] = [mrtRecord(1, MrtType.TableDumpV2, TableDumpV2Subtype.PeerIndexTable, encodePeerIndexTable(1, 'x', [{ bgpId: 2, address: ip('192.0.2.2'), asn: 65001 }]))];
      const expected: RouteAttributes[] = [];
      const prefixes: Nlri[] = [];
      for (const [i, r] of routes.entries()) {
        const { family, linkLocal, ...rest } = r as typeof r & { linkLocal?: boolean };
        // fast-check records have a null prototype; the reader builds plain objects.
        const plain = { ...rest, asPath: rest.asPath.map((sg) => ({ type: sg.type, asns: [...sg.asns] })), aggregator: rest.aggregator && { asn: rest.aggregator.asn, address: rest.aggregator.address } };
        const a: RouteAttributes = strip({ ...plain, ...(linkLocal && rest.nextHop ? { linkLocalNextHop: ip('fe80::1') } : {}) });
        const nlri = parsePrefix(family === 'ipv4-unicast' ? `10.${i}.0.0/16` : `2001:db8:${i}::/48`)!;
        const subtype = family === 'ipv4-unicast' ? (addPath ? TableDumpV2Subtype.RibIpv4UnicastAddPath : TableDumpV2Subtype.RibIpv4Unicast) : addPath ? TableDumpV2Subtype.RibIpv6UnicastAddPath : TableDumpV2Subtype.RibIpv6Unicast;
        records.push(mrtRecord(1, MrtType.TableDumpV2, subtype, encodeRibRecord(i, nlri, addPath, [{ peerIndex: 0, originatedTimeSec: 9, pathId: addPath ? i + 1 : undefined, attributes: a }])));
        expected.push(a);
        prefixes.push(nlri);
      }
      const dump = readMrtTableDump(concat(...records));
      assert.equal(dump.ribs.length, routes.length);
      for (const [i, rib] of dump.ribs.entries()) {
        assert.deepEqual(rib.nlri, prefixes[i]);
        assert.equal(rib.entries[0]!.pathId, addPath ? i + 1 : undefined);
        assert.deepEqual(mrtRibAttributes(rib.entries[0]!.attributes, rib.nlri), expected[i]);
      }
    }),
    { numRuns: 200 },
  );
});

test('BGP4MP_MESSAGE_AS4 records read back with the BGP4MP reader (RFC 6396 §4.4.3, RFC 8050 §3)', () => {
  const update = endOfRib('ipv4-unicast', DEFAULT_CONTEXT);
  const as4 = bgp4mpMessageRecord(1_700_000_000, { asn: 4_200_000_000, address: ip('192.0.2.2') }, { asn: 65000, address: ip('192.0.2.1') }, update, { as4: true, addPath: false });
  assert.equal(hex(as4.subarray(0, 12)), '6553f100' + '0010' + '0004' + (20 + update.length).toString(16).padStart(8, '0'));
  const addPath = bgp4mpMessageRecord(5, { asn: 65001, address: ip('2001:db8::2') }, { asn: 65000, address: ip('2001:db8::1') }, update, { as4: true, addPath: true });
  const old = bgp4mpMessageRecord(6, { asn: 65001, address: ip('192.0.2.2') }, { asn: 4_200_000_000 }, update, { as4: false, addPath: false });
  const { messages, skipped } = readMrtMessages(concat(as4, addPath, old));
  assert.equal(skipped, 0);
  assert.deepEqual(
    messages.map((m) => [m.subtype, m.peerAs, m.localAs, m.afi, hex(m.peerAddress), hex(m.localAddress), hex(m.message)]),
    [
      [Bgp4mpSubtype.MessageAs4, 4_200_000_000, 65000, 1, 'c0000202', 'c0000201', hex(update)],
      [Bgp4mpSubtype.MessageAs4AddPath, 65001, 65000, 2, hex(ip('2001:db8::2')), hex(ip('2001:db8::1')), hex(update)],
      // No RFC 6793 on the session: 2-octet ASNs, AS_TRANS for ours; no local address known.
      [Bgp4mpSubtype.Message, 65001, 23456, 1, 'c0000202', '00000000', hex(update)],
    ],
  );
});

test('bgpdump reads a TABLE_DUMP_V2 dump Tern wrote', { skip: bgpdumpSkip() }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'tern-mrt-'));
  try {
    const peers = [
      { bgpId: 0x0a000001, address: new Uint8Array(4), asn: 65000 },
      { bgpId: 0xc0000202, address: ip('192.0.2.2'), asn: 65001 },
      { bgpId: 0xc0000203, address: ip('2001:db8::3'), asn: 4_200_000_000 },
    ];
    const rich = attrs({
      origin: 1,
      asPath: [{ type: AsPathSegmentType.AsSequence, asns: [65001, 4_200_000_000] }],
      nextHop: ip('192.0.2.2'),
      med: 20,
      localPref: 200,
      atomicAggregate: true,
      aggregator: { asn: 65001, address: ip('192.0.2.9') },
      communities: [(65001 << 16) | 100, (65001 << 16) | 200],
      largeCommunities: [[65001, 1, 2]],
    });
    const v6 = attrs({ origin: 0, asPath: [{ type: AsPathSegmentType.AsSequence, asns: [4_200_000_000] }], nextHop: ip('2001:db8::3'), linkLocalNextHop: ip('fe80::3') });
    const records = [
      mrtRecord(100, MrtType.TableDumpV2, TableDumpV2Subtype.PeerIndexTable, encodePeerIndexTable(0x0a000001, 'tern', peers)),
      mrtRecord(100, MrtType.TableDumpV2, TableDumpV2Subtype.RibIpv4Unicast, encodeRibRecord(0, parsePrefix('10.1.0.0/16')!, false, [
        { peerIndex: 1, originatedTimeSec: 90, attributes: rich },
        { peerIndex: 0, originatedTimeSec: 91, attributes: attrs({ origin: 0, asPath: [] }) },
      ])),
      mrtRecord(100, MrtType.TableDumpV2, TableDumpV2Subtype.RibIpv4UnicastAddPath, encodeRibRecord(1, parsePrefix('10.1.0.0/16')!, true, [{ peerIndex: 1, originatedTimeSec: 92, pathId: 4, attributes: rich }])),
      mrtRecord(100, MrtType.TableDumpV2, TableDumpV2Subtype.RibIpv6Unicast, encodeRibRecord(2, parsePrefix('2001:db8:5::/48')!, false, [{ peerIndex: 2, originatedTimeSec: 93, attributes: v6 }])),
      mrtRecord(100, MrtType.TableDumpV2, TableDumpV2Subtype.RibIpv6UnicastAddPath, encodeRibRecord(3, parsePrefix('2001:db8:6::/48')!, true, [{ peerIndex: 2, originatedTimeSec: 94, pathId: 9, attributes: v6 }])),
    ];
    const file = join(dir, 'rib.mrt');
    const data = concat(...records);
    writeFileSync(file, data);
    const lines = runBgpdump(file);
    assert.deepEqual(lines, bgpdumpLines(readMrtTableDump(data)));
    assert.equal(lines.length, 5);
    assert.equal(lines[0], 'TABLE_DUMP2|100|B|192.0.2.2|65001|10.1.0.0/16|65001 4200000000|EGP|192.0.2.2|200|20|65001:100 65001:200|AG|65001 192.0.2.9|');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

function attrs(over: Partial<RouteAttributes>): RouteAttributes {
  return strip({ asPath: [], atomicAggregate: false, communities: [], largeCommunities: [], extendedCommunities: [], clusterList: [], unknown: [], ...over });
}

/** Drops keys whose value is undefined (the reader never sets them). */
function strip(a: RouteAttributes): RouteAttributes {
  return Object.fromEntries(Object.entries(a).filter(([, v]) => v !== undefined)) as unknown as RouteAttributes;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
