// SPDX-License-Identifier: Apache-2.0
// OPEN codec: golden vectors from other implementations and captures, RFC 9072 extended
// parameters both ways, and every structural error with its exact (code, subcode).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BgpNotificationError, decodeOpen, encodeOpen } from '../../src/bgp/messages/index.ts';
import type { Capability, OpenMessage } from '../../src/bgp/messages/index.ts';
import { fromHex, toHex } from '../../src/util/reader.ts';
import { OPEN_VECTORS } from '../fixtures/messages/open/vectors.ts';

const body = (hex: string): Uint8Array => fromHex(hex).subarray(19);

function throwsNotification(fn: () => unknown, code: number, subcode: number, data?: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof BgpNotificationError, `expected BgpNotificationError, got ${String(e)}`);
    assert.deepEqual([e.code, e.subcode], [code, subcode], e.message);
    if (data !== undefined) assert.equal(toHex(e.data), data);
    return true;
  });
}

describe('OPEN golden vectors', () => {
  for (const v of OPEN_VECTORS) {
    it(`${v.name} (${v.provenance})`, () => {
      const frame = fromHex(v.hex);
      assert.equal((frame[16]! << 8) | frame[17]!, frame.length, 'vector length field');
      assert.deepEqual(decodeOpen(frame.subarray(19)), v.value);
      const again = encodeOpen(v.value);
      if (v.byteIdentical) assert.equal(toHex(again), v.hex);
      assert.deepEqual(decodeOpen(again.subarray(19)), v.value, 'encode → decode');
    });
  }
});

describe('OPEN truncated at every offset', () => {
  for (const v of OPEN_VECTORS) {
    it(v.name, () => {
      const full = body(v.hex);
      for (let cut = 0; cut < full.length; cut++) {
        assert.throws(() => decodeOpen(full.slice(0, cut)), BgpNotificationError, `cut at ${cut}`);
      }
    });
  }
});

describe('OPEN structural errors', () => {
  it('fewer than 10 body octets → 1/2 with the message length as data (RFC 4271 §6.1)', () => {
    throwsNotification(() => decodeOpen(fromHex('04fde800b4010101')), 1, 2, '001b');
  });
  it('optional parameters length larger than what follows → 2/0', () => {
    throwsNotification(() => decodeOpen(fromHex('04fde800b40101010108020601040001')), 2, 0);
  });
  it('optional parameters length smaller than what follows → 2/0', () => {
    throwsNotification(() => decodeOpen(fromHex('04fde800b4010101010002060104000100')), 2, 0);
  });
  it('capability overrunning its parameter → 2/0', () => {
    throwsNotification(() => decodeOpen(fromHex('04fde800b40101010104020241040000')), 2, 0);
  });
  it('known capability with the wrong length (AS4 of 2 octets) → 2/0', () => {
    throwsNotification(() => decodeOpen(fromHex('04fde800b4010101010602044102fde8')), 2, 0);
  });
  it('multiprotocol capability of 3 octets → 2/0', () => {
    throwsNotification(() => decodeOpen(fromHex('04fde800b401010101070205010300010a')), 2, 0);
  });
  it('a non-capability optional parameter is kept for validateOpen to refuse', () => {
    const open = decodeOpen(fromHex('04fde800b40101010104010200ff'));
    assert.deepEqual(open.otherParameters, [{ type: 1, value: Uint8Array.of(0x00, 0xff) }]);
    assert.deepEqual(open.capabilities, []);
  });
  it('an unknown capability is kept with its value (RFC 5492 §5)', () => {
    const open = decodeOpen(fromHex('04fde800b40101010106020449020102'));
    assert.deepEqual(open.capabilities, [{ kind: 'unknown', code: 73, value: Uint8Array.of(1, 2) }]);
  });
  it('no optional parameters at all', () => {
    assert.deepEqual(decodeOpen(fromHex('04fde8005a0a00000100')), {
      type: 'open', version: 4, myAs: 65000, holdTime: 90, bgpId: 0x0a000001, capabilities: [], otherParameters: [],
    });
  });
});

describe('RFC 9072 extended optional parameters', () => {
  it('detected by Non-Ext OP Type 255 whatever the Non-Ext OP Len (RFC 9072 §2)', () => {
    // Non-Ext OP Len 1 (not 255), type 255, extended length 8
    const open = decodeOpen(fromHex('04fde800b40a000001' + '01ff0008' + '020005' + '0303010203'));
    assert.equal(open.extendedParameters, true);
    assert.deepEqual(open.capabilities, [{ kind: 'unknown', code: 3, value: Uint8Array.of(1, 2, 3) }]);
  });
  it('extended length inconsistent with the message → 2/0', () => {
    throwsNotification(() => decodeOpen(fromHex('04fde800b40a000001' + 'ffff0009' + '020005' + '0303010203')), 2, 0);
  });

  const manyCaps = (n: number): Capability[] =>
    Array.from({ length: n }, (_, i) => ({ kind: 'unknown', code: 200, value: Uint8Array.of(i, i, i, i, i, i, i, i) }) as Capability);
  const openWith = (caps: Capability[]): OpenMessage => ({ type: 'open', version: 4, myAs: 65000, holdTime: 90, bgpId: 1, capabilities: caps, otherParameters: [] });

  it('sent only when the parameters exceed 255 octets', () => {
    // 25 capabilities of 10 octets = 250 octets in one parameter (+2) → classic
    const small = encodeOpen(openWith(manyCaps(25)));
    assert.equal(small[19 + 9], 252, 'classic Opt Parm Len');
    assert.equal(decodeOpen(small.subarray(19)).extendedParameters, undefined);
    // 30 capabilities: 300 octets → extended
    const big = encodeOpen(openWith(manyCaps(30)));
    assert.deepEqual([big[19 + 9], big[19 + 10]], [255, 255], 'Non-Ext OP Len and Type');
    const decoded = decodeOpen(big.subarray(19));
    assert.equal(decoded.extendedParameters, true);
    assert.deepEqual(decoded.capabilities, manyCaps(30));
  });
});
