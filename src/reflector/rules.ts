// SPDX-License-Identifier: Apache-2.0
// Route reflection as policy, not as a second RIB (code-style-anchors §9 item 17; BIRD
// bgp_preexport): who may receive which path, and the loop checks a route must pass on import.
// Pure predicates over the RIB's shapes. The attribute edits made on the way out (AS_PATH
// prepend, NEXT_HOP, MED, LOCAL_PREF, ORIGINATOR_ID, CLUSTER_LIST) live in rewrite.ts.
// Not here: import/export policy (policy/), the decision process (rib/decision.ts), the
// RFC 7606 handling of malformed ORIGINATOR_ID / CLUSTER_LIST (the decoder).
//
// Who may receive a path (RFC 4456 §6, RFC 4271 §9.2); "—" = never, the source itself is
// always excluded (split horizon):
//
//   learned from ↓ / sent to →     | eBGP peer | iBGP client | iBGP non-client
//   -------------------------------+-----------+-------------+----------------
//   eBGP peer                      |    yes    |     yes     |      yes
//   originated / kernel / connected|    yes    |     yes     |      yes
//   iBGP client (we reflect)       |    yes    |     yes     |      yes
//   iBGP non-client                |    yes    |     yes     |       —
//
// With no clients configured every iBGP peer is a non-client, so the last row is the plain
// full-mesh rule: iBGP-learned routes never go to another iBGP peer.
import type { RouteAttributes } from '../bgp/messages/route-view.ts';
import type { Path, PeerRef } from '../rib/types.ts';
import { u32ToDotted } from '../util/ip.ts';

export interface ReflectorConfig {
  localAsn: number;
  /** Our BGP Identifier (u32). */
  routerId: number;
  /** RFC 4456 §7 CLUSTER_ID (u32); the config defaults it to the router id. */
  clusterId: number;
  /** How many times our own AS may appear in a received AS_PATH (BIRD `allow local as`,
   *  Calico numAllowedLocalASNumbers). Default 0: any occurrence is a loop. */
  allowOwnAs?: number;
}

/**
 * Loop checks on a route received from a BGP peer, run before import policy. Returns why the
 * route must be rejected, or undefined when it passes.
 */
export function importRejectReason(attrs: RouteAttributes, from: PeerRef, cfg: ReflectorConfig): string | undefined {
  // RFC 4456 §8: "A router that recognizes the ORIGINATOR_ID attribute SHOULD ignore a route
  // received with its BGP Identifier as the ORIGINATOR_ID."
  if (attrs.originatorId !== undefined && attrs.originatorId === cfg.routerId) {
    return `ORIGINATOR_ID ${u32ToDotted(cfg.routerId)} is our router id (RFC 4456 §8)`;
  }
  // RFC 4456 §8: "If the local CLUSTER_ID is found in the CLUSTER_LIST, the advertisement
  // received SHOULD be ignored." Checked from every peer type: eBGP ones cannot carry the
  // attribute (RFC 7606 discards it), so the check costs nothing there.
  if (attrs.clusterList.includes(cfg.clusterId)) {
    return `CLUSTER_LIST contains our cluster id ${u32ToDotted(cfg.clusterId)} (RFC 4456 §8)`;
  }
  return asLoopReason(attrs, from, cfg);
}

/**
 * RFC 4271 §9.1.2: "If the AS_PATH attribute of a BGP route contains an AS loop, the BGP route
 * should be excluded from the Phase 2 decision function." The same paragraph leaves accepting
 * our own AS up to configuration, which is what allowOwnAs is. Every segment type counts: an
 * AS_SET holding our AS is a loop as much as an AS_SEQUENCE.
 */
