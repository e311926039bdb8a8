// SPDX-License-Identifier: Apache-2.0
// The FRR interop driver waits, before its sessions may come up, until zebra has sent bgpd the
// namespace's interface addresses; it reads the count from `show zebra client` (FRR 8.4 output,
// captured from zebra in a namespace with lo and one veth).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addressAddsTo } from '../../interop/lib/peers/frr.ts';

const SHOWN = `Client: bgp
------------------------ 
FD: 23 
Connect Time: 00:00:02 
Not registered for Nexthop Updates

Type        Add         Update      Del 
================================================== 
IPv4        0           0           0           
VRF         1           0           0           
Connected   4           0           0           
Interface   0           0           0           
Intf Addr   6           0           0           
Errors: 0


Client: vnc
------------------------ 
FD: 28 

Type        Add         Update      Del 
================================================== 
Connected   1           0           0           
Intf Addr   2           0           0           
`;

test('addressAddsTo reads the "Intf Addr" Add count of the named client only', () => {
  assert.equal(addressAddsTo('bgp', SHOWN), 6);
  assert.equal(addressAddsTo('vnc', SHOWN), 2);
});

test('addressAddsTo: a client that has not connected yet has no count', () => {
  assert.equal(addressAddsTo('bgp', ''), undefined);
  assert.equal(addressAddsTo('bgp', SHOWN.slice(SHOWN.indexOf('Client: vnc'))), undefined);
  assert.equal(addressAddsTo('bg', SHOWN), undefined);
});
