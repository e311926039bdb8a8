// SPDX-License-Identifier: Apache-2.0
// Interop scenarios for Tern's RIB: route reflection (RFC 4456) with Tern as reflector and as
// client, two Tern reflectors in one and in two clusters, a full iBGP mesh of five
// implementations, graceful restart (RFC 4724) both ways with BIRD 2, and ADD-PATH (RFC 7911)
// through Tern to BIRD 2. Each scenario is its own small world (lib/world.ts) with its own
// namespaces; they run concurrently. Every expectation is read from the node's own CLI (birdc,
// gobgp, vtysh, tern show). INTEROP_DUT=standin puts a BIRD 2 in every Tern role, which proves
// the scenarios and peer configs independently of Tern. INTEROP_KEEP=1 keeps the logs.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { missingPeerBinaries } from './lib/lab.ts';
import { ternAvailable } from './lib/tern.ts';
import { tail } from './lib/proc.ts';
import { sleep, waitFor } from './lib/wait.ts';
import { Bird2Peer } from './lib/peers/bird2.ts';
import { sessionLabel, World, type LinkPlan, type NodeKind, type NodePlan, type ScenarioRoute, type WorldNode } from './lib/world.ts';
import type { PeerKind } from './lib/types.ts';

const inCi = process.env.CI !== undefined && process.env.CI !== '' && process.env.CI !== 'false';
const isRoot = process.getuid?.() === 0;
const standIn = process.env.INTEROP_DUT === 'standin';
const keepLogs = process.env.INTEROP_KEEP === '1';

/** Budget for a session or a route to appear; the worlds converge in seconds when all is well. */
const CONVERGE_MS = 60_000;
/** How long a route must stay away before "it is not there" counts (after the positives converged). */
const SETTLE_MS = 4_000;
const CASE_TIMEOUT_MS = 240_000;

function skipFor(kinds: readonly NodeKind[]): string | false {
  if (!isRoot) return 'interop scenarios need root (network namespaces); run as root, e.g. `sudo npm run test:interop`';
  if (!standIn && kinds.includes('tern') && !ternAvailable()) return 'bin/tern.js or src/main.ts missing (INTEROP_DUT=standin runs the scenarios against BIRD 2)';
  const peerKinds = new Set<PeerKind>(kinds.map((k) => (k === 'tern' ? 'bird2' : k)));
  const missing = [...peerKinds].flatMap((k) => {
    const m = missingPeerBinaries(k);
    return m === undefined ? [] : [`${k} (${m})`];
  });
  if (missing.length > 0 && !inCi) return `not installed: ${missing.join(', ')}; run scripts/install-peers.sh`;
  return false;
}

/** Builds a world, runs the body, always destroys it; on failure appends every node's log tail. */
async function inWorld(tag: string, nodes: readonly NodePlan[], links: readonly LinkPlan[], body: (w: World) => Promise<void>): Promise<void> {
  const world = await World.start(tag, nodes, links, { standIn });
  let ok = false;
  try {
    await body(world);
    ok = true;
  } catch (err) {
    const detail = world
      .all()
      .flatMap((n) => n.logs().map((f) => `--- ${n.description}: ${f}\n${tail(f, n.isTern ? 40 : 12)}`))
      .join('\n');
    if (err instanceof Error) err.message += `\n(logs kept in ${world.workDir})\n${detail}`;
    throw err;
  } finally {
    await world.destroy(!ok || keepLogs);
  }
}

const show = (r: ScenarioRoute): string =>
  `${r.prefix} from ${r.fromNode} nh ${r.nextHop} orig ${r.originatorId ?? '-'} cl [${r.clusterList.join(' ')}]${r.stale ? ' stale' : ''}` +
  (r.best === undefined ? '' : ` best ${r.best}${r.reason ? ` (${r.reason})` : ''}`) +
  (r.pathId === undefined || r.pathId === null ? '' : ` id ${r.pathId}`);

/** Waits until `node` has a path to `prefix` learned from `from`; returns all such paths. */
async function pathsAt(node: WorldNode, prefix: string, from: string, timeoutMs = CONVERGE_MS, atLeast = 1): Promise<ScenarioRoute[]> {
  return waitFor(`${node.description} to have ${prefix} from ${from}`, async () => {
    const all = await node.routes();
    const got = all.filter((r) => r.prefix === prefix && r.fromNode === from);
    if (got.length < atLeast) throw new Error(`has ${got.length} such path(s); table: ${all.map(show).join('; ') || '(empty)'}`);
    return got;
  }, { timeoutMs });
}

