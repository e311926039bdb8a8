// SPDX-License-Identifier: Apache-2.0
// Child of echo-filter.test.ts, run inside its network namespace: two monitor sockets watch IPv4
// routes, one told to ignore the request socket's notifications. 50 routes go in through
// NetlinkChannel and one more through `ip route add` (another process). Prints, per monitor, the
// destinations of the RTM_NEWROUTE notifications it read.
import { execFileSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { NetlinkChannel } from '../../../src/kernel-sync/channel.ts';
import { NetlinkSocket } from '../../../src/native/netlink.ts';
import { RTMGRP, RTN, RTPROT, RT_SCOPE, decodeNetlink } from '../../../src/kernel-sync/rtnetlink/index.ts';
import type { RouteMessage } from '../../../src/kernel-sync/rtnetlink/index.ts';

const oif = Number(process.argv[2]);
const seen = { filtered: [] as string[], unfiltered: [] as string[] };
const watch = (into: string[]) => NetlinkSocket.open(0, RTMGRP.IPV4_ROUTE, {
  onEvent: (e) => {
    if (e.kind !== 'datagram') return;
    for (const ev of decodeNetlink(e.data)) {
      if (ev.kind === 'new' && ev.message.type === 'route' && ev.message.dst) into.push(`${[...ev.message.dst].join('.')}/${ev.message.dstLength}`);
    }
  },
});
const channel = new NetlinkChannel();
const filtered = watch(seen.filtered);
filtered.ignoreSender(channel.portId);
const unfiltered = watch(seen.unfiltered);

const route = (i: number): RouteMessage => ({
  type: 'route', family: 2, dstLength: 32, srcLength: 0, tos: 0, table: 254, protocol: RTPROT.BIRD, scope: RT_SCOPE.UNIVERSE,
  routeType: RTN.UNICAST, flags: 0, dst: new Uint8Array([10, 99, 0, i]), gateway: new Uint8Array([10, 200, 0, 2]), oif, unknown: [],
});
const results = await channel.routes(Array.from({ length: 50 }, (_, i) => ({ op: 'replace' as const, route: route(i) })));
execFileSync('ip', ['route', 'add', '10.98.0.1/32', 'via', '10.200.0.2', 'proto', 'bird']);
// Bounded wait for the notifications already queued in the sockets.
for (let i = 0; i < 40 && seen.unfiltered.length < 51; i++) await sleep(25);
await sleep(50);
channel.close();
filtered.close();
unfiltered.close();
process.stdout.write(JSON.stringify({ ok: results.filter((r) => r.ok).length, channelPortId: channel.portId, ...seen }));
