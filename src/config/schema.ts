// SPDX-License-Identifier: Apache-2.0
// Tern's config schema, written once as data. The validator (check.ts) walks these tables and the
// doc generator (doc.ts → docs/config.md) prints them, so the docs cannot drift from the code.
// Rules that relate several keys are listed in CROSS_FIELD_RULES (text only; enforced in build.ts).
import { FAMILIES } from '../bgp/messages/types.ts';
import { MATCH_FIELDS, POLICIES_TYPE, POLICY_REF_TYPE, TERM_FIELDS } from './schema-policy.ts';

export type ValueType =
  | { kind: 'integer'; min: number; max: number; /** values outside [min,max] that are also allowed */ also?: readonly number[] }
  | { kind: 'boolean' }
  | { kind: 'false' }
  | { kind: 'string'; pattern?: RegExp; patternText?: string; maxLength?: number }
  | { kind: 'enum'; values: readonly string[] }
  | {
      kind: 'address';
      family?: 'ipv4';
      /** May carry "%iface" (IPv6 link-local only); link-local then requires it. */
      zone?: boolean;
      allowUnspecified?: boolean;
      allowMulticast?: boolean;
      /** Words accepted as they are instead of an address (e.g. `self`, `keep`). */
      keywords?: readonly string[];
    }
  | { kind: 'prefix'; /** a bare address stands for its host prefix (/32, /128) */ allowAddress?: boolean }
  | { kind: 'list'; of: ValueType; minItems?: number; unique?: boolean; /** a lone item stands for a one-item list */ single?: boolean }
  | { kind: 'object'; fields: readonly FieldSpec[] }
  | { kind: 'oneOf'; options: readonly ValueType[] }
  /** RFC 1997 community "65000:100", or a well-known name; kept as canonical text. */
  | { kind: 'community' }
  /** RFC 8092 large community "1:2:3"; kept as canonical text. */
  | { kind: 'largeCommunity' }
  /** Inclusive integer range: `5`, `"26-32"` or `{min, max}`; becomes {min, max}. */
  | { kind: 'range'; min: number; max: number }
  /** A mapping from names (matching keyPattern) to values of one type. */
  | { kind: 'map'; keyPattern: RegExp; keyText: string; of: ValueType };

export interface FieldSpec {
  key: string;
  type: ValueType;
  required?: boolean;
  /** Filled in by the validator when the key is absent or null. */
  default?: unknown;
  /** For docs, when the default is computed rather than constant. */
  defaultText?: string;
  description: string;
  /** Not part of the core interface every deployment relies on. */
  extension?: boolean;
}

const u16Port: ValueType = { kind: 'integer', min: 1, max: 65535 };
const asnType: ValueType = { kind: 'integer', min: 1, max: 4294967295 };
const familyList: ValueType = { kind: 'list', of: { kind: 'enum', values: FAMILIES }, minItems: 1, unique: true };

export const PEER_NAME_PATTERN = /^[A-Za-z0-9_.-]{1,100}$/;
export const DEFAULT_HOLD_TIME = 90; // RFC 4271 §10 suggests 90 seconds
export const DEFAULT_CONNECT_RETRY = 120; // RFC 4271 §10 suggests 120 seconds
export const DEFAULT_RESTART_TIME = 120;
export const DEFAULT_CONTROL_SOCKET = '/run/tern/tern.ctl';
export const DEFAULT_LISTEN_ADDRESSES: readonly string[] = ['0.0.0.0', '::'];
export const DEFAULT_DEFERRAL_TIME = 240; // BIRD's `graceful restart wait` default
export const DEFAULT_MAX_PREFIX_RESTART_DELAY = 60;
/** RFC 7854 assigns no port; 1790 is pmacct's (and most collectors') default. */
export const DEFAULT_BMP_PORT = 1790;

