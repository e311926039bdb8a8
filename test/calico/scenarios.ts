// SPDX-License-Identifier: Apache-2.0
// Every rendering case of Calico's confd goldens (/work/shared/data/calico-confd-goldens), as
// Calico's own harness drives it (projectcalico/calico confd/tests/*_test.go at 87c15906f20c):
// which input files, node name, environment, whether the standard block affinities exist, and
// for multi-step cases the datastore change made before each golden. Two harness facts matter:
//   - the daemon-mode cases password/*, password-deadlock and sourceaddr_gracefulrestart/* run
//     as NODENAME=node1 (dl-node1) without block affinities; bgpfilter/node_mesh runs without them;
//   - Service `status` (LoadBalancer ingress) never reaches the API server in that harness
//     (envtest creates objects without status), so it is dropped here too.
import { readFileSync, existsSync } from 'node:fs';
import { addObject, parseResourceText, removeObject } from '../../src/calico/load.ts';
import { emptySnapshot, type CalicoSnapshot, type KObj } from '../../src/calico/resources.ts';

export const GOLDENS = '/work/shared/data/calico-confd-goldens';

export interface Step {
  /** Golden folder under compiled_templates/. */
  golden: string;
  /** The datastore change made before this golden is checked (the first step: none). */
  change?: (s: CalicoSnapshot) => void;
}

export interface Scenario {
  name: string;
  node: string;
  env: Record<string, string>;
  affinities: boolean;
  /** Input folders under inputs/ (input.yaml, then kubectl-input.yaml if present). */
  inputs: string[];
  /** Objects built in code (password-deadlock). */
  objects?: () => KObj[];
  endpointStatuses?: CalicoSnapshot['endpointStatuses'];
  steps: Step[];
}

const AFFINITIES: [string, string][] = [
  ['10.0.0.0/30', ''],
  ['10.1.0.0/24', ''],
  ['10.2.0.1/32', ''],
  ['192.168.221.192/26', ''],
  ['192.168.221.64/26', 'confirmed'],
  ['192.168.221.0/26', 'pending'],
];

export function readObjects(file: string): KObj[] {
  return parseResourceText(readFileSync(file, 'utf8'), file).map((o) => {
    if (o.kind === 'Service') {
      const { status: _dropped, ...rest } = o;
      return rest;
    }
    return o;
  });
}

export function inputFiles(dir: string): string[] {
  const base = `${GOLDENS}/inputs/${dir}`;
  return [`${base}/input.yaml`, `${base}/kubectl-input.yaml`].filter((f) => existsSync(f));
}

export function initialSnapshot(sc: Scenario): CalicoSnapshot {
  const s = emptySnapshot();
  if (sc.affinities) {
    for (const [cidr, state] of AFFINITIES) {
      const name = `kube-master-${cidr.replace('/', '-').replaceAll('.', '-')}`;
      addObject(s, { apiVersion: 'projectcalico.org/v3', kind: 'BlockAffinity', metadata: { name }, spec: { node: 'kube-master', cidr, state } });
    }
  }
  for (const dir of sc.inputs) for (const f of inputFiles(dir)) for (const o of readObjects(f)) addObject(s, o);
  for (const o of sc.objects?.() ?? []) addObject(s, o);
  if (sc.endpointStatuses) s.endpointStatuses = sc.endpointStatuses;
  return s;
}

function secret(name: string, data: Record<string, string>): KObj {
  return { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: 'kube-system' }, stringData: data };
}

function setSpec(kind: 'bgpConfigurations' | 'bgpPeers', name: string, patch: Record<string, unknown>) {
  return (s: CalicoSnapshot) => {
    const o = s[kind].find((x) => x.metadata?.name === name);
    if (!o) throw new Error(`${kind} ${name} missing`);
    o.spec = { ...(o.spec ?? {}), ...patch };
  };
}

const oneshot = (golden: string, env: Record<string, string> = {}, input = golden): Scenario => ({
  name: golden,
  node: 'kube-master',
  env,
  affinities: true,
  inputs: [input],
  steps: [{ golden }],
});

