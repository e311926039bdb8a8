// SPDX-License-Identifier: Apache-2.0
// A protocol-faithful fake Kubernetes API server for tests (node:http, plain HTTP). No real
// kube-apiserver can run on the project's machines (no Docker, no kube-apiserver package; see
// node-ecosystem.md §4.4), so this reproduces the parts of the protocol the datastore relies on:
//   - discovery: GET /api, /apis (APIGroupList), /api/v1 and /apis/G/V (APIResourceList);
//   - list: {kind: XList, metadata: {resourceVersion, continue}, items}, with limit/continue paging
//     over a consistent snapshot, fieldSelector metadata.name/metadata.namespace, equality labelSelector;
//     built-in list items carry no apiVersion/kind, as the real server sends them;
//   - watch (?watch=true): chunked JSON lines {type, object}; resourceVersion unset or "0" replays the
//     current state as ADDED, "N" replays history after N; a version older than the compacted history
//     gets 200 + an ERROR event with a 410 Expired Status and the stream ends (the real behaviour);
//     BOOKMARK events (only metadata.resourceVersion) for watches that asked allowWatchBookmarks;
//     timeoutSeconds ends the stream;
//   - 403 Forbidden Status for resources the test forbids; 404 for unknown paths.
// One global resourceVersion counter, as etcd's revision. Objects are changed by the test.
// It is still a mock: it does not validate objects, run admission, or implement field managers.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeObject {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace?: string; resourceVersion?: string; labels?: Record<string, string>; [k: string]: unknown };
  [k: string]: unknown;
}

export interface ResourceType {
  group: string; // '' for core
  version: string;
  plural: string;
  kind: string;
  namespaced: boolean;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  status: number;
}

interface HistoryEntry {
  rv: number;
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  object: FakeObject;
}

interface OpenWatch {
  type: ResourceType;
  namespace?: string;
  fieldSelector?: string;
  labelSelector?: string;
  bookmarks: boolean;
  res: ServerResponse;
  timer?: NodeJS.Timeout;
}

const CALICO_PLURALS: readonly [string, string][] = [
  ['bgpconfigurations', 'BGPConfiguration'],
  ['bgppeers', 'BGPPeer'],
  ['bgpfilters', 'BGPFilter'],
  ['ippools', 'IPPool'],
  ['blockaffinities', 'BlockAffinity'],
  ['ipamblocks', 'IPAMBlock'],
  ['felixconfigurations', 'FelixConfiguration'],
];

export const CORE_TYPES: ResourceType[] = [
  { group: '', version: 'v1', plural: 'nodes', kind: 'Node', namespaced: false },
  { group: '', version: 'v1', plural: 'secrets', kind: 'Secret', namespaced: true },
  { group: '', version: 'v1', plural: 'services', kind: 'Service', namespaced: true },
  { group: 'discovery.k8s.io', version: 'v1', plural: 'endpointslices', kind: 'EndpointSlice', namespaced: true },
];

export function calicoTypes(group: 'crd.projectcalico.org' | 'projectcalico.org'): ResourceType[] {
  const version = group === 'projectcalico.org' ? 'v3' : 'v1';
  return CALICO_PLURALS.map(([plural, kind]) => ({ group, version, plural, kind, namespaced: false }));
}

export interface FakeApiServerOptions {
  /** Which Calico groups are served: ['crd.projectcalico.org'] (default), ['projectcalico.org'], or both. */
  calicoGroups?: ('crd.projectcalico.org' | 'projectcalico.org')[];
  /** Send BOOKMARK events to bookmark-enabled watches this often (0 = only when bookmark() is called). */
  bookmarkIntervalMs?: number;
}

export class FakeApiServer {
  readonly requests: RecordedRequest[] = [];
  url = '';
  /** The current resourceVersion (etcd revision). */
  rv = 100;
  private compactedRv = 0;
  private readonly server: Server;
  private readonly types: ResourceType[];
  private readonly objects = new Map<ResourceType, Map<string, FakeObject>>();
  private readonly history = new Map<ResourceType, HistoryEntry[]>();
  private readonly watches = new Set<OpenWatch>();
  private readonly forbidden = new Set<string>();
  private readonly pages = new Map<string, FakeObject[]>();
  private bookmarkTimer?: NodeJS.Timeout;

