// SPDX-License-Identifier: Apache-2.0
// The normalized attributes of an UPDATE, as the RIB and `show routes` see them, and the way
// back: wire attributes for announcing a route to a peer. Here live RFC 6793 §4.2.3 (merging
// AS4_PATH/AS4_AGGREGATOR from OLD speakers) and §4.2.2 (sending them to OLD speakers), and the
// choice of NEXT_HOP vs MP_REACH_NLRI. No policy: next-hop-self, prepending, reflection rules
// and loop checks belong to the RIB/reflector, which edit a RouteAttributes first.
import { AS_TRANS, AsPathSegmentType, AttrFlag, AttrType, Origin } from './iana.ts';
import { afiSafiOf } from './types.ts';
import type { AsPathSegment, CodecContext, Family, LargeCommunity, Nlri, PathAttribute, UpdateMessage } from './types.ts';
import { mergeAs4Path, needsFourOctets } from './attributes/as-path.ts';
import { isImplementedAttribute } from './attributes/decode.ts';

export { asPathFromNumbers, asPathToString } from './attributes/as-path.ts';

export interface RouteAttributes {
  origin?: number;
  /** RFC 6793 §4.2.3 merged with AS4_PATH when !ctx.as4. */
  asPath: AsPathSegment[];
  /** NEXT_HOP, or the MP_REACH global next hop. */
  nextHop?: Uint8Array;
  linkLocalNextHop?: Uint8Array;
  med?: number;
  localPref?: number;
  atomicAggregate: boolean;
  aggregator?: { asn: number; address: Uint8Array };
  communities: number[];
  largeCommunities: LargeCommunity[];
  extendedCommunities: Uint8Array[];
  originatorId?: number;
  clusterList: number[];
  /** Optional transitive attributes Tern does not implement, to pass on. */
  unknown: PathAttribute[];
}

type Attr<K extends PathAttribute['kind']> = Extract<PathAttribute, { kind: K }>;

function find<K extends PathAttribute['kind']>(attrs: PathAttribute[], kind: K): Attr<K> | undefined {
  for (const a of attrs) if (a.kind === kind) return a as Attr<K>;
  return undefined;
}

const IPV6_LENGTH = 16;
/** LOCAL_PREF sent to internal peers when the route has none (the common default of BIRD, FRR, Cisco). */
const DEFAULT_LOCAL_PREF = 100;

export function routeAttributes(msg: UpdateMessage, family: Family, ctx: CodecContext): RouteAttributes {
  const attrs = msg.attributes;
  const out: RouteAttributes = {
    asPath: find(attrs, 'as-path')?.segments ?? [],
    atomicAggregate: false,
    communities: [],
    largeCommunities: [],
    extendedCommunities: [],
    clusterList: [],
    unknown: [],
  };
  for (const a of attrs) {
    switch (a.kind) {
      case 'origin':
        out.origin = a.origin;
        break;
      case 'med':
        out.med = a.med;
        break;
      case 'local-pref':
        out.localPref = a.localPref;
        break;
      case 'atomic-aggregate':
        out.atomicAggregate = true;
        break;
      case 'aggregator':
        out.aggregator = { asn: a.asn, address: a.address };
        break;
      case 'communities':
        out.communities = a.communities;
        break;
      case 'large-communities':
        out.largeCommunities = a.communities;
        break;
      case 'extended-communities':
        out.extendedCommunities = a.communities;
        break;
      case 'originator-id':
        out.originatorId = a.originatorId;
        break;
      case 'cluster-list':
        out.clusterList = a.clusterIds;
        break;
      case 'unknown':
        // RFC 4271 §5: unrecognized optional non-transitive attributes "MUST be quietly ignored
        // and not passed along"; optional transitive ones are passed on.
        if ((a.flags & AttrFlag.Transitive) !== 0) out.unknown.push(a);
        break;
      default:
        break;
    }
  }
  if (!ctx.as4) applyAs4Attributes(out, attrs);
  setNextHop(out, attrs, family);
  return out;
}

