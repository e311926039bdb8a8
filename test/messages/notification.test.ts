// SPDX-License-Identifier: Apache-2.0
// NOTIFICATION codec, code/subcode names, and the RFC 9003 shutdown communication.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  BgpNotificationError,
  decodeNotification,
  decodeShutdownCommunication,
  describeNotification,
  encodeNotification,
  notificationName,
  shutdownNotification,
} from '../../src/bgp/messages/index.ts';
import type { NotificationMessage } from '../../src/bgp/messages/index.ts';
import { fromHex, toHex } from '../../src/util/reader.ts';

const notification = (code: number, subcode: number, data: Uint8Array = new Uint8Array(0)): NotificationMessage => ({ type: 'notification', code, subcode, data });

describe('NOTIFICATION codec', () => {
  // bgp4r test/unit Notification_Test: 1/1 without data, 2/2 with "some data".
  it('golden vectors (bgp4r)', () => {
    assert.equal(toHex(encodeNotification(notification(1, 1))), 'ffffffffffffffffffffffffffffffff0015030101');
    const withData = 'ffffffffffffffffffffffffffffffff001e030202736f6d652064617461';
    assert.equal(toHex(encodeNotification(notification(2, 2, new TextEncoder().encode('some data')))), withData);
    assert.deepEqual(decodeNotification(fromHex(withData).subarray(19)), notification(2, 2, new TextEncoder().encode('some data')));
  });

  it('golden vector (BGP_notification.cap): Bad Peer AS with the AS as data', () => {
    const m = decodeNotification(fromHex('ffffffffffffffffffffffffffffffff0017030202feb0').subarray(19));
    assert.deepEqual(m, notification(2, 2, Uint8Array.of(0xfe, 0xb0)));
    assert.equal(describeNotification(m), 'OPEN Message Error / Bad Peer AS (data feb0)');
  });

  it('shorter than code + subcode → 1/2 with the message length', () => {
    for (const body of [new Uint8Array(0), Uint8Array.of(6)]) {
      assert.throws(
        () => decodeNotification(body),
        (e: unknown) => e instanceof BgpNotificationError && e.code === 1 && e.subcode === 2 && toHex(e.data) === (19 + body.length).toString(16).padStart(4, '0'),
      );
    }
  });

  it('the decoded data is a copy, not a view of the caller buffer', () => {
    const body = Uint8Array.of(6, 2, 1, 0x41);
    const m = decodeNotification(body);
    body[3] = 0x42;
    assert.equal(m.data[1], 0x41);
  });
});

describe('notificationName: every code and subcode the RFCs define', () => {
  const NAMES: [number, number, string][] = [
    // RFC 4271 §4.5, §6.1
    [1, 1, 'Message Header Error / Connection Not Synchronized'],
    [1, 2, 'Message Header Error / Bad Message Length'],
    [1, 3, 'Message Header Error / Bad Message Type'],
    // RFC 4271 §6.2, RFC 5492, RFC 9234
    [2, 0, 'OPEN Message Error / Unspecific'],
    [2, 1, 'OPEN Message Error / Unsupported Version Number'],
    [2, 2, 'OPEN Message Error / Bad Peer AS'],
    [2, 3, 'OPEN Message Error / Bad BGP Identifier'],
    [2, 4, 'OPEN Message Error / Unsupported Optional Parameter'],
    [2, 6, 'OPEN Message Error / Unacceptable Hold Time'],
    [2, 7, 'OPEN Message Error / Unsupported Capability'],
    [2, 11, 'OPEN Message Error / Role Mismatch'],
    // RFC 4271 §6.3
    [3, 1, 'UPDATE Message Error / Malformed Attribute List'],
    [3, 2, 'UPDATE Message Error / Unrecognized Well Known Attribute'],
    [3, 3, 'UPDATE Message Error / Missing Well Known Attribute'],
    [3, 4, 'UPDATE Message Error / Attribute Flags Error'],
    [3, 5, 'UPDATE Message Error / Attribute Length Error'],
    [3, 6, 'UPDATE Message Error / Invalid Origin Attribute'],
    [3, 8, 'UPDATE Message Error / Invalid Next Hop Attribute'],
    [3, 9, 'UPDATE Message Error / Optional Attribute Error'],
    [3, 10, 'UPDATE Message Error / Invalid Network Field'],
    [3, 11, 'UPDATE Message Error / Malformed AS Path'],
    [4, 0, 'Hold Timer Expired'],
    // RFC 6608 §3
    [5, 0, 'Finite State Machine Error / Unspecific'],
    [5, 1, 'Finite State Machine Error / Unexpected Message in OpenSent'],
    [5, 2, 'Finite State Machine Error / Unexpected Message in OpenConfirm'],
    [5, 3, 'Finite State Machine Error / Unexpected Message in Established'],
    // RFC 4486 §4, RFC 8538 §5, RFC 9384
    [6, 1, 'Cease / Maximum Number of Prefixes Reached'],
    [6, 2, 'Cease / Administrative Shutdown'],
    [6, 3, 'Cease / Peer Deconfigured'],
    [6, 4, 'Cease / Administrative Reset'],
    [6, 5, 'Cease / Connection Rejected'],
    [6, 6, 'Cease / Other Configuration Change'],
    [6, 7, 'Cease / Connection Collision Resolution'],
    [6, 8, 'Cease / Out of Resources'],
    [6, 9, 'Cease / Hard Reset'],
    [6, 10, 'Cease / BFD Down'],
    // RFC 7313 §5
    [7, 1, 'ROUTE-REFRESH Message Error / Invalid Message Length'],
    // RFC 9687
    [8, 0, 'Send Hold Timer Expired'],
    // unknown ones still print
    [6, 99, 'Cease / subcode 99'],
    [42, 1, 'Unknown error code 42 / subcode 1'],
  ];
  for (const [code, subcode, name] of NAMES) {
    it(`${code}/${subcode}`, () => assert.equal(notificationName(code, subcode), name));
  }
});

