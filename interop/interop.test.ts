// SPDX-License-Identifier: Apache-2.0
// Interop lab: Tern against real BIRD 2.0, BIRD 1.6, GoBGP 3 and FRR 8 in network namespaces.
// For every peer kind x {iBGP, eBGP} x {IPv4 session, IPv6 session, dual-stack session} it checks,
// from BOTH sides' own CLIs, that the session is Established and that each side's routes arrive
// at the other with the right next hop and AS path. Then each peer daemon is killed and
// restarted (the session must come back), and finally Tern gets SIGTERM and every peer must
// report the Cease/Administrative Shutdown NOTIFICATION (RFC 4486 subcode 2, RFC 9003 text).
// Needs root (namespaces). Skips with the reason when not root or a peer binary is missing,
// except under CI, where a missing binary is a failure. INTEROP_DUT=standin runs the same cases
// against a BIRD 2 stand-in to prove the lab itself. INTEROP_KEEP=1 keeps the logs.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Lab, DUT_ADDR, DUT_ASN, DUT_ROUTES, missingPeerBinaries, sessionName, type DutChoice } from './lib/lab.ts';
import { BIRD1_DUAL_STACK_SKIP } from './lib/peers/bird1.ts';
import { TernDut, ternAvailable } from './lib/tern.ts';
import { run, startDaemon, tail } from './lib/proc.ts';
import { Topology } from './lib/netns.ts';
import { sleep, waitFor } from './lib/wait.ts';
import { PEER_KINDS, RELATIONS, SESSION_KINDS, familiesOf, type PeerKind, type Relation, type SessionKind, type RouteInfo } from './lib/types.ts';

const inCi = process.env.CI !== undefined && process.env.CI !== '' && process.env.CI !== 'false';
const isRoot = process.getuid?.() === 0;
const dutChoice: DutChoice = process.env.INTEROP_DUT === 'standin' ? 'standin' : 'tern';

function suiteSkipReason(): string | undefined {
  if (!isRoot) return 'interop lab needs root (network namespaces); run as root, e.g. `sudo npm run test:interop`';
  if (dutChoice === 'tern' && !ternAvailable()) return 'bin/tern.js or src/main.ts missing (INTEROP_DUT=standin runs the lab against BIRD 2)';
  return undefined;
}

const suiteSkip = suiteSkipReason();
const missing = new Map<PeerKind, string>();
for (const kind of PEER_KINDS) {
  const m = missingPeerBinaries(kind);
  if (m !== undefined) missing.set(kind, m);
}
const runnableKinds = PEER_KINDS.filter((k) => !missing.has(k) || inCi);

/**
 * Everything converges in parallel, so the first convergence shares one deadline: a case
 * waits until then, and at least MIN_WAIT_MS. A broken DUT thus costs ~CONVERGE_MS once, not
 * once per case.
 */
const CONVERGE_MS = 60_000;
const MIN_WAIT_MS = 5_000;
const RESTART_MS = 45_000;
let convergeDeadline = 0;
const convergeBudget = (): number => Math.max(convergeDeadline - Date.now(), MIN_WAIT_MS);

let lab: Lab | undefined;
let failed = false;

function labOrThrow(): Lab {
  if (lab === undefined) throw new Error('lab did not start');
  if (lab.dutStartError) throw new Error(`${lab.dut.description} failed to start: ${lab.dutStartError.message}\n${lab.dut.logs().map((l) => tail(l, 20)).join('\n')}`);
  return lab;
}

/** Runs a case body; on failure appends the DUT's log lines about `peerKey` and the peer's log tails. */
async function withLogs(kind: PeerKind, relation: Relation, body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (err) {
    failed = true;
    const l = lab;
    const key = `${kind}-${relation}`;
    const dutLogs = l ? l.dut.logs().map((f) => `--- ${f} (lines about ${key})\n${tail(f, 12, key)}`) : [];
    const peerLogs = l?.peers.get(key)?.driver.logs().map((f) => `--- ${f}\n${tail(f, 12)}`) ?? [];
    const detail = [...dutLogs, ...peerLogs].join('\n');
    if (err instanceof Error) err.message += `\n${detail}`;
    throw err;
  }
}

function caseSkip(kind: PeerKind, sessionKind?: SessionKind): string | boolean {
  if (suiteSkip) return suiteSkip;
  if (kind === 'bird1' && sessionKind === 'dual') return BIRD1_DUAL_STACK_SKIP;
  const m = missing.get(kind);
  if (m !== undefined && !inCi) return `${kind} not installed (${m}); run scripts/install-peers.sh`;
  return false;
}

function findRoute(routes: RouteInfo[], prefix: string, where: string): RouteInfo {
  const r = routes.find((x) => x.prefix === prefix);
  if (r === undefined) throw new Error(`${where}: ${prefix} not received yet (have: ${JSON.stringify(routes)})`);
  return r;
}

