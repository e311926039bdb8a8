// SPDX-License-Identifier: Apache-2.0
// MRT dumps from a running daemon (loopback, no root). Scripted peers send routes with every
// attribute Tern keeps, several ADD-PATH paths per prefix and IPv6 with a link-local next hop;
// `dump rib` (control socket and `tern dump rib`) read back with the TABLE_DUMP_V2 reader gives
// exactly the Loc-RIB of `show routes` (every prefix, path and attribute), bgpdump agrees, and
// `dump updates start|stop` records each UPDATE received as a BGP4MP message record.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../src/config/index.ts';
import { Daemon } from '../../src/daemon.ts';
import { createLogger } from '../../src/observability/log.ts';
import { controlRequest } from '../../src/control/client.ts';
import type { PeerView, RouteView } from '../../src/control/views.ts';
import { main } from '../../src/cli.ts';
import { attributesForAnnounce, type RouteAttributes } from '../../src/bgp/messages/route-view.ts';
import { buildUpdates, decodeUpdate } from '../../src/bgp/messages/update.ts';
import { parsePrefix, prefixToString } from '../../src/bgp/messages/nlri.ts';
import { AddPathDirection } from '../../src/bgp/messages/capabilities.ts';
import { AttrFlag, AsPathSegmentType } from '../../src/bgp/messages/iana.ts';
import type { Family, Nlri } from '../../src/bgp/messages/types.ts';
import { bytesToIp, dottedToU32, ipToBytes } from '../../src/util/ip.ts';
import { Bgp4mpSubtype, mrtRibAttributes, readMrtMessages, readMrtTableDump } from '../../src/util/mrt.ts';
import { ScriptedPeer, basicAttributes } from '../helpers/scripted-peer.ts';
import { bgpdumpLines, bgpdumpSkip, routeFields, runBgpdump } from './mrt-format.ts';
import { freePort, waitFor } from './bmp-helpers.ts';

const ip = (s: string): Uint8Array => ipToBytes(s)!;
const BOTH: Family[] = ['ipv4-unicast', 'ipv6-unicast'];

function send(peer: ScriptedPeer, family: Family, prefixes: Nlri[], attrs: RouteAttributes): void {
  for (const frame of buildUpdates({ withdrawn: [], attributes: attributesForAnnounce(attrs, family, prefixes, peer.ctx), nlri: prefixes }, peer.ctx)) peer.sendRaw(frame);
}

const withId = (prefix: string, pathId: number): Nlri => ({ ...parsePrefix(prefix)!, pathId });

const RICH: RouteAttributes = basicAttributes(ip('127.0.0.2'), {
  origin: 1,
  asPath: [{ type: AsPathSegmentType.AsSequence, asns: [65100, 4_200_000_000] }, { type: AsPathSegmentType.AsSet, asns: [65101, 65102] }],
  med: 50,
  localPref: 300,
  atomicAggregate: true,
  aggregator: { asn: 65100, address: ip('192.0.2.9') },
  communities: [(65000 << 16) | 1, (65000 << 16) | 2],
  largeCommunities: [[65000, 7, 8]],
  extendedCommunities: [new Uint8Array([0, 2, 0xfd, 0xe8, 0, 0, 0, 9])],
  originatorId: dottedToU32('10.9.9.9')!,
  clusterList: [dottedToU32('10.8.8.8')!],
  unknown: [{ code: 99, kind: 'unknown', flags: AttrFlag.Optional | AttrFlag.Transitive, value: new Uint8Array([1, 2, 3]) }],
});