export const LISTEN_FIELDS: readonly FieldSpec[] = [
  {
    key: 'address',
    type: { kind: 'list', of: { kind: 'address', zone: true, allowUnspecified: true }, minItems: 1, unique: true, single: true },
    default: DEFAULT_LISTEN_ADDRESSES,
    defaultText: '`["0.0.0.0", "::"]`',
    description: 'Local address(es) to accept BGP connections on: one address or a list. `"::"` must be quoted in YAML.',
  },
  {
    key: 'port',
    type: { kind: 'integer', min: 0, max: 65535 },
    default: 179,
    description: 'TCP port to listen on. `0` disables listening (as does `listen: false`); sessions are then outbound only.',
  },
];

export const CONTROL_FIELDS: readonly FieldSpec[] = [
  {
    key: 'socket',
    // sun_path holds 108 bytes including the terminating NUL (unix(7)).
    type: { kind: 'string', maxLength: 107 },
    default: DEFAULT_CONTROL_SOCKET,
    description: 'Path of the Unix control socket (at most 107 characters).',
  },
];

export const GRACEFUL_RESTART_FIELDS: readonly FieldSpec[] = [
  {
    key: 'restartTime',
    // RFC 4724 §3: Restart Time is a 12-bit field, in seconds.
    type: { kind: 'integer', min: 0, max: 4095 },
    default: DEFAULT_RESTART_TIME,
    description: 'Seconds the peer should keep our routes while we restart (12-bit field, RFC 4724 §3).',
  },
];

export const MAX_PREFIXES_FIELDS: readonly FieldSpec[] = [
  { key: 'limit', type: { kind: 'integer', min: 1, max: 4294967295 }, required: true, description: 'Most prefixes accepted from the peer (after import policy).' },
  {
    key: 'action',
    type: { kind: 'enum', values: ['warn', 'restart'] },
    default: 'restart',
    description: '`warn`: log once and keep going; `restart`: close the session with a Cease NOTIFICATION (RFC 4486 subcode 1) and reconnect after `restartDelay`.',
  },
  { key: 'restartDelay', type: { kind: 'integer', min: 1, max: 86400 }, default: DEFAULT_MAX_PREFIX_RESTART_DELAY, description: 'Seconds to wait before reconnecting after `restart`.' },
];

/** RFC 5880 timers of one BFD session (milliseconds, as BIRD and FRR write them). */
export const BFD_FIELDS: readonly FieldSpec[] = [
  { key: 'minRx', type: { kind: 'integer', min: 10, max: 60000 }, default: 300, description: 'Required Min RX Interval, ms: the fastest rate we accept BFD Control packets at (RFC 5880 §6.8.1 bfd.RequiredMinRxInterval).' },
  { key: 'minTx', type: { kind: 'integer', min: 10, max: 60000 }, default: 300, description: 'Desired Min TX Interval, ms (RFC 5880 §6.8.1 bfd.DesiredMinTxInterval); 1 s is used until the session is Up (§6.8.3).' },
  { key: 'multiplier', type: { kind: 'integer', min: 1, max: 255 }, default: 3, description: 'Detect Mult: packets missed before the session is declared down (RFC 5880 §6.8.4).' },
];