/**
 * RFC 6793 §4.2.3, for UPDATEs from an OLD speaker: "If the AGGREGATOR attribute contains an AS
 * number other than AS_TRANS, then ... the AS4_AGGREGATOR attribute and the AS4_PATH attribute
 * SHALL be ignored"; otherwise AS4_AGGREGATOR replaces AGGREGATOR and AS4_PATH is merged.
 * (Between NEW speakers these attributes are discarded, RFC 6793 §6: nothing to do.)
 */
function applyAs4Attributes(out: RouteAttributes, attrs: PathAttribute[]): void {
  const aggregator = find(attrs, 'aggregator');
  const as4Aggregator = find(attrs, 'as4-aggregator');
  if (aggregator && aggregator.asn !== AS_TRANS) return;
  if (aggregator && as4Aggregator) out.aggregator = { asn: as4Aggregator.asn, address: as4Aggregator.address };
  const as4Path = find(attrs, 'as4-path');
  if (as4Path) out.asPath = mergeAs4Path(out.asPath, as4Path.segments);
}

/** NEXT_HOP for IPv4 in the NLRI field; the MP_REACH next hop for the MP family (RFC 2545 §3, RFC 8950). */
function setNextHop(out: RouteAttributes, attrs: PathAttribute[], family: Family): void {
  const { afi, safi } = afiSafiOf(family);
  const mp = attrs.find((a): a is Attr<'mp-reach'> => a.kind === 'mp-reach' && a.afi === afi && a.safi === safi);
  if (mp && mp.nlri.length > 0) {
    if (mp.nextHop.length === 2 * IPV6_LENGTH) {
      out.nextHop = mp.nextHop.subarray(0, IPV6_LENGTH);
      out.linkLocalNextHop = mp.nextHop.subarray(IPV6_LENGTH);
    } else {
      out.nextHop = mp.nextHop;
    }
    return;
  }
  const nh = find(attrs, 'next-hop');
  if (nh && family === 'ipv4-unicast') out.nextHop = nh.nextHop;
}

// ===== Announcing =====

const WELL_KNOWN = AttrFlag.Transitive;
const OPTIONAL = AttrFlag.Optional;
const OPTIONAL_TRANSITIVE = AttrFlag.Optional | AttrFlag.Transitive;

/**
 * Wire attributes for announcing `nlri` of `family` with `route`: MP_REACH first (RFC 7606 §5.1),
 * then by type code. LOCAL_PREF, ORIGINATOR_ID and CLUSTER_LIST only to internal peers (RFC 4271
 * §5.1.5, RFC 4456 §8). To an OLD speaker, 4-octet ASNs become AS_TRANS plus AS4_PATH /
 * AS4_AGGREGATOR (RFC 6793 §4.2.2). Unknown transitive attributes get the Partial bit (RFC 4271 §5).
 */