/** Session up on both sides and routes exchanged both ways with the right next hop / AS path. */
async function checkSession(kind: PeerKind, relation: Relation, sessionKind: SessionKind, timeoutMs: number): Promise<void> {
  const l = labOrThrow();
  const p = l.peer(kind, relation);
  if (p.startError) throw new Error(`${kind} ${relation} failed to start: ${p.startError.message}`);
  const peer = p.driver;
  const session = peer.spec.sessions.find((s) => s.kind === sessionKind);
  assert.ok(session, `no ${sessionKind} session planned for ${kind}`);
  const name = sessionName(kind, relation, sessionKind);
  const opts = { timeoutMs };

  await waitFor(`${l.dut.description} to report ${name} Established`, async () => {
    const s = await l.dut.peer(name);
    if (!s.established) throw new Error(`state ${s.state} ${s.lastError}`);
    return s;
  }, opts);
  await waitFor(`${kind} (${relation}) to report ${session.label} Established`, async () => {
    const s = await peer.session(session.label);
    if (!s.established) throw new Error(`state ${s.state} ${s.lastError}`);
    return s;
  }, opts);

  for (const family of familiesOf(sessionKind)) {
    const v6 = family === 'ipv6-unicast';
    // Peer -> DUT: the peer's own route, next hop = the peer's address for that family.
    const peerPrefix = peer.spec.prefixes[family][0]!;
    const atDut: RouteInfo = await waitFor<RouteInfo>(`${name}: ${peerPrefix} at the DUT`, async () => findRoute(await l.dut.routes(name, family), peerPrefix, 'DUT'), opts);
    assert.equal(atDut.nextHop, v6 ? peer.spec.ipv6Address : session.localAddress, `${peerPrefix} next hop at the DUT`);
    assert.deepEqual(atDut.asPath, relation === 'ebgp' ? [peer.spec.asn] : [], `${peerPrefix} AS path at the DUT`);

    // DUT -> peer: the DUT's route, next hop = DUT address, eBGP prepends the DUT's AS.
    const dutPrefix = DUT_ROUTES[family];
    const atPeer: RouteInfo = await waitFor<RouteInfo>(`${name}: ${dutPrefix} at ${kind}`, async () => findRoute(await peer.routes(session.label, family), dutPrefix, kind), opts);
    assert.equal(atPeer.nextHop, v6 ? DUT_ADDR.ipv6 : session.remoteAddress, `${dutPrefix} next hop at ${kind}`);
    assert.deepEqual(atPeer.asPath, relation === 'ebgp' ? [DUT_ASN] : [], `${dutPrefix} AS path at ${kind}`);
  }
}

/**
 * Why `report` (a peer CLI's account of the last NOTIFICATION) does not show a Cease/
 * Administrative Shutdown *received* from the DUT; undefined when it does.
 */
function shutdownProblem(kind: PeerKind, report: string): string | undefined {
  const needs: RegExp[] = [];
  if (kind === 'bird1' || kind === 'bird2') needs.push(/^Received: Administrative shutdown/);
  if (kind === 'frr') needs.push(/Notification received: Cease\/Administrative Shutdown/i);
  if (kind === 'gobgp') needs.push(/notifications received: [1-9].*code 6\(cease\) subcode 2/);
  // Tern sends an RFC 9003 Shutdown Communication; FRR and GoBGP display it.
  if (dutChoice === 'tern' && kind === 'frr') needs.push(/"[^"]+"$/);
  if (dutChoice === 'tern' && kind === 'gobgp') needs.push(/Communicated-Reason=("[^"]+"|[^\s"]+)/);
  const missing = needs.filter((re) => !re.test(report));
  return missing.length === 0 ? undefined : `"${report}" does not match ${missing.join(', ')}`;
}

test('topology helper: destroy() kills processes inside and deletes every namespace', { skip: suiteSkip ?? false }, async () => {
  const topo = await Topology.create();
  try {
    const ns = await topo.addNode({ name: 'selftest', ipv4: ['10.255.250.1/16'], ipv6: ['fd00:255::250:1/64'] });
    const addrs = (await run('ip', ['-n', ns, '-o', 'addr', 'show', 'dev', 'eth0'])).stdout;
    assert.match(addrs, /inet 10\.255\.250\.1\/16/);
    assert.match(addrs, /inet6 fd00:255::250:1\/64/);
    assert.doesNotMatch(addrs, /tentative/);
    const sleeper = startDaemon('sleeper', 'sleep', ['600'], '/dev/null', ns);
    await waitFor('sleeper to run', async () => (sleeper.isRunning() ? true : undefined), { timeoutMs: 5_000 });
    assert.deepEqual(topo.list().sort(), [topo.bridgeNs, ns].sort());
    topo.destroySync();
    assert.notEqual(await sleeper.exited, undefined);
    const left = (await run('ip', ['netns', 'list'])).stdout.split('\n').filter((l) => l.startsWith(topo.prefix));
    assert.deepEqual(left, []);
  } finally {
    topo.destroySync();
  }
});

