// SPDX-License-Identifier: Apache-2.0
// Codec throughput on real data: every BGP4MP UPDATE of the RIPE RIS dump in shared/data/mrt
// decoded with Tern's decoder (messages/s, prefixes/s), and every decoded UPDATE encoded again.
// In-process, repeated until at least 2 s (0.3 s in --quick) per measurement, after one warm-up
// pass. Reference: `bgpdump -m` over the same file (C, libbgpdump; it also gunzips and prints
// one text line per prefix, so it is an upper bound on its decode time), when installed.
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { HEADER_LENGTH, MessageType } from '../../src/bgp/messages/iana.ts';
import { DEFAULT_CONTEXT, type CodecContext, type DecodedUpdate, type Family } from '../../src/bgp/messages/types.ts';
import { decodeUpdate, encodeUpdate } from '../../src/bgp/messages/update.ts';
import { readMrtFile, readMrtMessages } from '../../src/util/mrt.ts';
import { sharedData } from '../../scripts/shared-data.ts';
import type { Scenario } from '../lib/types.ts';

const RIS_FILE = 'ris-rrc-updates.20190101.0000.gz';

function contextFor(as4: boolean, addPath: boolean): CodecContext {
  const both = new Set<Family>(['ipv4-unicast', 'ipv6-unicast']);
  return { ...DEFAULT_CONTEXT, as4, maxMessageSize: 65535, families: both, addPathReceive: addPath ? both : new Set(), addPathSend: addPath ? both : new Set() };
}

function prefixesOf(d: DecodedUpdate): number {
  let n = d.message.nlri.length + d.message.withdrawn.length;
  for (const a of d.message.attributes) {
    if (a.kind === 'mp-reach') n += a.nlri.length;
    else if (a.kind === 'mp-unreach') n += a.withdrawn.length;
  }
  return n;
}

/** Run `pass` repeatedly for at least `minMs`; returns passes per second. */
function rate(pass: () => void, minMs: number): { passes: number; seconds: number } {
  pass(); // warm-up: JIT
  const t0 = performance.now();
  let passes = 0;
  do {
    pass();
    passes++;
  } while (performance.now() - t0 < minMs);
  return { passes, seconds: (performance.now() - t0) / 1000 };
}

export const scenario: Scenario = {
  name: 'codec',
  describe: 'UPDATE decode and encode throughput on the RIS MRT dump (Tern in-process; bgpdump as reference)',
  needsLab: false,
  params: {},
  async run(_params, ctx) {
    const file = sharedData('mrt', RIS_FILE);
    const { messages } = readMrtMessages(readMrtFile(file));
    const updates = messages.filter((m) => m.message[18] === MessageType.Update).map((m) => ({ body: m.message.subarray(HEADER_LENGTH), ctx: contextFor(m.as4, m.addPath) }));
    const decoded: { d: DecodedUpdate; ctx: CodecContext }[] = [];
    let prefixes = 0;
    let bytes = 0;
    for (const u of updates) {
      try {
        const d = decodeUpdate(u.body, u.ctx);
        decoded.push({ d, ctx: u.ctx });
        prefixes += prefixesOf(d);
        bytes += u.body.length + HEADER_LENGTH;
      } catch {
        // a message that resets the session: not part of the throughput figure
      }
    }
    const minMs = ctx.quick ? 300 : 2_000;
    const dec = rate(() => {
      for (const u of updates) {
        try {
          decodeUpdate(u.body, u.ctx);
        } catch {
          // counted above
        }
      }
    }, minMs);
    const enc = rate(() => {
      for (const x of decoded) encodeUpdate(x.d.message, x.ctx);
    }, minMs);
    const perS = (count: number, r: { passes: number; seconds: number }): number => Math.round((count * r.passes) / r.seconds);
    const extra: Record<string, unknown> = {
      file: RIS_FILE,
      updates: updates.length,
      decodedOk: decoded.length,
      prefixes,
      megabytes: Math.round(bytes / 1e4) / 100,
      tern: {
        decodeMsgsPerS: perS(updates.length, dec),
        decodePrefixesPerS: perS(prefixes, dec),
        decodeMBPerS: Math.round((bytes * dec.passes) / dec.seconds / 1e4) / 100,
        encodeMsgsPerS: perS(decoded.length, enc),
        encodePrefixesPerS: perS(prefixes, enc),
      },
    };
    if (existsSync('/usr/bin/bgpdump')) {
      const t0 = performance.now();
      const r = spawnSync('/usr/bin/bgpdump', ['-m', file], { stdio: ['ignore', 'ignore', 'ignore'] });
      const s = (performance.now() - t0) / 1000;
      if (r.status === 0) extra.bgpdump = { seconds: Math.round(s * 1000) / 1000, msgsPerS: Math.round(messages.length / s), note: 'bgpdump -m: gunzip + decode + text output of every record (upper bound on decode time)' };
    }
    ctx.log(`  codec: ${JSON.stringify(extra)}`);
    return { runs: [], extra };
  },
};