  private constructor(opts: FakeApiServerOptions) {
    const groups = opts.calicoGroups ?? ['crd.projectcalico.org'];
    this.types = [...CORE_TYPES, ...groups.flatMap(calicoTypes)];
    for (const t of this.types) {
      this.objects.set(t, new Map());
      this.history.set(t, []);
    }
    this.server = createServer((req, res) => this.handle(req, res));
    if (opts.bookmarkIntervalMs) this.bookmarkTimer = setInterval(() => this.bookmark(), opts.bookmarkIntervalMs);
  }

  static async start(opts: FakeApiServerOptions = {}): Promise<FakeApiServer> {
    const s = new FakeApiServer(opts);
    await new Promise<void>((resolve) => s.server.listen(0, '127.0.0.1', resolve));
    s.url = `http://127.0.0.1:${(s.server.address() as AddressInfo).port}`;
    return s;
  }

  async close(): Promise<void> {
    if (this.bookmarkTimer) clearInterval(this.bookmarkTimer);
    this.closeWatches();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  // ===== What tests do =====

  /** Creates or replaces an object (by apiVersion + kind + namespace/name); returns it with its new resourceVersion. */
  apply(obj: FakeObject): FakeObject {
    const type = this.typeOf(obj.apiVersion ?? '', obj.kind ?? '');
    const key = objKey(obj.metadata.namespace, obj.metadata.name);
    const store = this.objects.get(type)!;
    const existed = store.has(key);
    const rv = ++this.rv;
    const stored: FakeObject = structuredClone({ ...obj, apiVersion: apiVersionOf(type), kind: type.kind, metadata: { ...obj.metadata, resourceVersion: String(rv), uid: `uid-${type.plural}-${key}` } });
    store.set(key, stored);
    this.record(type, { rv, type: existed ? 'MODIFIED' : 'ADDED', object: stored });
    return stored;
  }

  /** Deletes an object; the DELETED event carries the deletion's resourceVersion. */
  delete(apiVersion: string, kind: string, name: string, namespace?: string): boolean {
    const type = this.typeOf(apiVersion, kind);
    const store = this.objects.get(type)!;
    const key = objKey(namespace, name);
    const old = store.get(key);
    if (!old) return false;
    store.delete(key);
    const rv = ++this.rv;
    this.record(type, { rv, type: 'DELETED', object: { ...old, metadata: { ...old.metadata, resourceVersion: String(rv) } } });
    return true;
  }

  get(apiVersion: string, kind: string, name: string, namespace?: string): FakeObject | undefined {
    return this.objects.get(this.typeOf(apiVersion, kind))!.get(objKey(namespace, name));
  }

  /** Drops all history: any watch from an older resourceVersion now gets 410 Gone (etcd compaction). */
  compact(): void {
    this.compactedRv = this.rv;
    for (const h of this.history.values()) h.length = 0;
  }

  /** Makes list/watch of this plural (any group) answer 403 Forbidden, and ends its open watches. */
  forbid(plural: string): void {
    this.forbidden.add(plural);
    for (const w of this.watches) if (w.type.plural === plural) this.endWatch(w);
  }

  allow(plural: string): void {
    this.forbidden.delete(plural);
  }

  /** Sends a BOOKMARK with the current resourceVersion to every watch that asked for bookmarks. */
  bookmark(): void {
    for (const w of this.watches) {
      if (!w.bookmarks) continue;
      writeEvent(w.res, { type: 'BOOKMARK', object: { apiVersion: apiVersionOf(w.type), kind: w.type.kind, metadata: { resourceVersion: String(this.rv) } } });
    }
  }

  /** Ends every open watch stream cleanly (as an API server restart or timeout would). */
  closeWatches(): void {
    for (const w of [...this.watches]) this.endWatch(w);
  }

  openWatches(plural?: string): number {
    return [...this.watches].filter((w) => plural === undefined || w.type.plural === plural).length;
  }

  /** Requests to a collection path (list or watch), in order. */
  requestsFor(plural: string, kind?: 'list' | 'watch'): RecordedRequest[] {
    return this.requests.filter((r) => r.path.split('/').includes(plural) && (kind === undefined || (kind === 'watch') === (r.query.watch === 'true')));
  }

  // ===== HTTP =====

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://fake');
    const query = Object.fromEntries(url.searchParams);
    const path = url.pathname.replace(/\/$/, '');
    const recorded: RecordedRequest = { method: req.method ?? 'GET', path, query, status: 200 };
    this.requests.push(recorded);
    const send = (status: number, body: unknown) => {
      recorded.status = status;
      const text = JSON.stringify(body);
      res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
      res.end(text);
    };
    if (req.method !== 'GET') return send(405, status(405, 'MethodNotAllowed', `the server does not allow this method on the requested resource`));
    const discovery = this.discovery(path);
    if (discovery) return send(200, discovery);
    const route = this.route(path);
    if (!route) return send(404, status(404, 'NotFound', `the server could not find the requested resource`));
    const { type, namespace, name } = route;
    const verb = query.watch === 'true' ? 'watch' : name ? 'get' : 'list';
    if (this.forbidden.has(type.plural)) {
      const scope = namespace ? `in the namespace "${namespace}"` : 'at the cluster scope';
      const group = type.group ? `${type.plural}.${type.group}` : type.plural;
      return send(403, {
        ...status(403, 'Forbidden', `${group} is forbidden: User "system:serviceaccount:kube-system:calico-node" cannot ${verb} resource "${type.plural}" in API group "${type.group}" ${scope}`),
        details: { group: type.group, kind: type.plural },
      });
    }
    if (verb === 'get') {
      const obj = this.objects.get(type)!.get(objKey(namespace, name));
      return obj ? send(200, obj) : send(404, status(404, 'NotFound', `${type.plural} "${name}" not found`));
    }
    if (verb === 'list') return this.list(type, namespace, query, send);
    recorded.status = 200;
    this.watch(type, namespace, query, res);
  }