export const PEER_FIELDS: readonly FieldSpec[] = [
  {
    key: 'name',
    type: { kind: 'string', pattern: PEER_NAME_PATTERN, patternText: '1-100 characters from A-Z a-z 0-9 _ . -' },
    defaultText: '`peer_` + address with `.`, `:` and `%` turned into `_` (plus `_port_<n>` for a port other than 179), e.g. `peer_10_0_0_2`',
    description: 'Unique session name, shown by the control socket and in logs.',
  },
  {
    key: 'address',
    type: { kind: 'address', zone: true },
    required: true,
    description: 'Peer IPv4 or IPv6 address. An IPv6 link-local address must name its interface: `fe80::1%eth0`.',
  },
  { key: 'asn', type: asnType, required: true, description: 'Peer AS number (equal to `asn` for iBGP).' },
  { key: 'passive', type: { kind: 'boolean' }, default: false, description: 'Never connect out; only accept connections from the peer.' },
  {
    key: 'holdTime',
    // RFC 4271 §4.2: "Hold Time MUST be either zero or at least three seconds."
    type: { kind: 'integer', min: 3, max: 65535, also: [0] },
    default: DEFAULT_HOLD_TIME,
    description: 'Hold time to offer in OPEN, seconds. `0` disables keepalives and the hold timer (RFC 4271 §4.2).',
  },
  {
    key: 'keepalive',
    // 21845 = floor(65535 / 3): the largest keepalive any hold time allows.
    type: { kind: 'integer', min: 1, max: 21845 },
    defaultText: 'negotiated hold time / 3',
    description: 'Keepalive interval, seconds. At most `holdTime / 3` (RFC 4271 §10).',
  },
  { key: 'connectRetry', type: { kind: 'integer', min: 1, max: 65535 }, default: DEFAULT_CONNECT_RETRY, description: 'ConnectRetry timer, seconds (RFC 4271 §8.2.2).' },
  {
    key: 'families',
    type: familyList,
    defaultText: 'the family of `address`',
    description: `Address families to negotiate (RFC 4760): ${FAMILIES.map((f) => '`' + f + '`').join(', ')}.`,
  },
  { key: 'localAddress', type: { kind: 'address', zone: true }, description: 'Source address for the TCP connection. Same family as `address`.' },
  { key: 'port', type: u16Port, default: 179, description: 'Peer TCP port.' },
  {
    key: 'localAsn',
    type: asnType,
    defaultText: '`asn`',
    extension: true,
    description: 'The AS Tern uses on this session (BIRD\'s `local as`, Calico\'s `localASNumber`): in its OPEN, for iBGP/eBGP, prepending and loop checks.',
  },
  {
    key: 'password',
    type: { kind: 'string', maxLength: 80 },
    description: 'TCP MD5 signature key (RFC 2385), up to 80 characters as Calico allows; set on the listening socket before any peer connects and on each outgoing socket before its SYN. Changing it resets only this peer.',
  },
  {
    key: 'ttlSecurity',
    type: { kind: 'integer', min: 0, max: 254 },
    default: 0,
    description: 'GTSM (RFC 5082): the peer is this many hops away (1 = directly connected). Tern sends with TTL 255 and drops segments that arrived with a TTL below 255 − (hops − 1). 0 turns it off. Calico\'s `ttlSecurity`.',
  },
  { key: 'description', type: { kind: 'string', maxLength: 255 }, extension: true, description: 'Free text shown by the control socket.' },
  {
    key: 'bfd',
    type: { kind: 'oneOf', options: [{ kind: 'boolean' }, { kind: 'object', fields: BFD_FIELDS }] },
    default: false,
    extension: true,
    description: 'Single-hop BFD (RFC 5880/5881, UDP 3784, TTL 255) to the peer\'s address: `true` (300 ms × 3) or a mapping with `minRx`, `minTx`, `multiplier`. When BFD goes from Up to Down the BGP session is closed at once with Cease / BFD Down (RFC 9384) instead of waiting for the hold timer.',
  },
  {
    key: 'sendHoldTime',
    type: { kind: 'integer', min: 1, max: 65535 },
    defaultText: 'max(480, 2 × holdTime)',
    extension: true,
    description: 'RFC 9687 send hold time, seconds: a peer that takes none of our data for this long gets NOTIFICATION Send Hold Timer Expired (code 8) and the session is closed. Lower it only for tests.',
  },
  {
    key: 'addPaths',
    type: { kind: 'enum', values: ['off', 'rx', 'tx', 'both'] },
    default: 'off',
    extension: true,
    description: 'ADD-PATH (RFC 7911) to offer, as BIRD\'s `add paths`: `rx` receive several paths per prefix, `tx` send them, `both`, or `off`.',
  },
  {
    key: 'gracefulRestart',
    type: { kind: 'oneOf', options: [{ kind: 'boolean' }, { kind: 'object', fields: GRACEFUL_RESTART_FIELDS }] },
    default: false,
    extension: true,
    description: 'Advertise Graceful Restart (RFC 4724): `true`, `false`, or a mapping with `restartTime`.',
  },
  {
    key: 'routeReflectorClient',
    type: { kind: 'boolean' },
    default: false,
    description: 'This iBGP peer is our route-reflector client (RFC 4456), as BIRD\'s `rr client`. Only for iBGP peers.',
  },
  {
    key: 'nextHop',
    type: { kind: 'enum', values: ['self', 'keep', 'auto'] },
    default: 'auto',
    description: 'Next hop sent to the peer: `self` always our address; `keep` never changed; `auto` self for eBGP, unchanged for iBGP (RFC 4271 §5.1.3). Calico\'s `nextHopMode`.',
  },
  {
    key: 'import',
    type: POLICY_REF_TYPE,
    defaultText: '`all` for iBGP peers, `none` for eBGP peers',
    description: 'Import policy: `all`, `none`, a name from `policies`, or an inline policy (a list of terms). eBGP defaults to `none` as RFC 8212 §2 requires: routes from an eBGP peer are not accepted without an explicit import policy.',
  },
  {
    key: 'export',
    type: POLICY_REF_TYPE,
    defaultText: '`all` for iBGP peers, `none` for eBGP peers',
    description: 'Export policy, like `import`. eBGP defaults to `none` (RFC 8212 §2: nothing is advertised to an eBGP peer without an explicit export policy).',
  },
  {
    key: 'maxPrefixes',
    type: { kind: 'oneOf', options: [{ kind: 'integer', min: 1, max: 4294967295 }, { kind: 'object', fields: MAX_PREFIXES_FIELDS }] },
    extension: true,
    description: 'Limit on prefixes accepted from the peer: a number (then `action: restart`), or a mapping with `limit`, `action`, `restartDelay`.',
  },
  {
    key: 'advertisementInterval',
    type: { kind: 'integer', min: 0, max: 600 },
    default: 0,
    extension: true,
    description: 'Seconds between UPDATE batches to this peer (MinRouteAdvertisementIntervalTimer, RFC 4271 §9.2.1.1); `0` sends at once.',
  },
  {
    key: 'allowOwnAs',
    type: { kind: 'integer', min: 0, max: 10 },
    default: 0,
    extension: true,
    description: 'Accept routes whose AS path contains our AS up to this many times (Calico\'s `numAllowedLocalASNumbers`, BIRD\'s `allow local as`).',
  },
];

