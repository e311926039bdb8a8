// SPDX-License-Identifier: Apache-2.0
// BMP export end to end on loopback (no root): two Tern daemons peer over eBGP, the first one
// exports to a tiny test collector (a net.Server that decodes what arrives). The collector sees
// Initiation, Peer Up with both OPENs, Route Monitoring for every route the peer sent, Statistics
// Reports, a resync after it drops the connection, Peer Down with the peer's NOTIFICATION, and
// Termination at stop. A second test overflows the queue on purpose: messages are dropped and
// counted, and the station is resynchronized.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../src/config/index.ts';
import { Daemon } from '../../src/daemon.ts';
import { createLogger } from '../../src/observability/log.ts';
import { BmpExporter } from '../../src/observability/bmp.ts';
import {
  BmpInitiationTlv,
  BmpMessageType,
  BmpPeerDownReason,
  BmpStatType,
  BmpTerminationTlv,
  bmpFrameLength,
  decodeBmpMessage,
  type BmpMessage,
} from '../../src/observability/bmp-codec.ts';
import { decodeUpdate, isEndOfRib } from '../../src/bgp/messages/update.ts';
import { decodeOpen } from '../../src/bgp/messages/open.ts';
import { decodeNotification } from '../../src/bgp/messages/notification.ts';
import { prefixToString } from '../../src/bgp/messages/nlri.ts';
import { CeaseSubcode, NotificationCode } from '../../src/bgp/messages/iana.ts';
import { DEFAULT_CONTEXT, type CodecContext, type Family } from '../../src/bgp/messages/types.ts';
import { freePort, waitFor } from './bmp-helpers.ts';

const HEADER = 19;
const RX_CTX: CodecContext = { ...DEFAULT_CONTEXT, as4: true, maxMessageSize: 65535, families: new Set<Family>(['ipv4-unicast', 'ipv6-unicast']), loopbackNextHop: true };
const B_ROUTES = ['10.244.2.0/26', '10.244.3.0/26', 'fd00:244:2::/64'];

interface Station {
  socket: Socket;
  messages: BmpMessage[];
  closed: boolean;
}

/** The tiny collector: accepts connections and decodes every BMP message, per connection. */
class TestCollector {
  readonly stations: Station[] = [];
  private readonly server: Server;

  constructor() {
    this.server = createServer((socket) => {
      const station: Station = { socket, messages: [], closed: false };
      this.stations.push(station);
      let buffered = new Uint8Array(0);
      socket.on('data', (chunk: Buffer) => {
        const next = new Uint8Array(buffered.length + chunk.length);
        next.set(buffered);
        next.set(chunk, buffered.length);
        buffered = next;
        for (let len = bmpFrameLength(buffered); len !== undefined; len = bmpFrameLength(buffered)) {
          station.messages.push(decodeBmpMessage(buffered.slice(0, len)));
          buffered = buffered.slice(len);
        }
      });
      socket.on('error', () => {});
      socket.on('close', () => (station.closed = true));
    });
  }

  listen(port: number): Promise<void> {
    return new Promise((resolve) => this.server.listen(port, '127.0.0.1', resolve));
  }

  get last(): Station | undefined {
    return this.stations.at(-1);
  }