  private discovery(path: string): unknown {
    if (path === '/api') return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [] };
    if (path === '/apis') {
      const groups = [...new Set(this.types.filter((t) => t.group).map((t) => `${t.group}/${t.version}`))].map((gv) => {
        const [name, version] = gv.split('/') as [string, string];
        return { name, versions: [{ groupVersion: gv, version }], preferredVersion: { groupVersion: gv, version } };
      });
      return { kind: 'APIGroupList', apiVersion: 'v1', groups };
    }
    const gv = path === '/api/v1' ? 'v1' : /^\/apis\/([^/]+\/[^/]+)$/.exec(path)?.[1];
    if (!gv) return undefined;
    const types = this.types.filter((t) => apiVersionOf(t) === gv);
    if (types.length === 0) return undefined;
    return {
      kind: 'APIResourceList',
      apiVersion: 'v1',
      groupVersion: gv,
      resources: types.map((t) => ({ name: t.plural, singularName: t.kind.toLowerCase(), namespaced: t.namespaced, kind: t.kind, verbs: ['get', 'list', 'watch'] })),
    };
  }

  /** /api/v1[/namespaces/NS]/PLURAL[/NAME] or /apis/G/V[/namespaces/NS]/PLURAL[/NAME]. */
  private route(path: string): { type: ResourceType; namespace?: string; name?: string } | undefined {
    const parts = path.split('/').filter(Boolean);
    let group = '';
    let rest: string[];
    if (parts[0] === 'api' && parts[1] === 'v1') rest = parts.slice(2);
    else if (parts[0] === 'apis' && parts.length >= 3) {
      group = parts[1]!;
      rest = parts.slice(3);
    } else return undefined;
    const version = parts[0] === 'api' ? 'v1' : parts[2]!;
    let namespace: string | undefined;
    if (rest[0] === 'namespaces' && rest.length >= 3) {
      namespace = rest[1];
      rest = rest.slice(2);
    }
    const type = this.types.find((t) => t.group === group && t.version === version && t.plural === rest[0]);
    if (!type || rest.length > 2 || (namespace && !type.namespaced)) return undefined;
    return { type, ...(namespace ? { namespace } : {}), ...(rest[1] ? { name: rest[1] } : {}) };
  }

  private list(type: ResourceType, namespace: string | undefined, query: Record<string, string>, send: (s: number, b: unknown) => void): void {
    let items: FakeObject[];
    let rv: string;
    const token = query.continue;
    if (token) {
      const page = this.pages.get(token);
      if (!page) return send(410, status(410, 'Expired', 'The provided continue parameter is too old to display a consistent list result.'));
      this.pages.delete(token);
      items = page;
      rv = token.split(':')[0]!;
    } else {
      items = [...this.objects.get(type)!.values()].filter((o) => matches(o, namespace, query.fieldSelector, query.labelSelector));
      items.sort((a, b) => (objKey(a.metadata.namespace, a.metadata.name) < objKey(b.metadata.namespace, b.metadata.name) ? -1 : 1));
      rv = String(this.rv);
    }
    const limit = Number(query.limit ?? 0);
    let cont: string | undefined;
    if (limit > 0 && items.length > limit) {
      cont = `${rv}:${this.pages.size}:${Math.random().toString(36).slice(2)}`;
      this.pages.set(cont, items.slice(limit));
      items = items.slice(0, limit);
    }
    // Built-in types' list items carry no apiVersion/kind; custom resources' do.
    const shown = type.group === '' ? items.map(({ apiVersion: _a, kind: _k, ...o }) => o) : items;
    send(200, { kind: `${type.kind}List`, apiVersion: apiVersionOf(type), metadata: { resourceVersion: rv, ...(cont ? { continue: cont } : {}) }, items: shown });
  }

  private watch(type: ResourceType, namespace: string | undefined, query: Record<string, string>, res: ServerResponse): void {
    res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' });
    res.flushHeaders();
    const from = query.resourceVersion;
    const selected = (o: FakeObject) => matches(o, namespace, query.fieldSelector, query.labelSelector);
    if (from && from !== '0' && Number(from) < this.compactedRv) {
      // What kube-apiserver does for a watch from a compacted revision: 200, one ERROR event, end.
      writeEvent(res, { type: 'ERROR', object: { ...status(410, 'Expired', `too old resource version: ${from} (${this.compactedRv})`) } });
      res.end();
      return;
    }
    if (!from || from === '0') {
      for (const o of this.objects.get(type)!.values()) if (selected(o)) writeEvent(res, { type: 'ADDED', object: o });
    } else {
      for (const h of this.history.get(type)!) if (h.rv > Number(from) && selected(h.object)) writeEvent(res, { type: h.type, object: h.object });
    }
    const w: OpenWatch = {
      type,
      ...(namespace ? { namespace } : {}),
      ...(query.fieldSelector ? { fieldSelector: query.fieldSelector } : {}),
      ...(query.labelSelector ? { labelSelector: query.labelSelector } : {}),
      bookmarks: query.allowWatchBookmarks === 'true',
      res,
    };
    const timeout = Number(query.timeoutSeconds ?? 0);
    if (timeout > 0) w.timer = setTimeout(() => this.endWatch(w), timeout * 1000);
    this.watches.add(w);
    res.on('close', () => this.forget(w));
  }

  private record(type: ResourceType, entry: HistoryEntry): void {
    this.history.get(type)!.push(entry);
    for (const w of this.watches) {
      if (w.type === type && matches(entry.object, w.namespace, w.fieldSelector, w.labelSelector)) writeEvent(w.res, { type: entry.type, object: entry.object });
    }
  }

  private endWatch(w: OpenWatch): void {
    this.forget(w);
    w.res.end();
  }

  private forget(w: OpenWatch): void {
    if (w.timer) clearTimeout(w.timer);
    this.watches.delete(w);
  }

  private typeOf(apiVersion: string, kind: string): ResourceType {
    const t = this.types.find((x) => apiVersionOf(x) === apiVersion && x.kind === kind);
    if (!t) throw new Error(`fake API server does not serve ${apiVersion} ${kind}`);
    return t;
  }
}

