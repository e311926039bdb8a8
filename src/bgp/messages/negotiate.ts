// SPDX-License-Identifier: Apache-2.0
// OPEN negotiation: the RFC 4271 §6.2 checks on a received OPEN, what the two OPENs together
// mean for the session (hold time, families, ADD-PATH directions, 4-octet AS, extended
// messages) as one CodecContext, and building our own OPEN. Pure functions: no timers, no
// sockets; the session layer decides when to call them and sends the NOTIFICATION thrown.
import { AddPathDirection } from './capabilities.ts';
import { BgpNotificationError } from './errors.ts';
import { AS_TRANS, Afi, BGP_VERSION, CapabilityCode, MAX_EXTENDED_MESSAGE_LENGTH, MAX_MESSAGE_LENGTH, Safi } from './iana.ts';
import type { Capability, CodecContext, Family, OpenMessage } from './types.ts';
import { FAMILIES, afiSafiOf, familyOf } from './types.ts';

const MIN_HOLD_TIME = 3; // RFC 4271 §4.2: "MUST be either zero or at least three seconds"
const MAX_TWO_OCTET_ASN = 0xffff;

type CapabilityOf<K extends Capability['kind']> = Extract<Capability, { kind: K }>;

function findCapability<K extends Capability['kind']>(open: OpenMessage, kind: K): CapabilityOf<K> | undefined {
  return open.capabilities.find((c): c is CapabilityOf<K> => c.kind === kind);
}

function hasCapabilityCode(open: OpenMessage, code: number): boolean {
  return open.capabilities.some((c) => c.code === code);
}

// ===== Validation of a received OPEN =====

export interface OpenExpectations {
  localAsn: number;
  peerAsn: number;
  localBgpId: number;
}

/** The peer's real AS: the 4-octet AS capability's value if present (RFC 6793 §4.1), else My AS. */
export function peerAsnOf(open: OpenMessage): number {
  return findCapability(open, 'as4')?.asn ?? open.myAs;
}

/** RFC 4271 §6.2 checks on a received OPEN; throws the OPEN Message Error to send. */
export function validateOpen(open: OpenMessage, exp: OpenExpectations): void {
  // RFC 4271 §6.2: "If the version number in the Version field of the received OPEN message
  // is not supported, then the Error Subcode MUST be set to Unsupported Version Number."
  if (open.version !== BGP_VERSION) throw BgpNotificationError.unsupportedVersion(open.version);
  const peerAsn = peerAsnOf(open);
  // RFC 7607 §2: "A BGP speaker MUST NOT originate or propagate a route with an AS number of
  // zero ... If a BGP speaker receives zero as the peer AS in an OPEN message, it MUST abort the
  // connection and send a NOTIFICATION with Error Code "OPEN Message Error" and subcode "Bad Peer AS"".
  if (open.myAs === 0 || peerAsn === 0) throw BgpNotificationError.badPeerAs('AS 0 in OPEN');
  // RFC 4271 §6.2: "If the Autonomous System field of the OPEN message is unacceptable, then
  // the Error Subcode MUST be set to Bad Peer AS." RFC 6793 §4.1: with the capability the
  // real AS is in the capability and My AS is AS_TRANS when it needs four octets.
  if (peerAsn !== exp.peerAsn) throw BgpNotificationError.badPeerAs(`peer AS ${peerAsn}, expected ${exp.peerAsn}`);
  // RFC 6286 §2.2: "If the BGP Identifier field of the OPEN message is zero, or if it is the
  // same as the BGP Identifier of the local BGP speaker and the message is from an internal
  // peer, then the Error Subcode is set to "Bad BGP Identifier"."
  if (open.bgpId === 0) throw BgpNotificationError.badBgpIdentifier('BGP Identifier 0');
  if (exp.localAsn === exp.peerAsn && open.bgpId === exp.localBgpId) throw BgpNotificationError.badBgpIdentifier('iBGP peer uses our BGP Identifier');
  // RFC 4271 §6.2: "An implementation MUST reject Hold Time values of one or two seconds."
  if (open.holdTime !== 0 && open.holdTime < MIN_HOLD_TIME) throw BgpNotificationError.unacceptableHoldTime(open.holdTime);
  // RFC 4271 §6.2: "If one of the Optional Parameters in the OPEN message is not recognized,
  // then the Error Subcode MUST be set to Unsupported Optional Parameters."
  const unknown = open.otherParameters[0];
  if (unknown) throw BgpNotificationError.unsupportedOptionalParameter(unknown.type);
}

