// SPDX-License-Identifier: Apache-2.0
// Real-world input: every BGP4MP UPDATE of a RIPE RIS updates dump (54,471 BGP4MP_MESSAGE_AS4
// records, /work/shared/data/README.md) decodes without a NOTIFICATION and re-encodes
// byte-identically. The counts are printed, asserted, and published in docs/mrt-roundtrip.md
// (scripts/mrt-stats.ts).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { RIS_FILE, mrtRoundTrip } from '../../scripts/mrt-stats.ts';
import { Bgp4mpSubtype, readMrtFile, readMrtMessages } from '../../src/util/mrt.ts';

describe('MRT: RIPE RIS rrc updates 2019-01-01 00:00', () => {
  it('reads 54,471 BGP4MP_MESSAGE_AS4 records (RFC 6396 §4.4.3)', () => {
    const { messages, skipped } = readMrtMessages(readMrtFile(RIS_FILE));
    assert.equal(messages.length, 54471);
    assert.equal(skipped, 43); // BGP4MP_STATE_CHANGE_AS4
    assert.ok(messages.every((m) => m.subtype === Bgp4mpSubtype.MessageAs4 && m.as4 && !m.addPath));
    // Every embedded message starts with the 16-octet marker and carries its own length.
    assert.ok(messages.every((m) => m.message.subarray(0, 16).every((b) => b === 0xff) && ((m.message[16]! << 8) | m.message[17]!) === m.message.length));
  });

  it('decodes every UPDATE and re-encodes it byte-identically', () => {
    const s = mrtRoundTrip(RIS_FILE);
    console.log(
      `MRT round trip: records=${s.records} updates=${s.messagesByType['2']} decoded=${s.updatesDecoded} ` +
        `byte-identical=${s.byteIdentical} non-identical=${JSON.stringify(s.nonIdentical)} resets=${JSON.stringify(s.sessionResets)} ` +
        `problems=${JSON.stringify(s.problemsByRule)} decode=${s.decodeMs.toFixed(0)}ms`,
    );
    assert.equal(s.records, 54471);
    assert.equal(s.messagesByType['2'], 54107);
    assert.equal(s.messagesByType['4'], 364);
    assert.deepEqual(s.sessionResets, {});
    assert.equal(s.updatesDecoded, 54107);
    assert.deepEqual(s.nonIdentical, {});
    assert.equal(s.byteIdentical, 54107);
    assert.equal(s.updatesWithProblems, 0);
    // What the file exercises (so a decoder that silently drops things cannot pass).
    assert.equal(s.ipv4Nlri, 150389);
    assert.equal(s.ipv4Withdrawn, 2173);
    assert.equal(s.mpReachNlri, 9559);
    assert.equal(s.mpUnreachWithdrawn, 453);
    assert.equal(s.attributesByType['32'], 7546); // large communities
    assert.equal(s.attributesByType['7'], 5724); // AGGREGATOR
  });
});
