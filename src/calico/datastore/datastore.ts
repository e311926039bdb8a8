// SPDX-License-Identifier: Apache-2.0
// The Calico datastore for one node, in Kubernetes (KDD) mode: reflectors for every source confd
// reads, started and stopped as the resources ask for them (password Secrets, Services), and a
// debounced CalicoSnapshot emitted only once every active source has synced — confd "renders
// nothing until all of these sources are in sync" (calico-bird.md §1) — and then only when its
// content changed. It does not compile or apply anything: run.ts does.
import { EventEmitter } from 'node:events';
import type { Logger } from '../../observability/log.ts';
import { emptySnapshot, normaliseObject, type CalicoSnapshot, type KObj } from '../resources.ts';
import { detectCalicoApiGroup, type CalicoApiGroup } from './api-group.ts';
import { Reflector, keyOf, type BackoffOptions, type ReflectorStatus } from './reflector.ts';
import { referencedSecrets, secretSource, serviceAdvertisementConfigured, serviceSources, staticSources, trimNode, withoutBookkeeping, type SourceSpec } from './sources.ts';
import type { KubeTransport } from './transport.ts';

export interface DatastoreOptions {
  transport: KubeTransport;
  log: Logger;
  /** NODENAME: BlockAffinities of other nodes are not part of this node's snapshot. */
  nodeName: string;
  /** NAMESPACE: where BGP password Secrets live (calico-node's namespace). */
  namespace: string;
  /** The environment (CALICO_API_GROUP, CALICO_ADVERTISE_CLUSTER_IPS). */
  env: NodeJS.ProcessEnv;
  /** Quiet time before a change becomes a snapshot, so a burst of edits is applied once. */
  debounceMs?: number;
  backoff?: BackoffOptions;
  forbiddenRetryMs?: number;
  watchTimeoutSeconds?: number;
  pageSize?: number;
}

export interface DatastoreStatus {
  apiGroup?: string;
  /** True once every active source has listed successfully. */
  synced: boolean;
  snapshotsEmitted: number;
  sources: ReflectorStatus[];
}

/**
 * Events:
 *   'snapshot'(snapshot: CalicoSnapshot)  all sources synced and the content changed (first: after the initial sync)
 *   'problem'(source: string, error?)      a source failed (error set) or recovered (undefined)
 */
export class CalicoDatastore extends EventEmitter {
  apiGroup?: CalicoApiGroup;
  private readonly opts: DatastoreOptions;
  private readonly log: Logger;
  private readonly reflectors = new Map<string, { spec: SourceSpec; reflector: Reflector }>();
  private debounce?: NodeJS.Timeout;
  private lastFingerprint?: string;
  private emitted = 0;
  private stopped = false;
  private latest?: CalicoSnapshot;

  constructor(opts: DatastoreOptions) {
    super();
    this.opts = opts;
    this.log = opts.log.child({ component: 'calico-datastore' });
  }

