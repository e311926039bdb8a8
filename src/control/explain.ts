// SPDX-License-Identifier: Apache-2.0
// `tern explain PREFIX`: everything Tern knows about one prefix, and why. For the prefix (exact,
// else the longest covering prefix in the Loc-RIB): every path per source as received, the import
// verdict (loop check or policy term), attributes after import; which path won and why (the
// decision's reason for each loser, comparePaths for what the winner beat); the ECMP set; per
// peer whether it is advertised, why not (split horizon, RR rule, well-known community, export
// policy term, no next hop) and with which attributes, against the Adj-RIB-Out right now; and
// sections other modules add (kernel sync) through registerExplainSection.
// Read-only: it asks the RIB through the same code paths the RIB uses, and changes nothing.
// The text form is formatExplain; the JSON form is the ExplainResult object as it is.
import type { Daemon } from '../daemon.ts';
import type { RouteAttributes } from '../bgp/messages/route-view.ts';
import { asPathToString } from '../bgp/messages/route-view.ts';
import type { Family, Nlri } from '../bgp/messages/types.ts';
import { parsePrefix, prefixToString } from '../bgp/messages/nlri.ts';
import { attrsKey } from '../rib/attrs.ts';
import { comparePaths } from '../rib/decision.ts';
import { prefixKey } from '../rib/prefix-key.ts';
import { localPathId, type AdjInEntry } from '../rib/rib.ts';
import type { Destination, Path, RouteSource } from '../rib/types.ts';
import { bytesToIp, ipToBytes, u32ToDotted } from '../util/ip.ts';
import { CommandError } from './server.ts';
import { findPeer, isPeerDisabled } from './peer-ops.ts';

// ===== JSON shape (public: extend, never rename) =====

export interface AttributesView {
  nextHop: string | null;
  linkLocalNextHop: string | null;
  asPath: string;
  origin: 'igp' | 'egp' | 'incomplete' | null;
  localPref: number | null;
  med: number | null;
  communities: string[];
  largeCommunities: string[];
  extendedCommunities: string[];
  originatorId: string | null;
  clusterList: string[];
  atomicAggregate: boolean;
}

export interface ExplainPath {
  /** How the text output names this path: the peer name (with " #id" for ADD-PATH), or the source. */
  id: string;
  source: RouteSource;
  peer: string | null;
  pathId: number | null;
  /** As received from the peer (before import); null for local routes. */
  received: AttributesView | null;
  import: { accepted: boolean; reason: string | null; decidedBy: string | null };
  /** After import policy; null when rejected. */
  attributes: AttributesView | null;
  stale: boolean;
  /** Why it can never be best (AS loop, unreachable next hop). */
  ineligible: string | null;
  best: boolean;
  multipath: boolean;
  /** Not best: the decision step and rule at which it lost. */
  lostBecause: string | null;
  /** The best path: what it beat every other candidate on (pairwise, RFC 4271 §9.1.2). */
  beats: { path: string; reason: string; pairwiseWinner: boolean }[];
}

export interface ExplainAdvert {
  path: string;
  sent: boolean;
  reason: string | null;
  decidedBy: string | null;
  pathId: number | null;
  attributes: AttributesView | null;
}

export interface ExplainExport {
  peer: string;
  state: string;
  disabled: boolean;
  /** Whether Tern advertises (or would, once established) the prefix to this peer. */
  advertised: boolean;
  /** The paths considered for this peer: the best, or the ECMP set with ADD-PATH. */
  paths: ExplainAdvert[];
  /** What the peer's Adj-RIB-Out holds for the prefix now (as sent). */
  adjRibOut: (AttributesView & { pathId: number | null })[];
  /** The Adj-RIB-Out holds exactly what the paths above say should be sent. */
  inSync: boolean;
  note: string | null;
}

export interface ExplainSection {
  /** One line for the text output, e.g. "installed in table 254 via 10.0.0.2". */
  summary: string;
  lines?: string[];
  data?: unknown;
}

