// SPDX-License-Identifier: Apache-2.0
// `tern calico run`: what confd + bird + bird6 do inside calico-node, as one process.
//   datastore (Kubernetes API) → CalicoSnapshot → compileNode → Tern config (validated, written
//   to a file for operators and `tern show ... --config`) → Daemon.
// The daemon starts only after every source synced once (confd renders nothing before), in
// graceful-restart recovery mode when asked (BIRD's -R, which calico-node always passes), and
// each later snapshot is applied live with Daemon.applyConfig: unchanged sessions are untouched,
// a changed peer (address, AS, password, ...) is reset alone. A snapshot that does not compile
// to a valid config is logged and skipped; the running config stays (confd's check_cmd).
// It does not read Calico's etcd datastore, and does not do calico-node's startup work
// (address autodetection, Node annotation writes): calico-node's own startup still does that.
import { EventEmitter } from 'node:events';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { ConfigError, formatConfigError, parseConfig, type TernConfig } from '../config/index.ts';
import { Daemon, type ReloadReport } from '../daemon.ts';
import type { Logger } from '../observability/log.ts';
import { compileNode, type CalicoEnv, type CalicoSnapshot, type CompileResult } from './resources.ts';
import { CalicoDatastore, type DatastoreOptions } from './datastore/datastore.ts';
import { clientNodeTransport, loadKubeConfig, type KubeTransport } from './datastore/transport.ts';

/** Where the compiled Tern config goes (beside confd's rendered bird.cfg in calico-node). */
export const DEFAULT_CALICO_CONFIG_FILE = '/etc/calico/confd/config/tern.json';

export interface CalicoRunOptions {
  env: NodeJS.ProcessEnv;
  log: Logger;
  /** The compiled config is written here (must end in .json: it is read back with the JSON schema). */
  configFile?: string;
  /** Start in RFC 4724 restarting-speaker mode (BIRD -R in calico-node). */
  gracefulRestart?: boolean;
  /** Defaults to @kubernetes/client-node with $KUBECONFIG or the in-cluster service account. */
  transport?: KubeTransport;
  /** Datastore tuning (debounce, backoff) for tests. */
  datastore?: Partial<Pick<DatastoreOptions, 'debounceMs' | 'backoff' | 'forbiddenRetryMs' | 'watchTimeoutSeconds'>>;
  /** The compiler (default compileNode); tests may substitute one. */
  compile?: (snapshot: CalicoSnapshot, env: CalicoEnv) => CompileResult;
  /** Last word on the compiled document before validation (tests: ports, socket, no kernel). */
  adjust?: (doc: Record<string, unknown>) => Record<string, unknown>;
}

/**
 * What the compiler leaves to the deployment (it only knows BGP): in calico-node, Tern's own
 * control socket beside BIRD's, and the BIRD-compatible sockets that calico-node's
 * `-bird-ready`/`-bird-live` probes, birdcl and `calicoctl node status` talk to.
 * TERN_CONTROL_SOCKET, TERN_BIRD_SOCKET and TERN_BIRD6_SOCKET override them ("" = no BIRD socket).
 */
export function calicoRuntimeDefaults(env: NodeJS.ProcessEnv): Record<string, unknown> {
  const bird4 = env.TERN_BIRD_SOCKET ?? '/var/run/calico/bird.ctl';
  const bird6 = env.TERN_BIRD6_SOCKET ?? '/var/run/calico/bird6.ctl';
  const birdSockets = { ...(bird4 ? { ipv4: bird4 } : {}), ...(bird6 ? { ipv6: bird6 } : {}) };
  return {
    control: { socket: env.TERN_CONTROL_SOCKET || '/var/run/calico/tern.ctl' },
    ...(Object.keys(birdSockets).length > 0 ? { birdSockets } : {}),
  };
}

/** NODENAME as calico-node determines it: the env, else /var/lib/calico/nodename, else the hostname. */
export function calicoNodeName(env: NodeJS.ProcessEnv, nodenameFile = '/var/lib/calico/nodename'): string {
  if (env.NODENAME) return env.NODENAME;
  try {
    const fromFile = readFileSync(nodenameFile, 'utf8').trim();
    if (fromFile) return fromFile;
  } catch {
    // not written (calico-node's startup writes it); fall through
  }
  return env.HOSTNAME || hostname();
}

/**
 * Events: 'applied'(report: ReloadReport) after each live change; 'started'(config) once;
 * 'rejected'(error) when a snapshot did not give a valid config.
 */
export class CalicoRunner extends EventEmitter {
  daemon?: Daemon;
  readonly datastore: CalicoDatastore;
  readonly configFile: string;
  /** The environment handed to the compiler (NODENAME resolved). */
  readonly calicoEnv: CalicoEnv;
  private readonly opts: CalicoRunOptions;
  private readonly log: Logger;
  private queue: Promise<void> = Promise.resolve();
  private pending?: CalicoSnapshot;
  private stopped = false;
  private lastWarnings = '';

