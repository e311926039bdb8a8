// SPDX-License-Identifier: Apache-2.0
// `tern calico render` on every input file of the confd goldens, through the CLI entry (main),
// plus one run of the real process. Checks the exit code, the exact public field names of the
// output, and (for rendering cases) that the CLI prints what compileNode returns.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, statSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { main } from '../../src/cli.ts';
import { loadConfig } from '../../src/config/index.ts';
import { GOLDENS, SCENARIOS } from './scenarios.ts';

const RENDER_KEYS = ['asn', 'listen', 'originate', 'peers', 'routerId'];
const PEER_KEYS = [
  'addPaths', 'address', 'allowLocalAs', 'asn', 'clusterId', 'families', 'gracefulRestartTime', 'keepaliveTime', 'localAsn',
  'name', 'nextHop', 'passive', 'password', 'port', 'routeReflectorClient', 'sourceAddress', 'ttlSecurity',
];

function yamlFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) out.push(...yamlFiles(p));
    else if (e.endsWith('.yaml')) out.push(p);
  }
  return out.sort();
}

async function runCli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const o = process.stdout.write.bind(process.stdout);
  const e = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((s: string) => ((out += s), true)) as typeof process.stdout.write;
  process.stderr.write = ((s: string) => ((err += s), true)) as typeof process.stderr.write;
  try {
    const code = await main(argv);
    return { code, out, err };
  } finally {
    process.stdout.write = o;
    process.stderr.write = e;
  }
}

function nodeFor(file: string): string {
  const rel = file.slice(`${GOLDENS}/inputs/`.length);
  const sc = SCENARIOS.find((s) => s.inputs.some((i) => rel.startsWith(`${i}/`)));
  if (sc) return sc.node;
  return /^(idle_peers|node_deletion)\//.test(rel) ? 'node1' : 'kube-master';
}

const FILES = yamlFiles(`${GOLDENS}/inputs`);

test('there are golden inputs to render', () => {
  assert.ok(FILES.length >= 70, `${FILES.length} files`);
});

test('tern calico render works on every golden input file', async () => {
  const failures: string[] = [];
  for (const file of FILES) {
    const { code, out, err } = await runCli(['calico', 'render', '--node', nodeFor(file), '--env', 'CALICO_ROUTER_ID=hash', file]);
    if (code !== 0) {
      failures.push(`${file}: exit ${code}: ${err}`);
      continue;
    }
    const r = JSON.parse(out) as Record<string, unknown>;
    assert.deepEqual(Object.keys(r).sort(), RENDER_KEYS, file);
    assert.deepEqual(Object.keys(r.listen as object).sort(), ['address', 'port'], file);
    for (const p of r.peers as Record<string, unknown>[]) assert.deepEqual(Object.keys(p).sort(), PEER_KEYS, `${file} ${String(p.name)}`);
    for (const o of r.originate as Record<string, unknown>[]) assert.ok(o.blackhole === true || typeof o.via === 'string', file);
  }
  assert.deepEqual(failures, []);
});

test('input.yaml with its kubectl-input.yaml, rendered together, and the written config loads', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tern-calico-'));
  const base = `${GOLDENS}/inputs/mesh/static-routes`;
  const cfg = join(dir, 'tern.json');
  const { code, out } = await runCli(['calico', 'render', '--node=kube-master', '--config-out', cfg, `${base}/input.yaml`, `${base}/kubectl-input.yaml`]);
  assert.equal(code, 0);
  const r = JSON.parse(out) as { originate: { prefix: string }[] };
  // The per-service /32 of service-1 (Local policy, endpoint on kube-master) and the ranges.
  assert.deepEqual(r.originate.map((o) => o.prefix).filter((p) => p.startsWith('10.101.') || p.startsWith('80.15.')).sort(), ['10.101.0.0/16', '10.101.0.101/32', '80.15.0.0/24']);
  const config = loadConfig(cfg);
  assert.equal(config.peers.length, 4); // two mesh peers per family
  assert.ok(readFileSync(cfg, 'utf8').includes('calico-kernel-programming'));
});

test('usage errors exit 2', async () => {
  assert.equal((await runCli(['calico', 'render', 'x.yaml'])).code, 2); // no --node
  assert.equal((await runCli(['calico', 'render', '--node', 'n'])).code, 2); // no file
  assert.equal((await runCli(['calico', 'render', '--node', 'n', '--env', 'NOEQUALS', 'x.yaml'])).code, 2);
  assert.equal((await runCli(['calico', 'render', '--node', 'n', '--bogus', 'x.yaml'])).code, 2);
  assert.equal((await runCli(['calico', 'render', '--node', 'n', '/nonexistent.yaml'])).code, 1);
});

test('the real process renders a golden input', () => {
  const file = `${GOLDENS}/inputs/mesh/ipip-always/input.yaml`;
  const out = execFileSync(process.execPath, ['--import', 'tsx', 'src/main.ts', 'calico', 'render', '--node', 'kube-master', file], {
    cwd: new URL('../..', import.meta.url).pathname,
    encoding: 'utf8',
  });
  const r = JSON.parse(out) as { routerId: string; peers: { name: string; passive: boolean }[] };
  assert.equal(r.routerId, '10.192.0.2');
  // Mesh passive rule: the greater IP string waits.
  assert.deepEqual(r.peers.map((p) => [p.name, p.passive]), [['Mesh_10_192_0_3', true], ['Mesh_10_192_0_4', true]]);
});
