// SPDX-License-Identifier: Apache-2.0
// A reflector keeps a local copy of one Kubernetes collection: list (paged), then watch from the
// list's resourceVersion, with bookmarks, following client-go's reflector semantics:
//   - a watch that ends cleanly is re-opened from the last resourceVersion seen (no relist);
//   - 410 Gone / "Expired" (an ERROR event or HTTP status) drops the resourceVersion: relist;
//   - 403 Forbidden is reported clearly (RBAC) and retried slowly, forever;
//   - any other failure backs off exponentially (with jitter) and retries.
// It does not decide what the objects mean; it emits 'change' when its store changed,
// 'synced' once after the first successful list, and 'problem' for each failure.
import { EventEmitter } from 'node:events';
import type { Logger } from '../../observability/log.ts';
import type { KObj } from '../resources.ts';
import { errorStatus, type KubeTransport, type ListResponse, type WatchEvent, type WatchHandle } from './transport.ts';

export interface ReflectorOptions {
  /** Short name for logs and status, e.g. "bgppeers". */
  name: string;
  /** Collection path, e.g. /apis/crd.projectcalico.org/v1/bgppeers or /api/v1/namespaces/kube-system/secrets. */
  path: string;
  /** Filled into objects that arrive without them (built-in list items carry no apiVersion/kind). */
  apiVersion: string;
  kind: string;
  fieldSelector?: string;
  labelSelector?: string;
  /** Page size for lists (client-go uses 500). */
  pageSize?: number;
  backoff?: BackoffOptions;
  /** Wait between retries after 403 Forbidden (RBAC does not fix itself quickly). */
  forbiddenRetryMs?: number;
  /** Server-side watch timeout range, seconds (client-go: random in [min, 2·min)). */
  watchTimeoutSeconds?: number;
  log: Logger;
}

export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
}

export interface ReflectorStatus {
  name: string;
  synced: boolean;
  objects: number;
  resourceVersion: string;
  lastError?: string;
  lastErrorStatus?: number;
}

const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 800, maxMs: 30_000 };

/** The watch ended: cleanly, with 410 (relist), or with an error. */
type WatchOutcome = { kind: 'closed'; events: number } | { kind: 'gone' } | { kind: 'error'; err: Error };

export class Reflector extends EventEmitter {
  readonly name: string;
  /** namespace/name → object. */
  readonly store = new Map<string, KObj>();
  synced = false;
  resourceVersion = '';
  lastError?: { message: string; status?: number };
  private readonly opts: ReflectorOptions;
  private readonly transport: KubeTransport;
  private readonly log: Logger;
  private stopped = true;
  private watchHandle?: WatchHandle;
  private sleepTimer?: NodeJS.Timeout;
  private wake?: () => void;
  private failures = 0;
  private loop?: Promise<void>;

  constructor(transport: KubeTransport, opts: ReflectorOptions) {
    super();
    this.transport = transport;
    this.opts = opts;
    this.name = opts.name;
    this.log = opts.log.child({ source: opts.name });
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.watchHandle?.abort();
    if (this.sleepTimer) clearTimeout(this.sleepTimer);
    this.wake?.();
    await this.loop;
  }

  list(): KObj[] {
    return [...this.store.values()];
  }

