// SPDX-License-Identifier: Apache-2.0
// Unit checks of the compiler's rules that the goldens cover only partly: the mesh passive rule
// on strings, CALICO_ROUTER_ID, Go durations and AS numbers, the KDD object shapes (v1 CRDs,
// Kubernetes Nodes with annotations, XList), and the peer-count cases of Calico's harness that
// have no golden (idle_peers, node_deletion).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { compileNode, hashRouterId } from '../../src/calico/compile.ts';
import { addObject, parseResourceText, removeObject } from '../../src/calico/load.ts';
import { durationSeconds, parseAsn } from '../../src/calico/model.ts';
import { emptySnapshot, type CalicoSnapshot } from '../../src/calico/resources.ts';
import { GOLDENS } from './scenarios.ts';

function snap(yaml: string): CalicoSnapshot {
  const s = emptySnapshot();
  for (const o of parseResourceText(yaml)) addObject(s, o);
  return s;
}

const node = (name: string, ip: string, extra = '') => `---
kind: Node
apiVersion: projectcalico.org/v3
metadata: {name: ${name}}
spec: {bgp: {ipv4Address: ${ip}/24${extra}}}
`;

test('mesh passive rule compares IP strings: "10.0.0.10" < "10.0.0.9"', () => {
  const s = snap(node('a', '10.0.0.9') + node('b', '10.0.0.10') + node('c', '10.0.0.100'));
  const peers = compileNode(s, { NODENAME: 'a' }).render.peers;
  assert.deepEqual(peers.map((p) => [p.name, p.passive]), [['Mesh_10_0_0_10', false], ['Mesh_10_0_0_100', false]]);
  const fromB = compileNode(s, { NODENAME: 'b' }).render.peers;
  assert.deepEqual(fromB.map((p) => [p.name, p.passive]), [['Mesh_10_0_0_100', true], ['Mesh_10_0_0_9', true]]);
});

test('CALICO_ROUTER_ID=hash matches the mesh/hash golden', () => {
  const golden = readFileSync(`${GOLDENS}/compiled_templates/mesh/hash/bird.cfg`, 'utf8');
  const id = /router id (\S+);/.exec(golden)![1];
  assert.equal(hashRouterId('kube-master'), id);
  const s = snap(node('kube-master', '10.0.0.1'));
  assert.equal(compileNode(s, { NODENAME: 'kube-master', CALICO_ROUTER_ID: 'hash' }).render.routerId, id);
  assert.equal(compileNode(s, { NODENAME: 'kube-master', CALICO_ROUTER_ID: '1.2.3.4' }).render.routerId, '1.2.3.4');
  assert.equal(compileNode(s, { NODENAME: 'kube-master' }).render.routerId, '10.0.0.1');
});

test('Go durations round to whole seconds; AS numbers accept asdot', () => {
  assert.equal(durationSeconds('10s'), 10);
  assert.equal(durationSeconds('1m30s'), 90);
  assert.equal(durationSeconds('1.5s'), 2);
  assert.equal(durationSeconds('1499ms'), 1);
  assert.equal(durationSeconds('2h'), 7200);
  assert.equal(durationSeconds('10 s'), undefined);
  assert.equal(parseAsn('1.10'), 65546);
  assert.equal(parseAsn('64512'), 64512);
  assert.equal(parseAsn(65000), 65000);
  assert.equal(parseAsn('x'), undefined);
});

test('KDD shapes: crd.projectcalico.org/v1 objects, a Kubernetes Node with annotations, an XList', () => {
  const s = snap(`
apiVersion: v1
kind: Node
metadata:
  name: k1
  labels: {rack: r1}
  annotations:
    projectcalico.org/IPv4Address: 10.1.0.1/24
    projectcalico.org/ASNumber: "65010"
    projectcalico.org/labels: '{"rack":"ignored","rr":"yes"}'
---
apiVersion: v1
kind: Node
metadata:
  name: k2
  annotations: {projectcalico.org/IPv4Address: 10.1.0.2/24}
---
apiVersion: crd.projectcalico.org/v1
kind: BGPPeerList
items:
  - metadata: {name: to-tor}
    spec: {peerIP: 10.1.0.254, asNumber: 65000, nodeSelector: "rack == 'r1' && rr == 'yes'"}
---
apiVersion: crd.projectcalico.org/v1
kind: BGPConfiguration
metadata: {name: default}
spec: {nodeToNodeMeshEnabled: false}
`);
  assert.equal(s.bgpPeers[0]?.apiVersion, 'projectcalico.org/v3');
  assert.deepEqual(s.nodes[0]?.metadata?.labels, { rack: 'r1', rr: 'yes' }); // k8s labels win
  const r = compileNode(s, { NODENAME: 'k1' }).render;
  assert.equal(r.asn, 65010);
  assert.deepEqual(r.peers.map((p) => [p.name, p.asn, p.sourceAddress]), [['Node_10_1_0_254', 65000, '10.1.0.1']]);
  assert.deepEqual(compileNode(s, { NODENAME: 'k2' }).render.peers, []);
});

