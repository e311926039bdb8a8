// SPDX-License-Identifier: Apache-2.0
// interop/containerlab/tern-rr.clab.yml cannot be deployed here (no container engine), so this
// checks everything short of that: the topology parses, every bound file exists, Tern's config
// passes parseConfig (as `tern check`), the BIRD configs pass `bird -p -c` and the FRR config
// `vtysh --dryrun` (each skipped with the reason when the binary is missing), and the addresses
// agree: each of Tern's peers is the address some node gets, and each client peers with Tern.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { parseConfig } from '../../src/config/index.ts';

const DIR = fileURLToPath(new URL('../../interop/containerlab/', import.meta.url));
const BIRD = '/usr/sbin/bird';
const VTYSH = '/usr/bin/vtysh';

interface ClabNode {
  kind: string;
  image?: string;
  binds?: string[];
  exec?: string[];
}
interface Clab {
  name: string;
  topology: { nodes: Record<string, ClabNode>; links: { endpoints: string[] }[] };
}

function topology(): Clab {
  return parseYaml(readFileSync(join(DIR, 'tern-rr.clab.yml'), 'utf8')) as Clab;
}

/** Node → host file bound to `target` inside it. */
function bound(node: ClabNode, target: string): string | undefined {
  const b = node.binds?.find((x) => x.split(':')[1] === target);
  return b === undefined ? undefined : join(DIR, b.split(':')[0]!);
}

function addressOf(node: ClabNode): string | undefined {
  return node.exec?.map((c) => /^ip addr add (\S+)\/\d+ dev eth1$/.exec(c)?.[1]).find((x) => x !== undefined);
}

test('containerlab: the topology parses, every bind exists, every node is linked to the bridge', () => {
  const t = topology();
  assert.equal(t.name, 'tern-rr');
  const nodes = Object.entries(t.topology.nodes);
  for (const [name, node] of nodes) {
    for (const b of node.binds ?? []) assert.ok(existsSync(join(DIR, b.split(':')[0]!)), `${name}: ${b}`);
    if (node.kind === 'bridge') continue;
    assert.ok(t.topology.links.some((l) => l.endpoints.includes(`${name}:eth1`) && l.endpoints.some((e) => e.startsWith('br-tern:'))), `${name} on br-tern`);
    assert.ok(addressOf(node), `${name} gets an address`);
  }
  const hostIfaces = t.topology.links.flatMap((l) => l.endpoints.filter((e) => e.startsWith('br-tern:')).map((e) => e.slice(8)));
  assert.equal(new Set(hostIfaces).size, hostIfaces.length, 'bridge-side interface names are unique');
  for (const i of hostIfaces) assert.ok(i.length <= 15, `${i}: Linux interface names are at most 15 characters`);
});

test('containerlab: Tern\'s config is valid and its peers are exactly the client nodes', () => {
  const t = topology();
  const rr = t.topology.nodes.rr!;
  const config = parseConfig(readFileSync(bound(rr, '/etc/tern/tern.yaml')!, 'utf8'), 'tern/tern.yaml');
  const clients = Object.entries(t.topology.nodes).filter(([n, node]) => n !== 'rr' && node.kind !== 'bridge');
  assert.deepEqual(config.peers.map((p) => p.address).sort(), clients.map(([, node]) => addressOf(node)!).sort());
  assert.equal(addressOf(rr), config.routerId);
  for (const p of config.peers) assert.equal(p.routeReflectorClient, true, p.name);
  for (const [name, node] of clients) {
    const conf = bound(node, '/etc/bird/bird.conf') ?? bound(node, '/etc/frr/frr.conf')!;
    const text = readFileSync(conf, 'utf8');
    assert.match(text, new RegExp(`neighbor ${config.routerId.replace(/\./g, '\\.')} (as|remote-as) ${config.asn}\\b`), `${name} peers with the reflector`);
  }
});

test('containerlab: the BIRD configs pass `bird -p -c`', { skip: existsSync(BIRD) ? false : 'bird2 is not installed' }, () => {
  for (const [name, node] of Object.entries(topology().topology.nodes)) {
    const conf = bound(node, '/etc/bird/bird.conf');
    if (conf === undefined) continue;
    const r = spawnSync(BIRD, ['-p', '-c', conf], { encoding: 'utf8' });
    assert.equal(r.status, 0, `${name}: ${r.stderr}`);
  }
});

test('containerlab: the FRR config passes `vtysh --dryrun`', { skip: existsSync(VTYSH) ? false : 'frr is not installed' }, () => {
  const conf = bound(topology().topology.nodes.frr1!, '/etc/frr/frr.conf')!;
  const r = spawnSync(VTYSH, ['--dryrun', '-f', conf], { encoding: 'utf8' });
  assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
});
