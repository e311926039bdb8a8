// SPDX-License-Identifier: Apache-2.0
// Fuzzing, the small run `npm test` does (the long one is `npm run fuzz -- --minutes N`, which
// saves findings to test/fixtures/regress/fuzz/ for regress.test.ts): structurally valid
// messages with exactly one field mutated, and random bodies, (1) through the decoder — nothing
// but BgpNotificationError may come out — and (2) through live iBGP and eBGP sessions of a
// Tern daemon on loopback: after every input the session either still answers or was reset
// with a NOTIFICATION (a NOTIFICATION of ours may end it quietly), and the daemon never dies.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DEFAULT_CONTEXT } from '../../src/bgp/messages/types.ts';
import { dottedToU32 } from '../../src/util/ip.ts';
import { EBGP, IBGP } from '../fixtures/messages/update/build.ts';
import { decodeAsSession, fuzzFrame, mutatedMessage } from '../helpers/fuzz-corpus.ts';
import { Injector, Lab, TERN_ASN, EBGP_ASN, liveVerdict } from '../helpers/injector.ts';


const SEED = Number(process.env.TERN_FUZZ_SEED ?? 20260611);

describe('fuzz: decoder', () => {
  for (const [sort, ctx] of [['ibgp', IBGP], ['ebgp', EBGP]] as const) {
    it(`${sort}: one-field mutations and random bodies never escape as anything but a NOTIFICATION`, () => {
      fc.assert(
        fc.property(fuzzFrame(sort), ({ frame, what }) => {
          const r = decodeAsSession(frame, ctx);
          assert.notEqual(r.kind, 'crash', `${what}: ${r.kind === 'crash' ? String(r.error) : ''}`);
        }),
        { numRuns: 3000, seed: SEED },
      );
    });
  }

  it('OPEN stage: mutated OPENs through decoding and RFC 4271 §6.2 validation', () => {
    const peer = { localAsn: TERN_ASN, peerAsn: EBGP_ASN, localBgpId: dottedToU32('127.0.0.1')! };
    fc.assert(
      fc.property(mutatedMessage('ebgp'), ({ frame, what }) => {
        const r = decodeAsSession(frame, DEFAULT_CONTEXT, peer);
        assert.notEqual(r.kind, 'crash', `${what}: ${r.kind === 'crash' ? String(r.error) : ''}`);
      }),
      { numRuns: 2000, seed: SEED + 1 },
    );
  });
});

describe('fuzz: live sessions', () => {
  let lab: Lab;
  before(async () => {
    lab = await Lab.start({ ibgp: 40, ebgp: 40 });
  });
  after(async () => {
    await lab.stop();
  });

  for (const sort of ['ibgp', 'ebgp'] as const) {
    it(`${sort}: 60 fuzzed messages; every one survived or reset with a NOTIFICATION`, async () => {
      const inputs = fc.sample(fuzzFrame(sort), { numRuns: 60, seed: SEED + (sort === 'ibgp' ? 2 : 3) });
      const inj = new Injector(lab, sort);
      const failures: string[] = [];
      const tally = { alive: 0, reset: 0 };
      for (const { frame, what } of inputs) {
        await inj.ensureConnected();
        const verdict = await liveVerdict(inj, frame);
        if (!verdict.ok) failures.push(`${what} (${Buffer.from(frame).toString('hex').slice(0, 120)}): ${verdict.detail}`);
        else tally[verdict.outcome]++;
      }
      assert.deepEqual(failures, []);
      assert.equal(tally.alive + tally.reset, inputs.length);
      // The daemon is alive and answering.
      assert.ok((await lab.peers()).length === 80);
      await inj.close();
    });
  }
});
