// SPDX-License-Identifier: Apache-2.0
// The devices under test: Tern, BIRD 2.0.12, BIRD 1.6.8, GoBGP 3.10 and FRR 8.4, each configured
// as a route reflector (every peer an RR client) or as a plain Calico mesh node (iBGP to every
// peer, one originated /26), always passive on 10.0.0.1 so the lab's BIRDs dial in. Configs
// follow the verified recipe of performance-anchors.md §5.2. Each driver reports its pid (for
// /proc accounting), the number of destinations in its table, and — Tern only — event-loop delay.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run, startDaemon, stopDaemon, type DaemonProcess } from '../../interop/lib/proc.ts';
import { ternEntry, REPO_ROOT } from '../../interop/lib/tern.ts';
import { BIRD1 } from '../../interop/lib/peers/bird1.ts';
import { controlRequest } from '../../src/control/client.ts';
import { birdCommand, birdNetworkCount } from './birdctl.ts';
import { ASN, DUT_ADDR, type Lab } from './lab.ts';
import { ternNodeArgs, type Deployment } from './node-flags.ts';

export const DUT_NAMES = ['tern', 'bird2', 'bird1', 'gobgp', 'frr'] as const;
export type DutName = (typeof DUT_NAMES)[number];

/** The Calico block the DUT itself originates in the mesh role. */
export const DUT_BLOCK = '10.127.0.0/26';

export interface DutSpec {
  role: 'rr' | 'mesh';
  /** Peer addresses (all iBGP, AS 64512). */
  peers: string[];
  /** Which of Tern's deploy files sets its Node flags (lib/node-flags.ts). */
  deployment: Deployment;
  /** Extra node options for Tern (e.g. --cpu-prof). */
  nodeArgs?: string[];
}

export interface EventLoopStats {
  maxMs: number;
  p99Ms: number;
  meanMs: number;
}

export interface Dut {
  readonly name: DutName;
  readonly pid: number;
  version(): Promise<string>;
  /** Destinations in the DUT's IPv4 table (including its own originated block). */
  routeCount(): Promise<number>;
  /** Tern only: event-loop delay since the last call with reset (undefined for the others). */
  eventLoop(reset: boolean): Promise<EventLoopStats | undefined>;
  stop(): Promise<void>;
}

export function dutAvailable(name: DutName): string | undefined {
  const need: Record<DutName, string[]> = {
    tern: [join(REPO_ROOT, 'src', 'main.ts')],
    bird2: ['/usr/sbin/bird'],
    bird1: [BIRD1.daemon4],
    gobgp: ['/usr/bin/gobgpd', '/usr/bin/gobgp'],
    frr: ['/usr/lib/frr/bgpd', '/usr/bin/vtysh'],
  };
  const missing = need[name].filter((p) => !existsSync(p));
  return missing.length ? `${name}: missing ${missing.join(', ')} (run: sudo bash scripts/install-peers.sh)` : undefined;
}

export async function startDut(name: DutName, lab: Lab, spec: DutSpec): Promise<Dut> {
  const dir = lab.dir(`dut-${name}`);
  switch (name) {
    case 'tern':
      return startTern(lab, dir, spec);
    case 'bird2':
    case 'bird1':
      return startBirdDut(name, lab, dir, spec);
    case 'gobgp':
      return startGobgp(lab, dir, spec);
    case 'frr':
      return startFrr(lab, dir, spec);
  }
}

function pidOf(proc: DaemonProcess): number {
  return proc.child.pid ?? -1;
}

// ===== Tern =====

async function startTern(lab: Lab, dir: string, spec: DutSpec): Promise<Dut> {
  const socket = join(dir, 'tern.ctl');
  const config = {
    routerId: DUT_ADDR,
    asn: ASN,
    listen: { address: [DUT_ADDR], port: 179 },
    control: { socket },
    logLevel: 'warn',
    routeReflector: { clusterId: DUT_ADDR },
    peers: spec.peers.map((address) => ({ address, asn: ASN, passive: true, localAddress: DUT_ADDR, routeReflectorClient: spec.role === 'rr' })),
    originate: spec.role === 'mesh' ? [{ prefix: DUT_BLOCK }] : [],
  };
  const file = join(dir, 'tern.json');
  writeFileSync(file, JSON.stringify(config, null, 1));
  const entry = await ternEntry();
  const nodeArgs = ternNodeArgs(spec.deployment);
  const proc = startDaemon('tern', process.execPath, [...nodeArgs, ...(spec.nodeArgs ?? []), entry, 'run', '--config', file], join(dir, 'tern.log'), lab.dutNs);
  await waitSocket(socket, proc);
  return {
    name: 'tern',
    pid: pidOf(proc),
    version: async () => `Tern ${(JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version} (Node ${process.versions.node}${nodeArgs.length ? ` ${nodeArgs.join(' ')}` : ''})`,
    routeCount: async () => ((await controlRequest(socket, 'show status')) as { destinations: number }).destinations,
    eventLoop: async (reset) => {
      const s = (await controlRequest(socket, 'show status', reset ? { resetEventLoop: true } : {})) as { eventLoopDelayMs?: EventLoopStats };
      return s.eventLoopDelayMs;
    },
    stop: async () => void (await stopDaemon(proc, 'SIGTERM', 30_000)),
  };
}

