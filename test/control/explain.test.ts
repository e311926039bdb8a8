// SPDX-License-Identifier: Apache-2.0
// `tern explain` against a running daemon with scripted peers on loopback: every path with its
// import verdict, the winner and why, and per peer whether the prefix is advertised — named peers
// and the export policy term that rejects it for one and accepts it for the other.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/index.ts';
import { Daemon } from '../../src/daemon.ts';
import { createLogger } from '../../src/observability/log.ts';
import { controlRequest } from '../../src/control/client.ts';
import { formatExplain, registerExplainSection, type ExplainResult } from '../../src/control/explain.ts';
import type { RouteView } from '../../src/control/views.ts';
import { ScriptedPeer, basicAttributes } from '../helpers/scripted-peer.ts';
import { dottedToU32, ipv4ToBytes } from '../../src/util/ip.ts';

const PORT = 24179 + (process.pid % 500);

function yaml(dir: string): string {
  return `routerId: 127.0.0.1
asn: 65000
listen: { address: 127.0.0.1, port: ${PORT} }
control: { socket: ${join(dir, 'tern.ctl')} }
policies:
  deny-tens:
    - name: block-tens
      match: { prefixWithin: 10.0.0.0/8 }
      action: reject
    - action: accept
  tag-and-pass:
    - name: tag
      addCommunities: ["65000:7"]
      action: accept
peers:
  - { name: src, address: 127.0.0.2, asn: 65100, passive: true, import: all, export: none }
  - { name: yes, address: 127.0.0.3, asn: 65200, passive: true, import: all, export: tag-and-pass }
  - { name: no, address: 127.0.0.4, asn: 65300, passive: true, export: deny-tens }
`;
}

function scripted(asn: number, address: string): ScriptedPeer {
  return new ScriptedPeer({ asn, bgpId: dottedToU32(address)!, holdTime: 30, families: ['ipv4-unicast'] }, 'ebgp');
}

async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, ms = 8000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 30));
  }
}

