// SPDX-License-Identifier: Apache-2.0
// Shared fixtures for the policy tests: policies are written in the real config language and go
// through parseConfig (so the tests cover validation too), routes are built from CIDR text.
import { AsPathSegmentType } from '../../src/bgp/messages/iana.ts';
import type { RouteAttributes } from '../../src/bgp/messages/route-view.ts';
import { parseConfig } from '../../src/config/index.ts';
import { compilePolicy } from '../../src/policy/compile.ts';
import type { PolicySpec } from '../../src/policy/spec.ts';
import type { CompiledPolicy, PolicyContext, PolicyInput } from '../../src/policy/types.ts';
import type { PeerRef } from '../../src/rib/types.ts';
import { ipToBytes } from '../../src/util/ip.ts';

export const LOCAL_AS = 64512;

function peer(name: string, asn: number, address: string): PeerRef {
  return { id: asn === LOCAL_AS ? 1 : 2, name, asn, type: asn === LOCAL_AS ? 'ibgp' : 'ebgp', address: ipToBytes(address)!, addressText: address, rrClient: false, routerId: 0 };
}

export const IBGP_PEER = peer('mesh', LOCAL_AS, '10.192.0.3');
export const EBGP_PEER = peer('tor', 65000, '10.192.0.1');

export const EXPORT_TO_IBGP: PolicyContext = { direction: 'export', peer: IBGP_PEER, localAsn: LOCAL_AS };
export const EXPORT_TO_EBGP: PolicyContext = { direction: 'export', peer: EBGP_PEER, localAsn: LOCAL_AS };

/** The named policies of a config holding `policiesYaml` (indented under `policies:`). */
export function policiesFrom(policiesYaml: string): Record<string, PolicySpec> {
  return parseConfig(`routerId: 10.192.0.2\nasn: ${LOCAL_AS}\npolicies:\n${policiesYaml}`, 'policy-test.yaml').policies;
}

/** One policy `p` from its terms, written as a YAML flow list or block at any indentation. */
export function policy(termsYaml: string, name = 'p'): CompiledPolicy {
  const spec = policiesFrom(`  ${name}: ${termsYaml}\n`)[name];
  if (!spec) throw new Error('no policy');
  return compilePolicy(name, spec);
}

export function attrs(over: Partial<RouteAttributes> = {}): RouteAttributes {
  return { asPath: [], atomicAggregate: false, communities: [], largeCommunities: [], extendedCommunities: [], clusterList: [], unknown: [], ...over };
}

export function seq(...asns: number[]) {
  return { type: AsPathSegmentType.AsSequence, asns };
}

/** A route for `cidr`; the NLRI holds ceil(length/8) address bytes, as on the wire. */
export function route(cidr: string, over: Partial<RouteAttributes> = {}, extra: Partial<PolicyInput> = {}): PolicyInput {
  const [addr = '', len = ''] = cidr.split('/');
  const bytes = ipToBytes(addr)!;
  const length = Number(len);
  const family = bytes.length === 4 ? 'ipv4-unicast' : 'ipv6-unicast';
  return {
    nlri: { family, length, address: bytes.slice(0, Math.ceil(length / 8)) },
    family,
    attrs: attrs({ nextHop: ipToBytes(family === 'ipv4-unicast' ? '10.192.0.9' : 'fd00::9')!, ...over }),
    source: 'bgp',
    from: EBGP_PEER,
    ...extra,
  };
}

/** A kernel/connected route on `iface`, as the kernel-sync module hands it over. */
export function ifaceRoute(cidr: string, iface: string, source: 'kernel' | 'connected' = 'kernel'): PolicyInput {
  const r = route(cidr, {}, { source, interface: iface });
  const { from: _from, ...rest } = r;
  return rest;
}

/** "65000:100" → the 32-bit community. */
export function comm(text: string): number {
  const [a, b] = text.split(':').map(Number);
  return ((a! << 16) | b!) >>> 0;
}

/** Recursively freeze a value (typed arrays cannot be frozen; they are compared instead). */
export function deepFreeze<T>(v: T): T {
  if (v && typeof v === 'object' && !ArrayBuffer.isView(v)) {
    for (const x of Object.values(v)) deepFreeze(x);
    Object.freeze(v);
  }
  return v;
}