test('dump rib gives the Loc-RIB of show routes; dump updates records every UPDATE received', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tern-mrt-'));
  const log = createLogger({ level: process.env.TERN_TEST_LOG ?? 'silent' });
  const port = await freePort();
  const socket = join(dir, 'tern.ctl');
  const config = {
    routerId: '127.0.0.1',
    asn: 65000,
    listen: { address: '127.0.0.1', port },
    control: { socket },
    peers: [
      { name: 'ibgp', address: '127.0.0.2', asn: 65000, passive: true, families: BOTH, addPaths: 'rx', import: 'all', export: 'all' },
      { name: 'ebgp', address: '127.0.0.3', asn: 65001, passive: true, families: BOTH, import: 'all', export: 'all' },
    ],
    originate: [{ prefix: '10.99.0.0/24' }],
  };
  const daemon = new Daemon(parseConfig(JSON.stringify(config), 'mrt.json'), log);
  const ibgp = new ScriptedPeer({ asn: 65000, bgpId: dottedToU32('127.0.0.2')!, holdTime: 90, families: BOTH, addPath: BOTH.map((family) => ({ family, sendReceive: AddPathDirection.Send })) }, 'ibgp');
  const ebgp = new ScriptedPeer({ asn: 65001, bgpId: dottedToU32('127.0.0.3')!, holdTime: 90, families: BOTH }, 'ebgp');
  try {
    await daemon.start();
    await ibgp.establish('127.0.0.1', port, '127.0.0.2');
    await ebgp.establish('127.0.0.1', port, '127.0.0.3');
    // Two paths of 10.1.0.0/24 over ADD-PATH, one more from the eBGP peer (no path id).
    send(ibgp, 'ipv4-unicast', [withId('10.1.0.0/24', 1)], RICH);
    send(ibgp, 'ipv4-unicast', [withId('10.1.0.0/24', 2)], { ...RICH, med: 10, communities: [] });
    send(ibgp, 'ipv6-unicast', [withId('fd00:1::/48', 7)], basicAttributes(ip('2001:db8::2'), { linkLocalNextHop: ip('fe80::2'), localPref: 100 }));
    send(ebgp, 'ipv4-unicast', [parsePrefix('10.1.0.0/24')!, parsePrefix('10.2.0.0/16')!], basicAttributes(ip('127.0.0.3'), { asPath: [{ type: AsPathSegmentType.AsSequence, asns: [65001, 4_200_000_001] }], communities: [(65001 << 16) | 5] }));

    const loc = await waitFor('six paths in the Loc-RIB', async () => {
      const routes = (await controlRequest(socket, 'show routes')) as RouteView[];
      return routes.length === 6 ? routes : undefined;
    });

    // The control command and the CLI (which makes the path absolute) write the same RIB.
    const file = join(dir, 'rib.mrt');
    const summary = (await controlRequest(socket, 'dump rib', { file })) as Record<string, number>;
    assert.deepEqual([summary.prefixes, summary.paths, summary.records, summary.peers], [4, 6, 5, 3], 'the prefix with id-less and ADD-PATH paths takes two records');
    assert.equal(await main(['dump', 'rib', join(dir, 'cli.mrt'), '--socket', socket]), 0);

    const peers = (await controlRequest(socket, 'show peers')) as PeerView[];
    for (const name of ['rib.mrt', 'cli.mrt']) {
      const dump = readMrtTableDump(new Uint8Array(readFileSync(join(dir, name))));
      const fromDump = dump.ribs.flatMap((rib) =>
        rib.entries.map((e) => {
          const peer = rib.peerIndexTable.peers[e.peerIndex]!;
          const peerName = e.peerIndex === 0 ? null : (peers.find((p) => p.address === bytesToIp(peer.address))?.name ?? '?');
          return { prefix: prefixToString(rib.nlri), pathId: e.pathId ?? null, peer: peerName, ...routeFields(mrtRibAttributes(e.attributes, rib.nlri)) };
        }),
      );
      const fromShow = loc.map((r) => ({
        prefix: r.prefix,
        pathId: r.pathId,
        peer: r.peer,
        nextHop: r.nextHop,
        linkLocalNextHop: r.linkLocalNextHop,
        asPathText: r.asPathText,
        origin: r.origin,
        localPref: r.localPref,
        med: r.med,
        communities: r.communities,
        largeCommunities: r.largeCommunities,
        extendedCommunities: r.extendedCommunities,
        originatorId: r.originatorId,
        clusterList: r.clusterList,
        atomicAggregate: r.atomicAggregate,
        aggregator: r.aggregator,
      }));
      const key = (x: { prefix: string; peer: string | null; pathId: number | null }) => `${x.prefix} ${x.peer} ${x.pathId}`;
      assert.deepEqual(fromDump.sort((x, y) => key(x).localeCompare(key(y))), fromShow.sort((x, y) => key(x).localeCompare(key(y))));
      // The peer index table: this router first, then the peers with their BGP IDs.
      assert.deepEqual(dump.peerIndexTable!.peers.map((p) => [bytesToIp(p.address), p.asn, p.bgpId]).sort(), [
        ['0.0.0.0', 65000, dottedToU32('127.0.0.1')],
        ['127.0.0.2', 65000, dottedToU32('127.0.0.2')],
        ['127.0.0.3', 65001, dottedToU32('127.0.0.3')],
      ].sort());
      if (!bgpdumpSkip()) assert.deepEqual(runBgpdump(join(dir, name)), bgpdumpLines(dump));
    }

    // dump updates: every UPDATE from now on, as received.
    const updates = join(dir, 'updates.mrt');
    assert.equal(await main(['dump', 'updates', 'start', updates, '--socket', socket]), 0);
    await assert.rejects(controlRequest(socket, 'dump updates start', { file: updates }), /already running/);
    send(ibgp, 'ipv4-unicast', [withId('10.3.0.0/24', 5)], RICH);
    ebgp.withdraw(['10.2.0.0/16']);
    await waitFor('the new route and the withdrawal', async () => {
      const routes = (await controlRequest(socket, 'show routes')) as RouteView[];
      return routes.some((r) => r.prefix === '10.3.0.0/24') && !routes.some((r) => r.prefix === '10.2.0.0/16') ? true : undefined;
    });
    const stopped = (await controlRequest(socket, 'dump updates stop')) as Record<string, number>;
    assert.deepEqual([stopped.records, stopped.dropped], [2, 0]);
    await assert.rejects(controlRequest(socket, 'dump updates stop'), /no update dump is running/);
    await assert.rejects(controlRequest(socket, 'dump rib', { file: 'relative.mrt' }), /absolute path/);

    // Two sessions: the records may be in either order.
    const messages = readMrtMessages(new Uint8Array(readFileSync(updates))).messages.sort((x, y) => bytesToIp(x.peerAddress).localeCompare(bytesToIp(y.peerAddress)));
    assert.deepEqual(
      messages.map((m) => [m.subtype, m.peerAs, m.localAs, bytesToIp(m.peerAddress), bytesToIp(m.localAddress)]),
      [
        [Bgp4mpSubtype.MessageAs4AddPath, 65000, 65000, '127.0.0.2', '127.0.0.1'],
        [Bgp4mpSubtype.MessageAs4, 65001, 65000, '127.0.0.3', '127.0.0.1'],
      ],
    );
    const first = decodeUpdate(messages[0]!.message.subarray(19), { ...ibgp.ctx, addPathReceive: new Set(BOTH) }).message;
    assert.deepEqual(first.nlri, [withId('10.3.0.0/24', 5)]);
    const second = decodeUpdate(messages[1]!.message.subarray(19), ebgp.ctx).message;
    assert.deepEqual(second.withdrawn.map(prefixToString), ['10.2.0.0/16']);
    if (!bgpdumpSkip()) {
      const lines = runBgpdump(updates);
      assert.equal(lines.length, 2);
      assert.ok(lines.some((l) => /^BGP4MP\|\d+\|W\|127\.0\.0\.3\|65001\|10\.2\.0\.0\/16$/.test(l)), lines.join('\n'));
    }
  } finally {
    ibgp.close();
    ebgp.close();
    await daemon.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
