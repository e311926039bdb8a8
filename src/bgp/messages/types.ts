// SPDX-License-Identifier: Apache-2.0
// The decoded shapes of every BGP message Tern speaks, and the codec context negotiated from
// the OPEN exchange. Addresses and prefixes stay as wire bytes; text forms live at the edges.
import type { AttributeProblem, Rfc7606Action } from './errors.ts';

// ===== Address families =====
export type Family = 'ipv4-unicast' | 'ipv6-unicast';
export const FAMILIES: readonly Family[] = ['ipv4-unicast', 'ipv6-unicast'];

export function familyOf(afi: number, safi: number): Family | undefined {
  if (safi !== 1) return undefined;
  return afi === 1 ? 'ipv4-unicast' : afi === 2 ? 'ipv6-unicast' : undefined;
}

export function afiSafiOf(family: Family): { afi: number; safi: number } {
  return family === 'ipv4-unicast' ? { afi: 1, safi: 1 } : { afi: 2, safi: 1 };
}

// ===== NLRI =====
/**
 * One prefix as it travels (RFC 4271 §4.3, RFC 4760 §5): `length` bits of `address`, where
 * `address` holds exactly ceil(length/8) bytes as they were on the wire (trailing bits kept, so
 * re-encoding is byte-identical). `pathId` is present only where ADD-PATH (RFC 7911) was
 * negotiated for that direction and family.
 */
export interface Nlri {
  family: Family;
  length: number;
  address: Uint8Array;
  pathId?: number;
}

// ===== OPEN and capabilities =====
export interface AfiSafi {
  afi: number;
  safi: number;
}

export type Capability =
  | { kind: 'multiprotocol'; code: 1; afi: number; safi: number } // RFC 4760 §8
  | { kind: 'route-refresh'; code: 2 | 128 } // RFC 2918; 128 = pre-standard (receive only)
  | { kind: 'extended-nexthop'; code: 5; entries: { afi: number; safi: number; nextHopAfi: number }[] } // RFC 8950 §3
  | { kind: 'extended-message'; code: 6 } // RFC 8654 §3
  | {
      kind: 'graceful-restart';
      code: 64;
      restarting: boolean; // R bit
      notification: boolean; // N bit, RFC 8538
      restartTime: number; // 12 bits, seconds
      families: { afi: number; safi: number; forwardingState: boolean }[];
    } // RFC 4724 §3
  | { kind: 'as4'; code: 65; asn: number } // RFC 6793 §3
  | { kind: 'add-path'; code: 69; families: { afi: number; safi: number; sendReceive: number }[] } // RFC 7911 §4; 1 receive, 2 send, 3 both
  | { kind: 'enhanced-route-refresh'; code: 70 } // RFC 7313 §3
  | { kind: 'unknown'; code: number; value: Uint8Array }; // kept and shown, never acted on

export interface OpenMessage {
  type: 'open';
  version: number;
  /** The 2-octet My Autonomous System field (AS_TRANS when the real AS needs 4 octets). */
  myAs: number;
  holdTime: number;
  /** BGP Identifier as an unsigned 32-bit number. */
  bgpId: number;
  capabilities: Capability[];
  /** Optional parameters other than capabilities (RFC 5492 §4), kept raw. */
  otherParameters: { type: number; value: Uint8Array }[];
  /** True when the peer used the RFC 9072 extended optional-parameters length. */
  extendedParameters?: boolean;
}

// ===== UPDATE and path attributes =====
export interface AsPathSegment {
  /** AsPathSegmentType: 1 AS_SET, 2 AS_SEQUENCE, 3 AS_CONFED_SEQUENCE, 4 AS_CONFED_SET. */
  type: number;
  asns: number[];
}

/** A large community (RFC 8092 §3): global administrator, local data part 1, part 2. */
export type LargeCommunity = [number, number, number];

interface AttrBase {
  /** The flag octet as received (or as Tern will send it). */
  flags: number;
}

