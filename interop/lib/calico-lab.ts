// SPDX-License-Identifier: Apache-2.0
// The Calico-mode lab (interop/calico.test.ts): one Calico cluster in network namespaces on one
// bridge, with the addresses of Calico's confd fixture cluster (10.192.0.x/16, 2001::1xx/64):
//   - kube-master (10.192.0.2, 2001::103): BIRD 1.6.8 `bird` + `bird6`, configured with the golden
//     bird*.cfg of the scenario (calico-confd-goldens compiled_templates/mesh/ipip-off, rendered by
//     confd for kube-master), used verbatim except for one added stanza (see birdConfig);
//   - kube-node-1..3 (10.192.0.3..5): `tern calico run`, as calico-node's service starts it
//     (NODENAME, KUBECONFIG, the BIRD-compatible sockets via TERN_BIRD_SOCKET/TERN_BIRD6_SOCKET),
//     reading every resource from the fake API server (test/helpers/fake-apiserver.ts) serving the
//     native projectcalico.org/v3 CRDs; each namespace has a veth named tunl0 (no IPIP module here);
//   - api (10.192.255.254): a TCP forwarder to the fake API server, which runs in the test process
//     (the forwarder reaches it through a Unix socket, which crosses network namespaces).
// The resources are the scenario's input.yaml plus interop/fixtures/calico/cluster.yaml (a fourth
// node and the block affinities), the same files `tern calico render` reads.
// It touches nothing outside the namespaces it creates; destroy() (and the Topology exit hooks)
// kill every process and delete every namespace.
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect, type Server } from 'node:net';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Topology } from './netns.ts';
import { run, startDaemon, stopDaemon, tail, type DaemonProcess } from './proc.ts';
import { waitFor } from './wait.ts';
import { ternEntry } from './tern.ts';
import { BIRD1 } from './peers/bird1.ts';
import { FakeApiServer, type FakeObject } from '../../test/helpers/fake-apiserver.ts';
import { parseResourceText, type KObj } from '../../src/calico/resources.ts';

export const GOLDENS_DIR = '/work/shared/data/calico-confd-goldens';
/** A plain mesh scenario: no IPIP/VXLAN (so BIRD programs the pool's routes), IPv4 and IPv6. */
export const SCENARIO = 'mesh/ipip-off';
export const FIXTURES_DIR = fileURLToPath(new URL('../fixtures/calico/', import.meta.url));
export const RESOURCE_FILES = [join(GOLDENS_DIR, 'inputs', SCENARIO, 'input.yaml'), join(FIXTURES_DIR, 'cluster.yaml')];
export const GOLDEN_BIRD_DIR = join(GOLDENS_DIR, 'compiled_templates', SCENARIO);
const API_ADDRESS = '10.192.255.254';
const API_PORT = 6443;

export interface LabNode {
  /** Calico node name (NODENAME). */
  name: string;
  /** Namespace node name (tern-it-<pid>-cal-<short>). */
  short: string;
  ipv4: string;
  ipv6: string;
  ns: string;
  dir: string;
  /** BIRD-compatible control sockets (IPv4, IPv6). */
  sock4: string;
  sock6: string;
  procs: DaemonProcess[];
  logs: string[];
}

export interface TernNode extends LabNode {
  control: string;
  configOut: string;
}

/** The cluster's nodes: kube-master is BIRD, the others Tern. */
const NODES = [
  { name: 'kube-master', short: 'master', ipv4: '10.192.0.2', ipv6: '2001::103' },
  { name: 'kube-node-1', short: 'node1', ipv4: '10.192.0.3', ipv6: '2001::102' },
  { name: 'kube-node-2', short: 'node2', ipv4: '10.192.0.4', ipv6: '2001::104' },
  { name: 'kube-node-3', short: 'node3', ipv4: '10.192.0.5', ipv6: '2001::105' },
] as const;

/** Calico's peer name for an address: Mesh_10_192_0_3, Mesh_2001__102. */
export function meshName(ip: string): string {
  return `Mesh_${ip.replace(/[.:]/g, '_')}`;
}

// ===== Resources =====

/** Every object of the resource files, parsed as `tern calico render` parses them. */
export function resourceObjects(files: string[] = RESOURCE_FILES): KObj[] {
  return files.flatMap((f) => parseResourceText(readFileSync(f, 'utf8'), f));
}