function asLoopReason(attrs: RouteAttributes, from: PeerRef, cfg: ReflectorConfig): string | undefined {
  const allowed = cfg.allowOwnAs ?? 0;
  let seen = 0;
  for (const segment of attrs.asPath) for (const asn of segment.asns) if (asn === cfg.localAsn) seen++;
  if (seen <= allowed) return undefined;
  const times = seen === 1 ? 'once' : `${seen} times`;
  return `AS loop: our AS ${cfg.localAsn} appears ${times} in the AS_PATH from ${from.name}, ${allowed} allowed (RFC 4271 §9.1.2)`;
}

/**
 * May `path` be advertised to `to`? true, or the reason it may not (for `tern explain`).
 * `to.type` says whether the receiver is internal; `path.peer.rrClient` whether the source is
 * our route-reflector client.
 */
export function mayExport(path: Path, to: PeerRef): true | string {
  const from = path.peer;
  // Split horizon (BIRD bgp_preexport, GoBGP): the peer that sent the path already has it, and
  // an internal peer would reject its own route as a loop anyway.
  if (from !== undefined && from.id === to.id) return `split horizon: ${to.name} is the peer the route came from`;
  const wellKnown = wellKnownCommunityBlock(path, to);
  if (wellKnown) return wellKnown;
  // RFC 4456 §6: "3) Route from an EBGP peer: Send to all the Client and Non-Client Peers."
  // Routes we originate (or learn from the kernel) are ours to send to everyone.
  if (path.source !== 'bgp' || from === undefined || from.type === 'ebgp') return true;
  // From here the path was learned over iBGP. Sending it out of the AS is ordinary BGP.
  if (to.type === 'ebgp') return true;
  // RFC 4456 §8 makes the originator drop a route carrying its own id as ORIGINATOR_ID; do not
  // send what it must discard (FRR does the same). routerId is 0 until the peer's OPEN arrives.
  if (path.attrs.originatorId !== undefined && to.routerId !== 0 && path.attrs.originatorId === to.routerId) {
    return `${to.name} is the route's originator (ORIGINATOR_ID ${u32ToDotted(to.routerId)}, RFC 4456 §8)`;
  }
  // RFC 4456 §6: "2) A Route from a Client peer: Reflect to all the Non-Client peers and also to
  // the Client peers."
  if (from.rrClient) return true;
  // RFC 4456 §6: "1) A Route from a Non-Client IBGP peer: Reflect to all the Clients."
  if (to.rrClient) return true;
  // RFC 4271 §9.2: "When a BGP speaker receives an UPDATE message from an internal peer, the
  // receiving BGP speaker SHALL NOT re-distribute the routing information contained in that
  // UPDATE message to other internal peers (unless the speaker acts as a BGP Route Reflector)."
  return `iBGP route from non-client ${from.name} is not sent to non-client ${to.name} (RFC 4456 §6, RFC 4271 §9.2 full mesh)`;
}

// RFC 1997 well-known communities.
const NO_EXPORT = 0xffffff01;
const NO_ADVERTISE = 0xffffff02;
const NO_EXPORT_SUBCONFED = 0xffffff03;

/**
 * RFC 1997: "NO_EXPORT: All routes received carrying a communities attribute containing this
 * value MUST NOT be advertised outside a BGP confederation boundary"; "NO_ADVERTISE: ... MUST NOT
 * be advertised to other BGP peers"; "NO_EXPORT_SUBCONFED: ... MUST NOT be advertised to external
 * BGP peers". Tern runs no confederation, so every eBGP peer is outside the boundary.
 */
function wellKnownCommunityBlock(path: Path, to: PeerRef): string | undefined {
  const communities = path.attrs.communities;
  if (communities.length === 0) return undefined;
  if (communities.includes(NO_ADVERTISE)) return 'carries NO_ADVERTISE (RFC 1997)';
  if (to.type === 'ebgp' && communities.includes(NO_EXPORT)) return `carries NO_EXPORT: not sent to external peer ${to.name} (RFC 1997)`;
  if (to.type === 'ebgp' && communities.includes(NO_EXPORT_SUBCONFED)) return `carries NO_EXPORT_SUBCONFED: not sent to external peer ${to.name} (RFC 1997)`;
  return undefined;
}
