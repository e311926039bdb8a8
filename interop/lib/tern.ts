// SPDX-License-Identifier: Apache-2.0
// Tern driver for the interop lab: writes Tern's config, runs `tern run --config FILE` inside the
// Tern namespace with `ip netns exec`, queries it only through its own CLI (`tern show peers
// --json`, `tern show routes --json --peer NAME --family F`, over the control socket) and stops
// it with SIGTERM, which must make Tern send Cease/Administrative Shutdown to every peer.
// Which Tern runs: bin/tern.js when dist/ is at least as new as src/; otherwise a private build
// of the current src/ into interop/.cache/tern-dist-<mtime> (so the lab never tests a stale
// dist/ and never rewrites the shared one).
import { writeFileSync, mkdirSync, existsSync, statSync, readdirSync, rmSync, renameSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run, startDaemon, stopDaemon, type DaemonProcess } from './proc.ts';
import { waitFor } from './wait.ts';
import { GR_RESTART_TIME, type DutDriver, type DutSpec, type Family, type RouteInfo, type SessionStatus } from './types.ts';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PRIVATE_BUILDS = join(REPO_ROOT, 'interop', '.cache');

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

let entryPromise: Promise<string> | undefined;

/**
 * The JS file to run with node: dist/main.js via bin/tern.js when fresh, else a private build.
 * Decided (and built) once per process: concurrent scenarios must not run tsc into the same
 * directory at once, and every Tern of one run must be the same build.
 */
export function ternEntry(): Promise<string> {
  entryPromise ??= resolveEntry();
  return entryPromise;
}

async function resolveEntry(): Promise<string> {
  const srcNewest = Math.max(newestMtime(join(REPO_ROOT, 'src')), mtime(join(REPO_ROOT, 'tsconfig.json')));
  if (mtime(join(REPO_ROOT, 'dist', 'main.js')) >= srcNewest) return join(REPO_ROOT, 'bin', 'tern.js');
  // One directory per state of src/ (named by its newest mtime), built beside and renamed
  // into place: test files run as separate processes, and one must never rebuild or delete
  // the build another is running from.
  const build = join(PRIVATE_BUILDS, `tern-dist-${Math.floor(srcNewest)}`);
  if (!existsSync(join(build, 'main.js'))) {
    const tmp = `${build}.tmp-${process.pid}`;
    rmSync(tmp, { recursive: true, force: true });
    const tsc = join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    // Type errors elsewhere in src/ must not hide a runnable build: tsc still emits them.
    const r = await run(process.execPath, [tsc, '-p', join(REPO_ROOT, 'tsconfig.json'), '--outDir', tmp], { check: false, timeoutMs: 180_000 });
    if (!existsSync(join(tmp, 'main.js'))) throw new Error(`building Tern failed: ${r.stdout}${r.stderr}`);
    try {
      renameSync(tmp, build);
    } catch {
      rmSync(tmp, { recursive: true, force: true }); // another process got there first
    }
  }
  removeOldBuilds(build);
  linkNativeAddon();
  return join(build, 'main.js');
}

/**
 * The addon is found at `<build>/../../build/Release` (src/native/index.ts), which for a private
 * build is interop/.cache/build: point it at the repository's build/ (kernel sync needs it).
 */
function linkNativeAddon(): void {
  const link = join(PRIVATE_BUILDS, 'build');
  if (existsSync(link)) return;
  try {
    symlinkSync(join(REPO_ROOT, 'build'), link);
  } catch {
    // another process made it first
  }
}

/** Deletes private builds other than `keep` that nothing can still be using (over an hour old). */
function removeOldBuilds(keep: string): void {
  for (const e of readdirSync(PRIVATE_BUILDS, { withFileTypes: true })) {
    const p = join(PRIVATE_BUILDS, e.name);
    if (!e.isDirectory() || !e.name.startsWith('tern-dist') || p === keep) continue;
    if (Date.now() - statSync(p).mtimeMs > 3_600_000) rmSync(p, { recursive: true, force: true });
  }
}

interface TernPeerJson {
  name: string;
  state: string;
  lastError: string | null;
}

/** A row of `tern show routes --json`; fields after `peer` arrived with the RIB (may be absent before). */
export interface TernRouteJson {
  prefix: string;
  nextHop: string | null;
  asPath: unknown;
  peer: string;
  pathId?: number | null;
  originatorId?: string | null;
  clusterList?: string[];
  best?: boolean;
  reason?: string | null;
  stale?: boolean;
}

export type TernTable = 'adj-in' | 'loc' | 'adj-out';

/** Tern's asPath is documented as number[]; accept "65001 65002" text too, so a shape change reads clearly. */
export function asNumbers(asPath: unknown): number[] {
  if (Array.isArray(asPath)) return asPath.flatMap((x) => (typeof x === 'number' ? [x] : (String(x).match(/\d+/g) ?? []).map(Number)));
  if (typeof asPath === 'string') return (asPath.match(/\d+/g) ?? []).map(Number);
  return [];
}

