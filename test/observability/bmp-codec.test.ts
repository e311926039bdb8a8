// SPDX-License-Identifier: Apache-2.0
// BMP (RFC 7854) codec: exact bytes of the common header (§4.1) and the per-peer header (§4.2)
// laid out field by field as the RFC's figures draw them, then every message type Tern sends,
// encoded and decoded back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  BMP_PER_PEER_HEADER_LENGTH,
  BmpInitiationTlv,
  BmpMessageType,
  BmpPeerDownReason,
  BmpPeerFlag,
  BmpPeerType,
  BmpStatType,
  BmpTerminationReason,
  BmpTerminationTlv,
  ZERO_DISTINGUISHER,
  bmpFrameLength,
  decodeBmpMessage,
  encodeInitiation,
  encodePeerDown,
  encodePeerUp,
  encodeRouteMonitoring,
  encodeStatisticsReport,
  encodeTermination,
  type BmpPeerHeader,
} from '../../src/observability/bmp-codec.ts';
import { peerDownReason } from '../../src/observability/bmp.ts';
import { endOfRib } from '../../src/bgp/messages/update.ts';
import { encodeOpen } from '../../src/bgp/messages/open.ts';
import { buildOpen } from '../../src/bgp/messages/negotiate.ts';
import { encodeNotification } from '../../src/bgp/messages/notification.ts';
import { CeaseSubcode, NotificationCode } from '../../src/bgp/messages/iana.ts';
import { DEFAULT_CONTEXT } from '../../src/bgp/messages/types.ts';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const unhex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s.replace(/\s+/g, ''), 'hex'));

// 192.0.2.1, AS 65001, event at 1700000000.123 s (0x6553f100 seconds, 123000 = 0x1e078 µs).
const PEER_V4: BmpPeerHeader = {
  type: BmpPeerType.Global,
  flags: BmpPeerFlag.A,
  distinguisher: ZERO_DISTINGUISHER,
  address: unhex('c0000201'),
  asn: 65001,
  bgpId: 0xc0000201,
  timestampMs: 1_700_000_000_123,
};

const PER_PEER_V4 =
  '00' + // Peer Type: Global Instance Peer
  '20' + // Peer Flags: V=0 (IPv4), L=0 (pre-policy), A=1 (2-byte AS_PATH)
  '0000000000000000' + // Peer Distinguisher: 0 for a global instance peer
  '000000000000000000000000c0000201' + // Peer Address: IPv4 in the last 4 octets
  '0000fde9' + // Peer AS 65001
  'c0000201' + // Peer BGP ID
  '6553f100' + // Timestamp (seconds)
  '0001e078'; // Timestamp (microseconds)

test('Route Monitoring: common header and per-peer header byte for byte (RFC 7854 §4.1, §4.2, §4.6)', () => {
  const update = endOfRib('ipv4-unicast', DEFAULT_CONTEXT); // 23 octets
  const frame = encodeRouteMonitoring(PEER_V4, update);
  assert.equal(PER_PEER_V4.length / 2, BMP_PER_PEER_HEADER_LENGTH);
  // Version 3 | Message Length 6 + 42 + 23 = 71 | Type 0 (Route Monitoring)
  assert.equal(hex(frame), '03' + '00000047' + '00' + PER_PEER_V4 + hex(update));
  const back = decodeBmpMessage(frame);
  assert.equal(back.type, BmpMessageType.RouteMonitoring);
  assert.ok('update' in back);
  assert.deepEqual(back.peer, PEER_V4);
  assert.deepEqual(back.update, update);
});