/**
 * An object as the Kubernetes datastore holds it: a Calico Node is a Kubernetes Node with
 * projectcalico.org/* annotations (libcalico-go KDD); Calico kinds stay projectcalico.org/v3.
 */
export function asApiObject(o: KObj): FakeObject {
  const name = String(o.metadata?.name ?? '');
  if (o.kind === 'Node' && String(o.apiVersion ?? '').startsWith('projectcalico.org')) {
    const bgp = ((o.spec ?? {}) as { bgp?: Record<string, unknown> }).bgp ?? {};
    const annotations: Record<string, string> = {};
    for (const [field, key] of [['ipv4Address', 'IPv4Address'], ['ipv6Address', 'IPv6Address'], ['asNumber', 'ASNumber'], ['routeReflectorClusterID', 'RouteReflectorClusterID']] as const) {
      if (bgp[field] !== undefined && bgp[field] !== null) annotations[`projectcalico.org/${key}`] = String(bgp[field]);
    }
    const addresses = [bgp.ipv4Address, bgp.ipv6Address].filter((a): a is string => typeof a === 'string').map((a) => ({ type: 'InternalIP', address: a.split('/')[0] }));
    return {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name, labels: { ...(o.metadata?.labels ?? {}), 'kubernetes.io/hostname': name }, annotations },
      spec: {},
      status: { addresses },
    };
  }
  return { ...(o as FakeObject), metadata: { ...(o.metadata as FakeObject['metadata']), name } };
}

// ===== The BIRD node's config =====

/** The `protocol bgp NAME from bgp_template { ... }` block of a golden config. */
function protocolBlock(cfg: string, name: string): string {
  const start = cfg.indexOf(`protocol bgp ${name} from bgp_template {`);
  if (start < 0) throw new Error(`golden has no protocol ${name}`);
  const end = cfg.indexOf('\n}', start);
  return cfg.slice(start, end + 2);
}

/**
 * The golden bird.cfg/bird6.cfg with the stanza confd renders for a fourth node: the golden's
 * stanza for `template` (10.192.0.4 / 2001::104, same passive side as the new node) with the
 * address replaced. The test checks with Tern's compiler that confd's rules give the new peer the
 * same settings. Nothing else is changed (the includes resolve beside the config).
 */
export function birdConfig(golden: string, template: string, added: string): string {
  const block = protocolBlock(golden, meshName(template));
  const clone = block.replaceAll(meshName(template), meshName(added)).replace(`neighbor ${template} as`, `neighbor ${added} as`);
  if (clone === block) throw new Error('stanza substitution changed nothing');
  return golden.replace(block, `${block}\n${clone}`);
}

// ===== The lab =====

export class CalicoLab {
  readonly work: string;
  readonly topology: Topology;
  readonly api: FakeApiServer;
  readonly bird: LabNode;
  readonly terns: TernNode[];
  private readonly forwarder: Server;
  private readonly forwarderProc: DaemonProcess;
  private entry = '';

  private constructor(work: string, topology: Topology, api: FakeApiServer, forwarder: Server, forwarderProc: DaemonProcess, bird: LabNode, terns: TernNode[]) {
    this.work = work;
    this.topology = topology;
    this.api = api;
    this.forwarder = forwarder;
    this.forwarderProc = forwarderProc;
    this.bird = bird;
    this.terns = terns;
  }