  close(): Promise<void> {
    for (const s of this.stations) s.socket.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** Prefixes announced by a station's Route Monitoring messages, and the End-of-RIB families. */
function monitored(messages: BmpMessage[]): { prefixes: Set<string>; endOfRib: Set<Family> } {
  const prefixes = new Set<string>();
  const endOfRib = new Set<Family>();
  for (const m of messages) {
    if (!('update' in m)) continue;
    const { message } = decodeUpdate(m.update.subarray(HEADER), RX_CTX);
    const eor = isEndOfRib(message);
    if (eor) endOfRib.add(eor);
    for (const n of message.nlri) prefixes.add(prefixToString(n));
    for (const a of message.attributes) if (a.kind === 'mp-reach') for (const n of a.nlri) prefixes.add(prefixToString(n));
  }
  return { prefixes, endOfRib };
}

function daemonConfig(me: string, asn: number, them: string, theirAsn: number, port: number, dir: string, extra: object): string {
  return JSON.stringify({
    routerId: me,
    asn,
    listen: { address: me, port },
    control: { socket: join(dir, `${me}.ctl`) },
    peers: [{ name: `peer_${them.replaceAll('.', '_')}`, address: them, asn: theirAsn, port, localAddress: me, connectRetry: 1, holdTime: 9, families: ['ipv4-unicast', 'ipv6-unicast'], import: 'all', export: 'all', nextHop: 'keep' }],
    ...extra,
  });
}

const B_ORIGINATE = [{ prefix: '10.244.2.0/26', nextHop: '127.0.0.2' }, { prefix: '10.244.3.0/26', nextHop: '127.0.0.2' }, { prefix: 'fd00:244:2::/64', nextHop: 'fd00::2' }];

test('BMP: Initiation, Peer Up, Route Monitoring, Statistics, resync, Peer Down and Termination reach a collector', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tern-bmp-'));
  const log = createLogger({ level: process.env.TERN_TEST_LOG ?? 'silent' });
  const bgpPort = await freePort();
  const collectorPort = await freePort();
  const collector = new TestCollector();
  await collector.listen(collectorPort);
  const a = new Daemon(parseConfig(daemonConfig('127.0.0.1', 65001, '127.0.0.2', 65002, bgpPort, dir, { bmp: [{ address: '127.0.0.1', port: collectorPort, statisticsInterval: 1 }] }), 'a.json'), log);
  const b = new Daemon(parseConfig(daemonConfig('127.0.0.2', 65002, '127.0.0.1', 65001, bgpPort, dir, { originate: B_ORIGINATE }), 'b.json'), log);
  try {
    await a.start();
    await b.start();
    const first = await waitFor('a BMP connection', () => collector.last);
    await waitFor('route monitoring for every route of b', () => (B_ROUTES.every((p) => monitored(first.messages).prefixes.has(p)) ? true : undefined));

    // RFC 7854 §4.3: Initiation first, with sysDescr and sysName.
    const init = first.messages[0]!;
    assert.equal(init.type, BmpMessageType.Initiation);
    assert.ok('tlvs' in init);
    assert.deepEqual(init.tlvs.map((t) => t.type).sort(), [BmpInitiationTlv.SysDescr, BmpInitiationTlv.SysName]);

    const up = first.messages.find((m) => m.type === BmpMessageType.PeerUp);
    assert.ok(up && 'sentOpen' in up);
    assert.deepEqual(up.peer.address, new Uint8Array([127, 0, 0, 2]));
    assert.equal(up.peer.asn, 65002);
    assert.equal(up.peer.bgpId, 0x7f000002);
    assert.equal(up.peer.flags, 0, 'IPv4 peer (no V), 4-octet AS session (no A), pre-policy (no L)');
    assert.deepEqual(up.localAddress, new Uint8Array([127, 0, 0, 1]));
    assert.ok(up.localPort === bgpPort || up.remotePort === bgpPort, `one side of the session uses the BGP port ${bgpPort}: ${up.localPort}/${up.remotePort}`);
    const sent = decodeOpen(up.sentOpen.subarray(HEADER));
    const received = decodeOpen(up.receivedOpen.subarray(HEADER));
    assert.deepEqual([sent.myAs, sent.bgpId], [65001, 0x7f000001]);
    assert.deepEqual([received.myAs, received.bgpId], [65002, 0x7f000002]);
    // Route Monitoring carries the peer's per-peer header and comes after Peer Up.
    const firstRm = first.messages.findIndex((m) => m.type === BmpMessageType.RouteMonitoring);
    assert.ok(firstRm > first.messages.indexOf(up));
    const rm = first.messages[firstRm]!;
    assert.ok('peer' in rm);
    assert.equal(rm.peer.asn, 65002);

    // RFC 7854 §4.8: statistics every second; b sent three routes.
    const stats = await waitFor('a Statistics Report', () => first.messages.find((m) => m.type === BmpMessageType.StatisticsReport));
    assert.ok('stats' in stats);
    assert.deepEqual(stats.stats.find((s) => s.type === BmpStatType.AdjRibInRoutes), { type: BmpStatType.AdjRibInRoutes, kind: 'gauge', value: 3 });

    // The collector drops the connection: Tern reconnects and sends the state again (§5).
    first.socket.destroy();
    const second = await waitFor('a second BMP connection', () => (collector.stations.length >= 2 ? collector.stations[1] : undefined));
    await waitFor('resync: Peer Up, the Adj-RIB-In and End-of-RIB', () => {
      const m = monitored(second.messages);
      return B_ROUTES.every((p) => m.prefixes.has(p)) && m.endOfRib.size === 2 ? true : undefined;
    });
    assert.equal(second.messages[0]!.type, BmpMessageType.Initiation);
    assert.equal(second.messages[1]!.type, BmpMessageType.PeerUp);

    // b stops with Cease / Administrative Shutdown: a received it → reason 3 with the PDU.
    await b.stop('maintenance');
    const down = await waitFor('Peer Down', () => second.messages.find((m) => m.type === BmpMessageType.PeerDown));
    assert.ok('reason' in down);
    assert.equal(down.reason, BmpPeerDownReason.RemoteNotification);
    const notification = decodeNotification(down.data.subarray(HEADER));
    assert.deepEqual([notification.code, notification.subcode], [NotificationCode.Cease, CeaseSubcode.AdministrativeShutdown]);

    await a.stop();
    await waitFor('connection closed after Termination', () => (second.closed ? true : undefined));
    const last = second.messages.at(-1)!;
    assert.equal(last.type, BmpMessageType.Termination);
    assert.ok('tlvs' in last);
    assert.deepEqual(last.tlvs.find((t) => t.type === BmpTerminationTlv.Reason)?.value, new Uint8Array([0, 0]));
  } finally {
    await Promise.allSettled([a.stop(), b.stop()]);
    await collector.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('BMP: a full queue drops and counts messages, then the station is resynchronized', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tern-bmp-'));
  const log = createLogger({ level: process.env.TERN_TEST_LOG ?? 'silent' });
  const bgpPort = await freePort();
  const collectorPort = await freePort();
  const collector = new TestCollector();
  await collector.listen(collectorPort);
  const a = new Daemon(parseConfig(daemonConfig('127.0.0.1', 65001, '127.0.0.2', 65002, bgpPort, dir, {}), 'a.json'), log);
  const b = new Daemon(parseConfig(daemonConfig('127.0.0.2', 65002, '127.0.0.1', 65001, bgpPort, dir, { originate: B_ORIGINATE }), 'b.json'), log);
  // A bound of one byte: every live message overflows it.
  const exporter = new BmpExporter(a, [{ name: 'tiny', address: '127.0.0.1', port: collectorPort, statisticsInterval: 0 }], log, { queueLimitBytes: 1, backoff: { minMs: 50, maxMs: 200 } });
  try {
    await a.start();
    exporter.start();
    await waitFor('BMP connection', () => collector.last);
    await b.start();
    await waitFor('drops counted', () => (exporter.status()[0]!.dropped > 0 ? true : undefined));
    // The snapshot after a reconnect is not bound by the live limit: it carries everything.
    await waitFor('a resynchronized station with every route', () => {
      const s = collector.stations.at(-1)!;
      const m = monitored(s.messages);
      return collector.stations.length >= 2 && B_ROUTES.every((p) => m.prefixes.has(p)) && m.endOfRib.size === 2 ? true : undefined;
    });
    const status = exporter.status()[0]!;
    assert.ok(status.connects >= 2, `reconnected to resync (${status.connects} connects)`);
    assert.ok(status.dropped > 0);
  } finally {
    await exporter.stop();
    await Promise.allSettled([a.stop(), b.stop()]);
    await collector.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
