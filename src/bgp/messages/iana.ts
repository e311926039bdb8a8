// SPDX-License-Identifier: Apache-2.0
// Every BGP code table Tern uses, with its IANA registry and the RFC beside each member.
// Codes Tern does not implement stay listed (commented) so that logs can still name them.
// `as const` objects plus derived unions, not enums (erasableSyntaxOnly).

// https://www.iana.org/assignments/bgp-parameters/bgp-parameters.xhtml#bgp-parameters-1
export const MessageType = {
  Open: 1, // RFC 4271
  Update: 2, // RFC 4271
  Notification: 3, // RFC 4271
  Keepalive: 4, // RFC 4271
  RouteRefresh: 5, // RFC 2918
} as const;
export type MessageTypeCode = (typeof MessageType)[keyof typeof MessageType];

export const BGP_MARKER_LENGTH = 16;
export const HEADER_LENGTH = 19; // RFC 4271 §4.1
export const MAX_MESSAGE_LENGTH = 4096; // RFC 4271 §4.1
export const MAX_EXTENDED_MESSAGE_LENGTH = 65535; // RFC 8654 §3
export const AS_TRANS = 23456; // RFC 6793 §9
export const BGP_VERSION = 4;

// https://www.iana.org/assignments/address-family-numbers
export const Afi = {
  Ipv4: 1,
  Ipv6: 2,
  // L2vpn: 25, BgpLs: 16388 — not spoken by Tern
} as const;

// https://www.iana.org/assignments/safi-namespace
export const Safi = {
  Unicast: 1, // RFC 4760
  // Multicast: 2, Labeled: 4 (RFC 8277), MplsVpn: 128, FlowSpec: 133 (RFC 8955) — not spoken by Tern
} as const;

// https://www.iana.org/assignments/capability-codes
export const CapabilityCode = {
  Multiprotocol: 1, // RFC 2858 / 4760
  RouteRefresh: 2, // RFC 2918
  // OutboundRouteFiltering: 3, // RFC 5291
  ExtendedNextHop: 5, // RFC 8950
  ExtendedMessage: 6, // RFC 8654
  // BgpRole: 9, // RFC 9234
  GracefulRestart: 64, // RFC 4724
  FourOctetAs: 65, // RFC 6793
  AddPath: 69, // RFC 7911
  EnhancedRouteRefresh: 70, // RFC 7313
  // LongLivedGracefulRestart: 71, // RFC 9494
  // Fqdn: 73, SoftwareVersion: 75
  RouteRefreshCisco: 128, // pre-standard route refresh, still seen on the wire
  LongLivedGracefulRestart: 71, // RFC 9494 (recognised for display only: BIRD's "llgr-aware")
} as const;

// https://www.iana.org/assignments/bgp-parameters/bgp-parameters.xhtml#bgp-parameters-11
export const OptionalParameter = {
  // Authentication: 1 — deprecated, RFC 5492
  Capabilities: 2, // RFC 5492
  ExtendedLength: 255, // RFC 9072
} as const;

// https://www.iana.org/assignments/bgp-parameters/bgp-parameters.xhtml#bgp-parameters-2
export const AttrType = {
  Origin: 1, // RFC 4271
  AsPath: 2, // RFC 4271
  NextHop: 3, // RFC 4271
  MultiExitDisc: 4, // RFC 4271
  LocalPref: 5, // RFC 4271
  AtomicAggregate: 6, // RFC 4271
  Aggregator: 7, // RFC 4271
  Communities: 8, // RFC 1997
  OriginatorId: 9, // RFC 4456
  ClusterList: 10, // RFC 4456
  MpReachNlri: 14, // RFC 4760
  MpUnreachNlri: 15, // RFC 4760
  ExtendedCommunities: 16, // RFC 4360
  As4Path: 17, // RFC 6793
  As4Aggregator: 18, // RFC 6793
  // PmsiTunnel: 22, TunnelEncap: 23, AigpMetric: 26, BgpLs: 29, PrefixSid: 40, Otc: 35 — unknown to Tern
  LargeCommunity: 32, // RFC 8092
} as const;

// RFC 4271 §4.3: attribute flag bits.
export const AttrFlag = {
  Optional: 0x80,
  Transitive: 0x40,
  Partial: 0x20,
  ExtendedLength: 0x10,
} as const;

export const Origin = { Igp: 0, Egp: 1, Incomplete: 2 } as const; // RFC 4271 §5.1.1

// RFC 4271 §4.3, RFC 5065 §3: AS_PATH segment types.
export const AsPathSegmentType = {
  AsSet: 1,
  AsSequence: 2,
  AsConfedSequence: 3, // RFC 5065
  AsConfedSet: 4, // RFC 5065
} as const;

// https://www.iana.org/assignments/bgp-parameters/bgp-parameters.xhtml#bgp-parameters-3
export const NotificationCode = {
  MessageHeaderError: 1, // RFC 4271
  OpenMessageError: 2, // RFC 4271
  UpdateMessageError: 3, // RFC 4271
  HoldTimerExpired: 4, // RFC 4271
  FsmError: 5, // RFC 4271, subcodes RFC 6608
  Cease: 6, // RFC 4271, subcodes RFC 4486, 8538, 9384
  RouteRefreshMessageError: 7, // RFC 7313
  SendHoldTimerExpired: 8, // RFC 9687
} as const;
export type NotificationCodeValue = (typeof NotificationCode)[keyof typeof NotificationCode];