export interface ExplainResult {
  /** The prefix asked about. */
  query: string;
  family: Family;
  /** exact: the prefix itself; covering: the longest Loc-RIB prefix containing it; none: nothing. */
  match: 'exact' | 'covering' | 'none';
  /** The prefix explained (null when match is none). */
  prefix: string | null;
  note: string | null;
  paths: ExplainPath[];
  best: string | null;
  ecmp: string[];
  exports: ExplainExport[];
  sections: Record<string, ExplainSection>;
}

// ===== Sections other modules add =====

export interface ExplainSectionContext {
  daemon: Daemon;
  family: Family;
  /** The prefix explained, e.g. "10.0.0.0/24" (null when nothing matched). */
  prefix: string | null;
  destination: Destination | undefined;
}

export type ExplainSectionFn = (ctx: ExplainSectionContext) => ExplainSection | Promise<ExplainSection>;

const sections = new Map<string, ExplainSectionFn>();
/** Sections always present, with what they say until their module registers. */
const PLACEHOLDERS: Record<string, ExplainSection> = { kernel: { summary: 'kernel sync not enabled' } };

/** Add (or replace) a named section of `tern explain`; returns a function that removes it. */
export function registerExplainSection(name: string, fn: ExplainSectionFn): () => void {
  sections.set(name, fn);
  return () => {
    if (sections.get(name) === fn) sections.delete(name);
  };
}

// ===== Prefix arguments (shared with watch and show routes filters) =====

/** "10.0.0.0/24", or a bare address as a host prefix; CommandError when neither. */
export function parsePrefixArg(value: unknown, what = 'prefix'): Nlri {
  const text = String(value ?? '');
  const bytes = text.includes('/') ? undefined : ipToBytes(text);
  const nlri = bytes ? parsePrefix(`${text}/${bytes.length * 8}`) : parsePrefix(text);
  if (!nlri) throw new CommandError(`bad ${what} "${text}" (expected e.g. 10.0.0.0/24 or 2001:db8::/32)`);
  return nlri;
}

/** `outer` contains `inner` (same family, not longer, same leading bits). */
export function prefixCovers(outer: Nlri, inner: Nlri): boolean {
  if (outer.family !== inner.family || outer.length > inner.length) return false;
  return prefixKey({ family: inner.family, length: outer.length, address: inner.address }) === prefixKey({ family: outer.family, length: outer.length, address: outer.address });
}

// ===== Building the explanation =====

export async function explain(daemon: Daemon, args: Record<string, unknown>): Promise<ExplainResult> {
  const asked = parsePrefixArg(args.prefix);
  const only = args.peer === undefined ? undefined : findPeer(daemon, args.peer);
  const found = locate(daemon, asked);
  const family = asked.family;
  const prefix = found.nlri ? prefixToString(found.nlri) : null;
  const dest = found.key ? daemon.rib.loc.get(found.key) : undefined;
  const paths = found.key ? collectPaths(daemon, found.key, dest) : [];
  const best = dest?.decision.best;
  const result: ExplainResult = {
    query: String(args.prefix),
    family,
    match: found.match,
    prefix,
    note: found.note,
    paths: paths.map((p) => p.view),
    best: best ? pathLabel(best) : null,
    ecmp: dest ? dest.decision.multipath.map(pathLabel) : [],
    exports: [],
    sections: {},
  };
  const peers = only ? [only] : [...daemon.peers.values()];
  if (dest) for (const entry of peers) result.exports.push(explainExportTo(daemon, entry, dest));
  for (const [name, placeholder] of Object.entries(PLACEHOLDERS)) if (!sections.has(name)) result.sections[name] = placeholder;
  for (const [name, fn] of sections) {
    try {
      result.sections[name] = await fn({ daemon, family, prefix, destination: dest });
    } catch (err) {
      result.sections[name] = { summary: `section failed: ${err instanceof Error ? err.message : String(err)}` };
    }
  }
  return result;
}

interface Located {
  match: ExplainResult['match'];
  key?: string;
  nlri?: Nlri;
  note: string | null;
}

