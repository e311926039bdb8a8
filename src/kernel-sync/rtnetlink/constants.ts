// SPDX-License-Identifier: Apache-2.0
// rtnetlink numbers, copied by name from the Linux uapi headers (include/uapi/linux/netlink.h,
// rtnetlink.h, if_addr.h, if_link.h, if.h). Only what the codec and kernel sync use; append, don't
// renumber. No logic here.

/** Address families (include/linux/socket.h). */
export const AF = { UNSPEC: 0, INET: 2, INET6: 10 } as const;
export const ADDRESS_LENGTH: Readonly<Record<number, number>> = { [AF.INET]: 4, [AF.INET6]: 16 };

/** netlink.h: NLMSG_ALIGNTO 4U, sizeof(struct nlmsghdr) 16. */
export const NLMSG_ALIGNTO = 4;
export const NLMSG_HDRLEN = 16;
/** netlink.h: sizeof(struct nlattr) 4, NLA_ALIGNTO 4. */
export const NLA_HDRLEN = 4;
/** netlink.h: NLA_TYPE_MASK ~(NLA_F_NESTED | NLA_F_NET_BYTEORDER). */
export const NLA_F_NESTED = 0x8000;
export const NLA_F_NET_BYTEORDER = 0x4000;
export const NLA_TYPE_MASK = 0x3fff;

/** netlink.h control message types (< NLMSG_MIN_TYPE 0x10). */
export const NLMSG = { NOOP: 1, ERROR: 2, DONE: 3, OVERRUN: 4 } as const;

/** netlink.h nlmsg_flags. GET/NEW/DELETE modifiers share bits 0x100-0x800. */
export const NLM_F = {
  REQUEST: 0x01,
  MULTI: 0x02,
  ACK: 0x04,
  ECHO: 0x08,
  DUMP_INTR: 0x10,
  DUMP_FILTERED: 0x20,
  ROOT: 0x100,
  MATCH: 0x200,
  ATOMIC: 0x400,
  DUMP: 0x300,
  REPLACE: 0x100,
  EXCL: 0x200,
  CREATE: 0x400,
  APPEND: 0x800,
  /** On NLMSG_ERROR: only the request's header was echoed, not its payload. */
  CAPPED: 0x100,
  /** On NLMSG_ERROR/NLMSG_DONE: extended-ack TLVs follow. */
  ACK_TLVS: 0x200,
} as const;

/** netlink.h enum nlmsgerr_attrs (extended ack, NETLINK_EXT_ACK). */
export const NLMSGERR_ATTR = { UNUSED: 0, MSG: 1, OFFS: 2, COOKIE: 3, POLICY: 4, MISS_TYPE: 5, MISS_NEST: 6 } as const;

/** netlink.h socket options at SOL_NETLINK (270), for the native side. */
export const SOL_NETLINK = 270;
export const NETLINK_OPT = { ADD_MEMBERSHIP: 1, DROP_MEMBERSHIP: 2, NO_ENOBUFS: 5, CAP_ACK: 10, EXT_ACK: 11, GET_STRICT_CHK: 12 } as const;

/** rtnetlink.h message types. */
export const RTM = {
  NEWLINK: 16,
  DELLINK: 17,
  GETLINK: 18,
  NEWADDR: 20,
  DELADDR: 21,
  GETADDR: 22,
  NEWROUTE: 24,
  DELROUTE: 25,
  GETROUTE: 26,
} as const;

/** rtnetlink.h legacy multicast group bitmasks for sockaddr_nl.nl_groups. */
export const RTMGRP = {
  LINK: 0x1,
  IPV4_IFADDR: 0x10,
  IPV4_ROUTE: 0x40,
  IPV6_IFADDR: 0x100,
  IPV6_ROUTE: 0x400,
} as const;

/** rtnetlink.h sizes: struct rtmsg 12, struct ifinfomsg 16, struct ifaddrmsg 8, struct rtnexthop 8. */
export const RTMSG_LEN = 12;
export const IFINFOMSG_LEN = 16;
export const IFADDRMSG_LEN = 8;
export const RTNEXTHOP_LEN = 8;

/** rtnetlink.h enum rtattr_type_t. */
export const RTA = {
  UNSPEC: 0,
  DST: 1,
  SRC: 2,
  IIF: 3,
  OIF: 4,
  GATEWAY: 5,
  PRIORITY: 6,
  PREFSRC: 7,
  METRICS: 8,
  MULTIPATH: 9,
  FLOW: 11,
  CACHEINFO: 12,
  TABLE: 15,
  MARK: 16,
  VIA: 18,
  PREF: 20,
  ENCAP_TYPE: 21,
  ENCAP: 22,
  EXPIRES: 23,
  NH_ID: 30,
} as const;

