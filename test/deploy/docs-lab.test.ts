// SPDX-License-Identifier: Apache-2.0
// "A person following docs/ alone can run Tern as a route reflector for a BIRD-based lab": the
// docs are the test's script. Every config in docs/*.md is checked as the reader would check it
// (Tern configs with parseConfig, as `tern check`; BIRD configs with `bird -p -c`), the Calico
// resources in route-reflector.md are checked against the reflector config on the same page, and
// (as root, with Debian's bird2) the ```sh lab blocks of getting-started.md and
// route-reflector.md are run as written, in order, with bash -euo pipefail, then the outcome is
// checked through each daemon's own CLI. Only two things are rewritten: the lab's names
// (ternqs/ternlab, in namespaces and /tmp paths) get this process's id, so runs never collide,
// and `node bin/tern.js` runs the interop lab's Tern build (dist/ or a fresh private build).
// ```sh lab-cleanup blocks always run at the end, and whatever is left is removed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { parseConfig } from '../../src/config/index.ts';
import { run, runSyncQuiet, type RunResult } from '../../interop/lib/proc.ts';
import { waitFor } from '../../interop/lib/wait.ts';
import { ternEntry } from '../../interop/lib/tern.ts';

const DOCS = fileURLToPath(new URL('../../docs/', import.meta.url));
const REPO = fileURLToPath(new URL('../../', import.meta.url));
const BIRD = '/usr/sbin/bird';
const BIRDC = '/usr/sbin/birdc';

interface Block {
  file: string;
  line: number;
  lang: string;
  tags: string[];
  body: string;
}

function blocks(file: string): Block[] {
  const text = readFileSync(join(DOCS, file), 'utf8');
  const out: Block[] = [];
  // Fences may be indented (inside a list item); the body loses that indentation.
  for (const m of text.matchAll(/^([ \t]*)```([^\n]*)\n([\s\S]*?)^\1```[ \t]*$/gm)) {
    const [lang = '', ...tags] = m[2]!.trim().split(/\s+/);
    const indent = m[1]!.length;
    const body = m[3]!.split('\n').map((l) => l.slice(Math.min(indent, l.length - l.trimStart().length))).join('\n');
    out.push({ file, line: text.slice(0, m.index).split('\n').length, lang, tags, body });
  }
  return out;
}

interface Heredoc {
  block: Block;
  target: string;
  append: boolean;
  body: string;
}

/** `cat > FILE <<'EOF' ... EOF` (and `>>`) inside shell blocks: the files a reader writes. */
function heredocs(block: Block): Heredoc[] {
  return [...block.body.matchAll(/cat (>>?) (\S+) <<'EOF'\n([\s\S]*?)^EOF$/gm)].map((m) => ({ block, target: m[2]!, append: m[1] === '>>', body: m[3]! }));
}

function docFiles(): string[] {
  return readdirSync(DOCS).filter((f) => f.endsWith('.md')).sort();
}

/** Every Tern config a reader meets: ```yaml blocks with a top-level routerId, and written .yaml files (appends applied). */
function ternConfigs(): { where: string; text: string }[] {
  const out: { where: string; text: string }[] = [];
  for (const file of docFiles()) {
    const files = new Map<string, string>();
    for (const b of blocks(file)) {
      if (b.lang === 'yaml') {
        const tree = parseYaml(b.body) as unknown;
        if (tree !== null && typeof tree === 'object' && 'routerId' in tree) out.push({ where: `${file}:${b.line}`, text: b.body });
      }
      for (const h of heredocs(b).filter((x) => x.target.endsWith('.yaml'))) {
        const text = (h.append ? (files.get(h.target) ?? '') : '') + h.body;
        files.set(h.target, text);
        out.push({ where: `${file}:${b.line} (${h.target})`, text });
      }
    }
  }
  return out;
}

test('docs: every Tern config in docs/*.md passes parseConfig (as `tern check`)', () => {
  const configs = ternConfigs();
  assert.ok(configs.length >= 6, `found ${configs.length}`);
  for (const { where, text } of configs) {
    assert.doesNotThrow(() => parseConfig(text, where), where);
  }
});

