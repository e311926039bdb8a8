// SPDX-License-Identifier: Apache-2.0
// deploy/kubernetes/route-reflector.yaml, read with the `yaml` package as kubectl would get it:
// the Tern config embedded in the ConfigMap passes parseConfig (as `tern check` would) and is a
// route reflector; the container runs `tern run --config` on the file the ConfigMap is mounted as;
// the probes point at /healthz and /readyz on the port the config's `metrics.listen` binds, and
// a daemon built from that very config answers those paths (not 404); host networking and the
// three capabilities are set. No cluster is needed (none can run here).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { parseConfig, type TernConfig } from '../../src/config/index.ts';
import { Daemon } from '../../src/daemon.ts';
import { createLogger } from '../../src/observability/log.ts';
import { ObservabilityServer, parseListen } from '../../src/observability/http.ts';
import { httpRequest } from '../observability/metrics-helpers.ts';

const MANIFEST = fileURLToPath(new URL('../../deploy/kubernetes/route-reflector.yaml', import.meta.url));

// The shapes read here (a loose view of the Kubernetes objects).
interface Probe { httpGet?: { path?: string; port?: number | string } }
interface Container {
  name: string;
  args?: string[];
  command?: string[];
  ports?: { name?: string; containerPort: number }[];
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  securityContext?: { allowPrivilegeEscalation?: boolean; readOnlyRootFilesystem?: boolean; capabilities?: { drop?: string[]; add?: string[] } };
  volumeMounts?: { name: string; mountPath: string }[];
}
interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
  data?: Record<string, string>;
  spec?: {
    selector?: { matchLabels?: Record<string, string> };
    template?: {
      metadata?: { labels?: Record<string, string> };
      spec: { hostNetwork?: boolean; containers: Container[]; volumes?: { name: string; configMap?: { name: string } }[] };
    };
  };
}

function load(): K8sObject[] {
  const docs = parseAllDocuments(readFileSync(MANIFEST, 'utf8'));
  return docs.map((d) => {
    assert.deepEqual(d.errors, [], 'YAML parses without errors');
    return d.toJS() as K8sObject;
  });
}

interface Wiring {
  workload: K8sObject;
  container: Container;
  configFile: string;
  configText: string;
  config: TernConfig;
}

/** Follows `--config FILE` to the volume mount, the volume to the ConfigMap, and the key to the text. */
function wiring(objects: K8sObject[]): Wiring {
  const workloads = objects.filter((o) => o.kind === 'Deployment' || o.kind === 'DaemonSet');
  assert.equal(workloads.length, 1, 'one Deployment or DaemonSet');
  const workload = workloads[0]!;
  const pod = workload.spec!.template!.spec;
  const container = pod.containers.find((c) => c.name === 'tern');
  assert.ok(container, 'a container named tern');
  const argv = [...(container.command ?? []), ...(container.args ?? [])];
  assert.equal(argv[0], 'run', `tern run (the image's entrypoint is tern): ${argv.join(' ')}`);
  const configFile = argv[argv.indexOf('--config') + 1]!;
  assert.ok(argv.includes('--config') && configFile.startsWith('/'), argv.join(' '));
  const mount = container.volumeMounts?.find((m) => posix.dirname(configFile) === m.mountPath);
  assert.ok(mount, `a volume is mounted at ${posix.dirname(configFile)}`);
  const volume = pod.volumes?.find((v) => v.name === mount.name);
  const configMap = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === volume?.configMap?.name);
  assert.ok(configMap, `volume ${mount.name} is a ConfigMap of this manifest`);
  assert.equal(configMap.metadata.namespace, workload.metadata.namespace, 'same namespace');
  const configText = configMap.data?.[posix.basename(configFile)];
  assert.ok(configText !== undefined, `the ConfigMap has the key ${posix.basename(configFile)}`);
  return { workload, container, configFile, configText, config: parseConfig(configText, `${configMap.metadata.name}/${posix.basename(configFile)}`) };
}

test('route-reflector.yaml: the embedded Tern config passes parseConfig and is a route reflector', () => {
  const { config } = wiring(load());
  assert.ok(config.peers.length >= 1);
  for (const p of config.peers) {
    assert.equal(p.asn, config.asn, `${p.name}: iBGP`);
    assert.equal(p.routeReflectorClient, true, `${p.name}: a route-reflector client`);
  }
  assert.ok(config.metrics, 'metrics endpoint configured (the probes need it)');
});

test('route-reflector.yaml: probes use /healthz and /readyz on the metrics port; the daemon serves them', async () => {
  const { container, config } = wiring(load());
  const port = parseListen(config.metrics!.listen).port;
  const named = (p: number | string | undefined) => (typeof p === 'string' ? container.ports?.find((x) => x.name === p)?.containerPort : p);
  assert.equal(container.livenessProbe?.httpGet?.path, '/healthz');
  assert.equal(container.readinessProbe?.httpGet?.path, '/readyz');
  assert.equal(named(container.livenessProbe.httpGet.port), port, 'liveness port = metrics.listen port');
  assert.equal(named(container.readinessProbe.httpGet.port), port, 'readiness port = metrics.listen port');

  // The same config (no BGP listener, a private control socket) behind the real HTTP endpoint.
  const dir = mkdtempSync(join(tmpdir(), 'tern-k8s-'));
  const daemon = new Daemon({ ...config, listen: { ...config.listen, addresses: [], port: 0, enabled: false }, control: { socket: join(dir, 'tern.ctl') } }, createLogger({ level: 'silent' }));
  const server = await ObservabilityServer.start(daemon, { listen: '127.0.0.1:0' });
  try {
    server.setServing(true);
    const live = await httpRequest(server.address().port, container.livenessProbe.httpGet.path);
    assert.equal(live.status, 200, live.body);
    const ready = await httpRequest(server.address().port, container.readinessProbe.httpGet.path);
    assert.ok(ready.status === 200 || ready.status === 503, `${ready.status} ${ready.body}`);
    assert.match(String((JSON.parse(ready.body) as { status: string }).status), /^(ready|not ready)$/);
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('route-reflector.yaml: host networking, port 179, only NET_ADMIN/NET_BIND_SERVICE/NET_RAW, selector matches', () => {
  const objects = load();
  const { workload, container, config } = wiring(objects);
  const spec = workload.spec!;
  assert.equal(spec.template!.spec.hostNetwork, true);
  for (const [k, v] of Object.entries(spec.selector?.matchLabels ?? {})) assert.equal(spec.template!.metadata?.labels?.[k], v, `selector ${k}`);
  assert.ok(Object.keys(spec.selector?.matchLabels ?? {}).length > 0);
  assert.equal(config.listen.port, 179);
  assert.ok(container.ports?.some((p) => p.containerPort === 179));
  const sc = container.securityContext;
  assert.deepEqual(sc?.capabilities?.drop, ['ALL']);
  assert.deepEqual([...(sc?.capabilities?.add ?? [])].sort(), ['NET_ADMIN', 'NET_BIND_SERVICE', 'NET_RAW']);
  assert.equal(sc?.allowPrivilegeEscalation, false);
  assert.equal(sc?.readOnlyRootFilesystem, true);
  // A read-only root file system: the control socket's directory must be a writable volume.
  assert.ok(container.volumeMounts?.some((m) => posix.dirname(config.control.socket) === m.mountPath), `a volume at ${posix.dirname(config.control.socket)}`);
  const ns = objects.find((o) => o.kind === 'Namespace');
  assert.equal(ns?.metadata.name, workload.metadata.namespace);
});
