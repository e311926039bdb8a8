// SPDX-License-Identifier: Apache-2.0
// How the datastore talks to the Kubernetes API server: GET (discovery, lists) and watch streams.
// The production transport uses @kubernetes/client-node 1.4.0 for everything that is hard to get
// right — kubeconfig / in-cluster service-account loading, TLS, token refresh (KubeConfig) and the
// chunked JSON-lines watch stream (Watch). It does not retry or interpret results: the reflector does.
import * as http from 'node:http';
import * as https from 'node:https';
import * as k8s from '@kubernetes/client-node';
import type { KObj } from '../resources.ts';

/** One line of a watch stream (k8s.io/apimachinery watch.Event). */
export interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR' | string;
  object: KObj;
}

export interface WatchHandle {
  abort(): void;
}

/** A list response: the items and the collection's resourceVersion (and `continue` when paged). */
export interface ListResponse {
  items: KObj[];
  metadata?: { resourceVersion?: string; continue?: string };
}

export interface KubeTransport {
  /** GET path?query; resolves to the parsed JSON body, rejects with KubeApiError on HTTP ≥ 400. */
  get(path: string, query?: Record<string, string>): Promise<unknown>;
  /**
   * Opens a watch (GET path?watch=true&query). `onEvent` gets each line; `onDone` is called exactly
   * once when the stream ends: null for a clean close, a KubeApiError (HTTP status) or other Error.
   */
  watch(path: string, query: Record<string, string>, onEvent: (e: WatchEvent) => void, onDone: (err: Error | null) => void): Promise<WatchHandle>;
}

/** An HTTP error from the API server, with the Status object's reason when it sent one. */
export class KubeApiError extends Error {
  readonly status: number;
  readonly reason?: string;
  constructor(status: number, message: string, reason?: string) {
    super(message);
    this.name = 'KubeApiError';
    this.status = status;
    if (reason !== undefined) this.reason = reason;
  }
}

/** Status code of an error from either transport path (our KubeApiError or client-node's Watch). */
export function errorStatus(err: unknown): number | undefined {
  if (err instanceof KubeApiError) return err.status;
  const e = err as { statusCode?: unknown; code?: unknown } | null;
  if (e && typeof e.statusCode === 'number') return e.statusCode;
  if (e && typeof e.code === 'number') return e.code;
  return undefined;
}

/**
 * The KubeConfig calico-node would use: $KUBECONFIG if set, the pod's service account when running
 * in a cluster (KUBERNETES_SERVICE_HOST), else the default kubeconfig search.
 */
export function loadKubeConfig(env: NodeJS.ProcessEnv = process.env): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  if (env.KUBECONFIG) kc.loadFromFile(env.KUBECONFIG);
  else if (env.KUBERNETES_SERVICE_HOST) kc.loadFromCluster();
  else kc.loadFromDefault();
  return kc;
}

/** A KubeConfig pointing at a plain-HTTP server (tests against the fake API server). */
export function insecureKubeConfig(server: string): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'fake', server, skipTLSVerify: true }],
    users: [{ name: 'tern', token: 'fake-token' }],
    contexts: [{ name: 'fake', cluster: 'fake', user: 'tern' }],
    currentContext: 'fake',
  });
  return kc;
}

export function clientNodeTransport(kc: k8s.KubeConfig): KubeTransport {
  const watcher = new k8s.Watch(kc);
  return {
    get: (path, query) => getJson(kc, path, query ?? {}),
    async watch(path, query, onEvent, onDone) {
      // client-node calls done() once; we forward only its first call, as our contract says.
      let finished = false;
      const done = (err: unknown) => {
        if (finished) return;
        finished = true;
        onDone(err === null || err === undefined ? null : toError(err));
      };
      const controller = await watcher.watch(path, query, (type: string, object: KObj) => onEvent({ type, object }), done);
      return { abort: () => controller.abort() };
    },
  };
}

function toError(err: unknown): Error {
  const status = errorStatus(err);
  if (status !== undefined && status >= 400) return new KubeApiError(status, (err as Error).message ?? `HTTP ${status}`);
  return err instanceof Error ? err : new Error(String(err));
}

const REQUEST_TIMEOUT_MS = 60_000;

async function getJson(kc: k8s.KubeConfig, path: string, query: Record<string, string>): Promise<unknown> {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('kubeconfig has no current cluster');
  const url = new URL(cluster.server.replace(/\/$/, '') + path);
  for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
  const opts: https.RequestOptions = { method: 'GET', headers: { Accept: 'application/json' } };
  // Sets the TLS agent (CA, client cert) and the Authorization header (token, refreshed as needed).
  await kc.applyToHTTPSOptions(opts);
  const request = url.protocol === 'http:' ? http.request : https.request;
  return new Promise((resolve, reject) => {
    const req = request(url, { ...opts, timeout: REQUEST_TIMEOUT_MS }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const status = res.statusCode ?? 0;
        let body: unknown;
        try {
          body = text ? JSON.parse(text) : undefined;
        } catch {
          body = undefined;
        }
        if (status >= 400 || status === 0) {
          const s = body as { message?: string; reason?: string } | undefined;
          reject(new KubeApiError(status, s?.message ?? `HTTP ${status} from GET ${path}`, s?.reason));
        } else if (body === undefined) reject(new Error(`GET ${path}: response is not JSON`));
        else resolve(body);
      });
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${path}: no response in ${REQUEST_TIMEOUT_MS} ms`)));
    req.on('error', reject);
    req.end();
  });
}
