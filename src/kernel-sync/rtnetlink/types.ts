// SPDX-License-Identifier: Apache-2.0
// The typed rtnetlink model shared by the decoder, the encoders and kernel sync. Addresses are
// network-order bytes (4 for AF_INET, 16 for AF_INET6); every other number is already host
// order. Fields mirror the kernel structs so a decoded message can be re-encoded unchanged.

export type RouteFamily = 2 | 10;

/** RTA_VIA (struct rtvia): a gateway in another family, e.g. an IPv4 route via an IPv6 next hop. */
export interface Via {
  family: number;
  address: Uint8Array;
}

/** One struct rtnexthop inside RTA_MULTIPATH. */
export interface NextHop {
  gateway?: Uint8Array;
  via?: Via;
  oif: number;
  /** RTNH_F_* for this hop (RTNH_F_ONLINK 4, RTNH_F_LINKDOWN 16, ...). */
  flags: number;
  /** rtnh_hops + 1, so 1..256 (iproute2's `weight`). */
  weight: number;
}

export interface UnknownAttribute {
  type: number;
  value: Uint8Array;
}

export interface RouteMessage {
  type: 'route';
  family: RouteFamily;
  dstLength: number;
  srcLength: number;
  tos: number;
  /** Full 32-bit table id: RTA_TABLE wins over the 8-bit rtm_table. */
  table: number;
  protocol: number;
  scope: number;
  /** rtm_type: RTN_UNICAST 1, RTN_LOCAL 2, RTN_BLACKHOLE 6, RTN_UNREACHABLE 7, RTN_PROHIBIT 8, ... */
  routeType: number;
  /** rtm_flags: RTNH_F_ONLINK 4 for single-path routes, RTM_F_* from the kernel. */
  flags: number;
  dst?: Uint8Array;
  gateway?: Uint8Array;
  oif?: number;
  /** RTA_PRIORITY, the metric. */
  priority?: number;
  prefsrc?: Uint8Array;
  via?: Via;
  multipath?: NextHop[];
  /** Attributes the model does not name (RTA_CACHEINFO, RTA_PREF, RTA_METRICS, ...), in wire order. Not encoded. */
  unknown: UnknownAttribute[];
}

export interface LinkMessage {
  type: 'link';
  index: number;
  name?: string;
  /** ifi_flags: IFF_UP, IFF_RUNNING, IFF_LOWER_UP, ... */
  flags: number;
  mtu?: number;
  /** IFLA_LINKINFO / IFLA_INFO_KIND: 'veth', 'vxlan', 'ipip', ... */
  kind?: string;
  /** ifi_type, ARPHRD_* */
  linkType: number;
  /** IFLA_OPERSTATE, IF_OPER_* */
  operState?: number;
  /** IFLA_ADDRESS, the link-layer address. */
  address?: Uint8Array;
  /** IFLA_MASTER ifindex. */
  master?: number;
}

export interface AddrMessage {
  type: 'addr';
  family: RouteFamily;
  prefixLength: number;
  /** IFA_F_*: IFA_FLAGS (32-bit) wins over the 8-bit ifa_flags. */
  flags: number;
  scope: number;
  index: number;
  address?: Uint8Array;
  local?: Uint8Array;
  label?: string;
}

export type RtMessage = RouteMessage | LinkMessage | AddrMessage;

export type NetlinkEvent =
  /**
   * RTM_NEW* / RTM_DEL*, from a dump (seq = the dump request's) or a multicast notification, whose
   * seq is that of whichever process's request caused the change: never correlate it with ours.
   */
  | { kind: 'new' | 'del'; seq: number; message: RtMessage }
  /** NLMSG_ERROR with a non-zero error, or NLMSG_DONE carrying a dump error. errno is positive. */
  | { kind: 'error'; seq: number; errno: number; message?: string; attrOffset?: number }
  /** NLMSG_DONE. interrupted: NLM_F_DUMP_INTR, the dump raced a change and must be redone. */
  | { kind: 'done'; seq: number; interrupted: boolean }
  /** NLMSG_ERROR with error 0: the request with this seq succeeded. */
  | { kind: 'ack'; seq: number };