  status(): ReflectorStatus {
    return {
      name: this.name,
      synced: this.synced,
      objects: this.store.size,
      resourceVersion: this.resourceVersion,
      ...(this.lastError ? { lastError: this.lastError.message, ...(this.lastError.status !== undefined ? { lastErrorStatus: this.lastError.status } : {}) } : {}),
    };
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      if (!this.resourceVersion) {
        try {
          await this.relist();
        } catch (err) {
          await this.failed(err, 'list');
          continue;
        }
      }
      if (this.stopped) break;
      const started = Date.now();
      const outcome = await this.watchOnce();
      if (this.stopped) break;
      if (outcome.kind === 'gone') {
        // 410: our resourceVersion is older than the server's history. Relist at once (client-go does).
        this.log.info({ resourceVersion: this.resourceVersion }, 'watch expired (410 Gone); relisting');
        this.resourceVersion = '';
      } else if (outcome.kind === 'error') {
        await this.failed(outcome.err, 'watch');
      } else if (outcome.events === 0 && Date.now() - started < 1000) {
        // A server that closes every watch at once must not make us spin.
        await this.failed(new Error('watch closed immediately'), 'watch');
      }
    }
  }

  private async relist(): Promise<void> {
    const items: KObj[] = [];
    let cont = '';
    let rv = '';
    do {
      const query: Record<string, string> = { limit: String(this.opts.pageSize ?? 500) };
      if (cont) query.continue = cont;
      if (this.opts.fieldSelector) query.fieldSelector = this.opts.fieldSelector;
      if (this.opts.labelSelector) query.labelSelector = this.opts.labelSelector;
      const page = (await this.transport.get(this.opts.path, query)) as ListResponse;
      if (!page || !Array.isArray(page.items)) throw new Error(`list ${this.opts.path}: response has no items`);
      items.push(...page.items);
      rv = page.metadata?.resourceVersion ?? '';
      cont = page.metadata?.continue ?? '';
    } while (cont && !this.stopped);
    if (this.stopped) return;
    const fresh = new Map(items.map((o) => [keyOf(o), this.complete(o)]));
    const changed = fresh.size !== this.store.size || [...fresh].some(([k, o]) => !sameVersion(this.store.get(k), o));
    this.store.clear();
    for (const [k, o] of fresh) this.store.set(k, o);
    this.resourceVersion = rv;
    this.recovered();
    this.log.debug({ objects: items.length, resourceVersion: rv }, 'listed');
    if (!this.synced) {
      this.synced = true;
      this.emit('synced');
    } else if (changed) this.emit('change');
  }

  private watchOnce(): Promise<WatchOutcome> {
    return new Promise<WatchOutcome>((resolve) => {
      let events = 0;
      let gone = false;
      let failure: Error | undefined;
      const query: Record<string, string> = {
        resourceVersion: this.resourceVersion,
        allowWatchBookmarks: 'true',
        timeoutSeconds: String(watchTimeout(this.opts.watchTimeoutSeconds ?? 300)),
      };
      if (this.opts.fieldSelector) query.fieldSelector = this.opts.fieldSelector;
      if (this.opts.labelSelector) query.labelSelector = this.opts.labelSelector;
      const onEvent = (e: WatchEvent) => {
        if (this.stopped || gone || failure) return;
        events++;
        const r = this.onWatchEvent(e);
        if (r === 'gone') gone = true;
        else if (r instanceof Error) failure = r;
        if (gone || failure) this.watchHandle?.abort();
      };
      const onDone = (err: Error | null) => {
        this.watchHandle = undefined;
        if (gone || errorStatus(err) === 410) resolve({ kind: 'gone' });
        else if (failure) resolve({ kind: 'error', err: failure });
        else if (err && !this.stopped) resolve({ kind: 'error', err });
        else resolve({ kind: 'closed', events });
      };
      this.transport.watch(this.opts.path, query, onEvent, onDone).then(
        (handle) => {
          this.watchHandle = handle;
          if (this.stopped) handle.abort();
        },
        (err: unknown) => resolve({ kind: 'error', err: err instanceof Error ? err : new Error(String(err)) }),
      );
    });
  }

  /** Applies one event; returns 'gone' for 410, an Error for other ERROR events. */
  private onWatchEvent(e: WatchEvent): 'gone' | Error | undefined {
    const obj = e.object;
    if (e.type === 'ERROR') {
      // The object is a metav1.Status; 410 "Expired"/"Gone" means our resourceVersion is too old.
      const status = obj as { code?: number; reason?: string; message?: string };
      if (status.code === 410 || status.reason === 'Expired' || status.reason === 'Gone') return 'gone';
      return Object.assign(new Error(`watch error: ${status.message ?? status.reason ?? 'unknown'}`), { statusCode: status.code });
    }
    const rv = obj?.metadata?.resourceVersion;
    if (typeof rv === 'string' && rv) this.resourceVersion = rv;
    if (e.type === 'BOOKMARK') return undefined; // only advances resourceVersion
    this.recovered();
    const complete = this.complete(obj);
    const key = keyOf(complete);
    if (e.type === 'DELETED') {
      if (this.store.delete(key)) this.emit('change');
    } else if (e.type === 'ADDED' || e.type === 'MODIFIED') {
      const before = this.store.get(key);
      this.store.set(key, complete);
      if (!sameVersion(before, complete)) this.emit('change');
    }
    return undefined;
  }

  private complete(o: KObj): KObj {
    if (o.apiVersion && o.kind) return o;
    return { ...o, apiVersion: o.apiVersion ?? this.opts.apiVersion, kind: o.kind ?? this.opts.kind };
  }

  private recovered(): void {
    this.failures = 0;
    if (this.lastError) {
      this.log.info('recovered');
      this.lastError = undefined;
      this.emit('problem', undefined);
    }
  }

  private async failed(err: unknown, what: 'list' | 'watch'): Promise<void> {
    if (this.stopped) return;
    const status = errorStatus(err);
    const message = err instanceof Error ? err.message : String(err);
    this.lastError = { message, ...(status !== undefined ? { status } : {}) };
    this.emit('problem', this.lastError);
    let wait: number;
    if (status === 403) {
      wait = this.opts.forbiddenRetryMs ?? 30_000;
      this.log.error(
        { status, path: this.opts.path, error: message, retryInMs: wait },
        `${what} ${this.opts.name} forbidden: the service account lacks RBAC permission (get/list/watch ${this.opts.name}); see deploy/calico-node/rbac.yaml`,
      );
    } else {
      const b = this.opts.backoff ?? DEFAULT_BACKOFF;
      wait = Math.min(b.maxMs, b.initialMs * 2 ** this.failures);
      wait = Math.round(wait * (0.5 + Math.random() / 2)); // jitter: many nodes must not retry in step
      this.failures++;
      this.log.warn({ status, path: this.opts.path, error: message, retryInMs: wait }, `${what} ${this.opts.name} failed; retrying`);
    }
    await new Promise<void>((resolve) => {
      this.wake = resolve;
      this.sleepTimer = setTimeout(resolve, wait);
    });
    this.wake = undefined;
  }
}

export function keyOf(o: KObj): string {
  return `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;
}

function sameVersion(a: KObj | undefined, b: KObj): boolean {
  const va = a?.metadata?.resourceVersion;
  return va !== undefined && va === b.metadata?.resourceVersion;
}

function watchTimeout(min: number): number {
  return Math.floor(min * (1 + Math.random()));
}