export type PathAttribute =
  | (AttrBase & { code: 1; kind: 'origin'; origin: number })
  | (AttrBase & { code: 2; kind: 'as-path'; segments: AsPathSegment[]; /** 4-octet ASNs on the wire */ fourOctet: boolean })
  | (AttrBase & { code: 3; kind: 'next-hop'; nextHop: Uint8Array })
  | (AttrBase & { code: 4; kind: 'med'; med: number })
  | (AttrBase & { code: 5; kind: 'local-pref'; localPref: number })
  | (AttrBase & { code: 6; kind: 'atomic-aggregate' })
  | (AttrBase & { code: 7; kind: 'aggregator'; asn: number; address: Uint8Array; fourOctet: boolean })
  | (AttrBase & { code: 8; kind: 'communities'; communities: number[] })
  | (AttrBase & { code: 9; kind: 'originator-id'; originatorId: number })
  | (AttrBase & { code: 10; kind: 'cluster-list'; clusterIds: number[] })
  | (AttrBase & {
      code: 14;
      kind: 'mp-reach';
      afi: number;
      safi: number;
      /** The whole next-hop field: 4, 16 or 32 bytes for the families Tern speaks. */
      nextHop: Uint8Array;
      /** Reserved octet as received (RFC 4760 §3: send 0, ignore on receipt). */
      reserved: number;
      /** Decoded NLRI for families Tern speaks; empty otherwise. */
      nlri: Nlri[];
      /** Raw NLRI bytes for families Tern does not speak (RFC 4760 §7: not an error). */
      rawNlri?: Uint8Array;
    })
  | (AttrBase & { code: 15; kind: 'mp-unreach'; afi: number; safi: number; withdrawn: Nlri[]; rawWithdrawn?: Uint8Array })
  | (AttrBase & { code: 16; kind: 'extended-communities'; /** 8 bytes each */ communities: Uint8Array[] })
  | (AttrBase & { code: 17; kind: 'as4-path'; segments: AsPathSegment[] })
  | (AttrBase & { code: 18; kind: 'as4-aggregator'; asn: number; address: Uint8Array })
  | (AttrBase & { code: 32; kind: 'large-communities'; communities: LargeCommunity[] })
  | (AttrBase & { code: number; kind: 'unknown'; value: Uint8Array });

export interface UpdateMessage {
  type: 'update';
  /** IPv4 unicast withdrawals from the Withdrawn Routes field. */
  withdrawn: Nlri[];
  /** Path attributes in wire order (so re-encoding is byte-identical). */
  attributes: PathAttribute[];
  /** IPv4 unicast NLRI from the NLRI field. */
  nlri: Nlri[];
}

/** What decodeUpdate returns: the message plus RFC 7606 verdict (never 'session-reset': that throws). */
export interface DecodedUpdate {
  message: UpdateMessage;
  /** The strongest RFC 7606 action found; 'none' for a clean UPDATE. */
  action: Rfc7606Action;
  problems: AttributeProblem[];
}

// ===== NOTIFICATION, KEEPALIVE, ROUTE-REFRESH =====
export interface NotificationMessage {
  type: 'notification';
  code: number;
  subcode: number;
  data: Uint8Array;
}

export interface KeepaliveMessage {
  type: 'keepalive';
}

export interface RouteRefreshMessage {
  type: 'route-refresh';
  afi: number;
  safi: number;
  /** RFC 7313 §3: 0 normal, 1 BoRR, 2 EoRR (other values are ignored by receivers). */
  subtype: number;
}

export type BgpMessage = OpenMessage | UpdateMessage | NotificationMessage | KeepaliveMessage | RouteRefreshMessage;

// ===== Negotiated codec context =====
/**
 * Everything the codec needs to know about one session, derived once from the OPEN exchange
 * (never boolean arguments at call sites). Before OPENs are exchanged use DEFAULT_CONTEXT.
 */
export interface CodecContext {
  /** Both sides advertised the 4-octet AS capability (RFC 6793): AS_PATH carries 4-octet ASNs. */
  as4: boolean;
  /** Largest message either way: 4096, or 65535 when both sides advertised RFC 8654. */
  maxMessageSize: number;
  /** Families where received NLRI carry path ids (we advertised receive, peer advertised send). */
  addPathReceive: ReadonlySet<Family>;
  /** Families where NLRI we send carry path ids (we advertised send, peer advertised receive). */
  addPathSend: ReadonlySet<Family>;
  /** RFC 8950: IPv4 unicast NLRI may travel in MP_REACH with an IPv6 next hop. */
  extendedNextHopIpv4: boolean;
  /** Internal (same AS) or external peer; RFC 7606 actions differ for some attributes. */
  peerType: 'ibgp' | 'ebgp';
  /** Families negotiated (both sides advertised MP for it, or IPv4 unicast when neither sent MP). */
  families: ReadonlySet<Family>;
  /** The session runs over loopback (127/8, ::1), so a loopback NEXT_HOP is not a martian. */
  loopbackNextHop?: boolean;
}

export const DEFAULT_CONTEXT: CodecContext = Object.freeze({
  as4: false,
  maxMessageSize: 4096,
  addPathReceive: new Set<Family>(),
  addPathSend: new Set<Family>(),
  extendedNextHopIpv4: false,
  peerType: 'ebgp',
  families: new Set<Family>(['ipv4-unicast']),
});