// ===== Negotiation =====

export interface Negotiated {
  ctx: CodecContext;
  holdTime: number;
  keepaliveTime: number;
  families: Family[];
  routeRefresh: boolean;
  enhancedRouteRefresh: boolean;
  /** The peer's graceful-restart capability, if it sent one (RFC 4724). */
  gracefulRestart?: CapabilityOf<'graceful-restart'>;
  as4: boolean;
  extendedMessage: boolean;
  addPath: { family: Family; send: boolean; receive: boolean }[];
  peerCapabilities: Capability[];
}

export function negotiate(local: OpenMessage, remote: OpenMessage, peerType: 'ibgp' | 'ebgp', configuredKeepalive?: number): Negotiated {
  const holdTime = negotiatedHoldTime(local.holdTime, remote.holdTime);
  const families = commonFamilies(local, remote);
  const addPath = addPathDirections(local, remote, families);
  // RFC 6793 §4: 4-octet ASNs in AS_PATH only when both sides advertised the capability.
  const as4 = hasCapabilityCode(local, CapabilityCode.FourOctetAs) && hasCapabilityCode(remote, CapabilityCode.FourOctetAs);
  // RFC 8654 §3: "A BGP speaker MUST NOT send a BGP Extended Message to a peer unless it has
  // both advertised and received the BGP Extended Message Capability".
  const extendedMessage = hasCapabilityCode(local, CapabilityCode.ExtendedMessage) && hasCapabilityCode(remote, CapabilityCode.ExtendedMessage);
  const ctx: CodecContext = {
    as4,
    maxMessageSize: extendedMessage ? MAX_EXTENDED_MESSAGE_LENGTH : MAX_MESSAGE_LENGTH,
    addPathReceive: new Set(addPath.filter((a) => a.receive).map((a) => a.family)),
    addPathSend: new Set(addPath.filter((a) => a.send).map((a) => a.family)),
    extendedNextHopIpv4: offersIpv4OverIpv6NextHop(local) && offersIpv4OverIpv6NextHop(remote),
    peerType,
    families: new Set(families),
  };
  const negotiated: Negotiated = {
    ctx,
    holdTime,
    keepaliveTime: keepaliveTimeFor(holdTime, configuredKeepalive),
    families,
    // RFC 2918 §4: "A BGP speaker MUST NOT send a ROUTE-REFRESH message to a peer unless it has
    // received the Route Refresh Capability from that peer" (standard code 2; 128 is Cisco's
    // pre-standard code and message type, which Tern does not send).
    routeRefresh: hasCapabilityCode(local, CapabilityCode.RouteRefresh) && hasCapabilityCode(remote, CapabilityCode.RouteRefresh),
    enhancedRouteRefresh: hasCapabilityCode(local, CapabilityCode.EnhancedRouteRefresh) && hasCapabilityCode(remote, CapabilityCode.EnhancedRouteRefresh),
    as4,
    extendedMessage,
    addPath,
    peerCapabilities: remote.capabilities,
  };
  const gr = findCapability(remote, 'graceful-restart');
  if (gr) negotiated.gracefulRestart = gr;
  return negotiated;
}

/** RFC 4271 §4.2: "the calculated value ... MUST be the smaller of its configured Hold Time and the Hold Time received in the OPEN message". */
function negotiatedHoldTime(ours: number, theirs: number): number {
  return Math.min(ours, theirs);
}

/** RFC 4271 §4.4: keepalives at one third of the hold time (or the configured interval if smaller); none when hold is 0. */
function keepaliveTimeFor(holdTime: number, configured?: number): number {
  if (holdTime === 0) return 0;
  const third = Math.floor(holdTime / 3);
  return configured !== undefined && configured > 0 ? Math.min(configured, third) : third;
}

/** Families the side advertised; RFC 4760 §8: none advertised means IPv4 unicast only. */
function advertisedFamilies(open: OpenMessage): Set<string> {
  const mp = open.capabilities.filter((c): c is CapabilityOf<'multiprotocol'> => c.kind === 'multiprotocol');
  if (mp.length === 0) return new Set(['ipv4-unicast']);
  return new Set(mp.map((c) => familyOf(c.afi, c.safi) ?? `${c.afi}/${c.safi}`));
}