describe('RFC 9003 shutdown communication', () => {
  it('encodes length + UTF-8 and describes it', () => {
    const m = shutdownNotification(2, 'maintenance');
    assert.equal(toHex(encodeNotification(m)), 'ffffffffffffffffffffffffffffffff' + '0021' + '03' + '0602' + '0b' + toHex(new TextEncoder().encode('maintenance')));
    assert.equal(describeNotification(m), 'Cease / Administrative Shutdown: "maintenance"');
    assert.deepEqual(decodeShutdownCommunication(m.data), { ok: true, message: 'maintenance' });
  });

  it('Administrative Reset carries it too, UTF-8 intact', () => {
    const m = shutdownNotification(4, 'Wartungsfenster — 10 min ✓');
    assert.equal(m.subcode, 4);
    assert.equal(describeNotification(decodeNotification(encodeNotification(m).subarray(19))), 'Cease / Administrative Reset: "Wartungsfenster — 10 min ✓"');
  });

  it('a message over 255 octets is cut at a character boundary (RFC 9003 §2)', () => {
    const m = shutdownNotification(2, 'é'.repeat(200)); // 400 octets of 2-octet characters
    assert.equal(m.data[0], 254);
    assert.equal(m.data.length, 255);
    const sc = decodeShutdownCommunication(m.data);
    assert.deepEqual(sc, { ok: true, message: 'é'.repeat(127) });
  });

  it('an absent communication (pre-RFC 8203 speaker) is the bare name', () => {
    assert.equal(describeNotification(notification(6, 2)), 'Cease / Administrative Shutdown');
  });

  it('length beyond the data → logged as hex, never thrown', () => {
    const m = notification(6, 2, fromHex('0a6869'));
    assert.equal(describeNotification(m), 'Cease / Administrative Shutdown: malformed shutdown communication (length 10 exceeds the 2 octets present): 0a6869');
  });

  it('length short of the data → logged as hex', () => {
    assert.match(describeNotification(notification(6, 4, fromHex('01686969'))), /malformed shutdown communication \(length 1 leaves 2 octets unexplained\): 01686969$/);
  });

  it('invalid UTF-8 → logged as hex', () => {
    assert.equal(describeNotification(notification(6, 2, fromHex('03ff6869'))), 'Cease / Administrative Shutdown: malformed shutdown communication (invalid UTF-8): 03ff6869');
  });

  it('hex of a long malformed communication is capped', () => {
    const data = new Uint8Array(300).fill(0xff);
    data[0] = 255;
    const text = describeNotification(notification(6, 2, data));
    assert.ok(text.length < 250, `${text.length} characters`);
    assert.match(text, /…\(300 bytes\)$/);
  });

  it('control characters and quotes in the text are escaped, so a log line cannot be forged', () => {
    const m = shutdownNotification(2, 'bye\n2024-01-01 fake log "line"\u202e');
    assert.equal(describeNotification(m), 'Cease / Administrative Shutdown: "bye\\u000a2024-01-01 fake log \\"line\\"\\u202e"');
  });

  it('other codes show their data as capped hex', () => {
    assert.equal(describeNotification(notification(3, 1, fromHex('0102'))), 'UPDATE Message Error / Malformed Attribute List (data 0102)');
    assert.equal(describeNotification(notification(4, 0)), 'Hold Timer Expired');
  });
});