export const HeaderErrorSubcode = {
  ConnectionNotSynchronized: 1,
  BadMessageLength: 2,
  BadMessageType: 3,
} as const;

export const OpenErrorSubcode = {
  Unspecific: 0,
  UnsupportedVersionNumber: 1,
  BadPeerAs: 2,
  BadBgpIdentifier: 3,
  UnsupportedOptionalParameter: 4,
  // 5: Authentication Failure, deprecated (RFC 4271)
  UnacceptableHoldTime: 6,
  UnsupportedCapability: 7, // RFC 5492
  // 8-10: deprecated
  RoleMismatch: 11, // RFC 9234
} as const;

export const UpdateErrorSubcode = {
  Unspecific: 0,
  MalformedAttributeList: 1,
  UnrecognizedWellKnownAttribute: 2,
  MissingWellKnownAttribute: 3,
  AttributeFlagsError: 4,
  AttributeLengthError: 5,
  InvalidOriginAttribute: 6,
  // 7: AS Routing Loop, deprecated
  InvalidNextHopAttribute: 8,
  OptionalAttributeError: 9,
  InvalidNetworkField: 10,
  MalformedAsPath: 11,
} as const;

// RFC 6608 §3
export const FsmErrorSubcode = {
  Unspecific: 0,
  UnexpectedMessageInOpenSent: 1,
  UnexpectedMessageInOpenConfirm: 2,
  UnexpectedMessageInEstablished: 3,
} as const;

// RFC 4486 §4, RFC 8538 §5, RFC 9384
export const CeaseSubcode = {
  Unspecific: 0,
  MaximumNumberOfPrefixesReached: 1,
  AdministrativeShutdown: 2, // RFC 9003 shutdown communication
  PeerDeconfigured: 3,
  AdministrativeReset: 4, // RFC 9003 shutdown communication
  ConnectionRejected: 5,
  OtherConfigurationChange: 6,
  ConnectionCollisionResolution: 7,
  OutOfResources: 8,
  HardReset: 9, // RFC 8538
  BfdDown: 10, // RFC 9384
} as const;

// RFC 7313 §5
export const RouteRefreshErrorSubcode = {
  Reserved: 0,
  InvalidMessageLength: 1,
} as const;

// RFC 7313 §3: the ROUTE-REFRESH "Reserved" octet is the message subtype.
export const RouteRefreshSubtype = {
  Normal: 0,
  BeginningOfRouteRefresh: 1,
  EndOfRouteRefresh: 2,
} as const;

const notificationNames: Record<number, [string, Record<number, string>]> = {
  [NotificationCode.MessageHeaderError]: ['Message Header Error', invert(HeaderErrorSubcode)],
  [NotificationCode.OpenMessageError]: ['OPEN Message Error', invert(OpenErrorSubcode)],
  [NotificationCode.UpdateMessageError]: ['UPDATE Message Error', invert(UpdateErrorSubcode)],
  [NotificationCode.HoldTimerExpired]: ['Hold Timer Expired', {}],
  [NotificationCode.FsmError]: ['Finite State Machine Error', invert(FsmErrorSubcode)],
  [NotificationCode.Cease]: ['Cease', invert(CeaseSubcode)],
  [NotificationCode.RouteRefreshMessageError]: ['ROUTE-REFRESH Message Error', invert(RouteRefreshErrorSubcode)],
  [NotificationCode.SendHoldTimerExpired]: ['Send Hold Timer Expired', {}],
};

function invert(table: Record<string, number>): Record<number, string> {
  const out: Record<number, string> = {};
  for (const [name, code] of Object.entries(table)) out[code] = spellAsRfc(name.replace(/([a-z])([A-Z])/g, '$1 $2'));
  return out;
}

// Acronyms and small words as the RFCs write them: "Bad Peer AS", "Bad BGP Identifier",
// "Maximum Number of Prefixes Reached", "Unexpected Message in OpenSent", "BFD Down".
// (A function, not a module constant: the name tables above are built while this module loads.)
function spellAsRfc(name: string): string {
  const RFC_SPELLING: [RegExp, string][] = [
    [/\bAs\b/g, 'AS'],
    [/\bBgp\b/g, 'BGP'],
    [/\bBfd\b/g, 'BFD'],
    [/\bFsm\b/g, 'FSM'],
    [/\bOf\b/g, 'of'],
    [/\bIn\b/g, 'in'],
    [/\bOpen Sent\b/g, 'OpenSent'],
    [/\bOpen Confirm\b/g, 'OpenConfirm'],
  ];
  return RFC_SPELLING.reduce((s, [re, to]) => s.replace(re, to), name);
}

/** "Cease / Administrative Shutdown", or the numbers when unknown. */
export function notificationName(code: number, subcode: number): string {
  const entry = notificationNames[code];
  if (!entry) return `Unknown error code ${code} / subcode ${subcode}`;
  const sub = entry[1][subcode];
  if (sub) return `${entry[0]} / ${sub}`;
  return subcode === 0 ? entry[0] : `${entry[0]} / subcode ${subcode}`;
}