/** rtnetlink.h rtm_type. */
export const RTN = {
  UNSPEC: 0,
  UNICAST: 1,
  LOCAL: 2,
  BROADCAST: 3,
  ANYCAST: 4,
  MULTICAST: 5,
  BLACKHOLE: 6,
  UNREACHABLE: 7,
  PROHIBIT: 8,
  THROW: 9,
  NAT: 10,
  XRESOLVE: 11,
} as const;

/** rtnetlink.h rtm_protocol. Values >= RTPROT_STATIC are not interpreted by the kernel. */
export const RTPROT = {
  UNSPEC: 0,
  REDIRECT: 1,
  KERNEL: 2,
  BOOT: 3,
  STATIC: 4,
  RA: 9,
  ZEBRA: 11,
  BIRD: 12,
  DHCP: 16,
  BGP: 186,
} as const;

/** rtnetlink.h enum rt_scope_t. */
export const RT_SCOPE = { UNIVERSE: 0, SITE: 200, LINK: 253, HOST: 254, NOWHERE: 255 } as const;

/** rtnetlink.h enum rt_class_t. Tables above 255 only fit in RTA_TABLE; rtm_table then says COMPAT/UNSPEC. */
export const RT_TABLE = { UNSPEC: 0, COMPAT: 252, DEFAULT: 253, MAIN: 254, LOCAL: 255 } as const;

/** rtnetlink.h rtnh_flags (also valid in rtm_flags for single-path routes). */
export const RTNH_F = { DEAD: 1, PERVASIVE: 2, ONLINK: 4, OFFLOAD: 8, LINKDOWN: 16, UNRESOLVED: 32, TRAP: 64 } as const;

/** rtnetlink.h rtm_flags. */
export const RTM_F = { NOTIFY: 0x100, CLONED: 0x200, EQUALIZE: 0x400, PREFIX: 0x800, OFFLOAD: 0x4000, TRAP: 0x8000 } as const;

/** if_link.h IFLA_* (link attributes). */
export const IFLA = {
  ADDRESS: 1,
  BROADCAST: 2,
  IFNAME: 3,
  MTU: 4,
  LINK: 5,
  MASTER: 10,
  OPERSTATE: 16,
  LINKINFO: 18,
  EXT_MASK: 29,
} as const;

/** if_link.h IFLA_INFO_* (nested in IFLA_LINKINFO). */
export const IFLA_INFO = { KIND: 1, DATA: 2 } as const;

/** if_link.h RFC 2863 operational states carried in IFLA_OPERSTATE. */
export const IF_OPER = { UNKNOWN: 0, NOTPRESENT: 1, DOWN: 2, LOWERLAYERDOWN: 3, TESTING: 4, DORMANT: 5, UP: 6 } as const;

/** include/uapi/linux/if.h net_device_flags (ifi_flags). */
export const IFF = {
  UP: 0x1,
  BROADCAST: 0x2,
  LOOPBACK: 0x8,
  POINTOPOINT: 0x10,
  RUNNING: 0x40,
  NOARP: 0x80,
  PROMISC: 0x100,
  MULTICAST: 0x1000,
  LOWER_UP: 0x10000,
  DORMANT: 0x20000,
} as const;

/** if_addr.h IFA_* (address attributes). */
export const IFA = { ADDRESS: 1, LOCAL: 2, LABEL: 3, BROADCAST: 4, CACHEINFO: 6, FLAGS: 8, RT_PRIORITY: 9, PROTO: 11 } as const;

/** if_addr.h ifa_flags (IFA_FLAGS extends them to 32 bits). */
export const IFA_F = {
  SECONDARY: 0x01,
  NODAD: 0x02,
  OPTIMISTIC: 0x04,
  DADFAILED: 0x08,
  HOMEADDRESS: 0x10,
  DEPRECATED: 0x20,
  TENTATIVE: 0x40,
  PERMANENT: 0x80,
  MANAGETEMPADDR: 0x100,
  NOPREFIXROUTE: 0x200,
  MCAUTOJOIN: 0x400,
  STABLE_PRIVACY: 0x800,
} as const;

/** include/uapi/linux/if_arp.h ARPHRD_* (ifi_type). */
export const ARPHRD = { ETHER: 1, TUNNEL: 768, LOOPBACK: 772, NONE: 0xfffe } as const;
