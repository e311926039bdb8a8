// SPDX-License-Identifier: Apache-2.0
// PeerRef / Path / attribute fixtures for the reflector tests. One AS (65000) with a route
// reflector at 10.0.0.254 (cluster id = router id), clients, non-clients and eBGP neighbours.
import type { RouteAttributes } from '../../src/bgp/messages/route-view.ts';
import { AsPathSegmentType } from '../../src/bgp/messages/iana.ts';
import type { Family } from '../../src/bgp/messages/types.ts';
import { attrsKey } from '../../src/rib/attrs.ts';
import type { Path, PeerRef, RouteSource } from '../../src/rib/types.ts';
import type { ReflectorConfig } from '../../src/reflector/index.ts';
import { dottedToU32, ipToBytes } from '../../src/util/ip.ts';

export const LOCAL_ASN = 65000;

export function id(dotted: string): number {
  const v = dottedToU32(dotted);
  if (v === undefined) throw new Error(`bad id ${dotted}`);
  return v;
}

export function ip(text: string): Uint8Array {
  const b = ipToBytes(text);
  if (b === undefined) throw new Error(`bad address ${text}`);
  return b;
}

export const CFG: ReflectorConfig = { localAsn: LOCAL_ASN, routerId: id('10.0.0.254'), clusterId: id('10.0.0.254') };

let nextPeerId = 1;

export interface PeerOptions {
  rrClient?: boolean;
  asn?: number;
  address?: string;
  routerId?: string;
}

/** An iBGP peer (AS 65000) or an eBGP one (AS 65100 unless given). */
export function peer(name: string, type: 'ibgp' | 'ebgp', o: PeerOptions = {}): PeerRef {
  const address = o.address ?? `192.0.2.${nextPeerId}`;
  return {
    id: nextPeerId++,
    name,
    asn: o.asn ?? (type === 'ibgp' ? LOCAL_ASN : 65100),
    type,
    address: ip(address),
    addressText: address,
    rrClient: o.rrClient ?? false,
    routerId: o.routerId !== undefined ? id(o.routerId) : 0,
  };
}

export function seq(...asns: number[]): { type: number; asns: number[] } {
  return { type: AsPathSegmentType.AsSequence, asns };
}

export function set(...asns: number[]): { type: number; asns: number[] } {
  return { type: AsPathSegmentType.AsSet, asns };
}

export function attrs(over: Partial<RouteAttributes> = {}): RouteAttributes {
  return {
    origin: 0,
    asPath: [],
    atomicAggregate: false,
    communities: [],
    largeCommunities: [],
    extendedCommunities: [],
    clusterList: [],
    unknown: [],
    ...over,
  };
}

/** A path as the RIB stores it: interned-looking (frozen, with key) attributes. */
export function path(source: RouteSource, from: PeerRef | undefined, a: RouteAttributes, family: Family = 'ipv4-unicast'): Path {
  const nlri = family === 'ipv4-unicast' ? { family, length: 24, address: Uint8Array.of(203, 0, 113) } : { family, length: 48, address: Uint8Array.of(0x20, 0x01, 0x0d, 0xb8, 0, 1) };
  return {
    destKey: `${family}:test`,
    nlri,
    source,
    ...(from !== undefined ? { peer: from } : {}),
    attrs: Object.freeze({ ...a, key: attrsKey(a) }),
    stale: false,
    receivedAt: 0,
  };
}
