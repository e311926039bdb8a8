// SPDX-License-Identifier: Apache-2.0
// Header framing (RFC 4271 §4.1, §6.1): FrameAssembler gives the same frames whatever the chunk
// boundaries, and each header error carries its exact (code, subcode, data).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  BgpNotificationError,
  DEFAULT_CONTEXT,
  FrameAssembler,
  decodeMessage,
  encodeKeepalive,
  encodeNotification,
  encodeOpen,
  encodeRouteRefresh,
  withHeader,
} from '../../src/bgp/messages/index.ts';
import { fromHex, toHex } from '../../src/util/reader.ts';
import { OPEN_VECTORS } from '../fixtures/messages/open/vectors.ts';

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function throwsNotification(fn: () => unknown, code: number, subcode: number, data?: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof BgpNotificationError, String(e));
    assert.deepEqual([e.code, e.subcode], [code, subcode], e.message);
    if (data !== undefined) assert.equal(toHex(e.data), data);
    return true;
  });
}

const MESSAGES = [
  fromHex(OPEN_VECTORS[0]!.hex),
  encodeKeepalive(),
  // a real UPDATE from IBGP_adjacency.cap (3.3.3.3 → 4.4.4.4, 10.30.0.0/24s)
  fromHex('ffffffffffffffffffffffffffffffff003f020000001c40010100400200400304030303038004040000000040050400000064180a1e03180a1e02180a1e01'),
  encodeRouteRefresh({ type: 'route-refresh', afi: 1, safi: 1, subtype: 0 }),
  encodeNotification({ type: 'notification', code: 6, subcode: 2, data: fromHex('036279650a') }),
];
const STREAM = concat(MESSAGES);

describe('FrameAssembler', () => {
  it('the real UPDATE in the stream is well formed', () => {
    assert.equal(decodeMessage(MESSAGES[2]!, DEFAULT_CONTEXT).message.type, 'update');
  });

  it('split at every single offset gives the same frames', () => {
    const want = MESSAGES.map((m) => toHex(m));
    for (let cut = 0; cut <= STREAM.length; cut++) {
      const a = new FrameAssembler();
      const got = [...a.push(STREAM.subarray(0, cut)), ...a.push(STREAM.subarray(cut))].map((f) => toHex(f));
      assert.deepEqual(got, want, `cut at ${cut}`);
      assert.equal(a.buffered, 0);
    }
  });

  it('fed one byte at a time gives the same frames', () => {
    const a = new FrameAssembler();
    const got: string[] = [];
    for (let i = 0; i < STREAM.length; i++) for (const f of a.push(STREAM.subarray(i, i + 1))) got.push(toHex(f));
    assert.deepEqual(got, MESSAGES.map((m) => toHex(m)));
  });

  it('split at every pair of offsets gives the same frames', () => {
    const want = MESSAGES.map((m) => toHex(m)).join('|');
    for (let i = 0; i <= STREAM.length; i += 3) {
      for (let j = i; j <= STREAM.length; j += 5) {
        const a = new FrameAssembler();
        const got = [STREAM.subarray(0, i), STREAM.subarray(i, j), STREAM.subarray(j)].flatMap((c) => a.push(c).map((f) => toHex(f)));
        assert.equal(got.join('|'), want, `cuts at ${i}, ${j}`);
      }
    }
  });
});

describe('header errors (RFC 4271 §6.1)', () => {
  const keepalive = encodeKeepalive();

  it('marker not all ones → 1/1', () => {
    const bad = keepalive.slice();
    bad[5] = 0xfe;
    throwsNotification(() => new FrameAssembler().push(bad), 1, 1);
    throwsNotification(() => decodeMessage(bad, DEFAULT_CONTEXT), 1, 1);
  });

  it('length below 19 → 1/2 with the bad length as data', () => {
    const bad = keepalive.slice();
    bad[17] = 18;
    throwsNotification(() => new FrameAssembler().push(bad), 1, 2, '0012');
  });

  it('length above 4096 without extended messages → 1/2 with the bad length as data', () => {
    const bad = withHeader(2, new Uint8Array(4096 - 19 + 1));
    throwsNotification(() => new FrameAssembler().push(bad), 1, 2, '1001');
    throwsNotification(() => decodeMessage(bad, DEFAULT_CONTEXT), 1, 2, '1001');
  });

  it('KEEPALIVE with length ≠ 19 → 1/2 with the bad length as data', () => {
    const bad = withHeader(4, Uint8Array.of(0));
    throwsNotification(() => new FrameAssembler().push(bad), 1, 2, '0014');
    throwsNotification(() => decodeMessage(bad, DEFAULT_CONTEXT), 1, 2, '0014');
  });

  it('OPEN shorter than 29 → 1/2', () => {
    const bad = withHeader(1, fromHex('04fde800b40a000001'));
    throwsNotification(() => decodeMessage(bad, DEFAULT_CONTEXT), 1, 2, '001c');
  });

  it('NOTIFICATION shorter than 21 → 1/2', () => {
    throwsNotification(() => decodeMessage(withHeader(3, Uint8Array.of(6)), DEFAULT_CONTEXT), 1, 2, '0014');
  });

  it('unknown message type → 1/3 with the type as data', () => {
    throwsNotification(() => new FrameAssembler().push(withHeader(6, new Uint8Array(4))), 1, 3, '06');
    throwsNotification(() => decodeMessage(withHeader(0, new Uint8Array(0)), DEFAULT_CONTEXT), 1, 3, '00');
  });

  it('a frame whose Length disagrees with its size → 1/2', () => {
    const open = encodeOpen({ type: 'open', version: 4, myAs: 1, holdTime: 90, bgpId: 1, capabilities: [], otherParameters: [] });
    throwsNotification(() => decodeMessage(concat([open, Uint8Array.of(0)]), DEFAULT_CONTEXT), 1, 2, '001d');
    throwsNotification(() => decodeMessage(open.subarray(0, 10), DEFAULT_CONTEXT), 1, 2);
  });
});