test('per-peer header of an IPv6 peer sets V and fills all 16 address octets', () => {
  const peer: BmpPeerHeader = { ...PEER_V4, flags: BmpPeerFlag.V, address: unhex('20010db8000000000000000000000001'), asn: 4_200_000_000 };
  const frame = encodeRouteMonitoring(peer, endOfRib('ipv4-unicast', DEFAULT_CONTEXT));
  assert.equal(hex(frame.subarray(6, 6 + 42)), '00' + '80' + '0000000000000000' + '20010db8000000000000000000000001' + 'fa56ea00' + 'c0000201' + '6553f100' + '0001e078');
  const back = decodeBmpMessage(frame);
  assert.ok('peer' in back);
  assert.deepEqual(back.peer, peer);
});

test('Initiation carries sysDescr and sysName string TLVs (RFC 7854 §4.3, §4.4)', () => {
  const frame = encodeInitiation('rr1', 'Tern');
  // Type 1 sysDescr, length 4, "Tern"; Type 2 sysName, length 3, "rr1"
  assert.equal(hex(frame), '03' + '00000015' + '04' + '0001' + '0004' + hex(Buffer.from('Tern')) + '0002' + '0003' + hex(Buffer.from('rr1')));
  const back = decodeBmpMessage(frame);
  assert.ok('tlvs' in back);
  assert.deepEqual(
    back.tlvs.map((t) => [t.type, Buffer.from(t.value).toString()]),
    [
      [BmpInitiationTlv.SysDescr, 'Tern'],
      [BmpInitiationTlv.SysName, 'rr1'],
    ],
  );
});

test('Termination carries a String TLV and the Reason TLV (RFC 7854 §4.5)', () => {
  const frame = encodeTermination(BmpTerminationReason.AdministrativelyClosed, 'bye');
  assert.equal(hex(frame), '03' + '00000013' + '05' + '0000' + '0003' + hex(Buffer.from('bye')) + '0001' + '0002' + '0000');
  const back = decodeBmpMessage(frame);
  assert.ok('tlvs' in back);
  assert.equal(back.type, BmpMessageType.Termination);
  assert.deepEqual(back.tlvs[1], { type: BmpTerminationTlv.Reason, value: unhex('0000') });
});

test('Peer Up: local address, ports and both OPEN PDUs (RFC 7854 §4.10)', () => {
  const sent = encodeOpen(buildOpen({ asn: 65000, bgpId: 0x0a000001, holdTime: 90, families: ['ipv4-unicast'] }));
  const received = encodeOpen(buildOpen({ asn: 65001, bgpId: 0xc0000201, holdTime: 9, families: ['ipv4-unicast', 'ipv6-unicast'] }));
  const frame = encodePeerUp(PEER_V4, { localAddress: unhex('0a000001'), localPort: 179, remotePort: 50123, sentOpen: sent, receivedOpen: received });
  const body = frame.subarray(6 + 42);
  assert.equal(hex(body.subarray(0, 20)), '000000000000000000000000' + '0a000001' + '00b3' + 'c3cb');
  assert.equal(hex(body.subarray(20)), hex(sent) + hex(received));
  assert.equal(new DataView(frame.buffer).getUint32(1), frame.length);
  const back = decodeBmpMessage(frame);
  assert.equal(back.type, BmpMessageType.PeerUp);
  assert.ok('sentOpen' in back);
  assert.deepEqual([back.localAddress, back.localPort, back.remotePort, back.sentOpen, back.receivedOpen], [unhex('0a000001'), 179, 50123, sent, received]);
});