  constructor(opts: CalicoRunOptions) {
    super();
    this.opts = opts;
    this.log = opts.log;
    this.configFile = opts.configFile ?? DEFAULT_CALICO_CONFIG_FILE;
    const nodeName = calicoNodeName(opts.env);
    this.calicoEnv = { ...stringEnv(opts.env), NODENAME: nodeName };
    const transport = opts.transport ?? clientNodeTransport(loadKubeConfig(opts.env));
    this.datastore = new CalicoDatastore({
      transport,
      log: opts.log,
      nodeName,
      namespace: opts.env.NAMESPACE || 'kube-system',
      env: opts.env,
      ...opts.datastore,
    });
  }

  /** Starts the datastore; the daemon follows on the first synced snapshot. */
  async start(): Promise<void> {
    this.datastore.on('snapshot', (s: CalicoSnapshot) => this.enqueue(s));
    this.log.info({ node: this.calicoEnv.NODENAME, configFile: this.configFile }, 'tern calico: waiting for the datastore to sync');
    await this.datastore.start();
  }

  /** Resolves when the daemon runs (after the first snapshot that compiles to a valid config). */
  whenStarted(): Promise<Daemon> {
    if (this.daemon) return Promise.resolve(this.daemon);
    return new Promise((resolve) => this.once('started', () => resolve(this.daemon!)));
  }

  async stop(reason = 'Tern is shutting down'): Promise<void> {
    this.stopped = true;
    await this.datastore.stop();
    await this.queue;
    await this.daemon?.stop(reason);
  }

  /** Keeps only the newest waiting snapshot: applying an old one first would be wasted resets. */
  private enqueue(snapshot: CalicoSnapshot): void {
    const idle = this.pending === undefined;
    this.pending = snapshot;
    if (!idle) return;
    this.queue = this.queue.then(async () => {
      const next = this.pending!;
      this.pending = undefined;
      if (this.stopped) return;
      try {
        await this.apply(next);
      } catch (err) {
        this.log.error({ err: err instanceof Error ? err.stack ?? err.message : String(err) }, 'applying the Calico snapshot failed');
      }
    });
  }

  private async apply(snapshot: CalicoSnapshot): Promise<void> {
    const config = this.compile(snapshot);
    if (!config) return;
    this.writeConfig(config.text);
    if (!this.daemon) {
      const daemon = new Daemon(config.config, this.log);
      await daemon.start({ recover: this.opts.gracefulRestart === true });
      this.daemon = daemon;
      this.log.info({ peers: config.config.peers.length, originate: config.config.originate.length }, 'tern calico: started from the Calico resources');
      this.emit('started', config.config);
      return;
    }
    const report: ReloadReport = await this.daemon.applyConfig(config.config);
    this.emit('applied', report);
  }

  /** Compile and validate; undefined (logged, 'rejected' emitted) if either fails. */
  private compile(snapshot: CalicoSnapshot): { config: TernConfig; text: string } | undefined {
    try {
      const result = (this.opts.compile ?? compileNode)(snapshot, this.calicoEnv);
      const warnings = result.warnings.join('\n');
      if (warnings !== this.lastWarnings) for (const w of result.warnings) this.log.warn({ warning: w }, 'calico resources');
      this.lastWarnings = warnings;
      const compiled = { ...calicoRuntimeDefaults(this.opts.env), ...result.config };
      const doc = this.opts.adjust ? this.opts.adjust(compiled) : compiled;
      const text = JSON.stringify(doc, null, 2) + '\n';
      return { config: parseConfig(text, this.configFile), text };
    } catch (err) {
      const message = err instanceof ConfigError ? formatConfigError(err) : err instanceof Error ? err.message : String(err);
      this.log.error({ error: message }, this.daemon ? 'the Calico resources give an invalid config; the running config is unchanged' : 'the Calico resources give an invalid config; waiting for a change');
      this.emit('rejected', err);
      return undefined;
    }
  }

  /** Atomic replace, so a reader never sees half a file. */
  private writeConfig(text: string): void {
    try {
      mkdirSync(dirname(this.configFile), { recursive: true });
      const tmp = `${this.configFile}.tmp-${process.pid}`;
      writeFileSync(tmp, text, { mode: 0o600 }); // it holds BGP passwords
      renameSync(tmp, this.configFile);
    } catch (err) {
      // Not fatal: the daemon runs from memory; the file is for operators and `tern reload`.
      this.log.warn({ file: this.configFile, error: (err as Error).message }, 'could not write the compiled config');
    }
  }
}

function stringEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (typeof v === 'string') out[k] = v;
  return out;
}

/** The process around a CalicoRunner: runs until SIGTERM/SIGINT, then stops every session cleanly. */
export async function runCalicoUntilSignalled(opts: CalicoRunOptions): Promise<number> {
  const runner = new CalicoRunner(opts);
  await runner.start();
  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      opts.log.info({ signal }, 'stopping');
      runner.stop(`Tern stopped (${signal})`).finally(resolve);
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  return 0;
}
