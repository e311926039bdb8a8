// SPDX-License-Identifier: Apache-2.0
// The contract between the RIB and policies: what a policy sees of a route, and what it
// decides. Policies are compiled once from config (compile.ts) and evaluated per route
// (evaluate.ts); they never do I/O and never keep the route.
import type { Family, Nlri } from '../bgp/messages/types.ts';
import type { RouteAttributes } from '../bgp/messages/route-view.ts';
import type { PeerRef, RouteSource } from '../rib/types.ts';

export interface PolicyInput {
  readonly nlri: Nlri;
  readonly family: Family;
  /** The route's attributes as they are now (evaluate works on a copy). */
  readonly attrs: Readonly<RouteAttributes>;
  readonly source: RouteSource;
  /** Interface of a kernel/connected route (for `interface` matches). */
  readonly interface?: string;
  /** The peer the route was learned from (source 'bgp'). */
  readonly from?: PeerRef;
}

export interface PolicyContext {
  readonly direction: 'import' | 'export';
  /** The peer this policy is attached to (import: where the route came from; export: where it goes). */
  readonly peer: PeerRef;
  readonly localAsn: number;
}

export interface PolicyVerdict {
  accept: boolean;
  /** The attributes after the policy's actions: a private copy when an action changed them, else
   *  the input object itself. Either way read-only for the caller (copy before editing); the
   *  input is never modified. */
  attrs: Readonly<RouteAttributes>;
  /** An explicit next-hop request from an action: 'self', 'keep', or an address. */
  nextHop?: 'self' | 'keep' | Uint8Array;
  /** Extra prepends of the local AS requested by actions (export; applied by the reflector's rewrite). */
  prepend: number;
  /** Which rule decided, for `tern explain` and logs: e.g. "calico-export term 2: reject". */
  decidedBy: string;
  /** Kernel export: install with this metric (BIRD's krt_metric). */
  metric?: number;
  /** Kernel export: tunnel choice for this route (BIRD's krt_tunnel). */
  tunnel?: 'always' | 'crossSubnet' | 'never';
}

export interface CompiledPolicy {
  readonly name: string;
  evaluate(input: PolicyInput, ctx: PolicyContext): PolicyVerdict;
  /** The verdict depends on nothing but the attributes, source and peers (never the prefix):
   *  exporters may reuse a verdict for every route with the same attributes. */
  readonly prefixIndependent?: boolean;
}
