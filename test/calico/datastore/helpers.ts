// SPDX-License-Identifier: Apache-2.0
// Shared bits for the datastore tests: a silent logger, a transport to the fake API server,
// polling, and small Calico/Kubernetes object builders.
import { createLogger } from '../../../src/observability/log.ts';
import { clientNodeTransport, insecureKubeConfig, type KubeTransport } from '../../../src/calico/datastore/transport.ts';
import type { FakeApiServer, FakeObject } from '../../helpers/fake-apiserver.ts';

export const silent = createLogger({ level: 'silent' });

export function transportFor(server: FakeApiServer): KubeTransport {
  return clientNodeTransport(insecureKubeConfig(server.url));
}

export const FAST = { backoff: { initialMs: 20, maxMs: 100 }, forbiddenRetryMs: 50 } as const;

export async function waitFor(what: string, predicate: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export const V1 = 'crd.projectcalico.org/v1';

export function bgpPeer(name: string, spec: Record<string, unknown>, apiVersion = V1): FakeObject {
  return { apiVersion, kind: 'BGPPeer', metadata: { name }, spec };
}

export function bgpConfig(name: string, spec: Record<string, unknown>, apiVersion = V1): FakeObject {
  return { apiVersion, kind: 'BGPConfiguration', metadata: { name }, spec };
}

export function ipPool(name: string, cidr: string, apiVersion = V1): FakeObject {
  return { apiVersion, kind: 'IPPool', metadata: { name }, spec: { cidr, ipipMode: 'Never', vxlanMode: 'Never', blockSize: 26 } };
}

export function blockAffinity(node: string, cidr: string, apiVersion = V1): FakeObject {
  const name = `${node}-${cidr.replace(/[./]/g, '-')}`;
  const deleted = apiVersion === V1 ? 'false' : false;
  return { apiVersion, kind: 'BlockAffinity', metadata: { name }, spec: { node, cidr, state: 'confirmed', deleted, type: 'host' } };
}

export function k8sNode(name: string, ipv4: string, extra: Record<string, string> = {}): FakeObject {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name }, annotations: { 'projectcalico.org/IPv4Address': ipv4, ...extra } },
    spec: { podCIDR: '10.244.0.0/24' },
    status: { addresses: [{ type: 'InternalIP', address: ipv4.split('/')[0] }], conditions: [{ type: 'Ready', status: 'True', lastHeartbeatTime: new Date().toISOString() }] },
  };
}

export function secret(name: string, namespace: string, data: Record<string, string>): FakeObject {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, namespace },
    type: 'Opaque',
    data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
  };
}
