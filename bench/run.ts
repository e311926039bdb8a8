// SPDX-License-Identifier: Apache-2.0
// The benchmark runner: `npm run bench -- <scenario|all> [--quick] [--duts tern,bird2,...]
// [--NAME v1,v2 ...] [--timeout S] [--profile] [--no-docs]`; `npm run bench -- docs` rewrites
// docs/performance.md from the stored results without running anything.
//
// NOTE to other bench authors (bench/kernel.ts, ...): this is the single entry point. Scenarios
// register themselves by file: every bench/scenarios/*.ts and bench/kernel.ts that exports
// `scenario: Scenario` (bench/lib/types.ts) is picked up by name. A scenario gets the workload
// parameters (one combination per call; the runner sweeps lists) and returns one DutRun per
// device under test; the runner writes bench/results/<scenario>-<params>.json, prints the
// table and the Tern / daemon ratios, and regenerates docs/performance.md from all results.
import { existsSync, mkdirSync, readdirSync, writeFileSync, readFileSync } from 'node:fs';
import { cpus, release } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { DUT_NAMES, dutAvailable, type DutName } from './lib/duts.ts';
import { printRatios, printTable, writeDocs } from './lib/report.ts';
import type { RunContext, Scenario, ScenarioResult } from './lib/types.ts';

const BENCH_DIR = fileURLToPath(new URL('.', import.meta.url));
export const RESULTS_DIR = join(BENCH_DIR, 'results');

export async function loadScenarios(): Promise<Map<string, Scenario>> {
  const files = readdirSync(join(BENCH_DIR, 'scenarios')).filter((f) => f.endsWith('.ts')).map((f) => join(BENCH_DIR, 'scenarios', f));
  for (const extra of ['kernel.ts']) if (existsSync(join(BENCH_DIR, extra))) files.push(join(BENCH_DIR, extra));
  const out = new Map<string, Scenario>();
  for (const file of files.sort()) {
    const mod = (await import(pathToFileURL(file).href)) as { scenario?: Scenario };
    if (mod.scenario) out.set(mod.scenario.name, mod.scenario);
  }
  return out;
}