/** The exact prefix if any table has it (Loc-RIB or a rejected Adj-RIB-In entry), else the longest covering Loc-RIB prefix. */
function locate(daemon: Daemon, asked: Nlri): Located {
  const exactKey = prefixKey(asked);
  if (daemon.rib.loc.get(exactKey)) return { match: 'exact', key: exactKey, nlri: asked, note: null };
  for (const entry of daemon.peers.values()) {
    if (daemon.rib.adjInFor(entry.ref.id, exactKey).length) return { match: 'exact', key: exactKey, nlri: asked, note: `${prefixToString(asked)} is not in the Loc-RIB: no path was accepted` };
  }
  for (let length = asked.length - 1; length >= 0; length--) {
    const shorter: Nlri = { family: asked.family, length, address: asked.address };
    const dest = daemon.rib.loc.get(prefixKey(shorter));
    if (dest) {
      return { match: 'covering', key: dest.key, nlri: dest.nlri, note: `${prefixToString(asked)} is not in the Loc-RIB; explaining the longest covering prefix ${prefixToString(dest.nlri)}` };
    }
  }
  return { match: 'none', note: `${prefixToString(asked)} is not in the Loc-RIB, no covering prefix is, and no peer sent it` };
}

interface CollectedPath {
  view: ExplainPath;
  path?: Path;
}

function collectPaths(daemon: Daemon, key: string, dest: Destination | undefined): CollectedPath[] {
  const out: CollectedPath[] = [];
  const seen = new Set<Path>();
  for (const entry of daemon.peers.values()) {
    for (const e of daemon.rib.adjInFor(entry.ref.id, key)) {
      if (e.path) seen.add(e.path);
      out.push({ view: bgpPathView(daemon, entry.ref.id, entry.config.name, e, dest), path: e.path });
    }
  }
  for (const p of dest?.paths ?? []) if (!seen.has(p)) out.push({ view: pathView(p, null, { accepted: true, reason: null, decidedBy: null }, dest), path: p });
  return out;
}

function bgpPathView(daemon: Daemon, peerId: number, peerName: string, e: AdjInEntry, dest: Destination | undefined): ExplainPath {
  const verdict = daemon.rib.explainImport(peerId, e);
  const imported = {
    accepted: !!e.path,
    reason: e.rejected ?? null,
    decidedBy: verdict?.decidedBy ?? null,
  };
  if (e.path) return pathView(e.path, e.raw, imported, dest, daemon);
  const id = e.nlri.pathId === undefined ? peerName : `${peerName} #${e.nlri.pathId}`;
  return {
    id,
    source: 'bgp',
    peer: peerName,
    pathId: e.nlri.pathId ?? null,
    received: attributesView(e.raw),
    import: imported,
    attributes: null,
    stale: e.stale,
    ineligible: null,
    best: false,
    multipath: false,
    lostBecause: null,
    beats: [],
  };
}

function pathView(p: Path, raw: RouteAttributes | null, imported: ExplainPath['import'], dest: Destination | undefined, daemon?: Daemon): ExplainPath {
  const decision = dest?.decision;
  const best = decision?.best === p;
  const view: ExplainPath = {
    id: pathLabel(p),
    source: p.source,
    peer: p.peer?.name ?? null,
    pathId: p.nlri.pathId ?? null,
    received: raw ? attributesView(raw) : null,
    import: imported,
    attributes: attributesView(p.attrs),
    stale: p.stale,
    ineligible: p.ineligible ?? null,
    best,
    multipath: !!decision?.multipath.includes(p),
    lostBecause: best ? null : (decision?.reasons.get(p) ?? null),
    beats: [],
  };
  if (best && dest && daemon) view.beats = beatsOf(daemon, p, dest);
  return view;
}

/** What the best path beat each other path on. Pairwise comparison can disagree with the set
 *  elimination only through MED (not transitive); then pairwiseWinner is false and the reason is the decision's. */
function beatsOf(daemon: Daemon, best: Path, dest: Destination): ExplainPath['beats'] {
  const ctx = { localAsn: daemon.config.asn, routerId: daemon.config.routerIdNum };
  return dest.paths
    .filter((p) => p !== best)
    .map((p) => {
      const { winner, reason } = comparePaths(best, p, ctx);
      if (winner === best) return { path: pathLabel(p), reason, pairwiseWinner: true };
      const setReason = dest.decision.reasons.get(p) ?? reason;
      return { path: pathLabel(p), reason: `${setReason} (pairwise ${pathLabel(p)} would win: MED compares only within one neighbor AS)`, pairwiseWinner: false };
    });
}