export const ROUTE_REFLECTOR_FIELDS: readonly FieldSpec[] = [
  {
    key: 'clusterId',
    type: { kind: 'oneOf', options: [{ kind: 'integer', min: 1, max: 4294967295 }, { kind: 'address', family: 'ipv4', allowMulticast: true }] },
    defaultText: '`routerId`',
    description: 'CLUSTER_ID put in CLUSTER_LIST when reflecting (RFC 4456 §7): a dotted quad or a 32-bit number.',
  },
];

export const GLOBAL_GRACEFUL_RESTART_FIELDS: readonly FieldSpec[] = [
  {
    key: 'deferralTime',
    type: { kind: 'integer', min: 1, max: 3600 },
    default: DEFAULT_DEFERRAL_TIME,
    description: 'After our own restart, seconds to wait for peers\' End-of-RIB before running route selection anyway (RFC 4724 §4.1; BIRD\'s `graceful restart wait`).',
  },
];

export const ORIGINATE_FIELDS: readonly FieldSpec[] = [
  { key: 'prefix', type: { kind: 'prefix' }, required: true, description: 'Prefix to announce, CIDR form; host bits must be zero.' },
  {
    key: 'nextHop',
    type: { kind: 'address' },
    defaultText: 'self (the session\'s local address)',
    description: 'Next hop to announce. Same family as `prefix`.',
  },
  {
    key: 'blackhole',
    type: { kind: 'boolean' },
    default: false,
    extension: true,
    description: 'Also install the prefix as a blackhole route in the kernel (with `kernel.program`), as Calico does for a node\'s own IPAM blocks.',
  },
];