  async start(): Promise<void> {
    this.apiGroup = await detectCalicoApiGroup(this.opts.transport, this.opts.env, this.log);
    if (this.stopped) return;
    for (const spec of staticSources(this.apiGroup)) this.add(spec);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.debounce) clearTimeout(this.debounce);
    await Promise.all([...this.reflectors.values()].map(({ reflector }) => reflector.stop()));
    this.reflectors.clear();
  }

  /** The last snapshot emitted (undefined before the first sync). */
  current(): CalicoSnapshot | undefined {
    return this.latest;
  }

  /** Resolves with the next snapshot emitted. */
  nextSnapshot(): Promise<CalicoSnapshot> {
    return new Promise((resolve) => this.once('snapshot', resolve));
  }

  status(): DatastoreStatus {
    const sources = [...this.reflectors.values()].map(({ reflector }) => reflector.status());
    return {
      ...(this.apiGroup ? { apiGroup: `${this.apiGroup.group}/${this.apiGroup.version}` } : {}),
      synced: this.allSynced(),
      snapshotsEmitted: this.emitted,
      sources,
    };
  }

  private add(spec: SourceSpec): void {
    const reflector = new Reflector(this.opts.transport, {
      name: spec.id,
      path: spec.path,
      apiVersion: spec.apiVersion,
      kind: spec.kind,
      ...(spec.fieldSelector ? { fieldSelector: spec.fieldSelector } : {}),
      ...(this.opts.backoff ? { backoff: this.opts.backoff } : {}),
      ...(this.opts.forbiddenRetryMs !== undefined ? { forbiddenRetryMs: this.opts.forbiddenRetryMs } : {}),
      ...(this.opts.watchTimeoutSeconds !== undefined ? { watchTimeoutSeconds: this.opts.watchTimeoutSeconds } : {}),
      ...(this.opts.pageSize !== undefined ? { pageSize: this.opts.pageSize } : {}),
      log: this.log,
    });
    this.reflectors.set(spec.id, { spec, reflector });
    reflector.on('synced', () => this.changed(spec));
    reflector.on('change', () => this.changed(spec));
    reflector.on('problem', (err?: { message: string }) => this.emit('problem', spec.id, err));
    reflector.start();
  }

  private remove(id: string): void {
    const entry = this.reflectors.get(id);
    if (!entry) return;
    this.reflectors.delete(id);
    void entry.reflector.stop();
  }

  private changed(spec: SourceSpec): void {
    if (this.stopped) return;
    // The optional sources depend on the BGP resources; adjust them before the snapshot is built.
    if (spec.bucket === 'bgpPeers' || spec.bucket === 'bgpConfigurations') this.reconcileOptionalSources();
    if (this.debounce) clearTimeout(this.debounce);
    this.debounce = setTimeout(() => this.flush(), this.opts.debounceMs ?? 250);
  }

  /** Starts/stops the password Secret sources and the Services/EndpointSlices sources. */
  private reconcileOptionalSources(): void {
    const peers = this.bucketObjects('bgpPeers');
    const configs = this.bucketObjects('bgpConfigurations');
    const wanted = new Map<string, SourceSpec>();
    for (const name of referencedSecrets(peers, configs)) {
      const s = secretSource(this.opts.namespace, name);
      wanted.set(s.id, s);
    }
    if (serviceAdvertisementConfigured(configs, this.opts.env)) for (const s of serviceSources()) wanted.set(s.id, s);
    for (const [id, { spec }] of this.reflectors) {
      if ((spec.bucket === 'secrets' || spec.bucket === 'services' || spec.bucket === 'endpointSlices') && !wanted.has(id)) {
        this.log.info({ source: id }, 'source no longer needed; stopped');
        this.remove(id);
      }
    }
    for (const [id, spec] of wanted) {
      if (this.reflectors.has(id)) continue;
      this.log.info({ source: id, path: spec.path }, 'source needed by the BGP resources; started');
      this.add(spec);
    }
  }

  private allSynced(): boolean {
    return this.reflectors.size > 0 && [...this.reflectors.values()].every(({ reflector }) => reflector.synced);
  }

  private flush(): void {
    this.debounce = undefined;
    // Not yet: a source that syncs later calls changed() again, which reschedules.
    if (this.stopped || !this.allSynced()) return;
    const snapshot = this.build();
    const fingerprint = JSON.stringify(snapshot);
    if (fingerprint === this.lastFingerprint) return;
    this.lastFingerprint = fingerprint;
    this.latest = snapshot;
    this.emitted++;
    this.log.debug({ sizes: Object.fromEntries(Object.entries(snapshot).map(([k, v]) => [k, (v as unknown[]).length])) }, 'new snapshot');
    this.emit('snapshot', snapshot);
  }

  private bucketObjects(bucket: keyof CalicoSnapshot): KObj[] {
    const out: KObj[] = [];
    for (const { spec, reflector } of this.reflectors.values()) if (spec.bucket === bucket) out.push(...reflector.list());
    return out;
  }

  private build(): CalicoSnapshot {
    const snapshot = emptySnapshot();
    for (const bucket of Object.keys(snapshot) as (keyof CalicoSnapshot)[]) {
      let objects = this.bucketObjects(bucket);
      // confd watches only this host's affinities (bgpsyncer: BlockAffinity for this host).
      if (bucket === 'blockAffinities') objects = objects.filter((a) => a.spec?.node === this.opts.nodeName);
      if (bucket === 'nodes') objects = objects.map(trimNode);
      snapshot[bucket] = objects
        .map((o) => normaliseObject(withoutBookkeeping(o)))
        .sort((a, b) => compareKeys(keyOf(a), keyOf(b)));
    }
    return snapshot;
  }
}

function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