describe(`interop (${dutChoice === 'tern' ? 'Tern' : 'BIRD 2 stand-in'} as DUT)`, { skip: suiteSkip ?? false }, () => {
  before(async () => {
    lab = await Lab.start(dutChoice, runnableKinds);
    convergeDeadline = Date.now() + CONVERGE_MS;
  }, { timeout: 120_000 });

  after(async () => {
    const keep = failed || process.env.INTEROP_KEEP === '1';
    if (lab) {
      await lab.destroy(keep);
      if (keep) process.stderr.write(`interop: logs kept in ${lab.workDir}\n`);
    }
  });

  test('peer versions', { skip: suiteSkip ?? false }, async (t) => {
    const l = labOrThrow();
    for (const [key, p] of l.peers) t.diagnostic(`${key}: ${await p.driver.version()}`);
    if (l.dut instanceof TernDut && l.dut.configNote !== undefined) t.diagnostic(l.dut.configNote);
  });

  for (const kind of PEER_KINDS) {
    for (const relation of RELATIONS) {
      for (const sessionKind of SESSION_KINDS) {
        const label = sessionKind === 'dual' ? 'dual-stack session (IPv4 transport, both families)' : `${sessionKind} session`;
        test(`${kind} ${relation} ${label}: Established both sides, routes both ways`, { skip: caseSkip(kind, sessionKind), timeout: CONVERGE_MS * 3 }, async () => {
          await withLogs(kind, relation, () => checkSession(kind, relation, sessionKind, convergeBudget()));
        });
      }
    }
  }

  describe('peer restart (SIGKILL, then start): sessions come back', { concurrency: true }, () => {
    for (const kind of PEER_KINDS) {
      for (const relation of RELATIONS) {
        test(`${kind} ${relation}: restart`, { skip: caseSkip(kind), timeout: RESTART_MS * 4 }, async () => {
          const l = labOrThrow();
          const p = l.peer(kind, relation);
          await withLogs(kind, relation, async () => {
            await p.driver.stop('SIGKILL');
            // The DUT must notice the loss (TCP close) before the peer returns.
            for (const s of p.driver.spec.sessions) {
              await waitFor(`DUT to see ${s.name} go down`, async () => {
                const st = await l.dut.peer(s.name);
                if (st.established) throw new Error('still Established');
                return st;
              }, { timeoutMs: 30_000, intervalMs: 200 });
            }
            await p.driver.start();
            for (const s of p.driver.spec.sessions) await checkSession(kind, relation, s.kind, RESTART_MS);
          });
        });
      }
    }
  });

  describe('DUT SIGTERM: every peer reports Cease/Administrative Shutdown', () => {
    // BIRD overwrites "Last error" with its next connect attempt's error (after `error wait
    // time`, 1 s), so every session is watched from just before the SIGTERM and the first
    // report that names the shutdown is kept, together with the report seen before SIGTERM.
    const reports = new Map<string, Promise<{ before: string; after: string }>>();
    let exitStatus: number | string | null = null;
    before(async () => {
      const l = labOrThrow();
      const deadline = Date.now() + 25_000;
      let sampled = 0;
      for (const p of l.peers.values()) {
        for (const s of p.driver.spec.sessions) {
          const watch = (async () => {
            const sample = (): Promise<string> =>
              p.driver.notificationReport(s.label).catch((err: unknown) => (err instanceof Error ? err.message : String(err)));
            const before = await sample();
            sampled++;
            let last = before;
            while (Date.now() < deadline) {
              await sleep(100);
              last = await sample();
              if (shutdownProblem(p.driver.spec.kind, last) === undefined) return { before, after: last };
            }
            throw new Error(`${s.name}: no Cease/Administrative Shutdown reported within 25 s; last report: "${last}"`);
          })();
          watch.catch(() => undefined); // awaited by the tests; no unhandled-rejection noise meanwhile
          reports.set(s.name, watch);
        }
      }
      await waitFor('pre-SIGTERM samples', async () => (sampled === reports.size ? true : undefined), { timeoutMs: 10_000, intervalMs: 50 });
      exitStatus = await l.dut.stop();
    }, { timeout: 40_000 });

    test('DUT exits by itself (status 0) after SIGTERM', { skip: suiteSkip ?? false }, () => {
      assert.equal(exitStatus, 0, `exit status ${String(exitStatus)} (SIGKILL means it did not exit within 10 s)`);
    });

    for (const kind of PEER_KINDS) {
      for (const relation of RELATIONS) {
        test(`${kind} ${relation}: Cease/Administrative Shutdown received`, { skip: caseSkip(kind), timeout: 40_000 }, async (t) => {
          const p = labOrThrow().peer(kind, relation);
          await withLogs(kind, relation, async () => {
            for (const s of p.driver.spec.sessions) {
              const { before, after } = await reports.get(s.name)!;
              t.diagnostic(`${s.label}: ${after}`);
              // The report must be new: not already there before the SIGTERM.
              assert.notEqual(shutdownProblem(kind, before), undefined, `${s.label} already reported a shutdown before SIGTERM: ${before}`);
            }
          });
        });
      }
    }
  });
});