test('YAML 1.1 as calicoctl reads it: `yes` is a boolean, carried as the label value "true"', () => {
  const s = snap(`kind: Node\napiVersion: projectcalico.org/v3\nmetadata: {name: a, labels: {rr: yes}}\n`);
  assert.equal(s.nodes[0]?.metadata?.labels?.rr, 'true');
});

function harness(dir: string): CalicoSnapshot {
  return snap(readFileSync(`${GOLDENS}/inputs/${dir}/input.yaml`, 'utf8'));
}

test('idle_peers: a global and a node-specific peering to the same node give one session', () => {
  const r = compileNode(harness('idle_peers'), { NODENAME: 'node1' }).render;
  assert.equal(r.peers.length, 1);
  assert.equal(r.peers[0]!.name, 'Global_10_24_0_2');
});

test('node_deletion: 3 peerings, then 2 once node3 is gone', () => {
  const s = harness('node_deletion');
  assert.equal(compileNode(s, { NODENAME: 'node1' }).render.peers.length, 3);
  assert.ok(removeObject(s, 'Node', 'node3'));
  assert.deepEqual(compileNode(s, { NODENAME: 'node1' }).render.peers.map((p) => p.address), ['10.24.0.2', '10.24.0.4']);
});

test('externalTrafficPolicy Local: a /32 only where a ready endpoint is local', () => {
  const base = `kind: BGPConfiguration
apiVersion: projectcalico.org/v3
metadata: {name: default}
spec: {serviceClusterIPs: [{cidr: 10.96.0.0/16}]}
${node('n1', '10.0.0.1')}---
kind: Service
apiVersion: v1
metadata: {name: web, namespace: shop}
spec: {type: NodePort, externalTrafficPolicy: Local, clusterIP: 10.96.0.10}
---
kind: EndpointSlice
apiVersion: discovery.k8s.io/v1
metadata: {name: web-1, namespace: shop, labels: {kubernetes.io/service-name: web}}
addressType: IPv4
endpoints:
  - {addresses: [10.244.0.5], nodeName: n1, conditions: {ready: READY}}
`;
  const prefixes = (ready: string) => compileNode(snap(base.replace('READY', ready)), { NODENAME: 'n1' }).render.originate.map((o) => o.prefix);
  assert.deepEqual(prefixes('true'), ['10.96.0.0/16', '10.96.0.10/32']);
  assert.deepEqual(prefixes('false'), ['10.96.0.0/16']);
});

test('BGPFilter priority becomes a localPref match; peerType is resolved per peer', () => {
  const s = snap(`${node('n1', '10.0.0.1')}---
kind: BGPConfiguration
apiVersion: projectcalico.org/v3
metadata: {name: default}
spec: {nodeToNodeMeshEnabled: false}
---
kind: BGPFilter
apiVersion: projectcalico.org/v3
metadata: {name: f}
spec:
  exportV4:
    - {action: Reject, peerType: iBGP, cidr: 10.9.0.0/16, matchOperator: In}
    - {action: Accept, priority: 512}
---
kind: BGPPeer
apiVersion: projectcalico.org/v3
metadata: {name: tor}
spec: {peerIP: 10.0.0.254, asNumber: 65000, filters: [f]}
`);
  const { config } = compileNode(s, { NODENAME: 'n1' });
  const policies = config.policies as Record<string, { name?: string; match?: Record<string, unknown> }[]>;
  const terms = policies['calico-export-v4-ebgp_f']!;
  assert.deepEqual(terms.filter((t) => t.name?.startsWith('f.')).map((t) => t.match), [{ localPref: 2147483647 - 512 }]);
});
