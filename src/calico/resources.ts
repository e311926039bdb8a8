// SPDX-License-Identifier: Apache-2.0
// Calico resource snapshot: the contract between the datastore (which fetches
// raw Kubernetes-style objects) and the compiler (which turns them into a Tern
// config). This module only declares the shapes and re-exports the entry
// points; it does not talk to any API server and does not validate objects.

/** A raw Kubernetes-style object (projectcalico.org/v3 shape after normalisation). */
export interface KObj {
  apiVersion?: string;
  kind?: string;
  metadata?: {
    name?: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    [k: string]: unknown;
  };
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
  /** Secrets: base64 values. */
  data?: Record<string, string>;
  /** Secrets: plain values (as accepted by `kubectl apply`). */
  stringData?: Record<string, string>;
  /** EndpointSlices keep their payload at the top level. */
  endpoints?: unknown[];
  ports?: unknown[];
  addressType?: string;
  [k: string]: unknown;
}

/**
 * Everything confd watches for one node. Calico kinds are in projectcalico.org/v3
 * shape (crd.projectcalico.org/v1 objects normalised); `nodes` holds Calico Node
 * objects (spec.bgp, spec.addresses...) — Kubernetes Node objects with
 * `projectcalico.org/*` annotations are normalised to that shape by
 * `normaliseObject`.
 */
export interface CalicoSnapshot {
  bgpConfigurations: KObj[];
  bgpPeers: KObj[];
  bgpFilters: KObj[];
  ipPools: KObj[];
  nodes: KObj[];
  blockAffinities: KObj[];
  secrets: KObj[];
  services: KObj[];
  endpointSlices: KObj[];
  /**
   * Optional: workload endpoint status files (calico-node's /var/run/calico/endpoint-status/*),
   * for BGPPeers with localWorkloadSelector. Absent means none.
   */
  endpointStatuses?: EndpointStatus[];
}

/** One workload endpoint status file (felix writes them; confd reads ifaceName, nets and bgpPeerName). */
export interface EndpointStatus {
  ifaceName?: string;
  ipv4Nets?: string[];
  ipv6Nets?: string[];
  bgpPeerName?: string;
}

/** The calico-node environment the compiler reads. */
export interface CalicoEnv {
  NODENAME: string;
  /** "hash" (router id from a hash of NODENAME) or a dotted quad. */
  CALICO_ROUTER_ID?: string;
  [k: string]: string | undefined;
}

export function emptySnapshot(): CalicoSnapshot {
  return {
    bgpConfigurations: [], bgpPeers: [], bgpFilters: [], ipPools: [], nodes: [],
    blockAffinities: [], secrets: [], services: [], endpointSlices: [],
  };
}

export { compileNode } from './compile.ts';
export type { CompileResult, RenderOutput, RenderPeer, RenderOriginate } from './render-types.ts';
export { loadResourceFiles, parseResourceText, normaliseObject, addObject, removeObject } from './load.ts';