async function waitSocket(path: string, proc: DaemonProcess): Promise<void> {
  const t0 = Date.now();
  while (!existsSync(path)) {
    if (!proc.isRunning()) throw new Error(`${proc.name} exited at start; see ${proc.logFile}: ${readFileSync(proc.logFile, 'utf8').slice(-800)}`);
    if (Date.now() - t0 > 30_000) throw new Error(`${proc.name}: no control socket ${path} after 30 s`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

// ===== BIRD 2 / BIRD 1.6 =====
function birdDutConfig(v1: boolean, spec: DutSpec): string {
  const ch = (body: string): string => (v1 ? body : `ipv4 { ${body} };`);
  const lines = [`router id ${DUT_ADDR};`, 'log stderr { warning, error, fatal, bug };', 'protocol device { scan time 600; }'];
  if (spec.role === 'rr') {
    lines.push(`template bgp tpl { local ${DUT_ADDR} as ${ASN}; rr client; rr cluster id ${DUT_ADDR}; passive on; ${ch('import all; export where source = RTS_BGP;')} }`);
  } else {
    lines.push(`protocol static own { ${v1 ? '' : 'ipv4; '}route ${DUT_BLOCK} blackhole; }`);
    lines.push(`template bgp tpl { local ${DUT_ADDR} as ${ASN}; passive on; ${ch('import all; export where proto = "own"; next hop self;')} }`);
  }
  spec.peers.forEach((address, i) => lines.push(`protocol bgp p${i} from tpl { neighbor ${address} as ${ASN}; }`));
  return lines.join('\n') + '\n';
}

async function startBirdDut(name: 'bird1' | 'bird2', lab: Lab, dir: string, spec: DutSpec): Promise<Dut> {
  const v1 = name === 'bird1';
  const bin = v1 ? BIRD1.daemon4 : '/usr/sbin/bird';
  const conf = join(dir, 'bird.conf');
  const socket = join(dir, 'bird.ctl');
  writeFileSync(conf, birdDutConfig(v1, spec));
  const proc = startDaemon(name, bin, ['-f', '-c', conf, '-s', socket], join(dir, 'bird.log'), lab.dutNs);
  await waitSocket(socket, proc);
  await birdCommand(socket, 'show status').catch((err: unknown) => {
    throw new Error(`${name} did not start: ${String(err)}; log: ${readFileSync(proc.logFile, 'utf8').slice(-500)}`);
  });
  return {
    name,
    pid: pidOf(proc),
    version: async () => {
      const r = await run(bin, ['--version'], { check: false });
      return (r.stderr || r.stdout).trim();
    },
    routeCount: () => birdNetworkCount(socket),
    eventLoop: async () => undefined,
    stop: async () => void (await stopDaemon(proc, 'SIGTERM', 10_000)),
  };
}

// ===== GoBGP =====
function gobgpConfig(spec: DutSpec): string {
  const rr = spec.role === 'rr'
    ? ['  [peer-groups.route-reflector.config]', '    route-reflector-client = true', `    route-reflector-cluster-id = "${DUT_ADDR}"`]
    : [];
  return [
    '[global.config]',
    `  as = ${ASN}`,
    `  router-id = "${DUT_ADDR}"`,
    `  local-address-list = ["${DUT_ADDR}"]`,
    '[[peer-groups]]',
    '  [peer-groups.config]',
    '    peer-group-name = "clients"',
    `    peer-as = ${ASN}`,
    ...rr,
    '  [[peer-groups.afi-safis]]',
    '    [peer-groups.afi-safis.config]',
    '      afi-safi-name = "ipv4-unicast"',
    '[[dynamic-neighbors]]',
    '  [dynamic-neighbors.config]',
    '    prefix = "10.0.0.0/16"',
    '    peer-group = "clients"',
  ].join('\n') + '\n';
}

async function startGobgp(lab: Lab, dir: string, spec: DutSpec): Promise<Dut> {
  const conf = join(dir, 'gobgpd.toml');
  writeFileSync(conf, gobgpConfig(spec));
  const proc = startDaemon('gobgpd', '/usr/bin/gobgpd', ['-f', conf, '-p', '-l', 'warn'], join(dir, 'gobgpd.log'), lab.dutNs);
  const cli = (args: string[]): Promise<string> => run('/usr/bin/gobgp', args, { netns: lab.dutNs, timeoutMs: 30_000 }).then((r) => r.stdout);
  const t0 = Date.now();
  for (;;) {
    if (!proc.isRunning()) throw new Error(`gobgpd exited at start; see ${proc.logFile}`);
    if (await cli(['global']).then(() => true, () => false)) break;
    if (Date.now() - t0 > 30_000) throw new Error('gobgpd: API not up after 30 s');
    await new Promise((r) => setTimeout(r, 200));
  }
  if (spec.role === 'mesh') await cli(['global', 'rib', 'add', '-a', 'ipv4', DUT_BLOCK, 'nexthop', DUT_ADDR]);
  return {
    name: 'gobgp',
    pid: pidOf(proc),
    version: async () => (await run('/usr/bin/gobgpd', ['--version'], { check: false })).stdout.trim(),
    routeCount: async () => Number(/Destination:\s*(\d+)/.exec(await cli(['global', 'rib', 'summary', '-a', 'ipv4']))?.[1] ?? NaN),
    eventLoop: async () => undefined,
    stop: async () => void (await stopDaemon(proc, 'SIGTERM', 10_000)),
  };
}

// ===== FRR =====
function frrConfig(spec: DutSpec): string {
  return [
    'frr defaults datacenter',
    'hostname dut',
    'log stdout warnings',
    `router bgp ${ASN}`,
    ` bgp router-id ${DUT_ADDR}`,
    ' no bgp ebgp-requires-policy',
    ' no bgp default ipv4-unicast',
    ' no bgp network import-check',
    ...(spec.role === 'rr' ? [` bgp cluster-id ${DUT_ADDR}`] : []),
    ' neighbor CLIENTS peer-group',
    ` neighbor CLIENTS remote-as ${ASN}`,
    ' neighbor CLIENTS timers connect 1',
    ' bgp listen range 10.0.0.0/16 peer-group CLIENTS',
    ' bgp listen limit 5000',
    ' address-family ipv4 unicast',
    '  neighbor CLIENTS activate',
    ...(spec.role === 'rr' ? ['  neighbor CLIENTS route-reflector-client'] : [`  network ${DUT_BLOCK}`]),
    ' exit-address-family',
  ].join('\n') + '\n';
}

async function startFrr(lab: Lab, dir: string, spec: DutSpec): Promise<Dut> {
  const conf = join(dir, 'frr.conf');
  writeFileSync(conf, frrConfig(spec));
  const vtyDir = lab.dir('dut-frr', 'run');
  // -S: no privilege drop; -Z: no zebra (pure RR, nothing to install); -n: never touch the FIB.
  const args = ['-S', '-Z', '-n', '-l', DUT_ADDR, '-f', conf, '-i', join(vtyDir, 'bgpd.pid'), '--vty_socket', vtyDir, '-P', '0'];
  const proc = startDaemon('bgpd', '/usr/lib/frr/bgpd', args, join(dir, 'bgpd.log'), lab.dutNs);
  const vtysh = (command: string): Promise<string> => run('/usr/bin/vtysh', ['--vty_socket', vtyDir, '-d', 'bgpd', '-c', command], { timeoutMs: 30_000 }).then((r) => r.stdout);
  const t0 = Date.now();
  for (;;) {
    if (!proc.isRunning()) throw new Error(`bgpd exited at start; see ${proc.logFile}`);
    if (await vtysh('show bgp summary json').then(() => true, () => false)) break;
    if (Date.now() - t0 > 30_000) throw new Error('bgpd: vty not up after 30 s');
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    name: 'frr',
    pid: pidOf(proc),
    version: async () => (await run('/usr/lib/frr/bgpd', ['--version'], { check: false })).stdout.split('\n')[0]?.trim() ?? 'FRR',
    routeCount: async () => {
      // ribCount counts radix-tree nodes, not prefixes: the statistics view has the real count.
      const s = JSON.parse(await vtysh('show bgp ipv4 unicast statistics json')) as { ipv4Unicast?: { totalPrefixes?: number }[] };
      return s.ipv4Unicast?.[0]?.totalPrefixes ?? NaN;
    },
    eventLoop: async () => undefined,
    stop: async () => void (await stopDaemon(proc, 'SIGTERM', 10_000)),
  };
}
