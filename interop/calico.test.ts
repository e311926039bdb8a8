// SPDX-License-Identifier: Apache-2.0
// Calico mode against BIRD 1.6.8, in network namespaces (interop/lib/calico-lab.ts): three Tern
// nodes running `tern calico run` (kube-node-1..3, resources from the fake API server) and one
// BIRD 1.6.8 node (kube-master, bird + bird6 with the golden bird*.cfg confd rendered for it in
// Calico's `mesh/ipip-off` fixture) form Calico's node-to-node mesh over IPv4 and IPv6.
//  1. the mesh: every session Established on both sides, under Calico's names; every node's
//     blocks (from its block affinities) at every other node, in Tern, in BIRD and in the kernel
//     of each Tern namespace; `tern calico run` applied exactly what `tern calico render` gives;
//  2. birdcl parity: the real clients (BIRD 1.6's birdc/birdc6 -s, BIRD 2's birdcl) against a
//     Tern node's BIRD-compatible sockets and against BIRD's: the same rows for the same peers in
//     the same states, `show status` of the same shape, `show route count` consistent;
//  3. calico-node's readiness check (checkBIRDReady, mirrored in test/calico/birdctl) passes on
//     every Tern socket;
//  4. a live change through the API server (a new BGPPeer, a new block, a pool switched to IPIP
//     with programClusterRoutes: Enabled): it takes effect, and no mesh session is reset.
// Needs root; skipped otherwise, or when BIRD 1.6 is not unpacked (scripts/install-peers.sh) or the
// goldens are missing. INTEROP_KEEP=1 keeps /tmp/tern-calico-interop-<pid> (kept on failure too).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { run, which } from './lib/proc.ts';
import { sleep, waitFor } from './lib/wait.ts';
import { ternAvailable, type TernRouteJson } from './lib/tern.ts';
import { BIRD1, bird1Installed } from './lib/peers/bird1.ts';
import { CalicoLab, GOLDEN_BIRD_DIR, asApiObject, kernelWords, meshName, resourceObjects, type LabNode, type TernNode } from './lib/calico-lab.ts';
import { BirdClient } from '../src/calico/birdctl/client.ts';
import { checkBirdReady, grInProgress, scanBirdPeers } from '../test/calico/birdctl/calico-mirror.ts';

const isRoot = process.getuid?.() === 0;
const skip = !isRoot
  ? 'needs root (network namespaces)'
  : !ternAvailable()
    ? 'bin/tern.js or src/main.ts missing'
    : !bird1Installed()
      ? 'BIRD 1.6 not unpacked (bash scripts/install-peers.sh)'
      : !existsSync(join(GOLDEN_BIRD_DIR, 'bird.cfg'))
        ? `no Calico goldens at ${GOLDEN_BIRD_DIR}`
        : false;
const WAIT = { timeoutMs: 45_000, intervalMs: 300 };

interface PeerJson {
  name: string;
  state: string;
  uptimeSeconds: number;
  messagesReceived: Record<string, number>;
}

/** Blocks each node originates: kube-master's as the golden bird_aggr.cfg says, the Terns' from cluster.yaml. */
const BLOCKS: Record<string, { v4: string[]; v6: string[] }> = {
  'kube-master': { v4: ['10.0.0.0/30', '10.1.0.0/24', '192.168.221.192/26', '192.168.221.64/26'], v6: [] },
  'kube-node-1': { v4: ['192.168.1.0/26'], v6: ['2002::1:0/122'] },
  'kube-node-2': { v4: ['192.168.2.0/26'], v6: ['2002::2:0/122'] },
  'kube-node-3': { v4: ['192.168.3.0/26'], v6: ['2002::3:0/122'] },
};
/** Not originated by anyone: kube-master's /32 block and its pending one (confd drops both). */
const NEVER = ['10.2.0.1/32', '192.168.221.0/26'];
const FAMILIES = [
  { v: 4, key: 'v4', family: 'ipv4-unicast', client: BIRD1.client4, sock: (n: LabNode) => n.sock4, addr: (n: LabNode) => n.ipv4, sep: '.' },
  { v: 6, key: 'v6', family: 'ipv6-unicast', client: BIRD1.client6, sock: (n: LabNode) => n.sock6, addr: (n: LabNode) => n.ipv6, sep: ':' },
] as const;

