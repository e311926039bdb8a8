#!/usr/bin/env node
// SPDX-License-Identifier: Apache-2.0
// Runs the whole suite with node:test: unit and property tests from test/, then (as root) the
// interop lab against real BIRD, GoBGP and FRR, installing the peers first. Flags: --unit, --interop.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = new Set(process.argv.slice(2));
const wantUnit = !args.has('--interop') || args.has('--unit');
const wantInterop = !args.has('--unit') || args.has('--interop');
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

function findTests(dir) {
  const out = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...findTests(path));
    else if (entry.name.endsWith('.test.ts')) out.push(relative(root, path));
  }
  return out.sort();
}

const totals = { passed: 0, failed: 0, skipped: 0 };

// Spec output for people, plus a TAP copy whose summary lines we add up for the closing line.
function nodeTest(files, extra = []) {
  const tap = join(mkdtempSync(join(tmpdir(), 'tern-test-')), 'report.tap');
  const reporters = ['--test-reporter=spec', '--test-reporter-destination=stdout', '--test-reporter=tap', `--test-reporter-destination=${tap}`];
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', ...reporters, ...extra, ...files], { cwd: root, stdio: 'inherit' });
  const report = existsSync(tap) ? readFileSync(tap, 'utf8') : '';
  const count = (name) => Number(new RegExp(`^# ${name} (\\d+)$`, 'm').exec(report)?.[1] ?? 0);
  totals.passed += count('pass');
  totals.failed += count('fail') + count('cancelled');
  totals.skipped += count('skipped');
  rmSync(dirname(tap), { recursive: true, force: true });
  return r.status ?? 1;
}

let status = 0;
// As root, the peer daemons (BIRD, GoBGP, FRR, pmacct, bgpdump) are installed first: some unit
// tests use them as oracles too (bgpdump reading our MRT dumps, bird -p checking documented configs).
let peersReady = false;
if (isRoot && (wantInterop || wantUnit)) {
  const install = spawnSync('bash', [join(root, 'scripts', 'install-peers.sh')], { cwd: root, stdio: 'inherit' });
  peersReady = install.status === 0;
  if (!peersReady) {
    process.stderr.write('installing the peer daemons failed\n');
    status = 1;
  }
}
// A hung test fails after its timeout instead of eating CI's 90 minutes.
if (wantUnit) status = nodeTest(findTests(join(root, 'test')), ['--test-concurrency=2', '--test-timeout=300000']) || status;
if (wantInterop) {
  if (!isRoot) process.stderr.write('interop: skipped (needs root for network namespaces; run `sudo npm test`)\n');
  else if (peersReady) status = nodeTest(findTests(join(root, 'interop')), ['--test-timeout=600000']) || status;
}
process.stdout.write(`\n${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped\n`);
process.exit(status);
