// SPDX-License-Identifier: Apache-2.0
// Child of channel-batch.test.ts, run inside its network namespace: installs 2500 routes through
// NetlinkChannel (10 datagrams of up to 256 requests, acks on each one's last request only, sent
// from the threadpool in two sends of 8 and 2 datagrams) with four that the kernel must refuse, and
// prints the results as JSON.
import { NetlinkChannel } from '../../../src/kernel-sync/channel.ts';
import { RTN, RTPROT, RT_SCOPE } from '../../../src/kernel-sync/rtnetlink/index.ts';
import type { RouteMessage } from '../../../src/kernel-sync/rtnetlink/index.ts';

const oif = Number(process.argv[2]);
// Inside the first datagram; the second datagram's last; inside the second send; the very last.
const bad = new Set([5, 511, 2100, 2499]);
const route = (i: number): RouteMessage => ({
  type: 'route', family: 2, dstLength: 32, srcLength: 0, tos: 0, table: 254, protocol: RTPROT.BIRD, scope: RT_SCOPE.UNIVERSE,
  routeType: RTN.UNICAST, flags: 0, dst: new Uint8Array([10, 99, i >> 8, i & 255]),
  // A gateway off every connected subnet: the kernel answers ENETUNREACH.
  gateway: bad.has(i) ? new Uint8Array([192, 0, 2, 1]) : new Uint8Array([10, 200, 0, 2]), oif, unknown: [],
});
const channel = new NetlinkChannel();
const results = await channel.routes(Array.from({ length: 2500 }, (_, i) => ({ op: 'replace' as const, route: route(i) })));
channel.close();
process.stdout.write(JSON.stringify(results.map((r) => (r.ok ? 'ok' : `errno ${r.errno}`))));