/** A `show protocols` row: the columns BIRD prints (since aside). */
interface ProtocolRow {
  name: string;
  proto: string;
  table: string;
  state: string;
  info: string;
}

function protocolRows(out: string): { header: string; rows: Map<string, ProtocolRow> } {
  const lines = out.split('\n').filter((l) => l.trim() !== '');
  const at = lines.findIndex((l) => /^name +proto +table +state +since +info/.test(l));
  assert.ok(at >= 0, `no show protocols header in:\n${out}`);
  const rows = new Map<string, ProtocolRow>();
  for (const l of lines.slice(at + 1)) {
    const [name, proto, table, state, , ...info] = l.trim().split(/\s+/);
    rows.set(name!, { name: name!, proto: proto!, table: table!, state: state!, info: info.join(' ') });
  }
  return { header: lines[at]!.trim().split(/\s+/).join(' '), rows };
}

/** `show route` (BIRD 1.6 layout): prefix → "via X [proto]" / "blackhole [proto]". */
function routeTable(out: string): Map<string, string[]> {
  const table = new Map<string, string[]>();
  let prefix = '';
  for (const l of out.split('\n')) {
    const m = /^([0-9a-f:.]+\/\d+)\s+(.*)$/.exec(l);
    const alt = /^\s+(via .*|blackhole.*|dev .*)$/.exec(l);
    if (m) prefix = m[1]!;
    const body = m?.[2] ?? alt?.[1];
    if (!body || !prefix) continue;
    const what = /^(via \S+|blackhole|dev \S+)/.exec(body)?.[1] ?? body;
    const proto = /\[(\S+)/.exec(body)?.[1] ?? '';
    table.set(prefix, [...(table.get(prefix) ?? []), `${what} [${proto}]`]);
  }
  return table;
}

describe('Calico mode: three Tern nodes and BIRD 1.6.8 in one mesh', { skip, timeout: 180_000 }, () => {
  let lab: CalicoLab;
  let failed = false;
  const others = (me: LabNode): LabNode[] => [lab.bird, ...lab.terns].filter((n) => n !== me);

  async function ternPeers(t: TernNode): Promise<PeerJson[]> {
    return (await lab.tern(t, ['show', 'peers', '--json'])) as PeerJson[];
  }

  async function client(bin: string, sock: string, cmd: string): Promise<string> {
    return (await run(bin, ['-s', sock, ...cmd.split(' ')], { timeoutMs: 10_000 })).stdout;
  }

  async function raw(sock: string, cmd: string): Promise<string[]> {
    const c = await BirdClient.connect(sock);
    try {
      return [c.hello, ...(await c.command(cmd))];
    } finally {
      c.close();
    }
  }

  /** Everything from test 1 that must hold before any other test reads the mesh. */
  async function meshConverged(): Promise<void> {
    for (const t of lab.terns) {
      const want = others(t).flatMap((n) => [meshName(n.ipv4), meshName(n.ipv6)]).sort();
      await waitFor(`${t.name}: every mesh session Established`, async () => {
        const peers = (await ternPeers(t)).filter((p) => p.name.startsWith('Mesh_'));
        const got = peers.map((p) => `${p.name}:${p.state}`).sort();
        return JSON.stringify(got) === JSON.stringify(want.map((n) => `${n}:Established`)) ? true : (() => { throw new Error(got.join(' ')); })();
      }, WAIT);
    }
    for (const f of FAMILIES) {
      await waitFor(`BIRD ${f.key}: Mesh_ sessions Established`, async () => {
        const rows = protocolRows(await client(f.client, f.sock(lab.bird), 'show protocols')).rows;
        const bad = lab.terns.map((t) => meshName(f.addr(t))).filter((n) => rows.get(n)?.info !== 'Established');
        if (bad.length > 0) throw new Error(`not Established: ${bad.join(' ')}`);
        return true;
      }, WAIT);
    }
  }

  before(async () => {
    lab = await CalicoLab.create();
    try {
      await lab.start();
    } catch (err) {
      failed = true;
      throw new Error(`${(err as Error).message}\n${lab.logTails()}`);
    }
  });

  after(async () => {
    if (failed) process.stderr.write(`calico lab logs kept in ${lab?.work}\n${lab?.logTails(15) ?? ''}\n`);
    await lab?.destroy(failed || process.env.INTEROP_KEEP === '1');
  });

  const step = (name: string, fn: () => Promise<void>) =>
    it(name, async () => {
      try {
        await fn();
      } catch (err) {
        failed = true;
        throw err;
      }
    });

  step('1. the full mesh comes up; every node\'s blocks reach every other node (Tern, BIRD, kernel)', async () => {
    await meshConverged();
    // `tern calico run` (API server) applied what `tern calico render` (files) computes.
    for (const t of lab.terns) {
      const renderedFile = join(t.dir, 'rendered.json');
      const render = await lab.render(t.name, renderedFile);
      assert.deepEqual((render.peers as { name: string }[]).map((p) => p.name).sort(), others(t).flatMap((n) => [meshName(n.ipv4), meshName(n.ipv6)]).sort());
      const rendered = JSON.parse(readFileSync(renderedFile, 'utf8')) as Record<string, unknown>;
      const { control: _c, birdSockets, ...applied } = JSON.parse(readFileSync(t.configOut, 'utf8')) as Record<string, unknown>;
      assert.deepEqual(birdSockets, { ipv4: t.sock4, ipv6: t.sock6 });
      assert.deepEqual(applied, rendered, `${t.name}: tern calico run's config = tern calico render's`);
    }
    for (const t of lab.terns) {
      for (const f of FAMILIES) {
        const expected = others(t).flatMap((n) => BLOCKS[n.name]![f.key].map((p) => [p, f.addr(n)] as const));
        // Tern's own CLI: the Loc-RIB best paths, next hop = the originating node.
        await waitFor(`${t.name} ${f.family}: every other node's blocks`, async () => {
          const rows = (await lab.tern(t, ['show', 'routes', '--json', '--family', f.family])) as TernRouteJson[];
          const missing = expected.filter(([p, nh]) => !rows.some((r) => r.prefix === p && r.nextHop === nh && r.best !== false));
          if (missing.length > 0) throw new Error(`missing ${missing.map((m) => m.join(' via ')).join(', ')}`);
          const stray = rows.filter((r) => NEVER.includes(r.prefix));
          assert.deepEqual(stray, [], 'a /32 or pending block was originated');
          return true;
        }, WAIT);
        // The kernel of the namespace: programmed as calico_kernel_programming says (no encap pool: direct).
        await waitFor(`${t.name} kernel ${f.family}: routes to every other node's blocks`, async () => {
          const kernel = await lab.kernelRoutes(t.ns, f.v);
          const wrong = expected.filter(([p, nh]) => !kernel.some((r) => r.dst === p && kernelWords(r) === `via ${nh} dev eth0 proto bird`));
          if (wrong.length > 0) throw new Error(`not programmed: ${wrong.map((w) => w[0]).join(', ')}; kernel: ${kernel.map((r) => `${r.dst} ${kernelWords(r)}`).join('; ')}`);
          return true;
        }, WAIT);
      }
    }
    // BIRD's own client: kube-master learned every Tern's blocks from the originator's session.
    for (const f of FAMILIES) {
      await waitFor(`BIRD ${f.key}: every Tern's blocks`, async () => {
        const table = routeTable(await client(f.client, f.sock(lab.bird), 'show route'));
        for (const t of lab.terns) {
          for (const p of BLOCKS[t.name]![f.key]) {
            // IPv4: via the node. IPv6: Tern adds its link-local next hop (RFC 2545 §3, shared
            // subnet), which BIRD prefers as gateway; BIRD itself sends none on `multihop` sessions.
            const via = f.v === 4 ? f.addr(t).replaceAll('.', '\\.') : '(?:2001::10\\d|fe80::[0-9a-f:]+)';
            const rows = table.get(p) ?? [];
            assert.equal(rows.length, 1, `BIRD's routes for ${p}: ${rows.join(' | ')}`);
            assert.match(rows[0]!, new RegExp(`^via ${via} \\[${meshName(f.addr(t))}\\]$`), `BIRD's route for ${p}`);
            const all = await client(f.client, f.sock(lab.bird), `show route ${p} all`);
            assert.equal(/BGP\.next_hop: (\S+)/.exec(all)?.[1], f.addr(t), `BIRD's BGP.next_hop for ${p}`);
          }
        }
        return true;
      }, WAIT);
    }
  });

  /** Checks one client binary against a Tern node's and BIRD's socket of one family. */
  async function parity(bin: string, t: TernNode, f: (typeof FAMILIES)[number]): Promise<void> {
    const what = `${bin} ${t.name} vs kube-master ${f.key}`;
    const ours = protocolRows(await client(bin, f.sock(t), 'show protocols'));
    const bird = protocolRows(await client(bin, f.sock(lab.bird), 'show protocols'));
    assert.equal(ours.header, bird.header, what);
    // Peers both nodes have: the other Tern nodes. Same name, proto, table, state and info.
    const common = lab.terns.filter((n) => n !== t).map((n) => meshName(f.addr(n)));
    for (const name of common) {
      assert.deepEqual(ours.rows.get(name), bird.rows.get(name), `${what}: row ${name}`);
      assert.deepEqual(ours.rows.get(name), { name, proto: 'BGP', table: 'master', state: 'up', info: 'Established' });
    }
    // Each other's session: both up, both Established.
    assert.deepEqual(ours.rows.get(meshName(f.addr(lab.bird))), { name: meshName(f.addr(lab.bird)), proto: 'BGP', table: 'master', state: 'up', info: 'Established' });
    assert.equal(bird.rows.get(meshName(f.addr(t)))?.info, 'Established');
    // The non-BGP protocols of BIRD's config, under BIRD's default names.
    for (const name of ['kernel1', 'device1', 'direct1']) assert.deepEqual(ours.rows.get(name), bird.rows.get(name), `${what}: row ${name}`);
    if (BLOCKS['kube-master']![f.key].length > 0) assert.deepEqual(ours.rows.get('static1'), bird.rows.get('static1'), `${what}: row static1`);
    assert.equal([...ours.rows.values()].filter((r) => r.proto === 'BGP').length, 3, `${what}: three BGP rows`);
    // show status: the same lines, router id, version and clock aside.
    const shape = (out: string) =>
      out.split('\n').filter(Boolean).map((l) =>
        l.replace(/\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}/, 'TIME').replace(/Router ID is \S+/, 'Router ID is ID').replace(/BIRD (v0\.3\.3\+birdv)?1\.6\.8/, 'BIRD 1.6.8'));
    const status = await client(bin, f.sock(t), 'show status');
    assert.deepEqual(shape(status), shape(await client(bin, f.sock(lab.bird), 'show status')), `${what}: show status`);
    assert.match(status, new RegExp(`\\nRouter ID is ${t.ipv4.replaceAll('.', '\\.')}\\n`));
    assert.match(status, /\nDaemon is up and running\n/);
    // show route count: consistent with show route, and the same networks as BIRD's.
    const count = async (sock: string) => {
      const m = /(\d+) of (\d+) routes for (\d+) networks/.exec(await client(bin, sock, 'show route count'));
      assert.ok(m, `${what}: show route count`);
      const table = routeTable(await client(bin, sock, 'show route'));
      assert.equal(Number(m[3]), table.size, `${what}: networks counted = networks listed`);
      assert.equal(Number(m[2]), [...table.values()].flat().length, `${what}: routes counted = routes listed`);
      return [...table.keys()].sort();
    };
    assert.deepEqual(await count(f.sock(t)), await count(f.sock(lab.bird)), `${what}: the same networks`);
  }

  step('2. birdcl parity: the real clients give the same rows on a Tern socket as on BIRD 1.6.8\'s', async () => {
    for (const t of lab.terns) for (const f of FAMILIES) await parity(f.client, t, f);
    const birdcl = which('birdcl');
    if (birdcl) for (const t of lab.terns) for (const f of FAMILIES) await parity(birdcl, t, f);
    else process.stderr.write('calico interop: no birdcl (BIRD 2) installed; only BIRD 1.6 birdc/birdc6 checked\n');
  });

  step('3. calico-node\'s readiness check (checkBIRDReady) passes on every Tern socket, as on BIRD\'s', async () => {
    for (const node of [...lab.terns, lab.bird]) {
      for (const f of FAMILIES) {
        const peers = scanBirdPeers(await raw(f.sock(node), 'show protocols'), f.sep);
        assert.deepEqual(peers.map((p) => p.peerIP).sort(), others(node).map((n) => f.addr(n)).sort(), `${node.name} ${f.key}`);
        assert.ok(peers.every((p) => p.peerType === 'node-to-node mesh' && p.state === 'up'), JSON.stringify(peers));
        const status = await raw(f.sock(node), 'show status');
        assert.equal(grInProgress(status), false);
        // Within the startup threshold every peer must be Established and no GR in progress.
        assert.equal(checkBirdReady(peers, true, () => grInProgress(status)), undefined, `${node.name} ${f.key}`);
        assert.equal(checkBirdReady(peers, false, () => grInProgress(status)), undefined, `${node.name} ${f.key}`);
      }
    }
  });

  step('4. a live change (new BGPPeer, new block, pool switched to IPIP) applies without resetting a mesh session', async () => {
    // BIRD's `since` (HH:MM:SS) as seconds of the day. BIRD 1.6 converts its monotonic clock to
    // wall time at each display, so the same instant may show one second apart between calls.
    const since = async (): Promise<Map<string, number>> => {
      const out = new Map<string, number>();
      for (const f of FAMILIES) {
        const text = await client(f.client, f.sock(lab.bird), 'show protocols');
        for (const l of text.split('\n')) {
          const m = /^(Mesh_\S+)\s+\S+\s+\S+\s+\S+\s+(\d\d):(\d\d):(\d\d)\s/.exec(l);
          if (m) out.set(m[1]!, Number(m[2]) * 3600 + Number(m[3]) * 60 + Number(m[4]));
        }
      }
      return out;
    };
    const secondOfDay = (d: Date) => d.getHours() * 3600 + d.getMinutes() * 60 + d.getSeconds();
    const apart = (a: number, b: number) => Math.min((a - b + 86_400) % 86_400, (b - a + 86_400) % 86_400);
    const before = new Map<string, PeerJson[]>();
    for (const t of lab.terns) before.set(t.name, await ternPeers(t));
    const birdSince = await since();
    assert.equal(birdSince.size, 6, 'BIRD lists six Mesh_ sessions');
    // A reset would show a `since` at or after the change: make that at least 3 s after every current one.
    while (Math.min(...[...birdSince.values()].map((v) => apart(secondOfDay(new Date()), v))) < 3) await sleep(200);
    const t0 = Date.now();
    const objects = resourceObjects();
    const pool = objects.find((o) => o.kind === 'IPPool' && o.metadata?.name === 'ippool-1')!;
    const config = objects.find((o) => o.kind === 'BGPConfiguration' && o.metadata?.name === 'default')!;
    const v3 = 'projectcalico.org/v3';
    lab.api.apply(asApiObject({ apiVersion: v3, kind: 'BGPPeer', metadata: { name: 'tor-of-kube-node-1' }, spec: { node: 'kube-node-1', peerIP: '10.192.0.99', asNumber: 65099 } }));
    lab.api.apply(asApiObject({ apiVersion: v3, kind: 'BlockAffinity', metadata: { name: 'kube-node-2-192-168-2-64-26' }, spec: { node: 'kube-node-2', cidr: '192.168.2.64/26', state: 'confirmed', deleted: false } }));
    lab.api.apply(asApiObject({ ...config, spec: { ...(config.spec ?? {}), programClusterRoutes: 'Enabled' } }));
    lab.api.apply(asApiObject({ ...pool, spec: { ...(pool.spec ?? {}), ipipMode: 'Always' } }));
    const [node1, node2, node3] = lab.terns as [TernNode, TernNode, TernNode];
    await waitFor('kube-node-1 has the new peer Node_10_192_0_99', async () => ((await ternPeers(node1)).some((p) => p.name === 'Node_10_192_0_99') ? true : undefined), WAIT);
    for (const t of [node2, node3]) assert.ok(!(await ternPeers(t)).some((p) => p.name.startsWith('Node_')), `${t.name} must not peer with kube-node-1's ToR`);
    const rows = protocolRows(await client(BIRD1.client4, node1.sock4, 'show protocols')).rows;
    assert.deepEqual([rows.get('Node_10_192_0_99')?.proto, rows.get('Node_10_192_0_99')?.state], ['BGP', 'start']);
    // The new block reaches BIRD and the other Terns.
    await waitFor('BIRD learned 192.168.2.64/26 from kube-node-2', async () => {
      const r = routeTable(await client(BIRD1.client4, lab.bird.sock4, 'show route')).get('192.168.2.64/26');
      return JSON.stringify(r) === JSON.stringify(['via 10.192.0.4 [Mesh_10_192_0_4]']) ? true : undefined;
    }, WAIT);
    // The pool is IPIP now and BIRD-programmed (programClusterRoutes: Enabled): its routes go via tunl0.
    for (const t of lab.terns) {
      const expected = [...others(t).flatMap((n) => BLOCKS[n.name]!.v4.map((p) => [p, n.ipv4] as const)), ...(t === node2 ? [] : [['192.168.2.64/26', node2.ipv4] as const])];
      await waitFor(`${t.name} kernel: pool routes through tunl0`, async () => {
        const kernel = await lab.kernelRoutes(t.ns, 4);
        const want = (p: string, nh: string) => (p.startsWith('192.168.') ? `via ${nh} dev tunl0 onlink proto bird` : `via ${nh} dev eth0 proto bird`);
        const wrong = expected.filter(([p, nh]) => !kernel.some((r) => r.dst === p && kernelWords(r) === want(p, nh)));
        if (wrong.length > 0) throw new Error(`not as expected: ${wrong.map((w) => w[0]).join(', ')}; kernel: ${kernel.map((r) => `${r.dst} ${kernelWords(r)}`).join('; ')}`);
        return true;
      }, WAIT);
    }
    // Nothing about the mesh changed: every session is the one from before, uptime running on.
    await sleep(1_000);
    const elapsed = Math.floor((Date.now() - t0) / 1000);
    for (const t of lab.terns) {
      const now = await ternPeers(t);
      for (const p of before.get(t.name)!) {
        const q = now.find((x) => x.name === p.name);
        assert.ok(q, `${t.name} lost ${p.name}`);
        assert.equal(q.state, 'Established', `${t.name} ${p.name}`);
        assert.equal(q.messagesReceived.OPEN, p.messagesReceived.OPEN, `${t.name} ${p.name}: no new OPEN (session not reset)`);
        assert.ok(q.uptimeSeconds >= p.uptimeSeconds + elapsed - 1, `${t.name} ${p.name}: uptime ${p.uptimeSeconds} → ${q.uptimeSeconds} over ${elapsed} s`);
      }
    }
    const birdAfter = await since();
    for (const [name, t] of birdSince) assert.ok(apart(birdAfter.get(name) ?? -99, t) <= 1, `BIRD ${name}: since ${t} → ${birdAfter.get(name)} (session restarted?)`);
    await meshConverged();
  });
});