test('explain: paths, import verdicts, the winner and why, and per-peer export with the policy term', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tern-explain-'));
  const file = join(dir, 'tern.yaml');
  writeFileSync(file, yaml(dir));
  const daemon = new Daemon(loadConfig(file), createLogger({ level: 'silent' }));
  const socket = join(dir, 'tern.ctl');
  const src = scripted(65100, '127.0.0.2');
  const yes = scripted(65200, '127.0.0.3');
  const no = scripted(65300, '127.0.0.4');
  try {
    await daemon.start();
    await src.establish('127.0.0.1', PORT, '127.0.0.2');
    await yes.establish('127.0.0.1', PORT, '127.0.0.3');
    await no.establish('127.0.0.1', PORT, '127.0.0.4');
    src.announce('ipv4-unicast', ['10.1.0.0/24', '192.168.9.0/24'], basicAttributes(ipv4ToBytes('127.0.0.2')!, { asPath: [{ type: 2, asns: [65100] }], communities: [(65100 << 16) | 1] }));
    // A longer path from `yes`: it loses on AS_PATH length.
    yes.announce('ipv4-unicast', ['10.1.0.0/24'], basicAttributes(ipv4ToBytes('127.0.0.3')!, { asPath: [{ type: 2, asns: [65200, 65201] }] }));
    // `no` has no import policy: eBGP default `none` (RFC 8212) rejects it.
    no.announce('ipv4-unicast', ['10.1.0.0/24'], basicAttributes(ipv4ToBytes('127.0.0.4')!, { asPath: [{ type: 2, asns: [65300] }] }));
    // Wait until `yes` got the prefix (export done) and `no` got the other one.
    await until('yes receives 10.1.0.0/24', () => (yes.routes.has('10.1.0.0/24') ? true : undefined));
    await until('no receives 192.168.9.0/24', () => (no.routes.has('192.168.9.0/24') ? true : undefined));
    await until('no path rejected', async () => {
      const adjIn = (await controlRequest(socket, 'show routes', { table: 'adj-in', peer: 'no' })) as RouteView[];
      return adjIn.length === 1 ? true : undefined;
    });

    const r = (await controlRequest(socket, 'explain', { prefix: '10.1.0.0/24' })) as ExplainResult;
    assert.equal(r.match, 'exact');
    assert.equal(r.prefix, '10.1.0.0/24');
    assert.equal(r.best, 'src');
    assert.deepEqual(r.ecmp, ['src']);
    const byId = new Map(r.paths.map((p) => [p.id, p]));
    assert.deepEqual([...byId.keys()].sort(), ['no', 'src', 'yes']);
    const best = byId.get('src')!;
    assert.equal(best.best, true);
    assert.deepEqual(best.import, { accepted: true, reason: null, decidedBy: 'all: accept' });
    assert.equal(best.received!.asPath, '65100');
    assert.deepEqual(best.attributes!.communities, ['65100:1']);
    assert.deepEqual(best.beats, [{ path: 'yes', reason: 'longer AS_PATH (2 > 1) — RFC 4271 §9.1.2.2 (a)', pairwiseWinner: true }]);
    assert.equal(byId.get('yes')!.lostBecause, 'longer AS_PATH (2 > 1) — RFC 4271 §9.1.2.2 (a)');
    const rejected = byId.get('no')!;
    assert.equal(rejected.import.accepted, false);
    assert.equal(rejected.import.reason, 'rejected by import policy (none: reject)');
    assert.equal(rejected.attributes, null);
    assert.equal(rejected.received!.asPath, '65300');

    const exp = new Map(r.exports.map((x) => [x.peer, x]));
    // The policy accepts for `yes`, with the attributes on the wire.
    const toYes = exp.get('yes')!;
    assert.equal(toYes.advertised, true);
    assert.equal(toYes.paths[0]!.decidedBy, 'tag-and-pass term 0 (tag): accept');
    assert.equal(toYes.paths[0]!.attributes!.nextHop, '127.0.0.1');
    assert.equal(toYes.paths[0]!.attributes!.asPath, '65000 65100');
    assert.deepEqual(toYes.paths[0]!.attributes!.communities, ['65100:1', '65000:7']);
    assert.equal(toYes.inSync, true, 'the Adj-RIB-Out holds what export computes');
    assert.equal(toYes.adjRibOut.length, 1);
    // ... and rejects for `no`, naming the term.
    const toNo = exp.get('no')!;
    assert.equal(toNo.advertised, false);
    assert.equal(toNo.paths[0]!.reason, 'rejected by export policy (deny-tens term 0 (block-tens): reject)');
    assert.deepEqual(toNo.adjRibOut, []);
    assert.equal(toNo.inSync, true);
    // Split horizon for the source.
    assert.match(exp.get('src')!.paths[0]!.reason!, /^split horizon: src is the peer the route came from/);
    assert.equal(r.sections.kernel!.summary, 'kernel sync not enabled (config: kernel.learn / kernel.program)');

    const text = formatExplain(r);
    assert.match(text, /^ {2}yes \(Established\): yes, src\n {6}with: next hop 127\.0\.0\.1, AS path 65000 65100, origin igp, communities 65100:1 65000:7 \(tag-and-pass term 0 \(tag\): accept\)$/m);
    assert.match(text, /^ {2}no \(Established\): no — rejected by export policy \(deny-tens term 0 \(block-tens\): reject\)$/m);
    assert.match(text, /^ {6}import: {7}REJECTED: rejected by import policy \(none: reject\)$/m);
    assert.match(text, /^Kernel:\n {2}kernel sync not enabled \(config: kernel.learn \/ kernel.program\)$/m);

    // --peer: only that peer's export.
    const onlyNo = (await controlRequest(socket, 'explain', { prefix: '10.1.0.0/24', peer: 'no' })) as ExplainResult;
    assert.deepEqual(onlyNo.exports.map((x) => x.peer), ['no']);

    // The other prefix is accepted by deny-tens term 1.
    const other = (await controlRequest(socket, 'explain', { prefix: '192.168.9.0/24', peer: 'no' })) as ExplainResult;
    assert.equal(other.exports[0]!.advertised, true);
    assert.equal(other.exports[0]!.paths[0]!.decidedBy, 'deny-tens term 1: accept');

    // Not in the Loc-RIB: the longest covering prefix, and it says so.
    const covering = (await controlRequest(socket, 'explain', { prefix: '10.1.0.77' })) as ExplainResult;
    assert.equal(covering.match, 'covering');
    assert.equal(covering.prefix, '10.1.0.0/24');
    assert.equal(covering.note, '10.1.0.77/32 is not in the Loc-RIB; explaining the longest covering prefix 10.1.0.0/24');
    const none = (await controlRequest(socket, 'explain', { prefix: '172.16.0.0/12' })) as ExplainResult;
    assert.equal(none.match, 'none');
    assert.deepEqual(none.paths, []);
    await assert.rejects(controlRequest(socket, 'explain', { prefix: '10.1/99' }), /bad prefix "10\.1\/99"/);
    await assert.rejects(controlRequest(socket, 'explain', { prefix: '10.1.0.0/24', peer: 'nobody' }), /no peer named "nobody"/);

    // A registered section replaces the placeholder, and sees the destination.
    const unregister = registerExplainSection('kernel', ({ destination, prefix }) => ({ summary: `installed ${prefix} (${destination?.paths.length} paths)`, lines: ['table 254'] }));
    try {
      const withKernel = (await controlRequest(socket, 'explain', { prefix: '10.1.0.0/24' })) as ExplainResult;
      assert.deepEqual(withKernel.sections.kernel, { summary: 'installed 10.1.0.0/24 (2 paths)', lines: ['table 254'] });
    } finally {
      unregister();
    }
  } finally {
    for (const p of [src, yes, no]) p.close();
    await daemon.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