/** Expected attributes of a reflected / meshed path. */
interface Expect {
  nextHop: string;
  originatorId: string | undefined;
  clusterList: string[];
}

function checkPath(where: WorldNode, r: ScenarioRoute, want: Expect): void {
  const ctx = `${where.description}: ${show(r)}`;
  assert.equal(r.nextHop, want.nextHop, `${ctx}: next hop`);
  assert.equal(r.originatorId, want.originatorId, `${ctx}: ORIGINATOR_ID`);
  assert.deepEqual(r.clusterList, want.clusterList, `${ctx}: CLUSTER_LIST`);
  assert.deepEqual(r.asPath, [], `${ctx}: iBGP AS path`);
}

/**
 * Runs every check, then fails once listing all failures: a scenario report should say
 * everything that is wrong, not only the first thing.
 */
async function allChecks(checks: Record<string, () => Promise<void>>): Promise<void> {
  const names = Object.keys(checks);
  const results = await Promise.allSettled(names.map((n) => checks[n]!()));
  const failures = results.flatMap((r, i) => (r.status === 'rejected' ? [`- ${names[i]}: ${r.reason instanceof Error ? r.reason.message : String(r.reason)}`] : []));
  if (failures.length > 0) throw new Error(`${failures.length} of ${names.length} checks failed:\n${failures.join('\n')}`);
}

/** Asserts that `node` has no path to `prefix` (call after the positives converged, then SETTLE_MS). */
async function assertAbsent(node: WorldNode, prefix: string, why: string): Promise<void> {
  const got = (await node.routes()).filter((r) => r.prefix === prefix);
  assert.deepEqual(got.map(show), [], `${node.description} must not have ${prefix}: ${why}`);
}

/**
 * Runs `body` while sampling `present` every 200 ms; returns how often it said "absent".
 * A failure of `body` is rethrown with the samples so far appended.
 */
async function sampleWhile(what: string, present: () => Promise<boolean>, body: () => Promise<void>): Promise<{ samples: number; gaps: number; summary: string }> {
  let running = true;
  const gaps: string[] = [];
  let samples = 0;
  const loop = (async () => {
    while (running) {
      try {
        if (!(await present())) gaps.push(new Date().toISOString().slice(11, 23));
        samples++;
      } catch {
        // A CLI hiccup (daemon restarting) is no evidence either way.
      }
      await sleep(200);
    }
  })();
  const summary = (): string => `${what}: absent in ${gaps.length} of ${samples} samples${gaps.length > 0 ? ` (at ${gaps.slice(0, 5).join(', ')}${gaps.length > 5 ? ', ...' : ''})` : ''}`;
  try {
    await body();
  } catch (err) {
    running = false;
    await loop;
    if (err instanceof Error) err.message += `\n${summary()}`;
    throw err;
  }
  running = false;
  await loop;
  return { samples, gaps: gaps.length, summary: summary() };
}

async function sessionDown(node: WorldNode, neighbor: string): Promise<void> {
  await waitFor(`${node.description} to see ${neighbor} go down`, async () => {
    const s = await node.session(neighbor);
    if (s.established) throw new Error('still Established');
    return s;
  }, { timeoutMs: 30_000, intervalMs: 200 });
}