function explainExportTo(daemon: Daemon, entry: ReturnType<typeof findPeer>, dest: Destination): ExplainExport {
  const id = entry.ref.id;
  const rib = daemon.rib;
  const out = rib.outInfo(id);
  const addPath = !!out?.addPathTx.has(dest.family);
  const best = dest.decision.best;
  const candidates = addPath ? dest.decision.multipath : best ? [best] : [];
  const paths: ExplainAdvert[] = candidates.map((p) => {
    const x = rib.explainExport(id, p, dest.family);
    return {
      path: pathLabel(p),
      sent: x.sent,
      reason: x.reason ?? null,
      decidedBy: x.decidedBy ?? null,
      pathId: addPath ? localPathId(p) : null,
      attributes: x.attrs ? attributesView(x.attrs) : null,
    };
  });
  const sentNow = rib.adjOutFor(id, dest);
  const expected = candidates
    .map((p, i) => ({ p, x: paths[i]! }))
    .filter(({ x }) => x.sent)
    .map(({ p }) => {
      const attrs = rib.explainExport(id, p, dest.family).attrs!;
      return `${addPath ? localPathId(p) : '-'}|${attrsKey(attrs)}`;
    })
    .sort();
  const actual = sentNow.map((s) => `${s.nlri.pathId ?? '-'}|${s.attrs.key}`).sort();
  const inSync = out === undefined || (expected.length === actual.length && expected.every((k, i) => k === actual[i]));
  let note: string | null = null;
  if (!best) note = 'no best path: nothing to advertise';
  else if (!inSync) note = rib.pending(id) > 0 ? `the Adj-RIB-Out differs: ${rib.pending(id)} change(s) queued for this peer` : 'the Adj-RIB-Out differs from what export says now';
  return {
    peer: entry.config.name,
    state: entry.session.state,
    disabled: isPeerDisabled(entry),
    advertised: paths.some((p) => p.sent) || (out === undefined && paths.some((p) => p.reason?.startsWith('session not established'))),
    paths,
    adjRibOut: sentNow.map((s) => ({ ...attributesView(s.attrs), pathId: s.nlri.pathId ?? null })),
    inSync,
    note,
  };
}

function pathLabel(p: Path): string {
  if (!p.peer) return p.interface ? `${p.source} (${p.interface})` : p.source;
  return p.nlri.pathId === undefined ? p.peer.name : `${p.peer.name} #${p.nlri.pathId}`;
}

const ORIGINS = ['igp', 'egp', 'incomplete'] as const;

export function attributesView(a: Readonly<RouteAttributes>): AttributesView {
  return {
    nextHop: a.nextHop ? bytesToIp(a.nextHop) : null,
    linkLocalNextHop: a.linkLocalNextHop ? bytesToIp(a.linkLocalNextHop) : null,
    asPath: asPathToString(a.asPath),
    origin: a.origin === undefined ? null : (ORIGINS[a.origin] ?? null),
    localPref: a.localPref ?? null,
    med: a.med ?? null,
    communities: a.communities.map((c) => `${c >>> 16}:${c & 0xffff}`),
    largeCommunities: a.largeCommunities.map(([g, l1, l2]) => `${g}:${l1}:${l2}`),
    extendedCommunities: a.extendedCommunities.map((b) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('')),
    originatorId: a.originatorId === undefined ? null : u32ToDotted(a.originatorId),
    clusterList: a.clusterList.map(u32ToDotted),
    atomicAggregate: a.atomicAggregate,
  };
}

// ===== Text =====

/** One line: "next hop 10.0.0.2, AS path 65100 65200, origin igp, local pref 200, communities 65000:1". */
export function describeAttributes(a: AttributesView): string {
  const parts = [`next hop ${a.nextHop ?? '-'}${a.linkLocalNextHop ? ` (${a.linkLocalNextHop})` : ''}`, `AS path ${a.asPath || '(empty)'}`, `origin ${a.origin ?? '-'}`];
  if (a.localPref !== null) parts.push(`local pref ${a.localPref}`);
  if (a.med !== null) parts.push(`MED ${a.med}`);
  if (a.communities.length) parts.push(`communities ${a.communities.join(' ')}`);
  if (a.largeCommunities.length) parts.push(`large communities ${a.largeCommunities.join(' ')}`);
  if (a.extendedCommunities.length) parts.push(`extended communities ${a.extendedCommunities.join(' ')}`);
  if (a.originatorId) parts.push(`originator ${a.originatorId}`);
  if (a.clusterList.length) parts.push(`cluster list ${a.clusterList.join(' ')}`);
  if (a.atomicAggregate) parts.push('atomic aggregate');
  return parts.join(', ');
}