export const KERNEL_TUNNEL_FIELDS: readonly FieldSpec[] = [
  { key: 'device', type: { kind: 'string', maxLength: 15 }, default: 'tunl0', description: 'Tunnel device for tunnelled routes (`via NEXT_HOP dev DEVICE onlink`, BIRD\'s `krt_tunnel`).' },
  {
    key: 'mode',
    type: { kind: 'enum', values: ['always', 'crossSubnet', 'never'] },
    default: 'never',
    description: 'Which BGP routes go through the tunnel: `always`; `crossSubnet` only when the BGP next hop is outside our own subnets; `never`. A kernel export policy term with `tunnel` overrides it per route.',
  },
];

export const KERNEL_FIELDS: readonly FieldSpec[] = [
  { key: 'learn', type: { kind: 'boolean' }, default: false, description: 'Learn the kernel\'s routes of other protocols (Felix\'s) and connected subnets into the RIB, as BIRD\'s `kernel { learn }`, `device` and `direct`.' },
  { key: 'program', type: { kind: 'boolean' }, default: false, description: 'Write the Loc-RIB\'s best BGP routes (and originated blackholes) that pass `export` into the kernel.' },
  { key: 'protocol', type: { kind: 'integer', min: 1, max: 255 }, default: 12, description: 'Route protocol Tern writes and owns (12 is `bird`, as Calico expects); routes of any other protocol are never changed.' },
  {
    key: 'table',
    type: { kind: 'oneOf', options: [{ kind: 'integer', min: 1, max: 4294967295 }, { kind: 'enum', values: ['main'] }] },
    default: 'main',
    description: 'Routing table to learn from and program (`main` is 254).',
  },
  { key: 'export', type: POLICY_REF_TYPE, default: 'all', description: 'Policy deciding which Loc-RIB routes are programmed (terms may set `metric` and `tunnel`).' },
  {
    key: 'ignoreInterfaces',
    type: { kind: 'list', of: { kind: 'string', maxLength: 64 } },
    default: [],
    description: 'Interface globs whose connected subnets are not learned (BIRD\'s `direct` interface list), in addition to `cali*` and `kube-ipvs*` (always ignored, as in Calico). Kernel routes on these interfaces — Felix\'s workload routes — are still learned.',
  },
  { key: 'tunnel', type: { kind: 'object', fields: KERNEL_TUNNEL_FIELDS }, defaultText: 'see below', description: 'Tunnel routing (IPIP in Calico).' },
  { key: 'persist', type: { kind: 'boolean' }, default: true, description: 'Leave programmed routes in the kernel when Tern stops (BIRD\'s `persist`); they are adopted and reconciled at the next start.' },
  { key: 'metric', type: { kind: 'integer', min: 0, max: 4294967295 }, default: 0, description: 'Metric (priority) for programmed routes unless a policy term sets `metric`.' },
];

/** "ADDRESS:PORT", "[IPv6]:PORT" or ":PORT" with a port from 1 to 65535 (http.ts parses it again, exactly). */
const LISTEN_ADDRESS_PORT = /^(?:(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)|\[[0-9A-Fa-f:.]{2,45}\])?:(?:6553[0-5]|655[0-2]\d|65[0-4]\d\d|6[0-4]\d{3}|[1-5]\d{4}|[1-9]\d{0,3})$/;

export const METRICS_FIELDS: readonly FieldSpec[] = [
  {
    key: 'listen',
    type: { kind: 'string', pattern: LISTEN_ADDRESS_PORT, patternText: 'ADDRESS:PORT, [IPV6]:PORT or :PORT (every address), with a port from 1 to 65535' },
    required: true,
    description: 'Where the HTTP endpoint listens: `/metrics` (Prometheus), `/healthz`, `/readyz` (see docs/metrics.md). E.g. `":9179"` or `"127.0.0.1:9179"`. Read at start only.',
  },
];