test('docs: every BIRD config written in docs/*.md passes `bird -p -c`', { skip: existsSync(BIRD) ? false : 'bird2 is not installed (apt-get install bird2)' }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'tern-docs-bird-'));
  try {
    const confs = docFiles().flatMap((f) => blocks(f).flatMap(heredocs)).filter((h) => h.target.endsWith('.conf'));
    assert.ok(confs.length >= 2, `found ${confs.length}`);
    for (const h of confs) {
      const file = join(dir, 'bird.conf');
      writeFileSync(file, h.body);
      const r = spawnSync(BIRD, ['-p', '-c', file], { encoding: 'utf8' });
      assert.equal(r.status, 0, `${h.block.file}:${h.block.line} ${h.target}: ${r.stderr}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('route-reflector.md: the Calico resources, the reflector config and the lab\'s BIRD agree', () => {
  const bs = blocks('route-reflector.md');
  const yamls = bs.filter((b) => b.lang === 'yaml').map((b) => parseYaml(b.body) as Record<string, unknown>);
  const rr = parseConfig(bs.find((b) => b.lang === 'yaml' && b.body.includes('routerId'))!.body, 'route-reflector.md');
  const kind = (k: string) => yamls.filter((y) => y.kind === k) as { spec: Record<string, unknown> }[];
  const [peer] = kind('BGPPeer');
  assert.ok(peer, 'a BGPPeer');
  assert.equal(peer.spec.peerIP, rr.routerId);
  assert.equal(peer.spec.asNumber, rr.asn);
  assert.equal(peer.spec.node, undefined, 'a global peer (every node)');
  assert.equal(peer.spec.nodeSelector, undefined, 'a global peer (every node)');
  const [bgpConfig] = kind('BGPConfiguration');
  assert.equal(bgpConfig?.spec.nodeToNodeMeshEnabled, false);
  assert.equal(bgpConfig?.spec.asNumber, rr.asn);
  for (const p of rr.peers) {
    assert.equal(p.asn, rr.asn, `${p.name}: iBGP`);
    assert.equal(p.routeReflectorClient, true, `${p.name}: RR client`);
  }
  // The lab's node config peers with the reflector the way Calico names a global peer.
  const node1 = bs.flatMap(heredocs).find((h) => h.target.endsWith('node1.conf'))!;
  assert.match(node1.body, new RegExp(`protocol bgp Global_${rr.routerId.replace(/\./g, '_')} `));
  assert.match(node1.body, new RegExp(`neighbor ${rr.routerId.replace(/\./g, '\\.')} as ${rr.asn};`));
});

// ---------------------------------------------------------------------------------------------
// Running the labs (root).

const labSkip = process.getuid?.() !== 0
  ? 'needs root (network namespaces)'
  : !existsSync(BIRD) || !existsSync(BIRDC)
    ? 'bird2 is not installed (scripts/install-peers.sh or apt-get install bird2)'
    : runSyncQuiet('sh', ['-c', 'command -v curl']).trim() === ''
      ? 'curl is not installed'
      : false;

interface Lab {
  /** Output of each `sh lab` block, in order. */
  outputs: RunResult[];
  /** Runs Tern's CLI against the lab's control socket; JSON output parsed. */
  tern<T>(args: string[], socket: string): Promise<T>;
  rename(text: string): string;
}

function namespacesWith(prefix: string): string[] {
  return runSyncQuiet('ip', ['netns', 'list']).split('\n').map((l) => l.split(' ')[0] ?? '').filter((n) => n.startsWith(prefix));
}

/** Runs a page's lab blocks as written (names renamed), then `check`; always cleans up. */
async function runLab(file: string, names: Record<string, string>, check: (lab: Lab) => Promise<void>): Promise<void> {
  const entry = await ternEntry();
  const rename = (text: string) => Object.entries(names).reduce((t, [from, to]) => t.replaceAll(from, to), text);
  const script = (b: Block) => rename(b.body).replaceAll('node bin/tern.js', `node ${entry}`);
  const all = blocks(file).filter((b) => b.lang === 'sh');
  const labBlocks = all.filter((b) => b.tags.includes('lab'));
  const cleanup = all.filter((b) => b.tags.includes('lab-cleanup'));
  assert.ok(labBlocks.length >= 4 && cleanup.length === 1, `${file}: lab and lab-cleanup blocks`);
  const outputs: RunResult[] = [];
  const transcript: string[] = [];
  try {
    for (const b of labBlocks) {
      const r = await run('bash', ['-euo', 'pipefail', '-c', `cd ${JSON.stringify(REPO)}\n${script(b)}`], { check: false, timeoutMs: 90_000 });
      transcript.push(`--- ${file}:${b.line} exit ${r.code}\n${r.stdout}${r.stderr}`);
      assert.equal(r.code, 0, `${file}:${b.line} failed:\n${transcript.join('\n')}`);
      outputs.push(r);
    }
    const tern = async <T>(args: string[], socket: string): Promise<T> =>
      JSON.parse((await run(process.execPath, [entry, ...args, '--json', '--socket', rename(socket)], { timeoutMs: 15_000 })).stdout) as T;
    await check({ outputs, tern, rename });
    // DOCS_LAB_TRANSCRIPT=1 prints what the commands printed, to refresh the pages' sample output.
    if (process.env.DOCS_LAB_TRANSCRIPT === '1') process.stderr.write(transcript.join('\n') + '\n');
  } catch (err) {
    const logDir = rename(file === 'getting-started.md' ? '/tmp/ternqs' : '/tmp/ternlab');
    const log = existsSync(join(logDir, 'tern.log')) ? readFileSync(join(logDir, 'tern.log'), 'utf8').split('\n').slice(-30).join('\n') : '';
    if (err instanceof Error) err.message += `\n${transcript.join('\n')}\n--- tern.log\n${log}`;
    throw err;
  } finally {
    for (const b of cleanup) await run('bash', ['-c', script(b)], { check: false, timeoutMs: 30_000 });
    for (const ns of Object.values(names).flatMap((n) => namespacesWith(`${n}-`))) {
      for (const pid of runSyncQuiet('ip', ['netns', 'pids', ns]).split('\n').map(Number).filter((p) => p > 1)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone
        }
      }
      runSyncQuiet('ip', ['netns', 'del', ns]);
    }
    for (const n of Object.values(names)) rmSync(join('/tmp', n), { recursive: true, force: true });
  }
}

interface PeerJson {
  name: string;
  state: string;
  messagesReceived: Record<string, number>;
}

const WAIT = { timeoutMs: 30_000, intervalMs: 500 };

test('getting-started.md: the Tern + BIRD 2 lab runs as written', { skip: labSkip, timeout: 240_000 }, async () => {
  const names = { ternqs: `tdq${process.pid}` };
  await runLab('getting-started.md', names, async ({ outputs, tern, rename }) => {
    const socket = '/tmp/ternqs/tern.ctl';
    const [bird] = await tern<PeerJson[]>(['show', 'peers'], socket);
    assert.equal(bird?.state, 'Established');
    assert.equal(bird.messagesReceived.OPEN, 1, 'the reload did not reset the session');
    const routes = await tern<{ prefix: string; peer: string | null }[]>(['show', 'routes'], socket);
    assert.ok(routes.some((r) => r.prefix === '10.101.0.0/24' && r.peer === 'bird'), JSON.stringify(routes));
    assert.ok(outputs.some((o) => /reloaded .*\n\s+originated routes changed/.test(o.stdout)), 'the reload reported the change');
    // BIRD has both of Tern's prefixes, learned over the session `tern`.
    await waitFor('BIRD to have 10.99.0.0/24 and 10.99.1.0/24 from Tern', async () => {
      const out = (await run(BIRDC, ['-s', rename('/tmp/ternqs/bird.ctl'), 'show', 'route', 'protocol', 'tern'])).stdout;
      for (const p of ['10.99.0.0/24', '10.99.1.0/24']) if (!out.includes(p)) throw new Error(out);
      return true;
    }, WAIT);
  });
});

test('route-reflector.md: the Tern route reflector with three BIRD "Calico nodes" runs as written', { skip: labSkip, timeout: 240_000 }, async () => {
  const names = { ternlab: `tdl${process.pid}` };
  await runLab('route-reflector.md', names, async ({ outputs, tern, rename }) => {
    const socket = '/tmp/ternlab/tern.ctl';
    const peers = await tern<PeerJson[]>(['show', 'peers'], socket);
    assert.deepEqual(peers.map((p) => [p.name, p.state]), [['node-1', 'Established'], ['node-2', 'Established'], ['node-3', 'Established']]);
    for (const p of peers) assert.equal(p.messagesReceived.OPEN, 1, `${p.name}: one session, never reset`);
    const reload = outputs.find((o) => /^reloaded /m.test(o.stdout));
    assert.match(reload?.stdout ?? '', /peers added: node-3/);
    assert.doesNotMatch(reload?.stdout ?? '', /peers reset|peers removed/);
    const explain = outputs.find((o) => o.stdout.includes('Advertised to:'))?.stdout ?? '';
    assert.match(explain, /node-1 \(Established\): yes, node-2\n\s+with: next hop 10\.0\.0\.12.*originator 10\.0\.0\.12, cluster list 10\.0\.0\.10/);
    // Every node's kernel has every other node's block via that node (reflected, never via the RR).
    const blockOf = (n: number) => `10.244.${n}.0/26`;
    for (const n of [1, 2, 3]) {
      await waitFor(`node ${n}'s kernel routes to the other nodes' blocks`, async () => {
        const out = (await run('ip', ['-n', rename(`ternlab-n${n}`), 'route', 'show', 'proto', 'bird'])).stdout;
        for (const m of [1, 2, 3].filter((x) => x !== n)) {
          if (!new RegExp(`^${blockOf(m).replace(/\./g, '\\.')} via 10\\.0\\.0\\.1${m} dev eth0`, 'm').test(out)) throw new Error(out);
        }
        return true;
      }, WAIT);
    }
    // BIRD's own view: from the reflector, with the RFC 4456 attributes.
    const bird = (await run(BIRDC, ['-s', rename('/tmp/ternlab/node1.ctl'), 'show', 'route', blockOf(3), 'all'])).stdout;
    assert.match(bird, /from 10\.0\.0\.10\]/);
    assert.match(bird, /BGP\.originator_id: 10\.0\.0\.13/);
    assert.match(bird, /BGP\.cluster_list: 10\.0\.0\.10/);
  });
});
