// SPDX-License-Identifier: Apache-2.0
// Shared by the update-group tests (export-class, class-out): a route reflector in AS 64512 with
// iBGP route-reflector clients c2, c3, ... at 10.0.1.N (router id = address), IPv4 unicast only.
import type { CodecContext, Family } from '../../src/bgp/messages/types.ts';
import type { PeerRef } from '../../src/rib/types.ts';
import { dottedToU32, ipv4ToBytes } from '../../src/util/ip.ts';

export const ASN = 64512;
export const ROUTER_ID = dottedToU32('10.0.0.1')!;
export const SELF = { ipv4: ipv4ToBytes('10.0.0.1') };
export const CTX: CodecContext = {
  as4: true,
  maxMessageSize: 4096,
  addPathReceive: new Set<Family>(),
  addPathSend: new Set<Family>(),
  extendedNextHopIpv4: false,
  peerType: 'ibgp',
  families: new Set<Family>(['ipv4-unicast']),
};

export function client(i: number): PeerRef {
  const address = `10.0.1.${i}`;
  return { id: i, name: `c${i}`, asn: ASN, type: 'ibgp', address: ipv4ToBytes(address)!, addressText: address, rrClient: true, routerId: dottedToU32(address)! };
}