export const SCENARIOS: Scenario[] = [
  ...[
    'bgpfilter/as_path_and_priority',
    'bgpfilter/export_only/explicit_peer',
    'bgpfilter/export_only/global_peer',
    'bgpfilter/filter_names',
    'bgpfilter/import_only/explicit_peer',
    'bgpfilter/import_only/global_peer',
    'bgpfilter/kubevirt_live_migration',
    'bgpfilter/large_community',
    'bgpfilter/match_interface',
    'bgpfilter/match_operators',
    'bgpfilter/match_source',
    'bgpfilter/multi_filter/explicit_peer',
    'bgpfilter/multi_filter/global_peer',
    'bgpfilter/node_mesh',
    'bgpfilter/single_filter/explicit_peer',
    'bgpfilter/single_filter/global_peer',
    'bgpfilter/v4_only/explicit_peer',
    'bgpfilter/v4_only/global_peer',
    'bgpfilter/v6_only/explicit_peer',
    'bgpfilter/v6_only/global_peer',
    'cluster_routes/default',
    'cluster_routes/enabled',
    'cluster_routes/ipip-only',
    'cluster_routes/noencap-only',
    'explicit_peering/global',
    'explicit_peering/global-external',
    'explicit_peering/global-ipv6',
    'explicit_peering/keepnexthop',
    'explicit_peering/keepnexthop-global',
    'explicit_peering/local-as',
    'explicit_peering/local-as-global',
    'explicit_peering/local-as-ipv6',
    'explicit_peering/route_reflector',
    'explicit_peering/specific_node',
    'felix_cluster_routing',
    'ignored_interfaces',
    'mesh/bgp-export',
    'mesh/ipip-always',
    'mesh/ipip-off',
    'mesh/route-reflector-mesh-enabled',
    'mesh/vxlan-always',
    'next_hop_mode/global_peers',
    'reachable_by/global_peers',
    'reverse_peering/manual',
    'ttl_security/explicit_node',
    'ttl_security/global',
  ].map((g) => oneshot(g)),
  oneshot('mesh/hash', { CALICO_ROUTER_ID: 'hash' }),
  oneshot('mesh/static-routes-no-ipv4-address', { CALICO_ROUTER_ID: '10.10.10.10' }),
  {
    name: 'mesh/static-routes',
    node: 'kube-master',
    env: {},
    affinities: true,
    inputs: ['mesh/static-routes'],
    steps: [
      { golden: 'mesh/static-routes' },
      { golden: 'mesh/static-routes/step2', change: (s) => { for (const f of inputFiles('mesh/static-routes/step2')) for (const o of readObjects(f)) addObject(s, o); } },
    ],
  },
  {
    name: 'bgpfilter/filter_deletion',
    node: 'kube-master',
    env: {},
    affinities: true,
    inputs: ['bgpfilter/filter_deletion'],
    steps: [
      { golden: 'bgpfilter/filter_deletion/step1' },
      { golden: 'bgpfilter/filter_deletion/step2', change: (s) => void removeObject(s, 'BGPFilter', 'test-filter') },
    ],
  },
  {
    name: 'bgpfilter/node_mesh',
    node: 'kube-master',
    env: {},
    affinities: false,
    inputs: ['bgpfilter/node_mesh'],
    steps: [
      { golden: 'bgpfilter/node_mesh/priority1' },
      { golden: 'bgpfilter/node_mesh/priority2', change: setSpec('bgpConfigurations', 'default', { ipv4NormalRoutePriority: 5000 }) },
      { golden: 'bgpfilter/node_mesh/priority3', change: setSpec('bgpConfigurations', 'default', { ipv6NormalRoutePriority: 80 }) },
    ],
  },
  {
    name: 'explicit_peering/local_bgp_peer',
    node: 'kube-master',
    env: {},
    affinities: true,
    inputs: ['local_bgp_peer'],
    endpointStatuses: [
      { ifaceName: 'cali97e1defe654', ipv4Nets: ['192.168.162.134/32'], ipv6Nets: ['fd00:10:244:0:586d:4461:e980:a284/128'], bgpPeerName: 'test-global-peer-with-filter' },
      { ifaceName: 'cali97e1defe656', ipv4Nets: ['192.168.162.136/32'], ipv6Nets: ['fd00:10:244:0:586d:4461:e980:a286/128'], bgpPeerName: 'test-node-peer-with-filter' },
    ],
    steps: [{ golden: 'explicit_peering/local_bgp_peer' }],
  },
  {
    name: 'mesh/password',
    node: 'kube-master',
    env: {},
    affinities: true,
    inputs: ['mesh_password'],
    steps: [
      { golden: 'mesh/password/step1' },
      { golden: 'mesh/password/step2', change: (s) => addObject(s, secret('my-secrets-1', { a: 'password-a' })) },
      { golden: 'mesh/password/step3', change: (s) => addObject(s, secret('my-secrets-1', { a: 'new-password-a' })) },
      { golden: 'mesh/password/step1', change: (s) => addObject(s, secret('my-secrets-1', { b: 'password-b' })) },
      { golden: 'mesh/password/step1', change: (s) => void removeObject(s, 'Secret', 'my-secrets-1') },
    ],
  },
  {
    name: 'mesh/restart-time (programClusterRoutes)',
    node: 'kube-master',
    env: {},
    affinities: true,
    inputs: ['mesh/restart-time'],
    steps: [
      { golden: 'mesh/restart-time' },
      { golden: 'mesh/restart-time', change: setSpec('bgpConfigurations', 'default', { programClusterRoutes: 'EnabledNoEncapOnly' }) },
      { golden: 'mesh/restart-time/pcr-disabled', change: setSpec('bgpConfigurations', 'default', { programClusterRoutes: 'Disabled' }) },
      { golden: 'mesh/restart-time/pcr-enabled', change: setSpec('bgpConfigurations', 'default', { programClusterRoutes: 'Enabled' }) },
      { golden: 'mesh/restart-time/pcr-ipip-only', change: setSpec('bgpConfigurations', 'default', { programClusterRoutes: 'EnabledIPIPOnly' }) },
    ],
  },
  {
    name: 'password',
    node: 'node1',
    env: {},
    affinities: false,
    inputs: ['password'],
    steps: [
      { golden: 'password/step1' },
      { golden: 'password/step2', change: (s) => addObject(s, secret('my-secrets-1', { b: 'password-b' })) },
      {
        golden: 'password/step3',
        change: (s) => {
          addObject(s, secret('my-secrets-1', { b: 'password-b', a: 'password-a' }));
          addObject(s, secret('my-secrets-2', { c: 'password-c' }));
        },
      },
      { golden: 'password/step4', change: (s) => void removeObject(s, 'Secret', 'my-secrets-2') },
      { golden: 'password/step5', change: (s) => addObject(s, secret('my-secrets-1', { b: 'new-password-b', a: 'new-password-a' })) },
      { golden: 'password/step6', change: (s) => addObject(s, secret('my-secrets-1', { b: 'new-password-b' })) },
    ],
  },
  {
    name: 'password-deadlock',
    node: 'dl-node1',
    env: {},
    affinities: false,
    inputs: [],
    objects: () => {
      const out: KObj[] = [
        { apiVersion: 'projectcalico.org/v3', kind: 'BGPConfiguration', metadata: { name: 'default' }, spec: { nodeToNodeMeshEnabled: false } },
        secret('my-secrets-1', { a: 'password-a' }),
      ];
      for (let i = 1; i <= 99; i++) {
        out.push({ apiVersion: 'projectcalico.org/v3', kind: 'Node', metadata: { name: `dl-node${i}`, labels: { node: 'yes' } }, spec: { bgp: { ipv4Address: `10.24.0.${i}/24` } } });
        out.push({
          apiVersion: 'projectcalico.org/v3',
          kind: 'BGPPeer',
          metadata: { name: `dl-bgppeer-${i}` },
          spec: { node: `dl-node${i}`, peerIP: '10.24.0.2', asNumber: 64512, password: { secretKeyRef: { name: 'my-secrets-1', key: 'a' } } },
        });
      }
      return out;
    },
    steps: [{ golden: 'password-deadlock' }],
  },
  {
    name: 'sourceaddr_gracefulrestart',
    node: 'node1',
    env: {},
    affinities: false,
    inputs: ['sourceaddr_gracefulrestart'],
    steps: [
      { golden: 'sourceaddr_gracefulrestart/step1' },
      { golden: 'sourceaddr_gracefulrestart/step2', change: setSpec('bgpPeers', 'bgppeer-1', { sourceAddress: 'None' }) },
      { golden: 'sourceaddr_gracefulrestart/step3', change: setSpec('bgpPeers', 'bgppeer-1', { maxRestartTime: '10s' }) },
    ],
  },
];
