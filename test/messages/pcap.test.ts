// SPDX-License-Identifier: Apache-2.0
// Every BGP message in every packetlife.net capture decodes through decodeMessage: TCP streams
// reassembled by src/util/pcap.ts, framed by FrameAssembler, each direction decoded with the
// CodecContext negotiate() derives from the OPENs seen in that connection. Expected values come
// from test/fixtures/pcap-expected.ts, read from the captures with tshark.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import {
  BgpNotificationError,
  DEFAULT_CONTEXT,
  FrameAssembler,
  MessageType,
  decodeMessage,
  encodeMessage,
  frameLength,
  isEndOfRib,
  negotiate,
  peerAsnOf,
} from '../../src/bgp/messages/index.ts';
import type { BgpMessage, CodecContext, Decoded, Nlri, OpenMessage, PathAttribute, UpdateMessage } from '../../src/bgp/messages/index.ts';
import { bytesToIpv4, bytesToIpv6 } from '../../src/util/ip.ts';
import { readPcap, tcpFlows, tcpSegments } from '../../src/util/pcap.ts';
import type { TcpFlow } from '../../src/util/pcap.ts';
import { toHex } from '../../src/util/reader.ts';
import { PCAP_EXPECTED } from '../fixtures/pcap-expected.ts';
import type { CaptureExpectation, UpdateExpectation } from '../fixtures/pcap-expected.ts';
import { sharedData } from '../../scripts/shared-data.ts';

const PCAP_DIR = sharedData('pcap');

interface SessionMessage {
  from: string;
  decoded: Decoded;
  frame: Uint8Array;
}


// ===== Capture → decoded messages =====

/** Whole frames of one direction; a run after a capture gap is resynchronised on the marker. */
function framesOf(flow: TcpFlow): Uint8Array[] {
  const frames: Uint8Array[] = [];
  for (const run of flow.runs) {
    const assembler = new FrameAssembler(65535);
    for (const frame of assembler.push(run.subarray(firstHeaderAt(run)))) frames.push(frame.slice());
  }
  return frames;
}

function firstHeaderAt(run: Uint8Array): number {
  for (let i = 0; i + 19 <= run.length; i++) {
    try {
      if (frameLength(run, i, 65535) !== undefined) return i;
    } catch {
      // not a header here: keep scanning
    }
  }
  return run.length;
}

function reverseKey(flow: TcpFlow): string {
  return `${flow.dst}:${flow.dstPort}>${flow.src}:${flow.srcPort}`;
}

/**
 * The context for decoding what `flow` carries: we are the receiver, so "local" is the OPEN the
 * receiver sent and "remote" the sender's. With only the sender's OPEN in the capture, assume
 * the receiver offered the same; with neither, use the capture's stated assumptions.
 */
function contextFor(flow: TcpFlow, frames: Uint8Array[], opens: Map<string, OpenMessage>, exp: CaptureExpectation): CodecContext {
  const sent = opens.get(flow.key);
  const received = opens.get(reverseKey(flow)) ?? sent;
  if (sent && received) return negotiate(received, sent, peerAsnOf(sent) === peerAsnOf(received) ? 'ibgp' : 'ebgp').ctx;
  // KEEPALIVE, NOTIFICATION and ROUTE-REFRESH do not depend on the context.
  if (!frames.some((f) => f[18] === MessageType.Update)) return DEFAULT_CONTEXT;
  assert.ok(exp.assumed, `${exp.file}: flow ${flow.key} has no OPEN and the fixture states no assumptions`);
  return { ...DEFAULT_CONTEXT, as4: exp.assumed.as4, peerType: exp.assumed.peerType };
}

function decodeCapture(exp: CaptureExpectation): SessionMessage[] {
  const ports = exp.ports ?? [179];
  const pcap = readPcap(readFileSync(`${PCAP_DIR}/${exp.file}`));
  const flows = tcpFlows(tcpSegments(pcap)).filter((f) => ports.includes(f.srcPort) || ports.includes(f.dstPort));
  const frames = new Map(flows.map((f) => [f.key, framesOf(f)]));
  // First pass: each direction's OPEN (decodable before anything is negotiated).
  const opens = new Map<string, OpenMessage>();
  for (const flow of flows) {
    const frame = frames.get(flow.key)!.find((f) => f[18] === MessageType.Open);
    const m = frame && decodeMessage(frame, DEFAULT_CONTEXT).message;
    if (m?.type === 'open') opens.set(flow.key, m);
  }
  const out: SessionMessage[] = [];
  for (const flow of flows) {
    const ctx = contextFor(flow, frames.get(flow.key)!, opens, exp);
    for (const frame of frames.get(flow.key)!) out.push({ from: flow.src, decoded: decodeMessage(frame, ctx), frame });
  }
  return out;
}

