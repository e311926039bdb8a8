// SPDX-License-Identifier: Apache-2.0
// What the datastore reads, as confd's BGP syncer and its side watchers do
// (calico-bird.md §1 "What confd watches", §3.1): one description per collection, and the rules
// that decide which optional collections are needed (password Secrets, Services/EndpointSlices).
// It only describes; reflector.ts does the reading.
import type { CalicoSnapshot, KObj } from '../resources.ts';
import type { CalicoApiGroup } from './api-group.ts';

export interface SourceSpec {
  /** Unique id of the source inside the datastore (also its log name). */
  id: string;
  /** Which snapshot list its objects go to. */
  bucket: keyof CalicoSnapshot;
  path: string;
  apiVersion: string;
  kind: string;
  fieldSelector?: string;
}

/** Calico resources, all cluster-scoped, in the detected group (plural names are the same in v1 and v3). */
const CALICO_KINDS: readonly [string, string, keyof CalicoSnapshot][] = [
  ['bgpconfigurations', 'BGPConfiguration', 'bgpConfigurations'],
  ['bgppeers', 'BGPPeer', 'bgpPeers'],
  ['bgpfilters', 'BGPFilter', 'bgpFilters'],
  ['ippools', 'IPPool', 'ipPools'],
  ['blockaffinities', 'BlockAffinity', 'blockAffinities'],
];

/** Always read: the Calico kinds and the Kubernetes Nodes (in KDD a Calico Node is a k8s Node + annotations). */
export function staticSources(group: CalicoApiGroup): SourceSpec[] {
  const gv = `${group.group}/${group.version}`;
  return [
    ...CALICO_KINDS.map(([plural, kind, bucket]): SourceSpec => ({ id: plural, bucket, path: `/apis/${gv}/${plural}`, apiVersion: gv, kind })),
    { id: 'nodes', bucket: 'nodes', path: '/api/v1/nodes', apiVersion: 'v1', kind: 'Node' },
  ];
}

/**
 * One source per Secret name, with a name field selector, as confd's secret_watcher does: RBAC
 * may then grant access to just those secrets (resourceNames), and nothing else is read.
 */
export function secretSource(namespace: string, name: string): SourceSpec {
  return {
    id: `secret:${name}`,
    bucket: 'secrets',
    path: `/api/v1/namespaces/${encodeURIComponent(namespace)}/secrets`,
    apiVersion: 'v1',
    kind: 'Secret',
    fieldSelector: `metadata.name=${name}`,
  };
}

export function serviceSources(): SourceSpec[] {
  return [
    { id: 'services', bucket: 'services', path: '/api/v1/services', apiVersion: 'v1', kind: 'Service' },
    { id: 'endpointslices', bucket: 'endpointSlices', path: '/apis/discovery.k8s.io/v1/endpointslices', apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice' },
  ];
}

/** Secret names referenced by BGPPeer.spec.password and BGPConfiguration.spec.nodeMeshPassword. */
export function referencedSecrets(peers: readonly KObj[], configs: readonly KObj[]): string[] {
  const names = new Set<string>();
  const add = (ref: unknown) => {
    const name = (ref as { secretKeyRef?: { name?: unknown } } | undefined)?.secretKeyRef?.name;
    if (typeof name === 'string' && name) names.add(name);
  };
  for (const p of peers) add(p.spec?.password);
  for (const c of configs) add(c.spec?.nodeMeshPassword);
  return [...names].sort();
}

/**
 * confd watches Services and EndpointSlices only when some service IP range is to be advertised:
 * serviceClusterIPs / serviceExternalIPs / serviceLoadBalancerIPs in the `default`
 * BGPConfiguration, or the legacy CALICO_ADVERTISE_CLUSTER_IPS environment variable.
 */
export function serviceAdvertisementConfigured(configs: readonly KObj[], env: NodeJS.ProcessEnv): boolean {
  if (env.CALICO_ADVERTISE_CLUSTER_IPS) return true;
  const def = configs.find((c) => c.metadata?.name === 'default');
  const spec = def?.spec ?? {};
  return ['serviceClusterIPs', 'serviceExternalIPs', 'serviceLoadBalancerIPs'].some((k) => Array.isArray(spec[k]) && (spec[k] as unknown[]).length > 0);
}

/**
 * Only the parts of a Kubernetes Node that BGP needs (name, labels, annotations, pod CIDRs,
 * addresses). Nodes change every few seconds for heartbeats and conditions; trimming them keeps
 * those changes from producing new snapshots.
 */
export function trimNode(n: KObj): KObj {
  const md = n.metadata ?? {};
  const spec = n.spec ?? {};
  const status = n.status ?? {};
  return {
    apiVersion: n.apiVersion ?? 'v1',
    kind: n.kind ?? 'Node',
    metadata: {
      name: md.name,
      ...(md.labels ? { labels: md.labels } : {}),
      ...(md.annotations ? { annotations: md.annotations } : {}),
    },
    spec: {
      ...(spec.podCIDR !== undefined ? { podCIDR: spec.podCIDR } : {}),
      ...(spec.podCIDRs !== undefined ? { podCIDRs: spec.podCIDRs } : {}),
      ...(spec.bgp !== undefined ? { bgp: spec.bgp } : {}), // already a Calico Node (v3 shape)
      ...(spec.addresses !== undefined ? { addresses: spec.addresses } : {}),
    },
    ...(status.addresses !== undefined ? { status: { addresses: status.addresses } } : {}),
  };
}

/** Drops bookkeeping that changes without meaning (resourceVersion, managedFields, generation). */
export function withoutBookkeeping(o: KObj): KObj {
  if (!o.metadata) return o;
  const { resourceVersion: _rv, managedFields: _mf, generation: _g, ...metadata } = o.metadata;
  return { ...o, metadata };
}
