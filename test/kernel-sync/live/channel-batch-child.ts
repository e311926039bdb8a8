// SPDX-License-Identifier: Apache-2.0
// Child of channel-batch.test.ts, run inside its network namespace: installs 300 routes through
// NetlinkChannel (two batches, acks on each batch's last request only) with two that the kernel
// must refuse, and prints the results as JSON.
import { NetlinkChannel } from '../../../src/kernel-sync/channel.ts';
import { RTN, RTPROT, RT_SCOPE } from '../../../src/kernel-sync/rtnetlink/index.ts';
import type { RouteMessage } from '../../../src/kernel-sync/rtnetlink/index.ts';

const oif = Number(process.argv[2]);
const bad = new Set([5, 299]); // one inside the first batch, one that is the second batch's last
const route = (i: number): RouteMessage => ({
  type: 'route', family: 2, dstLength: 32, srcLength: 0, tos: 0, table: 254, protocol: RTPROT.BIRD, scope: RT_SCOPE.UNIVERSE,
  routeType: RTN.UNICAST, flags: 0, dst: new Uint8Array([10, 99, i >> 8, i & 255]),
  // A gateway off every connected subnet: the kernel answers ENETUNREACH.
  gateway: bad.has(i) ? new Uint8Array([192, 0, 2, 1]) : new Uint8Array([10, 200, 0, 2]), oif, unknown: [],
});
const channel = new NetlinkChannel();
const results = await channel.routes(Array.from({ length: 300 }, (_, i) => ({ op: 'replace' as const, route: route(i) })));
channel.close();
process.stdout.write(JSON.stringify(results.map((r) => (r.ok ? 'ok' : `errno ${r.errno}`))));