function apiVersionOf(t: ResourceType): string {
  return t.group ? `${t.group}/${t.version}` : t.version;
}

function objKey(namespace: string | undefined, name: string | undefined): string {
  return `${namespace ?? ''}/${name ?? ''}`;
}

function status(code: number, reason: string, message: string): Record<string, unknown> {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
}

function writeEvent(res: ServerResponse, event: { type: string; object: unknown }): void {
  if (!res.writableEnded) res.write(JSON.stringify(event) + '\n');
}

/** fieldSelector: metadata.name=X,metadata.namespace=Y; labelSelector: k=v, k==v, k!=v, k, !k (comma = and). */
function matches(o: FakeObject, namespace: string | undefined, fieldSelector: string | undefined, labelSelector: string | undefined): boolean {
  if (namespace && o.metadata.namespace !== namespace) return false;
  for (const term of (fieldSelector ?? '').split(',').filter(Boolean)) {
    const [field, value] = term.split(/==?/, 2) as [string, string | undefined];
    const actual = field === 'metadata.name' ? o.metadata.name : field === 'metadata.namespace' ? o.metadata.namespace : undefined;
    if (actual !== value) return false;
  }
  const labels = o.metadata.labels ?? {};
  for (const term of (labelSelector ?? '').split(',').filter(Boolean)) {
    const ne = /^([^!=]+)!=(.*)$/.exec(term);
    const eq = /^([^!=]+)==?(.*)$/.exec(term);
    if (ne) {
      if (labels[ne[1]!] === ne[2]) return false;
    } else if (eq) {
      if (labels[eq[1]!] !== eq[2]) return false;
    } else if (term.startsWith('!')) {
      if (term.slice(1) in labels) return false;
    } else if (!(term in labels)) return false;
  }
  return true;
}
