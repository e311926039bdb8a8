// SPDX-License-Identifier: Apache-2.0
// The validated, defaulted shape of Tern's config file, and the error that carries every problem
// found in one. This module only declares shapes; parsing and checking live in parse.ts/check.ts.
import type { Family } from '../bgp/messages/types.ts';
import type { PolicyRef, PolicySpec } from '../policy/spec.ts';

export type { PolicyRef, PolicySpec } from '../policy/spec.ts';

export interface TernConfig {
  routerId: string;
  /** routerId as the unsigned 32-bit BGP Identifier (RFC 4271 §4.2). */
  routerIdNum: number;
  asn: number;
  listen: { addresses: string[]; port: number; enabled: boolean };
  control: { socket: string };
  peers: PeerConfig[];
  originate: OriginateConfig[];
  logLevel: LogLevel;
  /** RFC 4456 settings; always present (clusterId defaults to routerIdNum). */
  routeReflector: { clusterId: number };
  /** RFC 4724 settings for this router: selection deferral after our restart, seconds. */
  gracefulRestart: { deferralTime: number };
  /** Named policies, validated (see src/policy/spec.ts); peers refer to them by name. */
  policies: Record<string, PolicySpec>;
  /** Kernel route sync; absent when the file has no `kernel` section. */
  kernel?: KernelConfig;
  /** The HTTP endpoint (/metrics, /healthz, /readyz); absent when the file has no `metrics` section. */
  metrics?: { listen: string };
  /** BMP (RFC 7854) monitoring stations; absent when the file has none. */
  bmp?: BmpConfig[];
  /** BIRD-compatible control sockets (src/calico/birdctl); absent when the file has none. */
  birdSockets?: { ipv4?: string; ipv6?: string };
  /** The file the config came from, as given to parseConfig/loadConfig. */
  source: string;
}

/** One BMP monitoring station Tern connects to. */
export interface BmpConfig {
  name: string;
  address: string;
  port: number;
  /** Seconds between Statistics Reports; 0 = none. */
  statisticsInterval: number;
}

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error';
export type AddPathMode = 'rx' | 'tx' | 'both';

export interface PeerConfig {
  name: string;
  /** Canonical text: dotted quad, or RFC 5952 IPv6 with an optional %zone. */
  address: string;
  asn: number;
  passive: boolean;
  holdTime: number;
  /** Unset means "holdTime / 3", decided by the session. */
  keepalive?: number;
  connectRetry: number;
  families: Family[];
  localAddress?: string;
  port: number;
  /** Our AS on this session when it is not `asn` (Calico's localASNumber). */
  localAsn?: number;
  /** RFC 2385 TCP MD5 key. */
  password?: string;
  /** RFC 5082 GTSM hop count; 0 = off. */
  ttlSecurity: number;
  // ----- extensions -----
  description?: string;
  /** Present when single-hop BFD (RFC 5880/5881) runs to the peer; intervals in ms. */
  bfd?: BfdConfig;
  /** RFC 9687 send hold time override, seconds. */
  sendHoldTime?: number;
  addPaths?: AddPathMode;
  /** Present when Graceful Restart (RFC 4724) is to be advertised. */
  gracefulRestart?: { restartTime: number };
  // ----- RIB and policy -----
  /** RFC 4456: an iBGP peer that is our route-reflector client. Always false for eBGP. */
  routeReflectorClient: boolean;
  nextHop: NextHopMode;
  /** Always set: the default is `all` for iBGP and `none` for eBGP (RFC 8212). */
  import: PolicyRef;
  export: PolicyRef;
  maxPrefixes?: MaxPrefixes;
  /** Seconds between UPDATE batches (RFC 4271 §9.2.1.1); 0 = no delay. */
  advertisementInterval: number;
  /** How many times our own AS may appear in a received AS path (0 = loop check as usual). */
  allowOwnAs: number;
}

export type NextHopMode = 'self' | 'keep' | 'auto';

/** RFC 5880 §6.8.1 timers of one BFD session, milliseconds. */
export interface BfdConfig {
  minRx: number;
  minTx: number;
  multiplier: number;
}

export interface MaxPrefixes {
  limit: number;
  action: 'warn' | 'restart';
  /** Seconds before reconnecting after a `restart`. */
  restartDelay: number;
}

export interface KernelConfig {
  learn: boolean;
  program: boolean;
  protocol: number;
  /** Table id (main = 254). */
  table: number;
  export: PolicyRef;
  ignoreInterfaces: string[];
  tunnel: { device: string; mode: 'always' | 'crossSubnet' | 'never' };
  persist: boolean;
  metric: number;
}

export interface OriginateConfig {
  /** Canonical CIDR text, host bits zero. */
  prefix: string;
  nextHop?: string;
  family: Family;
  /** Install as a blackhole in the kernel (with kernel.program). */
  blackhole?: boolean;
}

export interface ConfigProblem {
  /** Key path such as "peers[1].holdTime"; "" for problems with the file as a whole. */
  path: string;
  message: string;
  /** 1-based position in the file, when known. */
  line?: number;
  column?: number;
}

export class ConfigError extends Error {
  readonly file: string;
  readonly problems: ConfigProblem[];

  constructor(file: string, problems: ConfigProblem[]) {
    super(formatProblems(file, problems));
    this.name = 'ConfigError';
    this.file = file;
    this.problems = problems;
  }
}

/** One line per problem: "tern.yaml:12:5: peers[1].holdTime: must be ... (got 2)". */
export function formatConfigError(e: ConfigError): string {
  return formatProblems(e.file, e.problems);
}

function formatProblems(file: string, problems: readonly ConfigProblem[]): string {
  return problems
    .map((p) => {
      let where = file;
      if (p.line !== undefined) where += `:${p.line}`;
      if (p.line !== undefined && p.column !== undefined) where += `:${p.column}`;
      return p.path === '' ? `${where}: ${p.message}` : `${where}: ${p.path}: ${p.message}`;
    })
    .join('\n');
}