  /** Builds the namespaces and the API server, loads the resources; start() starts the daemons. */
  static async create(): Promise<CalicoLab> {
    const work = join(tmpdir(), `tern-calico-interop-${process.pid}`);
    rmSync(work, { recursive: true, force: true });
    mkdirSync(work, { recursive: true });
    const topology = await Topology.create('cal');
    try {
      const api = await FakeApiServer.start({ calicoGroups: ['projectcalico.org'] });
      for (const o of resourceObjects()) api.apply(asApiObject(o));
      // The API server listens on the test process's loopback; a Unix socket crosses namespaces.
      const apiSock = join(work, 'api.sock');
      const port = Number(new URL(api.url).port);
      const forwarder = createServer((c) => {
        const up = connect(port, '127.0.0.1');
        c.pipe(up).pipe(c);
        c.on('error', () => up.destroy());
        up.on('error', () => c.destroy());
      });
      await new Promise<void>((resolve) => forwarder.listen(apiSock, resolve));
      await topology.addNode({ name: 'api', ipv4: [`${API_ADDRESS}/16`], ipv6: [] });
      const script = `const net=require('node:net');const [a,p,s]=process.argv.slice(1);net.createServer(c=>{const u=net.connect(s);c.pipe(u).pipe(c);c.on('error',()=>u.destroy());u.on('error',()=>c.destroy());}).listen(Number(p),a,()=>console.log('forwarding',a,p,'to',s));`;
      const forwarderProc = startDaemon('api-forwarder', process.execPath, ['-e', script, API_ADDRESS, String(API_PORT), apiSock], join(work, 'api-forwarder.log'), topology.nsName('api'));
      writeFileSync(join(work, 'kubeconfig'), kubeconfig(`http://${API_ADDRESS}:${API_PORT}`));
      const nodes: LabNode[] = [];
      for (const n of NODES) {
        const ns = await topology.addNode({ name: n.short, ipv4: [`${n.ipv4}/16`], ipv6: [`${n.ipv6}/64`] });
        const dir = join(work, n.short);
        mkdirSync(dir, { recursive: true });
        nodes.push({ ...n, ns, dir, sock4: join(dir, 'bird.ctl'), sock6: join(dir, 'bird6.ctl'), procs: [], logs: [] });
      }
      const [bird, ...others] = nodes as [LabNode, ...LabNode[]];
      const terns = others.map((n): TernNode => ({ ...n, control: join(n.dir, 'tern.ctl'), configOut: join(n.dir, 'tern.json') }));
      return new CalicoLab(work, topology, api, forwarder, forwarderProc, bird, terns);
    } catch (err) {
      topology.destroySync();
      throw err;
    }
  }

  /** Starts BIRD on kube-master and `tern calico run` on every other node, all at once. */
  async start(): Promise<void> {
    this.entry = await ternEntry();
    await Promise.all([this.startBird(), ...this.terns.map((t) => this.startTern(t))]);
  }

  private async startBird(): Promise<void> {
    const b = this.bird;
    for (const f of ['bird_aggr.cfg', 'bird_ipam.cfg', 'bird6_aggr.cfg', 'bird6_ipam.cfg']) copyFileSync(join(GOLDEN_BIRD_DIR, f), join(b.dir, f));
    // The golden is rendered for a 3-node cluster; kube-node-3 gets its stanza (see birdConfig).
    writeFileSync(join(b.dir, 'bird.cfg'), birdConfig(readFileSync(join(GOLDEN_BIRD_DIR, 'bird.cfg'), 'utf8'), '10.192.0.4', '10.192.0.5'));
    writeFileSync(join(b.dir, 'bird6.cfg'), birdConfig(readFileSync(join(GOLDEN_BIRD_DIR, 'bird6.cfg'), 'utf8'), '2001::104', '2001::105'));
    const starts = [
      [BIRD1.daemon4, BIRD1.client4, 'bird.cfg', b.sock4],
      [BIRD1.daemon6, BIRD1.client6, 'bird6.cfg', b.sock6],
    ] as const;
    await Promise.all(starts.map(async ([daemon, client, conf, sock]) => {
      const log = join(b.dir, `${conf}.log`);
      b.logs.push(log);
      // -f: foreground; no -R (calico-node's graceful-restart recovery would hold routes back).
      const p = startDaemon(`bird-${conf}`, daemon, ['-f', '-c', join(b.dir, conf), '-s', sock, '-P', `${sock}.pid`], log, b.ns);
      b.procs.push(p);
      await waitFor(`${conf} socket`, async () => {
        if (!p.isRunning()) throw new Error(`exited: ${tail(log, 10)}`);
        await run(client, ['-s', sock, 'show', 'status'], { timeoutMs: 3_000 });
        return true;
      }, { timeoutMs: 15_000, intervalMs: 200 });
    }));
  }

