// SPDX-License-Identifier: Apache-2.0
// What a full table leaves behind in V8's heap, measured by bench/rib-memory.ts in its own Node
// process (the flags of the standalone service, so pretenuring is on as deployed). These are not
// speed limits: each checks a property that was once broken by a wide margin.
//   - A withdrawal of every route frees it: the class Adj-RIB-Out's tombstones go once every
//     member has read them (they stayed until twice as many new ones piled up: ~250 bytes a route),
//     and so do the class's encoded UPDATEs. The feeder withdraws in an order unrelated to the
//     announce's, as BIRD does: the encodings of withdrawals, kept while any of their prefixes'
//     tombstones was, then held ~35 bytes a route (5.2 MB here) until the next change.
//   - Withdrawn routes do not become old garbage: when the RIB kept the decoded NLRIs of
//     announcements, V8 learned to pretenure the decoder's allocation site, and withdrawn NLRIs
//     made there put ~170 bytes a route of garbage straight into the old generation (now ~60).
//   - A received prefix is kept as its key (KeyNlri, ~32 bytes), not as the decoded NLRI with
//     its address view (~140): 681 heap bytes a route at this size before, 569 after (545 once
//     the accepted route and the destination lost the fields they can read from it).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { RibMemoryResult } from '../../bench/rib-memory.ts';

const SCRIPT = fileURLToPath(new URL('../../bench/rib-memory.ts', import.meta.url));
const N = 150_000;

describe('RIB memory over a full announce and withdraw', () => {
  const out = execFileSync(process.execPath, ['--expose-gc', '--max-semi-space-size=2', '--import', 'tsx', SCRIPT, String(N), '2', '--json'], { encoding: 'utf8', timeout: 120_000 });
  const r = JSON.parse(out) as RibMemoryResult;

  it('every monitor was sent every route', () => {
    assert.deepEqual(r.sent, [N, N]);
  });

  it('after the withdrawal, the heap holds nothing of the table', () => {
    assert.ok(r.heapLeftAfterWithdrawBytes < N * 10, `${r.heapLeftAfterWithdrawBytes} bytes left after withdrawing ${N} routes`);
  });

  // 342 measured: a route keeps its prefix key, not the decoded NLRI (681 before), a
  // destination of one path keeps no array and no verdict (545 before), an accepted route
  // is found in the Loc-RIB, with no Adj-RIB-In table of its own (449 before), a route
  // alone at its prefix is its own destination (408 before), a class answer's next hop
  // is kept once per answer, not per class-table node (361 before), and the class forgets
  // encoded UPDATEs every member has read (352 before).
  it('a route costs the heap its prefix key, one Adj-RIB-In object, and no destination object for one path', () => {
    assert.ok(r.heapBytesPerRoute < 390, `${r.heapBytesPerRoute} heap bytes a route`);
  });

  it('withdrawn routes do not land in the old generation as garbage', () => {
    assert.ok(r.withdrawOldGrowthBytesPerRoute < 100, `old space grew ${r.withdrawOldGrowthBytesPerRoute} bytes a withdrawn route`);
  });
});