export function formatExplain(r: ExplainResult): string {
  const lines: string[] = [`${r.prefix ?? r.query} (${r.family})`];
  if (r.note) lines.push(`  ${r.note}`);
  lines.push('', `Paths (${r.paths.length}):`);
  if (!r.paths.length) lines.push('  none');
  for (const p of r.paths) lines.push(...formatPath(p));
  lines.push('', `Best: ${r.best ?? 'none'}`, `ECMP set: ${r.ecmp.length ? r.ecmp.join(', ') : 'none'}`);
  lines.push('', 'Advertised to:');
  if (!r.exports.length) lines.push(r.prefix && r.best ? '  no peers' : '  nothing to advertise');
  for (const x of r.exports) lines.push(...formatExport(x));
  for (const [name, s] of Object.entries(r.sections)) {
    lines.push('', `${name[0]!.toUpperCase()}${name.slice(1)}:`, `  ${s.summary}`, ...(s.lines ?? []).map((l) => `    ${l}`));
  }
  return lines.join('\n') + '\n';
}

function formatPath(p: ExplainPath): string[] {
  const mark = p.best ? '*' : p.multipath ? '+' : ' ';
  const tags = [p.best ? 'best' : '', p.multipath && !p.best ? 'ECMP' : '', p.stale ? 'stale' : '', p.source !== 'bgp' ? 'local' : ''].filter(Boolean);
  const lines = [`  ${mark} ${p.id}${tags.length ? `  [${tags.join(', ')}]` : ''}`];
  if (p.received) lines.push(`      received:     ${describeAttributes(p.received)}`);
  if (p.source === 'bgp') {
    const verdict = p.import.accepted ? `accepted${p.import.decidedBy ? ` (${p.import.decidedBy})` : ''}` : `REJECTED: ${p.import.reason ?? 'unknown'}`;
    lines.push(`      import:       ${verdict}`);
  }
  if (p.attributes) lines.push(`      after import: ${describeAttributes(p.attributes)}`);
  if (p.ineligible) lines.push(`      ineligible:   ${p.ineligible}`);
  if (p.lostBecause && p.import.accepted) lines.push(`      lost:         ${p.lostBecause}`);
  for (const b of p.beats) lines.push(`      beats ${b.path}: ${b.reason}`);
  return lines;
}

function formatExport(x: ExplainExport): string[] {
  const state = x.disabled ? `${x.state}, disabled` : x.state;
  const lines: string[] = [];
  const sent = x.paths.filter((p) => p.sent);
  if (sent.length) lines.push(`  ${x.peer} (${state}): yes, ${sent.map((p) => (p.pathId === null ? p.path : `${p.path} as path id ${p.pathId}`)).join(', ')}`);
  else lines.push(`  ${x.peer} (${state}): no${x.paths[0]?.reason ? ` — ${x.paths[0].reason}` : ''}`);
  for (const p of x.paths) {
    if (p.sent && p.attributes) lines.push(`      with: ${describeAttributes(p.attributes)}${p.decidedBy ? ` (${p.decidedBy})` : ''}`);
    else if (!p.sent && x.paths.length > 1) lines.push(`      ${p.path}: ${p.reason ?? 'not sent'}`);
  }
  const adj = x.adjRibOut.length ? `${x.adjRibOut.length} route(s)` : 'nothing';
  lines.push(`      Adj-RIB-Out now: ${adj}, ${x.inSync ? 'as expected' : 'DIFFERS'}${x.note ? ` (${x.note})` : ''}`);
  return lines;
}

/** The control command this module adds (registered by commands.ts). */
export const explainCommands = {
  explain: (daemon: Daemon, args: Record<string, unknown>) => explain(daemon, args),
};
