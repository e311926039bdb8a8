// SPDX-License-Identifier: Apache-2.0
// Shapes shared by the interop lab's drivers: what a BGP session between the DUT (Tern, or the
// stand-in) and a peer daemon looks like, and the normalised views every driver returns from
// its own CLI. Drivers translate their daemon's output into these; the test only sees these.

export type Family = 'ipv4-unicast' | 'ipv6-unicast';
/** ipv4: IPv4 transport, IPv4 unicast; ipv6: IPv6 transport, IPv6 unicast; dual: IPv4 transport, both. */
export type SessionKind = 'ipv4' | 'ipv6' | 'dual';
export type PeerKind = 'bird2' | 'bird1' | 'gobgp' | 'frr';
export type Relation = 'ibgp' | 'ebgp';

export const SESSION_KINDS: readonly SessionKind[] = ['ipv4', 'ipv6', 'dual'];
export const PEER_KINDS: readonly PeerKind[] = ['bird2', 'bird1', 'gobgp', 'frr'];
export const RELATIONS: readonly Relation[] = ['ibgp', 'ebgp'];

export function familiesOf(kind: SessionKind): Family[] {
  if (kind === 'ipv4') return ['ipv4-unicast'];
  if (kind === 'ipv6') return ['ipv6-unicast'];
  return ['ipv4-unicast', 'ipv6-unicast'];
}

/** One BGP session as seen from the peer daemon's side. */
export interface SessionSpec {
  /** The DUT's name for this peer, e.g. "frr-ebgp-dual"; unique in the lab. */
  name: string;
  /** The peer daemon's own protocol/neighbor label, e.g. "tern_dual"; unique per peer daemon. */
  label: string;
  kind: SessionKind;
  families: Family[];
  /** Peer-side transport address (and next hop for its IPv4 routes). */
  localAddress: string;
  /** DUT-side transport address. */
  remoteAddress: string;
  localAsn: number;
  remoteAsn: number;
  // Scenario options (interop/scenarios.test.ts). All absent in the session lab, whose configs
  // they leave unchanged.
  /** RFC 4456: the remote side is our route-reflector client. */
  rrClient?: boolean;
  /** RFC 7911 ADD-PATH to negotiate on this session. */
  addPaths?: AddPaths;
  /** RFC 4724 Graceful Restart on this session (restart time GR_RESTART_TIME). */
  gracefulRestart?: boolean;
  /** Leave next hops alone (no `next hop self`): for reflection and mesh checks of originators. */
  keepNextHop?: boolean;
  // Security and fault options (security/faults/bfd tests); absent elsewhere.
  /** RFC 2385 TCP MD5 key. */
  password?: string;
  /** RFC 5082 GTSM: the DUT is this many hops away. */
  ttlSecurity?: number;
  /** Run BFD (RFC 5880/5881) on this session. */
  bfd?: boolean;
  /** Hold time, seconds (default the lab's 9). */
  holdTime?: number;
}

export type AddPaths = 'rx' | 'tx' | 'both';

/** Restart time every lab speaker advertises when graceful restart is on (RFC 4724 §3), seconds. */
export const GR_RESTART_TIME = 60;

export interface PeerSpec {
  kind: PeerKind;
  relation: Relation;
  namespace: string;
  routerId: string;
  asn: number;
  /** The peer's IPv6 address: transport of its ipv6 session and next hop of its IPv6 routes. */
  ipv6Address: string;
  sessions: SessionSpec[];
  /** Prefixes the peer originates (static routes), per family. */
  prefixes: Record<Family, string[]>;
  /** Private directory for config, sockets, pid and log files. */
  workDir: string;
  /** RFC 4456 cluster id when this speaker reflects (scenarios only). */
  clusterId?: string;
}

/** A route as reported by a CLI, reduced to what the lab checks. */
export interface RouteInfo {
  prefix: string;
  /** Global next hop (a link-local second next hop is ignored). */
  nextHop: string;
  asPath: number[];
}

/** One received path with the attributes the scenarios check, from the speaker's own CLI. */
export interface RouteDetail extends RouteInfo {
  /** Address of the neighbor it was learned from. */
  from: string;
  /** RFC 4456 ORIGINATOR_ID, dotted quad, or undefined when absent. */
  originatorId: string | undefined;
  /** RFC 4456 CLUSTER_LIST, dotted quads, most recent first. */
  clusterList: string[];
  /** RFC 4724: retained from a restarting neighbor (as far as the CLI tells). */
  stale: boolean;
}

export interface SessionStatus {
  established: boolean;
  /** The daemon's own word for the state ("Established", "Active", "6", ...). */
  state: string;
  /** Last error / reset reason text as the daemon words it ("" if none). */
  lastError: string;
}

/** A peer daemon driven through its own configuration and CLI. */
export interface PeerDriver {
  readonly spec: PeerSpec;
  /** Version string reported by the binary, for the report. */
  version(): Promise<string>;
  /** `recovery`: start as a graceful restart (BIRD `-R`: R and F bits set, RFC 4724 §3). */
  start(opts?: { recovery?: boolean }): Promise<void>;
  /** Stops the daemon: SIGTERM by default, SIGKILL for a crash-like restart. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  session(label: string): Promise<SessionStatus>;
  /** Routes received on one session for one family, from the peer's CLI. */
  routes(label: string, family: Family): Promise<RouteInfo[]>;
  /** Every path the speaker received over BGP for one family (all sessions), with details. */
  routeDetails(family: Family): Promise<RouteDetail[]>;
  /** What the peer's CLI says about the last NOTIFICATION received on this session. */
  notificationReport(label: string): Promise<string>;
  /** Log files worth printing when a case fails. */
  logs(): string[];
}

/** One peer as configured on the DUT side. */
export interface DutPeer {
  name: string;
  address: string;
  asn: number;
  families: Family[];
  localAddress: string;
  // Scenario options (absent in the session lab).
  rrClient?: boolean;
  addPaths?: AddPaths;
  gracefulRestart?: boolean;
}

export interface DutSpec {
  namespace: string;
  routerId: string;
  asn: number;
  listen: string[];
  peers: DutPeer[];
  originate: { prefix: string; nextHop?: string }[];
  /** The DUT's IPv6 address (IPv6 next hop when the transport is IPv4). */
  ipv6Address: string;
  workDir: string;
  /** RFC 4456 cluster id: the DUT reflects for its `rrClient` peers. */
  clusterId?: string;
}

/** The device under test: Tern, or a BIRD 2 stand-in used to prove the lab itself. */
export interface DutDriver {
  readonly description: string;
  start(): Promise<void>;
  /**
   * Graceful stop (SIGTERM): the DUT must send Cease/Administrative Shutdown to every peer and
   * exit. Resolves with the exit code, or "SIGKILL" when it had to be killed.
   */
  stop(): Promise<number | string | null>;
  peer(name: string): Promise<SessionStatus>;
  routes(peer: string, family: Family): Promise<RouteInfo[]>;
  logs(): string[];
}