// ===== Text forms for comparison =====

function prefixText(n: Nlri): string {
  const bytes = new Uint8Array(n.family === 'ipv4-unicast' ? 4 : 16);
  bytes.set(n.address);
  const addr = n.family === 'ipv4-unicast' ? bytesToIpv4(bytes) : bytesToIpv6(bytes);
  return `${addr}/${n.length}${n.pathId === undefined ? '' : `#${n.pathId}`}`;
}

function segmentsOf(attr: PathAttribute | undefined): number[][] | undefined {
  if (!attr || (attr.kind !== 'as-path' && attr.kind !== 'as4-path')) return undefined;
  return attr.segments.map((s) => [s.type, ...s.asns]);
}

function attribute<K extends PathAttribute['kind']>(m: UpdateMessage, kind: K): Extract<PathAttribute, { kind: K }> | undefined {
  return m.attributes.find((a): a is Extract<PathAttribute, { kind: K }> => a.kind === kind);
}

function checkUpdate(m: UpdateMessage, exp: UpdateExpectation, label: string): void {
  if (exp.nlri) assert.deepEqual(m.nlri.map(prefixText), exp.nlri, `${label} NLRI`);
  if (exp.withdrawn) assert.deepEqual(m.withdrawn.map(prefixText), exp.withdrawn, `${label} withdrawn`);
  if (exp.asPath) assert.deepEqual(segmentsOf(attribute(m, 'as-path')), exp.asPath, `${label} AS_PATH`);
  if (exp.as4Path) assert.deepEqual(segmentsOf(attribute(m, 'as4-path')), exp.as4Path, `${label} AS4_PATH`);
  if (exp.nextHop) assert.equal(bytesToIpv4(attribute(m, 'next-hop')?.nextHop ?? new Uint8Array(0)), exp.nextHop, `${label} NEXT_HOP`);
  if (exp.mpReach) {
    const mp = attribute(m, 'mp-reach');
    assert.ok(mp, `${label} has MP_REACH_NLRI`);
    assert.deepEqual([mp.afi, mp.safi], [exp.mpReach.afi, exp.mpReach.safi], `${label} MP_REACH AFI/SAFI`);
    if (exp.mpReach.nextHopHex !== undefined) assert.equal(toHex(mp.nextHop), exp.mpReach.nextHopHex, `${label} MP next hop`);
    if (exp.mpReach.nlri) assert.deepEqual(mp.nlri.map(prefixText), exp.mpReach.nlri, `${label} MP NLRI`);
    if (exp.mpReach.rawNlriLength !== undefined) {
      // RFC 4760 §7 / families Tern does not speak: kept raw, never parsed, never an error.
      assert.equal(mp.nlri.length, 0, `${label} no decoded NLRI for an unspoken family`);
      assert.equal(mp.rawNlri?.length, exp.mpReach.rawNlriLength, `${label} raw NLRI length`);
    }
  }
  if (exp.mpUnreach) {
    const mp = attribute(m, 'mp-unreach');
    assert.ok(mp, `${label} has MP_UNREACH_NLRI`);
    assert.deepEqual([mp.afi, mp.safi], [exp.mpUnreach.afi, exp.mpUnreach.safi], `${label} MP_UNREACH AFI/SAFI`);
    if (exp.mpUnreach.withdrawn) assert.deepEqual(mp.withdrawn.map(prefixText), exp.mpUnreach.withdrawn, `${label} MP withdrawn`);
  }
  if (exp.endOfRib) assert.equal(isEndOfRib(m), exp.endOfRib, `${label} End-of-RIB`);
}

function ofType<T extends BgpMessage['type']>(msgs: SessionMessage[], type: T, from?: string): { from: string; m: Extract<BgpMessage, { type: T }> }[] {
  return msgs
    .filter((s) => s.decoded.message.type === type && (from === undefined || s.from === from))
    .map((s) => ({ from: s.from, m: s.decoded.message as Extract<BgpMessage, { type: T }> }));
}

// ===== Tests =====

