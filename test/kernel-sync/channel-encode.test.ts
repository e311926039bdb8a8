// SPDX-License-Identifier: Apache-2.0
// NetlinkChannel.routes with a request the wire format cannot carry (a 3-byte IPv4 gateway): the
// call resolves with a failed result for each request of that send, naming the reason, and the
// channel goes on (the send slot is given back). Nothing reaches the kernel: no namespace needed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NetlinkChannel } from '../../src/kernel-sync/channel.ts';
import { RTN, RTPROT, RT_SCOPE, type RouteMessage } from '../../src/kernel-sync/rtnetlink/index.ts';

const bad: RouteMessage = {
  type: 'route', family: 2, dstLength: 32, srcLength: 0, tos: 0, table: 254, protocol: RTPROT.BIRD, scope: RT_SCOPE.UNIVERSE,
  routeType: RTN.UNICAST, flags: 0, dst: new Uint8Array([192, 0, 2, 1]), gateway: new Uint8Array([10, 0, 0]), oif: 1, unknown: [],
};

test('a route that cannot be encoded fails its send\'s requests, and the channel goes on', async () => {
  const channel = new NetlinkChannel();
  try {
    // More calls than send slots: each failed send must give its slot back, or the last would wait for good.
    for (let i = 0; i < 5; i++) {
      const results = await channel.routes([{ op: 'replace', route: bad }, { op: 'replace', route: bad }]);
      assert.equal(results.length, 2);
      for (const r of results) {
        assert.equal(r.ok, false);
        assert.match(r.message ?? '', /netlink request not encoded: gateway is 3 bytes/);
      }
    }
    assert.deepEqual(await channel.routes([]), []);
  } finally {
    channel.close();
  }
});