  private async startTern(t: TernNode): Promise<void> {
    // No IPIP module here: a veth named tunl0 stands in for the tunnel device.
    await run('ip', ['-n', t.ns, 'link', 'add', 'tunl0', 'type', 'veth', 'peer', 'name', 'tunl0p']);
    for (const dev of ['tunl0', 'tunl0p']) await run('ip', ['-n', t.ns, 'link', 'set', dev, 'up']);
    const env = [
      `NODENAME=${t.name}`,
      `KUBECONFIG=${join(this.work, 'kubeconfig')}`,
      'NAMESPACE=kube-system',
      `TERN_CONTROL_SOCKET=${t.control}`,
      `TERN_BIRD_SOCKET=${t.sock4}`,
      `TERN_BIRD6_SOCKET=${t.sock6}`,
    ];
    const log = join(t.dir, 'tern.log');
    t.logs.push(log);
    const p = startDaemon(`tern-${t.short}`, 'env', [...env, process.execPath, this.entry, 'calico', 'run', '--config-out', t.configOut, '--log-level', 'debug'], log, t.ns);
    t.procs.push(p);
    await waitFor(`${t.name}: tern calico run's control socket`, async () => {
      if (!p.isRunning()) throw new Error(`exited: ${tail(log, 15)}`);
      await this.tern(t, ['show', 'peers', '--json']);
      return true;
    }, { timeoutMs: 30_000, intervalMs: 300 });
  }

  /** `tern ARGS... --socket CONTROL` on a Tern node, JSON-parsed. */
  async tern(t: TernNode, args: string[]): Promise<unknown> {
    const r = await run(process.execPath, [this.entry, ...args, '--socket', t.control], { timeoutMs: 10_000 });
    return JSON.parse(r.stdout) as unknown;
  }

  /** `tern calico render --node NAME [--config-out FILE] FILES...` (the render output, parsed). */
  async render(node: string, configOut?: string): Promise<Record<string, unknown>> {
    const args = [this.entry, 'calico', 'render', '--node', node, ...(configOut ? ['--config-out', configOut] : []), ...RESOURCE_FILES];
    return JSON.parse((await run(process.execPath, args, { timeoutMs: 20_000 })).stdout) as Record<string, unknown>;
  }

  /** Main-table routes in a namespace, as `ip -json route` prints them. */
  async kernelRoutes(ns: string, family: 4 | 6): Promise<KernelRoute[]> {
    const r = await run('ip', ['-n', ns, `-${family}`, '-json', 'route', 'show'], { timeoutMs: 10_000 });
    const routes = JSON.parse(r.stdout || '[]') as KernelRoute[];
    for (const x of routes) if (x.dst !== 'default' && !x.dst.includes('/')) x.dst += family === 6 ? '/128' : '/32';
    return routes;
  }

  /** The last lines of every log, for failure messages. */
  logTails(lines = 25): string {
    const logs = [this.forwarderProc.logFile, ...this.bird.logs, ...this.terns.flatMap((t) => t.logs)];
    return logs.map((l) => `--- ${l}\n${tail(l, lines)}`).join('\n');
  }

  async destroy(keepLogs: boolean): Promise<void> {
    const procs = [this.forwarderProc, ...this.bird.procs, ...this.terns.flatMap((t) => t.procs)];
    await Promise.allSettled(procs.map((p) => stopDaemon(p, 'SIGTERM', 5_000)));
    this.topology.destroySync();
    await new Promise<void>((resolve) => this.forwarder.close(() => resolve()));
    await this.api.close();
    if (!keepLogs) rmSync(this.work, { recursive: true, force: true });
  }
}

export interface KernelRoute {
  dst: string;
  gateway?: string;
  dev?: string;
  protocol?: string;
  type?: string;
  metric?: number;
  flags?: string[];
}

/** "via 10.192.0.2 dev eth0 proto bird" (plus "onlink"), the words the tests compare. */
export function kernelWords(r: KernelRoute): string {
  return [r.type && r.type !== 'unicast' ? r.type : '', r.gateway ? `via ${r.gateway}` : '', r.dev ? `dev ${r.dev}` : '', r.flags?.includes('onlink') ? 'onlink' : '', `proto ${r.protocol ?? 'boot'}`]
    .filter(Boolean)
    .join(' ');
}

function kubeconfig(server: string): string {
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    // client-node refuses plain HTTP unless TLS verification is off (the fake server has no TLS).
    `- name: lab\n  cluster:\n    server: ${server}\n    insecure-skip-tls-verify: true`,
    'users:',
    '- name: calico-node\n  user:\n    token: lab-token',
    'contexts:',
    '- name: lab\n  context:\n    cluster: lab\n    user: calico-node',
    'current-context: lab',
    '',
  ].join('\n');
}