/** Tern's config for a DutSpec; `policies` adds RFC 8212 `import: all`/`export: all` to eBGP peers. */
export function ternConfig(spec: DutSpec, socket: string, policies: boolean): Record<string, unknown> {
  const config: Record<string, unknown> = {
    routerId: spec.routerId,
    asn: spec.asn,
    listen: { address: spec.listen, port: 179 },
    control: { socket },
  };
  if (spec.clusterId !== undefined) config.routeReflector = { clusterId: spec.clusterId };
  config.peers = spec.peers.map((p) => {
    const peer: Record<string, unknown> = {
      name: p.name,
      address: p.address,
      asn: p.asn,
      holdTime: 9,
      keepalive: 3,
      connectRetry: 2,
      families: p.families,
      localAddress: p.localAddress,
    };
    // RFC 8212: an eBGP peer without policies gets nothing in and nothing out.
    if (policies && p.asn !== spec.asn) Object.assign(peer, { import: 'all', export: 'all' });
    if (p.rrClient === true) peer.routeReflectorClient = true;
    if (p.addPaths !== undefined) peer.addPaths = p.addPaths;
    if (p.gracefulRestart === true) peer.gracefulRestart = { restartTime: GR_RESTART_TIME };
    return peer;
  });
  config.originate = spec.originate;
  return config;
}

export class TernDut implements DutDriver {
  readonly description = 'Tern';
  readonly spec: DutSpec;
  private readonly socket: string;
  private readonly configFile: string;
  private readonly logFile: string;
  private entry: string | undefined;
  private proc: DaemonProcess | undefined;
  /** Set when the config had to leave out import/export (a Tern without policies). */
  configNote: string | undefined;

  constructor(spec: DutSpec) {
    this.spec = spec;
    mkdirSync(spec.workDir, { recursive: true });
    this.socket = join(spec.workDir, 'tern.ctl');
    this.configFile = join(spec.workDir, 'tern.yaml');
    this.logFile = join(spec.workDir, 'tern.log');
  }

  /**
   * Writes the config and has `tern check` accept it. eBGP peers get `import: all`/`export:
   * all` (RFC 8212); a Tern whose schema predates policies rejects those keys, and then the
   * config without them is used (a note says so). Scenario worlds are iBGP only.
   */
  private async writeConfig(entry: string): Promise<void> {
    const attempt = async (policies: boolean): Promise<string | undefined> => {
      // JSON is YAML: one file any loader reads.
      writeFileSync(this.configFile, JSON.stringify(ternConfig(this.spec, this.socket, policies), null, 2) + '\n');
      const check = await run(process.execPath, [entry, 'check', '--config', this.configFile], { check: false });
      return check.code === 0 ? undefined : `${check.stderr}${check.stdout}`.trim();
    };
    const hasEbgp = this.spec.peers.some((p) => p.asn !== this.spec.asn);
    const first = await attempt(hasEbgp);
    if (first === undefined) return;
    if (hasEbgp && /\bimport\b|\bexport\b/.test(first) && (await attempt(false)) === undefined) {
      this.configNote = `tern check rejected import/export (${first.split('\n')[0] ?? ''}); running without them (Tern predates RFC 8212 policies)`;
      return;
    }
    throw new Error(`tern check rejected the lab config ${this.configFile}: ${first}`);
  }

  /** `recovery`: a restart as RFC 4724's restarting speaker (`tern run --graceful-restart`, as BIRD's -R). */
  async start(opts: { recovery?: boolean } = {}): Promise<void> {
    this.entry ??= await ternEntry();
    if (!existsSync(this.configFile)) await this.writeConfig(this.entry);
    const args = [this.entry, 'run', '--config', this.configFile, '--log-level', 'debug', ...(opts.recovery === true ? ['--graceful-restart'] : [])];
    this.proc = startDaemon('tern', process.execPath, args, this.logFile, this.spec.namespace);
    await waitFor('Tern control socket', async () => {
      if (!this.proc?.isRunning()) throw new Error(`tern exited; see ${this.logFile}`);
      await this.cli(['show', 'peers', '--json']);
      return true;
    }, { timeoutMs: 20_000, intervalMs: 300 });
  }

  /** SIGTERM (graceful, 10 s grace) by default; SIGKILL for a crash-like restart. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | string | null> {
    return this.proc ? stopDaemon(this.proc, signal, 10_000) : null;
  }

  isRunning(): boolean {
    return this.proc?.isRunning() ?? false;
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

  /**
   * Raw rows of `tern show routes --json --family F [--table T] [--peer P]`. Without `table`
   * it is Tern's default view. A Tern without `--table` fails the call with its usage error.
   */
  async routeRows(family: Family, opts: { table?: TernTable; peer?: string } = {}): Promise<TernRouteJson[]> {
    const args = ['show', 'routes', '--json', '--family', family];
    if (opts.table !== undefined) args.push('--table', opts.table);
    if (opts.peer !== undefined) args.push('--peer', opts.peer);
    return (await this.cli(args)) as TernRouteJson[];
  }

  logs(): string[] {
    return [this.logFile];
  }
}