test('Peer Down reasons follow the NOTIFICATION that ended the session (RFC 7854 §4.9)', () => {
  const cease = { type: 'notification' as const, code: NotificationCode.Cease, subcode: CeaseSubcode.AdministrativeShutdown, data: new Uint8Array(0) };
  const hold = { type: 'notification' as const, code: NotificationCode.HoldTimerExpired, subcode: 0, data: new Uint8Array(0) };
  assert.deepEqual(peerDownReason({ reason: 'x', notificationSent: hold }), { reason: BmpPeerDownReason.LocalNotification, data: encodeNotification(hold) });
  assert.deepEqual(peerDownReason({ reason: 'x', notificationReceived: cease }), { reason: BmpPeerDownReason.RemoteNotification, data: encodeNotification(cease) });
  assert.deepEqual(peerDownReason({ reason: 'connection closed' }), { reason: BmpPeerDownReason.RemoteNoData, data: new Uint8Array(0) });

  const frame = encodePeerDown(PEER_V4, BmpPeerDownReason.RemoteNotification, encodeNotification(cease));
  // reason 3, then the whole NOTIFICATION: marker, length 21, type 3, code 6, subcode 2
  assert.equal(hex(frame.subarray(6 + 42)), '03' + 'ff'.repeat(16) + '0015' + '03' + '06' + '02');
  const back = decodeBmpMessage(frame);
  assert.ok('reason' in back);
  assert.equal(back.reason, BmpPeerDownReason.RemoteNotification);
  assert.deepEqual(back.peer, PEER_V4);
});

test('Statistics Report: counter, gauge and per-AFI/SAFI gauge encodings (RFC 7854 §4.8)', () => {
  const stats = [
    { type: BmpStatType.RejectedByInboundPolicy, kind: 'counter' as const, value: 7 },
    { type: BmpStatType.AdjRibInRoutes, kind: 'gauge' as const, value: 2 ** 33 + 5 },
    { type: BmpStatType.AdjRibInRoutesPerAfiSafi, kind: 'afi-safi-gauge' as const, afi: 2, safi: 1, value: 9 },
  ];
  const frame = encodeStatisticsReport(PEER_V4, stats);
  assert.equal(
    hex(frame.subarray(6 + 42)),
    '00000003' + '0000' + '0004' + '00000007' + '0007' + '0008' + '0000000200000005' + '0009' + '000b' + '0002' + '01' + '0000000000000009',
  );
  const back = decodeBmpMessage(frame);
  assert.ok('stats' in back);
  assert.deepEqual(back.stats, stats);
});

test('a stream of messages splits at the lengths the common headers give', () => {
  fc.assert(
    fc.property(fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 6 }), fc.integer({ min: 1, max: 40 }), (payloads, chunk) => {
      const frames = payloads.map((p) => encodeRouteMonitoring(PEER_V4, p));
      const stream = new Uint8Array(frames.reduce((n, f) => n + f.length, 0));
      let at = 0;
      for (const f of frames) {
        stream.set(f, at);
        at += f.length;
      }
      // Feed in chunks, as TCP would, and take whole frames as they complete.
      const got: Uint8Array[] = [];
      let buffered = new Uint8Array(0);
      for (let i = 0; i < stream.length; i += chunk) {
        const next = new Uint8Array(buffered.length + Math.min(chunk, stream.length - i));
        next.set(buffered);
        next.set(stream.subarray(i, i + chunk), buffered.length);
        buffered = next;
        for (let len = bmpFrameLength(buffered); len !== undefined; len = bmpFrameLength(buffered)) {
          got.push(buffered.slice(0, len));
          buffered = buffered.slice(len);
        }
      }
      assert.deepEqual(got, frames);
      for (const [i, f] of got.entries()) {
        const m = decodeBmpMessage(f);
        assert.ok('update' in m);
        assert.deepEqual(m.update, payloads[i]);
      }
    }),
  );
});

test('decoding rejects a wrong version and a truncated message', () => {
  const frame = encodeRouteMonitoring(PEER_V4, endOfRib('ipv4-unicast', DEFAULT_CONTEXT));
  const v1 = frame.slice();
  v1[0] = 1;
  assert.throws(() => decodeBmpMessage(v1), /version 1/);
  assert.equal(bmpFrameLength(frame.subarray(0, frame.length - 1)), undefined);
  const short = frame.slice(0, 6 + 20);
  new DataView(short.buffer).setUint32(1, short.length);
  assert.throws(() => decodeBmpMessage(short), /truncated/);
});