function commonFamilies(local: OpenMessage, remote: OpenMessage): Family[] {
  const ours = advertisedFamilies(local);
  const theirs = advertisedFamilies(remote);
  return FAMILIES.filter((f) => ours.has(f) && theirs.has(f));
}

/** The Send/Receive value a side advertised for a family (0 when absent). */
function addPathModeOf(open: OpenMessage, family: Family): number {
  const { afi, safi } = afiSafiOf(family);
  const cap = findCapability(open, 'add-path');
  return cap?.families.find((f) => f.afi === afi && f.safi === safi)?.sendReceive ?? 0;
}

/**
 * RFC 7911 §4: "the sender ... is permitted to send multiple paths ... only if [it] advertised
 * Send and the receiver advertised Receive"; we receive path ids when we advertised Receive and
 * the peer advertised Send.
 */
function addPathDirections(local: OpenMessage, remote: OpenMessage, families: Family[]): Negotiated['addPath'] {
  const out: Negotiated['addPath'] = [];
  for (const family of families) {
    const ours = addPathModeOf(local, family);
    const theirs = addPathModeOf(remote, family);
    const send = (ours & AddPathDirection.Send) !== 0 && (theirs & AddPathDirection.Receive) !== 0;
    const receive = (ours & AddPathDirection.Receive) !== 0 && (theirs & AddPathDirection.Send) !== 0;
    if (send || receive) out.push({ family, send, receive });
  }
  return out;
}

/** RFC 8950 §3: IPv4 unicast NLRI (AFI 1, SAFI 1) with an IPv6 (AFI 2) next hop. */
function offersIpv4OverIpv6NextHop(open: OpenMessage): boolean {
  const cap = findCapability(open, 'extended-nexthop');
  return cap?.entries.some((e) => e.afi === Afi.Ipv4 && e.safi === Safi.Unicast && e.nextHopAfi === Afi.Ipv6) ?? false;
}

// ===== Our OPEN =====

export interface BuildOpenOptions {
  asn: number;
  bgpId: number;
  holdTime: number;
  families: Family[];
  addPath?: { family: Family; sendReceive: number }[];
  gracefulRestart?: { restartTime: number; restarting: boolean; notification: boolean; families: { family: Family; forwardingState: boolean }[] };
  extendedMessage?: boolean;
  extendedNextHop?: boolean;
}

export function buildOpen(opts: BuildOpenOptions): OpenMessage {
  const caps: Capability[] = opts.families.map((f) => ({ kind: 'multiprotocol', code: CapabilityCode.Multiprotocol, ...afiSafiOf(f) }));
  caps.push({ kind: 'route-refresh', code: CapabilityCode.RouteRefresh });
  caps.push({ kind: 'enhanced-route-refresh', code: CapabilityCode.EnhancedRouteRefresh });
  caps.push({ kind: 'as4', code: CapabilityCode.FourOctetAs, asn: opts.asn });
  if (opts.extendedMessage) caps.push({ kind: 'extended-message', code: CapabilityCode.ExtendedMessage });
  if (opts.extendedNextHop) {
    caps.push({ kind: 'extended-nexthop', code: CapabilityCode.ExtendedNextHop, entries: [{ afi: Afi.Ipv4, safi: Safi.Unicast, nextHopAfi: Afi.Ipv6 }] });
  }
  if (opts.gracefulRestart) {
    const gr = opts.gracefulRestart;
    caps.push({
      kind: 'graceful-restart',
      code: CapabilityCode.GracefulRestart,
      restarting: gr.restarting,
      notification: gr.notification,
      restartTime: gr.restartTime,
      families: gr.families.map((f) => ({ ...afiSafiOf(f.family), forwardingState: f.forwardingState })),
    });
  }
  if (opts.addPath && opts.addPath.length > 0) {
    caps.push({ kind: 'add-path', code: CapabilityCode.AddPath, families: opts.addPath.map((a) => ({ ...afiSafiOf(a.family), sendReceive: a.sendReceive })) });
  }
  return {
    type: 'open',
    version: BGP_VERSION,
    // RFC 6793 §4.1: "a NEW BGP speaker ... MUST use AS_TRANS" in My AS when its AS needs four octets.
    myAs: opts.asn <= MAX_TWO_OCTET_ASN ? opts.asn : AS_TRANS,
    holdTime: opts.holdTime,
    bgpId: opts.bgpId,
    capabilities: caps,
    otherParameters: [],
  };
}