export function attributesForAnnounce(route: RouteAttributes, family: Family, nlri: Nlri[], ctx: CodecContext): PathAttribute[] {
  const out: PathAttribute[] = [];
  const nextHop = route.nextHop ?? new Uint8Array(family === 'ipv4-unicast' ? 4 : IPV6_LENGTH);
  const ipv4InField = family === 'ipv4-unicast' && !(nextHop.length === IPV6_LENGTH && ctx.extendedNextHopIpv4);
  if (!ipv4InField) out.push(mpReach(route, nextHop, family, nlri));
  out.push({ code: AttrType.Origin, kind: 'origin', flags: WELL_KNOWN, origin: route.origin ?? Origin.Incomplete });
  out.push({ code: AttrType.AsPath, kind: 'as-path', flags: WELL_KNOWN, segments: route.asPath, fourOctet: ctx.as4 });
  if (ipv4InField) out.push({ code: AttrType.NextHop, kind: 'next-hop', flags: WELL_KNOWN, nextHop });
  if (route.med !== undefined) out.push({ code: AttrType.MultiExitDisc, kind: 'med', flags: OPTIONAL, med: route.med });
  if (ctx.peerType === 'ibgp') out.push({ code: AttrType.LocalPref, kind: 'local-pref', flags: WELL_KNOWN, localPref: route.localPref ?? DEFAULT_LOCAL_PREF });
  if (route.atomicAggregate) out.push({ code: AttrType.AtomicAggregate, kind: 'atomic-aggregate', flags: WELL_KNOWN });
  if (route.aggregator) {
    out.push({ code: AttrType.Aggregator, kind: 'aggregator', flags: OPTIONAL_TRANSITIVE, asn: route.aggregator.asn, address: route.aggregator.address, fourOctet: ctx.as4 });
  }
  if (route.communities.length > 0) out.push({ code: AttrType.Communities, kind: 'communities', flags: OPTIONAL_TRANSITIVE, communities: route.communities });
  if (ctx.peerType === 'ibgp' && route.originatorId !== undefined) out.push({ code: AttrType.OriginatorId, kind: 'originator-id', flags: OPTIONAL, originatorId: route.originatorId });
  if (ctx.peerType === 'ibgp' && route.clusterList.length > 0) out.push({ code: AttrType.ClusterList, kind: 'cluster-list', flags: OPTIONAL, clusterIds: route.clusterList });
  if (route.extendedCommunities.length > 0) {
    out.push({ code: AttrType.ExtendedCommunities, kind: 'extended-communities', flags: OPTIONAL_TRANSITIVE, communities: route.extendedCommunities });
  }
  if (!ctx.as4) pushAs4Attributes(out, route);
  if (route.largeCommunities.length > 0) out.push({ code: AttrType.LargeCommunity, kind: 'large-communities', flags: OPTIONAL_TRANSITIVE, communities: route.largeCommunities });
  for (const u of route.unknown) {
    if (isImplementedAttribute(u.code) || (u.flags & OPTIONAL_TRANSITIVE) !== OPTIONAL_TRANSITIVE) continue;
    out.push({ ...u, flags: u.flags | AttrFlag.Partial });
  }
  return sortAfterMp(out);
}

function mpReach(route: RouteAttributes, nextHop: Uint8Array, family: Family, nlri: Nlri[]): PathAttribute {
  const { afi, safi } = afiSafiOf(family);
  let hop = nextHop;
  if (route.linkLocalNextHop && nextHop.length === IPV6_LENGTH) {
    // RFC 2545 §3: global followed by link-local, length 32.
    hop = new Uint8Array(2 * IPV6_LENGTH);
    hop.set(nextHop, 0);
    hop.set(route.linkLocalNextHop.subarray(0, IPV6_LENGTH), IPV6_LENGTH);
  }
  return { code: AttrType.MpReachNlri, kind: 'mp-reach', flags: OPTIONAL, afi, safi, nextHop: hop, reserved: 0, nlri };
}

/** RFC 6793 §4.2.2: AS4_PATH (no confederation segments) and AS4_AGGREGATOR for an OLD peer. */
function pushAs4Attributes(out: PathAttribute[], route: RouteAttributes): void {
  if (needsFourOctets(route.asPath)) {
    const segments = route.asPath.filter((s) => s.type === AsPathSegmentType.AsSequence || s.type === AsPathSegmentType.AsSet);
    out.push({ code: AttrType.As4Path, kind: 'as4-path', flags: OPTIONAL_TRANSITIVE, segments });
  }
  if (route.aggregator && route.aggregator.asn > 0xffff) {
    out.push({ code: AttrType.As4Aggregator, kind: 'as4-aggregator', flags: OPTIONAL_TRANSITIVE, asn: route.aggregator.asn, address: route.aggregator.address });
  }
}

/** MP_REACH first, everything else ascending by type code (stable). */
function sortAfterMp(attrs: PathAttribute[]): PathAttribute[] {
  const rank = (a: PathAttribute): number => (a.kind === 'mp-reach' ? -1 : a.code);
  return attrs.map((a, i) => ({ a, i })).sort((x, y) => rank(x.a) - rank(y.a) || x.i - y.i).map((x) => x.a);
}
