// SPDX-License-Identifier: Apache-2.0
// Tern driver for the interop lab: writes Tern's config, runs `tern run --config FILE` inside the
// Tern namespace with `ip netns exec`, queries it only through its own CLI (`tern show peers
// --json`, `tern show routes --json --peer NAME --family F`, over the control socket) and stops
// it with SIGTERM, which must make Tern send Cease/Administrative Shutdown to every peer.
// Which Tern runs: bin/tern.js when dist/ is at least as new as src/; otherwise a private build
// of the current src/ into interop/.cache/tern-dist (so the lab never tests a stale dist/ and
// never rewrites the shared one).
import { writeFileSync, mkdirSync, existsSync, statSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run, startDaemon, stopDaemon, type DaemonProcess } from './proc.ts';
import { waitFor } from './wait.ts';
import type { DutDriver, DutSpec, Family, RouteInfo, SessionStatus } from './types.ts';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PRIVATE_BUILD = join(REPO_ROOT, 'interop', '.cache', 'tern-dist');

function newestMtime(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

function mtime(path: string): number {
  return existsSync(path) ? statSync(path).mtimeMs : 0;
}

/** True when there is a Tern to run at all (the CLI entry point exists). */
export function ternAvailable(): boolean {
  return existsSync(join(REPO_ROOT, 'bin', 'tern.js')) && existsSync(join(REPO_ROOT, 'src', 'main.ts'));
}

/** The JS file to run with node: dist/main.js via bin/tern.js when fresh, else a private build. */
export async function ternEntry(): Promise<string> {
  const srcNewest = Math.max(newestMtime(join(REPO_ROOT, 'src')), mtime(join(REPO_ROOT, 'tsconfig.json')));
  if (mtime(join(REPO_ROOT, 'dist', 'main.js')) >= srcNewest) return join(REPO_ROOT, 'bin', 'tern.js');
  if (mtime(join(PRIVATE_BUILD, 'main.js')) < srcNewest) {
    const tsc = join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    // Type errors elsewhere in src/ must not hide a runnable build: tsc still emits them.
    const r = await run(process.execPath, [tsc, '-p', join(REPO_ROOT, 'tsconfig.json'), '--outDir', PRIVATE_BUILD], { check: false, timeoutMs: 120_000 });
    if (!existsSync(join(PRIVATE_BUILD, 'main.js'))) throw new Error(`building Tern failed: ${r.stdout}${r.stderr}`);
  }
  return join(PRIVATE_BUILD, 'main.js');
}

interface TernPeerJson {
  name: string;
  state: string;
  lastError: string | null;
}

interface TernRouteJson {
  prefix: string;
  nextHop: string | null;
  asPath: unknown;
  peer: string;
}

/** Tern's asPath is documented as number[]; accept "65001 65002" text too, so a shape change reads clearly. */
function asNumbers(asPath: unknown): number[] {
  if (Array.isArray(asPath)) return asPath.flatMap((x) => (typeof x === 'number' ? [x] : (String(x).match(/\d+/g) ?? []).map(Number)));
  if (typeof asPath === 'string') return (asPath.match(/\d+/g) ?? []).map(Number);
  return [];
}

export class TernDut implements DutDriver {
  readonly description = 'Tern';
  readonly spec: DutSpec;
  private readonly socket: string;
  private readonly configFile: string;
  private readonly logFile: string;
  private entry: string | undefined;
  private proc: DaemonProcess | undefined;

  constructor(spec: DutSpec) {
    this.spec = spec;
    mkdirSync(spec.workDir, { recursive: true });
    this.socket = join(spec.workDir, 'tern.ctl');
    this.configFile = join(spec.workDir, 'tern.yaml');
    this.logFile = join(spec.workDir, 'tern.log');
    const config = {
      routerId: spec.routerId,
      asn: spec.asn,
      listen: { address: spec.listen, port: 179 },
      control: { socket: this.socket },
      peers: spec.peers.map((p) => ({
        name: p.name,
        address: p.address,
        asn: p.asn,
        holdTime: 9,
        keepalive: 3,
        connectRetry: 2,
        families: p.families,
        localAddress: p.localAddress,
      })),
      originate: spec.originate,
    };
    // JSON is YAML: one file any loader reads.
    writeFileSync(this.configFile, JSON.stringify(config, null, 2) + '\n');
  }

  async start(): Promise<void> {
    this.entry ??= await ternEntry();
    const check = await run(process.execPath, [this.entry, 'check', '--config', this.configFile], { check: false });
    if (check.code !== 0) throw new Error(`tern check rejected the lab config: ${check.stderr}${check.stdout}`);
    this.proc = startDaemon('tern', process.execPath, [this.entry, 'run', '--config', this.configFile, '--log-level', 'debug'], this.logFile, this.spec.namespace);
    await waitFor('Tern control socket', async () => {
      if (!this.proc?.isRunning()) throw new Error(`tern exited; see ${this.logFile}`);
      await this.cli(['show', 'peers', '--json']);
      return true;
    }, { timeoutMs: 20_000, intervalMs: 300 });
  }

  async stop(): Promise<number | string | null> {
    return this.proc ? stopDaemon(this.proc, 'SIGTERM', 10_000) : null;
  }

  private async cli(args: string[]): Promise<unknown> {
    if (this.entry === undefined) throw new Error('tern not started');
    const r = await run(process.execPath, [this.entry, ...args, '--socket', this.socket], { timeoutMs: 10_000 });
    return JSON.parse(r.stdout) as unknown;
  }

  async peer(name: string): Promise<SessionStatus> {
    const peers = (await this.cli(['show', 'peers', '--json'])) as TernPeerJson[];
    const p = peers.find((x) => x.name === name);
    if (p === undefined) throw new Error(`tern show peers has no ${name}`);
    return { established: p.state === 'Established', state: p.state, lastError: p.lastError ?? '' };
  }

  async routes(peer: string, family: Family): Promise<RouteInfo[]> {
    const routes = (await this.cli(['show', 'routes', '--json', '--family', family, '--peer', peer])) as TernRouteJson[];
    return routes.filter((r) => r.peer === peer).map((r) => ({ prefix: r.prefix, nextHop: r.nextHop ?? '', asPath: asNumbers(r.asPath) }));
  }

  logs(): string[] {
    return [this.logFile];
  }
}
