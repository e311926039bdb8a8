// SPDX-License-Identifier: Apache-2.0
// Liveness under load (bench/liveness.ts at a size for `npm test`): Tern, a child process, takes
// in 100k prefixes from a scripted feeder while a watcher peer with hold time 3 s must keep its
// session: the longest silence from Tern at the watcher stays below the hold time, the watcher
// never gets a NOTIFICATION, and every prefix arrives. `node --import tsx bench/liveness.ts` runs
// the same at 1M.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runLiveness } from '../../bench/liveness.ts';

test('a 3 s hold-time peer stays up while Tern ingests 100k prefixes', { timeout: 180_000 }, async () => {
  const r = await runLiveness({ prefixes: 100_000, holdTime: 3, timeoutMs: 120_000 });
  const { ternLog, ...numbers } = r;
  const report = `${JSON.stringify(numbers)}\n${ternLog}`;
  assert.ok(Number.isFinite(r.ingestMs), `Tern received every prefix: ${report}`);
  assert.equal(r.watcherUp, true, `the watcher's session survived: ${report}`);
  assert.ok(r.maxGapMs < r.holdTime * 1000, `longest silence ${r.maxGapMs} ms < hold time ${r.holdTime} s: ${report}`);
  // Tern sends a KEEPALIVE every hold/3 = 1 s; a gap of 2 s means the loop stalled for a whole
  // keepalive period, already a warning sign on a slower machine.
  assert.ok(r.maxGapMs < 2000, `longest silence ${r.maxGapMs} ms stays under two keepalive periods: ${report}`);
});