describe('pcap: every BGP message in the packetlife captures decodes', () => {
  for (const exp of PCAP_EXPECTED) {
    describe(exp.file, () => {
      const msgs = decodeCapture(exp);

      it('message counts by type (tshark)', () => {
        const count = (t: BgpMessage['type']): number => msgs.filter((s) => s.decoded.message.type === t).length;
        assert.deepEqual(
          { open: count('open'), update: count('update'), notification: count('notification'), keepalive: count('keepalive'), routeRefresh: count('route-refresh') },
          exp.counts,
        );
      });

      it('no RFC 7606 problems in any UPDATE', () => {
        for (const s of msgs) assert.deepEqual([s.decoded.action, s.decoded.problems], ['none', []], `UPDATE from ${s.from}`);
      });

      if (exp.opens) {
        it('OPEN fields', () => {
          const opens = ofType(msgs, 'open');
          assert.equal(opens.length, exp.opens!.length);
          for (const want of exp.opens!) {
            const got = opens.find((o) => o.from === want.from);
            assert.ok(got, `OPEN from ${want.from}`);
            const o = got.m;
            assert.equal(o.version, 4);
            assert.deepEqual(
              { myAs: o.myAs, holdTime: o.holdTime, bgpId: bytesToIpv4(Uint8Array.of(o.bgpId >>> 24, (o.bgpId >> 16) & 255, (o.bgpId >> 8) & 255, o.bgpId & 255)), codes: o.capabilities.map((c) => c.code) },
              { myAs: want.myAs, holdTime: want.holdTime, bgpId: want.bgpId, codes: want.capabilityCodes },
            );
            if (want.as4Asn !== undefined) assert.equal(peerAsnOf(o), want.as4Asn);
          }
        });
      }

      if (exp.notifications) {
        it('NOTIFICATION code, subcode and data', () => {
          const got = ofType(msgs, 'notification').map(({ from, m }) => ({ from, code: m.code, subcode: m.subcode, dataHex: toHex(m.data) }));
          assert.deepEqual(got, exp.notifications);
        });
      }

      if (exp.routeRefreshes) {
        it('ROUTE-REFRESH AFI/SAFI/subtype', () => {
          const got = ofType(msgs, 'route-refresh').map(({ from, m }) => ({ from, afi: m.afi, safi: m.safi, subtype: m.subtype }));
          assert.deepEqual(got, exp.routeRefreshes);
        });
      }

      for (const want of exp.updates ?? []) {
        it(`UPDATE #${want.index} from ${want.from}`, () => {
          const update = ofType(msgs, 'update', want.from)[want.index];
          assert.ok(update, `UPDATE #${want.index} from ${want.from} exists`);
          checkUpdate(update.m, want, `${exp.file} UPDATE #${want.index} from ${want.from}`);
        });
      }
    });
  }

  it('the add-path capture negotiates ADD-PATH receive for IPv4 unicast (RFC 7911 §4)', () => {
    const exp = PCAP_EXPECTED.find((e) => e.file === 'bgp-add-path.cap')!;
    const opens = ofType(decodeCapture(exp), 'open').map((o) => o.m);
    const n = negotiate(opens[0]!, opens[1]!, 'ibgp');
    assert.deepEqual(n.addPath, [{ family: 'ipv4-unicast', send: true, receive: true }]);
    assert.equal(n.enhancedRouteRefresh, true);
  });

  it('every message re-encodes: byte-identical, or for OPEN (capability grouping is not kept) to an equal OPEN', () => {
    for (const exp of PCAP_EXPECTED) {
      for (const s of decodeCapture(exp)) {
        const m = s.decoded.message;
        if (m.type === 'update') continue; // update.ts's own tests own UPDATE fidelity
        const again = encodeMessage(m, DEFAULT_CONTEXT);
        if (m.type === 'open') assert.deepEqual(decodeMessage(again, DEFAULT_CONTEXT).message, m, exp.file);
        else assert.equal(toHex(again), toHex(s.frame), `${exp.file} ${m.type}`);
      }
    }
  });

  it('every OPEN and UPDATE of every capture, cut short at every offset, throws only BgpNotificationError', () => {
    for (const exp of PCAP_EXPECTED) {
      for (const s of decodeCapture(exp)) {
        const type = s.decoded.message.type;
        if (type !== 'open' && type !== 'update') continue;
        const frame = s.frame;
        for (let cut = 19; cut < frame.length; cut++) {
          const short = frame.slice(0, cut);
          short[16] = cut >> 8;
          short[17] = cut & 0xff;
          try {
            decodeMessage(short, DEFAULT_CONTEXT);
          } catch (e) {
            assert.ok(e instanceof BgpNotificationError, `${exp.file} cut at ${cut}: ${String(e)}`);
          }
        }
      }
    }
  });
});