export const BMP_FIELDS: readonly FieldSpec[] = [
  { key: 'address', type: { kind: 'address' }, required: true, description: 'Address of the BMP monitoring station (collector). Tern connects out and reconnects with back-off.' },
  { key: 'port', type: u16Port, default: DEFAULT_BMP_PORT, description: 'TCP port of the station (RFC 7854 assigns none; pmacct and most collectors use 1790).' },
  { key: 'name', type: { kind: 'string', pattern: PEER_NAME_PATTERN, patternText: '1-100 characters from A-Z a-z 0-9 _ . -' }, defaultText: '`address:port`', description: 'Name shown in logs.' },
  {
    key: 'statisticsInterval',
    type: { kind: 'integer', min: 0, max: 86400 },
    default: 0,
    description: 'Seconds between Statistics Reports (RFC 7854 §4.8: routes rejected by import policy, Adj-RIB-In and Loc-RIB counts per peer); `0` sends none.',
  },
];

export const BIRD_SOCKETS_FIELDS: readonly FieldSpec[] = [
  // sun_path holds 108 bytes including the terminating NUL (unix(7)).
  { key: 'ipv4', type: { kind: 'string', maxLength: 107 }, defaultText: 'none', description: 'Path of the socket that shows IPv4 sessions and routes, as BIRD\'s `bird.ctl`.' },
  { key: 'ipv6', type: { kind: 'string', maxLength: 107 }, defaultText: 'none', description: 'Path of the socket that shows IPv6 sessions and routes, as BIRD\'s `bird6.ctl`.' },
];

export const ROOT_FIELDS: readonly FieldSpec[] = [
  {
    key: 'routerId',
    type: { kind: 'address', family: 'ipv4', allowMulticast: true },
    required: true,
    description: 'BGP Identifier, as a dotted quad; must not be 0.0.0.0 (RFC 6286 §2.1).',
  },
  { key: 'asn', type: asnType, required: true, description: 'Local AS number (4-octet, RFC 6793).' },
  {
    key: 'listen',
    type: { kind: 'oneOf', options: [{ kind: 'false' }, { kind: 'object', fields: LISTEN_FIELDS }] },
    defaultText: 'listen on port 179 of every address',
    description: 'Where to accept BGP connections, or `false` to accept none.',
  },
  { key: 'control', type: { kind: 'object', fields: CONTROL_FIELDS }, defaultText: 'see below', description: 'The control socket.' },
  {
    key: 'peers',
    type: { kind: 'list', of: { kind: 'object', fields: PEER_FIELDS } },
    default: [],
    description: 'BGP sessions.',
  },
  {
    key: 'originate',
    type: { kind: 'list', of: { kind: 'object', fields: ORIGINATE_FIELDS } },
    default: [],
    description: 'Prefixes this router announces to every peer of the matching family.',
  },
  {
    key: 'routeReflector',
    type: { kind: 'object', fields: ROUTE_REFLECTOR_FIELDS },
    defaultText: 'see below',
    description: 'Route reflection (RFC 4456) settings; reflection itself is on for peers with `routeReflectorClient`.',
  },
  {
    key: 'gracefulRestart',
    type: { kind: 'object', fields: GLOBAL_GRACEFUL_RESTART_FIELDS },
    defaultText: 'see below',
    description: 'Graceful Restart (RFC 4724) settings for this router as a whole.',
  },
  {
    key: 'kernel',
    type: { kind: 'object', fields: KERNEL_FIELDS },
    defaultText: 'no kernel sync',
    description: 'Kernel route sync over netlink: learning Felix\'s routes and connected subnets, and programming BGP routes (Linux).',
  },
  {
    key: 'policies',
    type: POLICIES_TYPE,
    default: {},
    description: 'Named import/export policies, each an ordered list of terms (see `policies.<name>[]` and docs/policy.md).',
  },
  {
    key: 'logLevel',
    type: { kind: 'enum', values: ['trace', 'debug', 'info', 'warn', 'error'] },
    default: 'info',
    extension: true,
    description: 'Least severe log level written.',
  },
  {
    key: 'metrics',
    type: { kind: 'object', fields: METRICS_FIELDS },
    defaultText: 'no HTTP endpoint',
    extension: true,
    description: 'The HTTP endpoint for Prometheus metrics and health checks.',
  },
  {
    key: 'bmp',
    type: { kind: 'list', of: { kind: 'object', fields: BMP_FIELDS } },
    defaultText: 'none',
    extension: true,
    description: 'BMP (RFC 7854) monitoring stations to export to: Peer Up/Down and every UPDATE received (pre-policy Adj-RIB-In). Read at start only.',
  },
  {
    key: 'birdSockets',
    type: { kind: 'object', fields: BIRD_SOCKETS_FIELDS },
    defaultText: 'none',
    extension: true,
    description: 'BIRD 1.6-compatible control sockets (birdc/birdcl, calico-node health checks, `calicoctl node status`); Calico mode uses `/var/run/calico/bird.ctl` and `bird6.ctl`. Read at start only.',
  },
];

