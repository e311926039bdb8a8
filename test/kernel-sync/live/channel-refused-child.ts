// SPDX-License-Identifier: Apache-2.0
// Child of channel-batch.test.ts, run inside its network namespace: 6500 routes the kernel must
// all refuse, sent through NetlinkChannel in one call: four sends of up to 2048 requests, three of
// them unanswered at once, so every error answer of three sends is in the receive buffer together.
// Prints how many results were each errno (or ok) as JSON.
import { NetlinkChannel } from '../../../src/kernel-sync/channel.ts';
import { RTN, RTPROT, RT_SCOPE } from '../../../src/kernel-sync/rtnetlink/index.ts';
import type { RouteMessage } from '../../../src/kernel-sync/rtnetlink/index.ts';

const oif = Number(process.argv[2]);
const route = (i: number): RouteMessage => ({
  type: 'route', family: 2, dstLength: 32, srcLength: 0, tos: 0, table: 254, protocol: RTPROT.BIRD, scope: RT_SCOPE.UNIVERSE,
  routeType: RTN.UNICAST, flags: 0, dst: new Uint8Array([10, 98, i >> 8, i & 255]),
  // A gateway off every connected subnet: the kernel answers ENETUNREACH, with extended-ack text.
  gateway: new Uint8Array([192, 0, 2, 1]), oif, unknown: [],
});
const channel = new NetlinkChannel();
const results = await channel.routes(Array.from({ length: 6500 }, (_, i) => ({ op: 'replace' as const, route: route(i) })));
channel.close();
const counts: Record<string, number> = {};
for (const r of results) {
  const k = r.ok ? 'ok' : r.errno !== undefined ? `errno ${r.errno}` : (r.message ?? 'failed');
  counts[k] = (counts[k] ?? 0) + 1;
}
process.stdout.write(JSON.stringify({ results: results.length, counts }));
