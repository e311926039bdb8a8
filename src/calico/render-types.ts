// SPDX-License-Identifier: Apache-2.0
// Public shape of `tern calico render` output (exact field names are a public
// contract). Unset values are null.

export type NextHopMode = 'self' | 'keep' | 'auto';

export interface RenderPeer {
  name: string;
  address: string;
  port: number | null;
  asn: number;
  localAsn: number | null;
  sourceAddress: string | null;
  passive: boolean;
  routeReflectorClient: boolean;
  clusterId: string | null;
  password: string | null;
  ttlSecurity: number | null;
  gracefulRestartTime: number | null;
  keepaliveTime: number | null;
  nextHop: NextHopMode;
  allowLocalAs: number | null;
  addPaths: string | null;
  families: string[];
}

export type RenderOriginate = { prefix: string; blackhole: true } | { prefix: string; via: string };

export interface RenderOutput {
  routerId: string;
  asn: number;
  listen: { address: string | null; port: number | null };
  peers: RenderPeer[];
  originate: RenderOriginate[];
}

export interface CompileResult {
  config: Record<string, unknown>;
  render: RenderOutput;
  warnings: string[];
}