/** Sections in the order the docs print them: key path prefix, title, fields. */
export const SECTIONS: readonly { path: string; title: string; fields: readonly FieldSpec[] }[] = [
  { path: '', title: 'Top level', fields: ROOT_FIELDS },
  { path: 'listen', title: '`listen`', fields: LISTEN_FIELDS },
  { path: 'control', title: '`control`', fields: CONTROL_FIELDS },
  { path: 'peers[]', title: '`peers[]`', fields: PEER_FIELDS },
  { path: 'peers[].gracefulRestart', title: '`peers[].gracefulRestart`', fields: GRACEFUL_RESTART_FIELDS },
  { path: 'peers[].maxPrefixes', title: '`peers[].maxPrefixes`', fields: MAX_PREFIXES_FIELDS },
  { path: 'peers[].bfd', title: '`peers[].bfd`', fields: BFD_FIELDS },
  { path: 'originate[]', title: '`originate[]`', fields: ORIGINATE_FIELDS },
  { path: 'routeReflector', title: '`routeReflector`', fields: ROUTE_REFLECTOR_FIELDS },
  { path: 'gracefulRestart', title: '`gracefulRestart`', fields: GLOBAL_GRACEFUL_RESTART_FIELDS },
  { path: 'kernel', title: '`kernel`', fields: KERNEL_FIELDS },
  { path: 'kernel.tunnel', title: '`kernel.tunnel`', fields: KERNEL_TUNNEL_FIELDS },
  { path: 'metrics', title: '`metrics`', fields: METRICS_FIELDS },
  { path: 'bmp[]', title: '`bmp[]`', fields: BMP_FIELDS },
  { path: 'birdSockets', title: '`birdSockets`', fields: BIRD_SOCKETS_FIELDS },
  { path: 'policies.<name>[]', title: '`policies.<name>[]` (a policy term; also the items of an inline `import` / `export`)', fields: TERM_FIELDS },
  { path: 'policies.<name>[].match', title: '`policies.<name>[].match`', fields: MATCH_FIELDS },
];

/** Checks that relate several keys (enforced in build.ts; listed here for the docs). */
export const CROSS_FIELD_RULES: readonly string[] = [
  'Peer names must be unique, whether written or derived.',
  'Peers must differ in `address` + `port`.',
  '`keepalive` must be at most `holdTime / 3` when `holdTime` is not 0 (RFC 4271 §10).',
  '`localAddress` must be the same family as `address`.',
  '`originate[].prefix` values must be unique.',
  '`originate[].nextHop` must be the same family as its `prefix`.',
  '`routeReflectorClient: true` only for iBGP peers (`asn` equal to the top-level `asn`).',
  '`import` / `export` given as a name must name an entry of `policies`; `all` and `none` cannot be policy names.',
  'A policy term must have an `action` or at least one modification.',
  'Ranges (`prefixLength`, `asPathLength`) need min ≤ max.',
];