describe(`RIB scenarios (${standIn ? 'BIRD 2 stand-in in every Tern role' : 'Tern'})`, { concurrency: true }, () => {
  // 1. Tern reflects for four implementations and serves two non-clients.
  {
    const CLUSTER = '192.0.2.1';
    const clients: NodePlan[] = [
      { name: 'c-bird2', kind: 'bird2' },
      { name: 'c-bird1', kind: 'bird1' },
      { name: 'c-gobgp', kind: 'gobgp' },
      { name: 'c-frr', kind: 'frr' },
    ];
    const nonClients: NodePlan[] = [
      { name: 'nc-a', kind: 'bird2' },
      { name: 'nc-b', kind: 'bird2' },
    ];
    const nodes: NodePlan[] = [{ name: 'rr', kind: 'tern', clusterId: CLUSTER }, ...clients, ...nonClients];
    const links: LinkPlan[] = [
      ...clients.map((c) => ({ a: 'rr', b: c.name, bIsClientOfA: true })),
      ...nonClients.map((n) => ({ a: 'rr', b: n.name })),
    ];
    test('Tern as route reflector: BIRD 2, BIRD 1.6, GoBGP and FRR clients and BIRD 2 non-clients get reflected routes with ORIGINATOR_ID and CLUSTER_LIST', {
      skip: skipFor(nodes.map((n) => n.kind)),
      timeout: CASE_TIMEOUT_MS,
    }, async () => {
      await inWorld('rr', nodes, links, async (w) => {
        await w.established(links.map((l) => [l.a, l.b]), CONVERGE_MS);
        const rr = w.node('rr');
        const reflected = (origin: WorldNode): Expect => ({ nextHop: origin.address, originatorId: origin.routerId, clusterList: [CLUSTER] });
        const checks: Record<string, () => Promise<void>> = {};
        for (const c of clients) {
          const at = w.node(c.name);
          for (const o of [...clients, ...nonClients]) {
            if (o.name === c.name) continue;
            const origin = w.node(o.name);
            checks[`${o.name}'s route at client ${c.name}`] = async () => {
              for (const p of origin.prefixes) checkPath(at, (await pathsAt(at, p, 'rr'))[0]!, reflected(origin));
            };
          }
          checks[`the reflector's own route at ${c.name}`] = async () => {
            const r = (await pathsAt(at, rr.prefixes[0]!, 'rr'))[0]!;
            assert.equal(r.nextHop, rr.address, `${at.description}: ${show(r)}: next hop`);
          };
        }
        for (const n of nonClients) {
          const at = w.node(n.name);
          for (const c of clients) {
            const origin = w.node(c.name);
            checks[`client ${c.name}'s route at non-client ${n.name}`] = async () => {
              for (const p of origin.prefixes) checkPath(at, (await pathsAt(at, p, 'rr'))[0]!, reflected(origin));
            };
          }
        }
        await allChecks(checks);
        // RFC 4456 §6: a route from a non-client is reflected to clients only.
        await sleep(SETTLE_MS);
        await allChecks({
          'nc-a\'s route not at nc-b': () => assertAbsent(w.node('nc-b'), w.node('nc-a').prefixes[0]!, 'non-client routes are not reflected to non-clients (RFC 4456 §6)'),
          'nc-b\'s route not at nc-a': () => assertAbsent(w.node('nc-a'), w.node('nc-b').prefixes[0]!, 'non-client routes are not reflected to non-clients (RFC 4456 §6)'),
        });
      });
    });
  }

  // 2. Tern as a client of a BIRD 2 reflector.
  {
    const CLUSTER = '192.0.2.2';
    const nodes: NodePlan[] = [
      { name: 'rr', kind: 'bird2', clusterId: CLUSTER },
      { name: 'tern', kind: 'tern' },
      { name: 'cl', kind: 'bird2' },
    ];
    const links: LinkPlan[] = [
      { a: 'rr', b: 'tern', bIsClientOfA: true },
      { a: 'rr', b: 'cl', bIsClientOfA: true },
    ];
    test('Tern as route-reflector client of BIRD 2: routes flow both ways through the reflector', {
      skip: skipFor(nodes.map((n) => n.kind)),
      timeout: CASE_TIMEOUT_MS,
    }, async () => {
      await inWorld('rrclient', nodes, links, async (w) => {
        await w.established(links.map((l) => [l.a, l.b]), CONVERGE_MS);
        const [rr, tern, cl] = [w.node('rr'), w.node('tern'), w.node('cl')];
        await allChecks({
          'BIRD client route at Tern (reflected)': async () =>
            checkPath(tern, (await pathsAt(tern, cl.prefixes[0]!, 'rr'))[0]!, { nextHop: cl.address, originatorId: cl.routerId, clusterList: [CLUSTER] }),
          'Tern route at the BIRD client (reflected)': async () =>
            checkPath(cl, (await pathsAt(cl, tern.prefixes[0]!, 'rr'))[0]!, { nextHop: tern.address, originatorId: tern.routerId, clusterList: [CLUSTER] }),
          'reflector route at Tern': async () =>
            checkPath(tern, (await pathsAt(tern, rr.prefixes[0]!, 'rr'))[0]!, { nextHop: rr.address, originatorId: undefined, clusterList: [] }),
          'Tern route at the reflector': async () =>
            checkPath(rr, (await pathsAt(rr, tern.prefixes[0]!, 'tern'))[0]!, { nextHop: tern.address, originatorId: undefined, clusterList: [] }),
          ...(tern.isTern
            ? {
                'Tern selects the reflected route (Loc-RIB)': async () => {
                  await waitFor('Tern Loc-RIB to hold the BIRD client route', async () => {
                    const rows = (await tern.ternRows('loc')).filter((r) => r.prefix === cl.prefixes[0]);
                    if (rows.length === 0) throw new Error('absent from --table loc');
                    return rows;
                  }, { timeoutMs: CONVERGE_MS });
                },
              }
            : {}),
        });
      });
    });
  }

  // 3. Two Tern reflectors, each with one client: one cluster (loop check), two clusters.
  for (const variant of ['one cluster', 'two clusters'] as const) {
    const same = variant === 'one cluster';
    const [C1, C2] = same ? ['192.0.2.10', '192.0.2.10'] : ['192.0.2.11', '192.0.2.12'];
    const nodes: NodePlan[] = [
      { name: 't1', kind: 'tern', clusterId: C1 },
      { name: 't2', kind: 'tern', clusterId: C2 },
      { name: 'x1', kind: 'bird2' },
      { name: 'x2', kind: 'bird2' },
    ];
    const links: LinkPlan[] = [
      { a: 't1', b: 'x1', bIsClientOfA: true },
      { a: 't2', b: 'x2', bIsClientOfA: true },
      { a: 't1', b: 't2' },
    ];
    const title = same
      ? 'two Tern reflectors in one cluster: routes reflected between them are dropped by the CLUSTER_LIST loop check'
      : 'two Tern reflectors in two clusters: client routes cross both with CLUSTER_LIST [local, remote]';
    test(title, { skip: skipFor(nodes.map((n) => n.kind)), timeout: CASE_TIMEOUT_MS }, async (t) => {
      await inWorld(same ? 'onecl' : 'twocl', nodes, links, async (w) => {
        await w.established(links.map((l) => [l.a, l.b]), CONVERGE_MS);
        const [t1, t2, x1, x2] = [w.node('t1'), w.node('t2'), w.node('x1'), w.node('x2')];
        // Positive control either way: a reflector's own route goes to the other
        // reflector (non-client, no CLUSTER_LIST yet), which reflects it to its client.
        const controls = {
          't1 route at x2 (via t2)': async () =>
            checkPath(x2, (await pathsAt(x2, t1.prefixes[0]!, 't2'))[0]!, { nextHop: t1.address, originatorId: t1.routerId, clusterList: [C2] }),
          't2 route at x1 (via t1)': async () =>
            checkPath(x1, (await pathsAt(x1, t2.prefixes[0]!, 't1'))[0]!, { nextHop: t2.address, originatorId: t2.routerId, clusterList: [C1] }),
        };
        if (!same) {
          await allChecks({
            ...controls,
            'x1 route at x2 (CLUSTER_LIST [C2, C1])': async () =>
              checkPath(x2, (await pathsAt(x2, x1.prefixes[0]!, 't2'))[0]!, { nextHop: x1.address, originatorId: x1.routerId, clusterList: [C2, C1] }),
            'x2 route at x1 (CLUSTER_LIST [C1, C2])': async () =>
              checkPath(x1, (await pathsAt(x1, x2.prefixes[0]!, 't1'))[0]!, { nextHop: x2.address, originatorId: x2.routerId, clusterList: [C1, C2] }),
          });
          return;
        }
        await allChecks(controls);
        await sleep(SETTLE_MS);
        const loopChecks: Record<string, () => Promise<void>> = {
          'x1 route not at x2': () => assertAbsent(x2, x1.prefixes[0]!, 'CLUSTER_LIST loop at t2 (RFC 4456 §8)'),
          'x2 route not at x1': () => assertAbsent(x1, x2.prefixes[0]!, 'CLUSTER_LIST loop at t1 (RFC 4456 §8)'),
        };
        if (t1.isTern && t2.isTern) {
          for (const [sender, receiver, client] of [[t1, t2, x1], [t2, t1, x2]] as const) {
            const prefix = client.prefixes[0]!;
            loopChecks[`${receiver.name} rejects ${client.name}'s route from ${sender.name}`] = async () => {
              // The sender must have sent it (else the check proves nothing) with CLUSTER_LIST [C].
              const sent = await waitFor(`${sender.name} Adj-RIB-Out to ${receiver.name} to hold ${prefix}`, async () => {
                const rows = (await sender.ternRows('adj-out', receiver.name)).filter((r) => r.prefix === prefix);
                if (rows.length === 0) throw new Error('not in --table adj-out');
                return rows;
              }, { timeoutMs: CONVERGE_MS });
              assert.deepEqual(sent[0]!.clusterList, [C1], `${sender.name} adj-out ${prefix}: CLUSTER_LIST`);
              const received = (await receiver.ternRows('adj-in', sender.name)).filter((r) => r.prefix === prefix);
              t.diagnostic(`${receiver.name} adj-in from ${sender.name}: ${received.length === 0 ? `${prefix} absent` : received.map((r) => show(receiver.fromTernRow(r))).join('; ')}`);
              for (const r of received) {
                assert.equal(r.best, false, `${receiver.name} adj-in: ${show(receiver.fromTernRow(r))} must not be usable`);
                assert.ok(r.reason !== null && r.reason !== undefined && /cluster/i.test(r.reason), `${receiver.name} adj-in: ${show(receiver.fromTernRow(r))}: reason must name the CLUSTER_LIST loop`);
              }
              const loc = (await receiver.ternRows('loc')).filter((r) => r.prefix === prefix);
              assert.deepEqual(loc.map((r) => r.peer), [], `${receiver.name} Loc-RIB must not hold ${prefix}`);
            };
          }
        }
        await allChecks(loopChecks);
      });
    });
  }

  // 4. Full iBGP mesh of five implementations.
  {
    const nodes: NodePlan[] = [
      { name: 'm-tern', kind: 'tern' },
      { name: 'm-bird2', kind: 'bird2' },
      { name: 'm-bird1', kind: 'bird1' },
      { name: 'm-gobgp', kind: 'gobgp' },
      { name: 'm-frr', kind: 'frr' },
    ];
    const links: LinkPlan[] = nodes.flatMap((a, i) => nodes.slice(i + 1).map((b) => ({ a: a.name, b: b.name })));
    test('full iBGP mesh of Tern, BIRD 2, BIRD 1.6, GoBGP and FRR: every route once, from its originator, next hop unchanged', {
      skip: skipFor(nodes.map((n) => n.kind)),
      timeout: CASE_TIMEOUT_MS,
    }, async () => {
      await inWorld('mesh', nodes, links, async (w) => {
        await w.established(links.map((l) => [l.a, l.b]), CONVERGE_MS);
        const checks: Record<string, () => Promise<void>> = {};
        for (const at of w.all()) {
          for (const origin of w.all()) {
            if (origin === at) continue;
            checks[`${origin.name}'s route at ${at.name}`] = async () => {
              checkPath(at, (await pathsAt(at, origin.prefixes[0]!, origin.name))[0]!, { nextHop: origin.address, originatorId: undefined, clusterList: [] });
            };
          }
        }
        await allChecks(checks);
        // RFC 4271 §9.2: iBGP-learned routes are not advertised to iBGP peers (no reflection
        // configured), so each route exists exactly once everywhere: from its originator.
        await sleep(SETTLE_MS);
        const once: Record<string, () => Promise<void>> = {};
        for (const at of w.all()) {
          once[`${at.name} holds each route only from its originator`] = async () => {
            const routes = await at.routes();
            for (const origin of w.all()) {
              if (origin === at) continue;
              const got = routes.filter((r) => r.prefix === origin.prefixes[0]);
              assert.deepEqual(got.map((r) => r.fromNode), [origin.name], `${at.description}: ${origin.prefixes[0]} paths: ${got.map(show).join('; ')}`);
            }
          };
        }
        await allChecks(once);
      });
    });
  }

  // 5a. Tern as graceful-restart helper for BIRD 2.
  {
    const nodes: NodePlan[] = [
      { name: 'helper', kind: 'tern' },
      { name: 'bird', kind: 'bird2' },
    ];
    const links: LinkPlan[] = [{ a: 'helper', b: 'bird', gracefulRestart: true }];
    test('graceful restart, Tern helping: BIRD 2 killed, its routes kept stale, refreshed after its End-of-RIB', {
      skip: skipFor(nodes.map((n) => n.kind)),
      timeout: CASE_TIMEOUT_MS,
    }, async (t) => {
      await inWorld('grhelp', nodes, links, async (w) => {
        const [helper, bird] = [w.node('helper'), w.node('bird')];
        const prefix = bird.prefixes[0]!;
        await w.established([['helper', 'bird']], CONVERGE_MS);
        const before = (await pathsAt(helper, prefix, 'bird'))[0]!;
        assert.equal(before.stale, false, `${helper.description}: ${show(before)} stale before any restart`);
        const present = async (): Promise<boolean> => (await helper.routes()).some((r) => r.prefix === prefix && r.fromNode === 'bird');
        const sampled = await sampleWhile(`${prefix} at ${helper.description}`, present, async () => {
          await bird.stop('SIGKILL');
          await sessionDown(helper, 'bird');
          // RFC 4724 §4.2: the helper retains the routes and marks them stale.
          if (helper.isTern) {
            await waitFor(`${helper.description} to mark ${prefix} stale`, async () => {
              const r = (await helper.routes()).find((x) => x.prefix === prefix && x.fromNode === 'bird');
              if (r === undefined) throw new Error('route gone');
              if (!r.stale) throw new Error(`not stale: ${show(r)}`);
              return r;
            }, { timeoutMs: 10_000, intervalMs: 200 });
          }
          // BIRD restarts as a restarting speaker (R and F bits, RFC 4724 §3).
          await bird.start({ recovery: true });
          await w.established([['helper', 'bird']], CONVERGE_MS);
          await waitFor(`${helper.description} to refresh ${prefix} (stale cleared after End-of-RIB)`, async () => {
            const r = (await helper.routes()).find((x) => x.prefix === prefix && x.fromNode === 'bird');
            if (r === undefined) throw new Error('route gone');
            if (r.stale) throw new Error(`still stale: ${show(r)}`);
            return r;
          }, { timeoutMs: CONVERGE_MS, intervalMs: 200 });
        });
        // The waits above looked at the route at each step; the samples cover the gaps between.
        t.diagnostic(sampled.summary);
        assert.ok(sampled.samples >= 2, `too few samples to tell: ${sampled.summary}`);
        assert.equal(sampled.gaps, 0, sampled.summary);
      });
    });
  }

  // 5b. Tern restarts; BIRD 2 helps.
  {
    const nodes: NodePlan[] = [
      { name: 'restarter', kind: 'tern' },
      { name: 'bird', kind: 'bird2' },
    ];
    const links: LinkPlan[] = [{ a: 'restarter', b: 'bird', gracefulRestart: true }];
    test('graceful restart, Tern restarting: BIRD 2 keeps Tern\'s routes (stale) until Tern\'s End-of-RIB and never withdraws them', {
      skip: skipFor(nodes.map((n) => n.kind)),
      timeout: CASE_TIMEOUT_MS,
    }, async () => {
      await inWorld('grrestart', nodes, links, async (w) => {
        const [restarter, bird] = [w.node('restarter'), w.node('bird')];
        const prefix = restarter.prefixes[0]!;
        await w.established([['restarter', 'bird']], CONVERGE_MS);
        await pathsAt(bird, prefix, 'restarter');
        const birdPeer = bird.peer as Bird2Peer;
        const present = async (): Promise<boolean> => (await bird.routes()).some((r) => r.prefix === prefix && r.fromNode === 'restarter');
        // Problems that do not stop the restart from being observed to its end.
        const problems: string[] = [];
        const sampled = await sampleWhile(`${prefix} at ${bird.description}`, present, async () => {
          await restarter.stop('SIGKILL');
          await sessionDown(bird, 'restarter');
          // BIRD 2.0 shows retained (stale) routes per session, not per route.
          const down = await birdPeer.protocolText(sessionLabel('restarter'));
          assert.match(down, /Neighbor graceful restart active/, `BIRD must be helping, keeping the routes stale (RFC 4724 §4.2):\n${down}`);
          assert.ok(await present(), `BIRD dropped ${prefix} when the restarter went down`);
          await restarter.start({ recovery: true });
          await w.established([['restarter', 'bird']], CONVERGE_MS);
          // RFC 4724 §4.1/§3: the restarting speaker sets the Restart State bit, and the
          // Forwarding State bit for the families it kept; without F, RFC 4724 §4.2 has the
          // helper delete the stale routes at once (BIRD does).
          const up = await birdPeer.protocolText(sessionLabel('restarter'));
          const neighborCaps = /Neighbor capabilities([\s\S]*?)\n    \S/.exec(up)?.[1] ?? '';
          if (!/Restart recovery/.test(neighborCaps)) problems.push(`BIRD saw no Restart State (R) bit in ${restarter.description}'s OPEN; its capabilities:${neighborCaps}`);
          if (!/AF preserved: ipv4/.test(neighborCaps)) problems.push(`BIRD saw no Forwarding State (F) bit for IPv4 in ${restarter.description}'s OPEN ("AF preserved:" empty), so it flushes the stale routes on reconnect`);
          await waitFor(`BIRD to leave graceful restart after ${restarter.name}'s End-of-RIB`, async () => {
            const p = await birdPeer.protocolText(sessionLabel('restarter'));
            if (/Neighbor graceful restart active/.test(p)) throw new Error('BIRD still helping (no End-of-RIB yet)');
            return p;
          }, { timeoutMs: CONVERGE_MS, intervalMs: 200 });
          await pathsAt(bird, prefix, 'restarter', 5_000);
        });
        if (sampled.samples < 2) problems.push(`too few samples to tell: ${sampled.summary}`);
        if (sampled.gaps > 0) problems.push(`BIRD withdrew the route during the restart: ${sampled.summary}`);
        assert.deepEqual(problems, [], problems.join('\n'));
      });
    });
  }

  // 6. ADD-PATH: two equal paths through Tern to a BIRD 2 that receives several paths.
  {
    const ANYCAST = '10.200.0.0/24';
    const nodes: NodePlan[] = [
      { name: 'rr', kind: 'tern', clusterId: '192.0.2.6' },
      { name: 'a', kind: 'bird2', prefixes: [ANYCAST] },
      { name: 'b', kind: 'bird2', prefixes: [ANYCAST] },
      { name: 'c', kind: 'bird2' },
    ];
    const links: LinkPlan[] = [
      { a: 'rr', b: 'a', bIsClientOfA: true, addPaths: { a: 'both', b: 'both' } },
      { a: 'rr', b: 'b', bIsClientOfA: true, addPaths: { a: 'both', b: 'both' } },
      { a: 'rr', b: 'c', bIsClientOfA: true, addPaths: { a: 'both', b: 'rx' } },
    ];
    test('ADD-PATH: Tern reflects both equal paths of one prefix to a BIRD 2 client with add paths rx', {
      skip: skipFor(nodes.map((n) => n.kind)),
      timeout: CASE_TIMEOUT_MS,
    }, async () => {
      await inWorld('addpath', nodes, links, async (w) => {
        await w.established(links.map((l) => [l.a, l.b]), CONVERGE_MS);
        const [rr, a, b, c] = [w.node('rr'), w.node('a'), w.node('b'), w.node('c')];
        const checks: Record<string, () => Promise<void>> = {
          'c receives both paths': async () => {
            const paths = await pathsAt(c, ANYCAST, 'rr', CONVERGE_MS, 2);
            assert.deepEqual(paths.map((p) => p.nextHop).sort(), [a.address, b.address].sort(), `${c.description}: ${paths.map(show).join('; ')}`);
            assert.deepEqual(paths.map((p) => p.originatorId).sort(), [a.routerId, b.routerId].sort(), `${c.description}: ORIGINATOR_IDs`);
          },
        };
        if (rr.isTern) {
          checks['Tern holds both paths, one best'] = async () => {
            const rows = await waitFor('Tern adj-in to hold both paths', async () => {
              const r = (await rr.routes()).filter((x) => x.prefix.startsWith(ANYCAST));
              if (r.length < 2) throw new Error(`${r.length} path(s): ${r.map(show).join('; ')}`);
              return r;
            }, { timeoutMs: CONVERGE_MS });
            assert.deepEqual(rows.map((r) => r.fromNode).sort(), ['a', 'b'], rows.map(show).join('; '));
            assert.equal(rows.filter((r) => r.best === true).length, 1, `exactly one best: ${rows.map(show).join('; ')}`);
            // `tern show routes --json`: the path id has its own field; `prefix` is the prefix.
            for (const r of rows) {
              assert.equal(r.prefix, ANYCAST, `Tern JSON "prefix" of an ADD-PATH route must be the bare prefix (pathId ${String(r.pathId)} is its own field)`);
              assert.equal(typeof r.pathId, 'number', `Tern JSON: ${show(r)}: pathId of an ADD-PATH route`);
            }
          };
        }
        await allChecks(checks);
      });
    });
  }
});