interface Args {
  names: string[];
  quick: boolean;
  duts: DutName[];
  timeoutS?: number;
  profile: boolean;
  docs: boolean;
  values: Map<string, number[]>;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { names: [], quick: false, duts: [...DUT_NAMES], profile: false, docs: true, values: new Map() };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const next = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${arg} needs a value`);
      return v;
    };
    if (arg === '--quick') a.quick = true;
    else if (arg === '--profile') a.profile = true;
    else if (arg === '--no-docs') a.docs = false;
    else if (arg === '--timeout') a.timeoutS = Number(next());
    else if (arg === '--duts') {
      const list = next().split(',') as DutName[];
      for (const d of list) if (!DUT_NAMES.includes(d)) throw new Error(`unknown DUT ${d} (known: ${DUT_NAMES.join(', ')})`);
      a.duts = list;
    } else if (arg.startsWith('--')) {
      const values = next().split(',').map((v) => Number(v.replace(/_/g, '').replace(/k$/i, '000').replace(/m$/i, '000000')));
      if (values.some((v) => !Number.isFinite(v) || v <= 0)) throw new Error(`${arg}: expected positive numbers, e.g. 100000,1000000 or 100k,1m`);
      a.values.set(arg.slice(2), values);
    } else a.names.push(arg);
  }
  return a;
}

function combinations(params: Record<string, number[]>): Record<string, number>[] {
  let out: Record<string, number>[] = [{}];
  for (const [k, vs] of Object.entries(params)) out = out.flatMap((c) => vs.map((v) => ({ ...c, [k]: v })));
  return out;
}

function host(): ScenarioResult['host'] {
  return { cpus: cpus().length, model: cpus()[0]?.model ?? '', kernel: release(), node: process.version };
}

export function resultFile(r: Pick<ScenarioResult, 'scenario' | 'params' | 'quick'>): string {
  const p = Object.entries(r.params).map(([k, v]) => `${k}${v}`).join('-');
  return join(RESULTS_DIR, `${r.scenario}${p ? '-' + p : ''}${r.quick ? '-quick' : ''}.json`);
}

export async function runBench(argv: string[]): Promise<ScenarioResult[]> {
  const args = parseArgs(argv);
  const scenarios = await loadScenarios();
  const usage = `usage: npm run bench -- <${[...scenarios.keys(), 'all'].join('|')}> [--quick] [--duts ${DUT_NAMES.join(',')}] [--PARAM v1,v2] [--timeout S] [--profile] [--no-docs]`;
  if (args.names.length === 0) throw new Error(usage);
  if (args.names.length === 1 && args.names[0] === 'docs') {
    process.stdout.write(`wrote ${writeDocs(loadResults())}\n`); // regenerate from stored results only
    return [];
  }
  const selected = args.names.includes('all') ? [...scenarios.values()] : args.names.map((n) => scenarios.get(n) ?? (() => { throw new Error(`unknown scenario ${n}\n${usage}`); })());
  const log = (line: string): void => void process.stdout.write(line + '\n');
  const missing = args.duts.map(dutAvailable).filter((m): m is string => m !== undefined);
  for (const m of missing) log(`skipping ${m}`);
  const duts = args.duts.filter((d) => dutAvailable(d) === undefined);
  mkdirSync(RESULTS_DIR, { recursive: true });
  const results: ScenarioResult[] = [];
  for (const sc of selected) {
    if (sc.needsLab && process.getuid?.() !== 0) throw new Error(`${sc.name}: needs root (network namespaces)`);
    const sweep: Record<string, number[]> = {};
    for (const [k, spec] of Object.entries(sc.params)) sweep[k] = args.values.get(k) ?? (args.quick ? spec.quick : spec.full);
    for (const params of combinations(sweep)) {
      const profileDir = args.profile ? join(RESULTS_DIR, 'profiles') : undefined;
      const ctx: RunContext = { duts, quick: args.quick, timeoutS: args.timeoutS ?? (args.quick ? 30 : 600), log, ...(profileDir ? { profileDir } : {}) };
      log(`== ${sc.name} ${JSON.stringify(params)} (${duts.join(', ')})`);
      const startedAt = new Date().toISOString();
      const out = await sc.run(params, ctx);
      const result: ScenarioResult = { scenario: sc.name, params, quick: args.quick, startedAt, host: host(), runs: Array.isArray(out) ? out : out.runs };
      if (!Array.isArray(out)) result.extra = out.extra;
      // A run of some DUTs only keeps the stored runs of the others (same scenario and sizes).
      const file = resultFile(result);
      if (existsSync(file)) {
        const earlier = JSON.parse(readFileSync(file, 'utf8')) as ScenarioResult;
        const kept = earlier.runs.filter((r) => !result.runs.some((x) => x.dut === r.dut));
        result.runs = [...result.runs, ...kept].sort((a, b) => DUT_NAMES.indexOf(a.dut) - DUT_NAMES.indexOf(b.dut));
      }
      writeFileSync(file, JSON.stringify(result, null, 1) + '\n');
      results.push(result);
      printTable(result, log);
    }
  }
  log('');
  for (const r of results) printRatios(r, log);
  if (args.docs && !args.quick) {
    const file = writeDocs(loadResults());
    log(`\nwrote ${file}`);
  }
  return results;
}

/** Every stored result (full-size runs only), for the docs. */
export function loadResults(): ScenarioResult[] {
  if (!existsSync(RESULTS_DIR)) return [];
  return readdirSync(RESULTS_DIR)
    .filter((f) => f.endsWith('.json') && !f.endsWith('-quick.json'))
    .map((f) => JSON.parse(readFileSync(join(RESULTS_DIR, f), 'utf8')) as ScenarioResult);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  runBench(process.argv.slice(2)).then(
    () => process.exit(0),
    (err: unknown) => {
      process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
