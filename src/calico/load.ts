// SPDX-License-Identifier: Apache-2.0
// Reading Calico resources from calicoctl/kubectl-style YAML files into a CalicoSnapshot.
// Accepts multi-document YAML, `kind: XList` / `kind: List` with `items`, both API groups
// (projectcalico.org/v3 and crd.projectcalico.org/v1, whose specs are the v3 structs), and
// Kubernetes Node objects (their `projectcalico.org/*` annotations become a Calico Node spec).
// YAML is read as YAML 1.1, as calicoctl/kubectl do (so `yes` is the boolean true, which
// label values then carry as the string "true"). Does not validate specs; the compiler
// reports what it cannot use.
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import type { CalicoSnapshot, KObj } from './resources.ts';
import { emptySnapshot } from './resources.ts';

const V3 = 'projectcalico.org/v3';
const ANNOTATION = 'projectcalico.org/';

/** Which snapshot list holds a kind; undefined for kinds the compiler does not use. */
type KObjList = Exclude<keyof CalicoSnapshot, 'endpointStatuses'>;
const KIND_LISTS: Record<string, KObjList> = {
  BGPConfiguration: 'bgpConfigurations',
  BGPPeer: 'bgpPeers',
  BGPFilter: 'bgpFilters',
  IPPool: 'ipPools',
  Node: 'nodes',
  CalicoNode: 'nodes',
  BlockAffinity: 'blockAffinities',
  Secret: 'secrets',
  Service: 'services',
  EndpointSlice: 'endpointSlices',
};

export function loadResourceFiles(paths: string[]): CalicoSnapshot {
  const snap = emptySnapshot();
  for (const p of paths) for (const o of parseResourceText(readFileSync(p, 'utf8'), p)) addObject(snap, o);
  return snap;
}

/** Every object of a YAML text, lists flattened, in document order. */
export function parseResourceText(text: string, file = '<input>'): KObj[] {
  const out: KObj[] = [];
  for (const doc of parseAllDocuments(text, { version: '1.1' })) {
    if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors[0]!.message}`);
    const v: unknown = doc.toJS();
    if (v === null || v === undefined) continue;
    if (typeof v !== 'object' || Array.isArray(v)) throw new Error(`${file}: a document is not a mapping`);
    flatten(v as KObj, out);
  }
  return out;
}

function flatten(o: KObj, out: KObj[]): void {
  if (typeof o.kind === 'string' && o.kind.endsWith('List') && Array.isArray(o.items)) {
    const itemKind = o.kind === 'List' ? undefined : o.kind.slice(0, -'List'.length);
    for (const item of o.items as KObj[]) flatten(itemKind && !item.kind ? { ...item, kind: itemKind, apiVersion: item.apiVersion ?? o.apiVersion } : item, out);
    return;
  }
  out.push(o);
}

/** Upsert an object into the snapshot (same kind, namespace and name replaces), normalised first. */
export function addObject(snap: CalicoSnapshot, raw: KObj): void {
  const o = normaliseObject(raw);
  const list = o.kind ? KIND_LISTS[o.kind] : undefined;
  if (!list) return;
  const items = snap[list];
  const i = items.findIndex((x) => sameObject(x, o));
  if (i >= 0) items[i] = o;
  else items.push(o);
}

/** Remove an object (by kind, namespace, name) from the snapshot; true if it was there. */
export function removeObject(snap: CalicoSnapshot, kind: string, name: string, namespace?: string): boolean {
  const list = KIND_LISTS[kind];
  if (!list) return false;
  const items = snap[list];
  const i = items.findIndex((x) => x.metadata?.name === name && (namespace === undefined || (x.metadata?.namespace ?? 'default') === namespace));
  if (i < 0) return false;
  items.splice(i, 1);
  return true;
}

function sameObject(a: KObj, b: KObj): boolean {
  return a.metadata?.name === b.metadata?.name && (a.metadata?.namespace ?? '') === (b.metadata?.namespace ?? '');
}

/**
 * Bring an object to the projectcalico.org/v3 shape the compiler reads: the v1 CRD group
 * renamed, label values as strings, Kubernetes Nodes turned into Calico Nodes. Pure.
 */
export function normaliseObject(raw: KObj): KObj {
  const o: KObj = { ...raw, metadata: { ...(raw.metadata ?? {}) } };
  if (o.metadata!.labels) o.metadata!.labels = stringValues(o.metadata!.labels);
  if (o.metadata!.annotations) o.metadata!.annotations = stringValues(o.metadata!.annotations);
  const api = String(o.apiVersion ?? '');
  if (api.startsWith('crd.projectcalico.org/')) o.apiVersion = V3;
  if (o.kind === 'Node' && !api.includes('projectcalico.org')) return k8sNodeToCalico(o);
  return o;
}

function stringValues(m: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(m)) out[k] = v === null || v === undefined ? '' : String(v);
  return out;
}

/** A core/v1 Node → Calico Node (libcalico-go k8s/resources/node.go's annotation mapping). */
function k8sNodeToCalico(o: KObj): KObj {
  const ann = o.metadata?.annotations ?? {};
  const get = (k: string): string | undefined => ann[ANNOTATION + k] || undefined;
  const bgp: Record<string, unknown> = {};
  const put = (field: string, key: string) => {
    const v = get(key);
    if (v !== undefined) bgp[field] = v;
  };
  put('ipv4Address', 'IPv4Address');
  put('ipv6Address', 'IPv6Address');
  put('asNumber', 'ASNumber');
  put('routeReflectorClusterID', 'RouteReflectorClusterID');
  put('ipv4IPIPTunnelAddr', 'IPv4IPIPTunnelAddr');
  const wireguard: Record<string, unknown> = {};
  if (get('IPv4WireguardInterfaceAddr')) wireguard.interfaceIPv4Address = get('IPv4WireguardInterfaceAddr');
  if (get('IPv6WireguardInterfaceAddr')) wireguard.interfaceIPv6Address = get('IPv6WireguardInterfaceAddr');
  // Calico labels live in an annotation; the Kubernetes labels win on conflict.
  let calicoLabels: Record<string, string> = {};
  const json = get('labels');
  if (json) {
    try {
      calicoLabels = stringValues(JSON.parse(json) as Record<string, unknown>);
    } catch {
      calicoLabels = {};
    }
  }
  const spec: Record<string, unknown> = {};
  if (Object.keys(bgp).length > 0) spec.bgp = bgp;
  if (Object.keys(wireguard).length > 0) spec.wireguard = wireguard;
  const k8sSpec = (o.spec ?? {}) as Record<string, unknown>;
  if (Array.isArray(k8sSpec.podCIDRs)) spec.podCIDRs = k8sSpec.podCIDRs;
  return {
    apiVersion: V3,
    kind: 'Node',
    metadata: { ...o.metadata, labels: { ...calicoLabels, ...(o.metadata?.labels ?? {}) } },
    spec,
  };
}
