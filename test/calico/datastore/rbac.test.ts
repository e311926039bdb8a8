// SPDX-License-Identifier: Apache-2.0
// deploy/calico-node/rbac.yaml must grant list+watch on every collection the datastore reads
// (both Calico API groups), Secrets only through the namespaced Role, and no write verb.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { CALICO_V1, CALICO_V3 } from '../../../src/calico/datastore/api-group.ts';
import { secretSource, serviceSources, staticSources, type SourceSpec } from '../../../src/calico/datastore/sources.ts';

interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}
interface RbacDoc {
  kind: string;
  metadata: { name: string; namespace?: string };
  rules?: Rule[];
}

const docs = parseAllDocuments(readFileSync(new URL('../../../deploy/calico-node/rbac.yaml', import.meta.url), 'utf8')).map((d) => d.toJS() as RbacDoc);
const clusterRules = docs.filter((d) => d.kind === 'ClusterRole').flatMap((d) => d.rules ?? []);
const secretRole = docs.find((d) => d.kind === 'Role');

/** "/apis/G/V/plural" or "/api/v1[/namespaces/NS]/plural" → [group, plural]. */
function groupResource(s: SourceSpec): [string, string] {
  const parts = s.path.split('/').filter(Boolean);
  const plural = parts.at(-1)!;
  return [parts[0] === 'api' ? '' : parts[1]!, plural];
}

function grants(rules: Rule[], group: string, resource: string): boolean {
  return rules.some((r) => r.apiGroups.includes(group) && r.resources.includes(resource) && r.verbs.includes('list') && r.verbs.includes('watch'));
}

test('the ClusterRole covers every cluster-wide source, in both Calico API groups', () => {
  const sources = [...staticSources({ ...CALICO_V1, decidedBy: 'env' }), ...staticSources({ ...CALICO_V3, decidedBy: 'env' }), ...serviceSources()];
  for (const s of sources) {
    const [group, resource] = groupResource(s);
    assert.ok(grants(clusterRules, group, resource), `no list/watch for ${resource}.${group || 'core'}`);
  }
});

test('Secrets are granted only by the Role in the calico-node namespace', () => {
  const [group, resource] = groupResource(secretSource('kube-system', 'x'));
  assert.equal(grants(clusterRules, group, resource), false, 'no cluster-wide secret access');
  assert.ok(secretRole && grants(secretRole.rules ?? [], group, resource));
  assert.equal(secretRole.metadata.namespace, 'kube-system');
});

test('read-only: no rule grants a write verb', () => {
  const verbs = new Set(docs.flatMap((d) => d.rules ?? []).flatMap((r) => r.verbs));
  assert.deepEqual([...verbs].sort(), ['get', 'list', 'watch']);
});
