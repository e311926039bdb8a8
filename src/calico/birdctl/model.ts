// SPDX-License-Identifier: Apache-2.0
// What the BIRD-compatible control socket shows, as plain data: status, protocols (BIRD's
// kernel1/device1/direct1/static1 plus one per BGP peer) and routes, for one address family.
// snapshot.ts fills it from the daemon; format.ts turns it into BIRD 1.6's exact text. Keeping
// the two apart lets the golden tests render a state captured from real BIRD.

/** BIRD's protocol states (nest/protocol.h): `show protocols` column 4. */
export type ProtoState = 'down' | 'start' | 'up' | 'wait' | 'feed' | 'stop' | 'flush';

export type ProtoKind = 'BGP' | 'Kernel' | 'Device' | 'Direct' | 'Static';

/** BIRD's "Route change stats" table (nest/proto.c `proto_show_stats`). */
export interface RouteChangeStats {
  /** received, rejected, filtered, ignored, accepted */
  importUpdates: [number, number, number, number, number];
  /** received, rejected, ignored, accepted */
  importWithdraws: [number, number, number, number];
  /** received, rejected, filtered, accepted */
  exportUpdates: [number, number, number, number];
  /** received, accepted */
  exportWithdraws: [number, number];
}

export interface BgpDetail {
  /** BIRD's BGP state text: Idle, Connect, Active, OpenSent, OpenConfirm, Established, Passive, Down. */
  state: string;
  neighborAddress: string;
  neighborAs: number;
  /** The connect delay timer [left, total], while it runs (BIRD shows it; Tern does not expose it). */
  connectDelay?: [number, number];
  /** Only when Established. */
  session?: {
    neighborId: string;
    /** e.g. "refresh enhanced-refresh restart-able AS4 add-path-rx add-path-tx" */
    neighborCaps: string;
    /** e.g. "internal multihop AS4 add-path-rx add-path-tx" */
    session: string;
    sourceAddress: string;
    /** [seconds left, total] */
    holdTimer: [number, number];
    keepaliveTimer: [number, number];
  };
  /** "Socket: Connection refused", "Received: Hold timer expired", ... (not when Established). */
  lastError?: string;
}

export interface BirdProtocol {
  name: string;
  kind: ProtoKind;
  table: string;
  state: ProtoState;
  /** ms since epoch of the last protocol state change. */
  since: number;
  /** BGP: the state and last error; empty for the others. */
  info: string;
  description?: string;
  preference: number;
  inputFilter: string;
  outputFilter: string;
  /** "pending" / "waiting" while graceful restart recovery runs. */
  grRecovery?: string;
  routes: { imported: number; exported: number; preferred: number };
  stats: RouteChangeStats;
  bgp?: BgpDetail;
}

/** How a route forwards: BIRD's RTD_* destinations. */
export type RouteDest =
  | { kind: 'via'; gateway: string; iface: string }
  | { kind: 'dev'; iface: string }
  | { kind: 'blackhole' }
  | { kind: 'unreachable' }
  | { kind: 'prohibited' };

export interface BirdRoute {
  /** "192.168.2.0/26" */
  prefix: string;
  /** Network address bytes, for BIRD's table order. */
  address: Uint8Array;
  dest: RouteDest;
  /** Protocol name: a peer's name, kernel1, direct1, static1. */
  proto: string;
  /** ms since epoch of the route's last change. */
  since: number;
  /** The BGP neighbour it came from when that differs from the gateway (` from X`). */
  from?: string;
  /** The best route of its network (` *`). */
  primary: boolean;
  preference: number;
  /** `Type:` line of `show route all`, e.g. "BGP unicast univ". */
  type: string;
  bgp?: {
    /** undefined: next hop unresolvable (BIRD prints `/-`). */
    igpMetric?: number;
    /** Last AS of the AS_PATH (the originating AS), if any. */
    originAs?: number;
    /** "i", "e" or "?" */
    origin: string;
    /** `show route all` attribute lines, e.g. ["BGP.origin: IGP", "BGP.as_path: 65001"]. */
    attributes: string[];
  };
}

export interface BirdStatus {
  /** "v0.3.3+birdv1.6.8" for Calico's BIRD. */
  version: string;
  routerId: string;
  now: number;
  bootedAt: number;
  reconfiguredAt: number;
  /** While our own graceful restart recovery runs. */
  gracefulRestart?: { waitingFor: number; timerLeft: number; timerTotal: number };
}

export interface BirdSnapshot {
  family: 'ipv4' | 'ipv6';
  status: BirdStatus;
  protocols: BirdProtocol[];
  /** Every route of the family; a network's routes together, its best first. */
  routes: BirdRoute[];
}
