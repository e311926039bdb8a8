// SPDX-License-Identifier: Apache-2.0
// What a reload changes: peers (matched by name) added, removed or changed and which keys,
// originated prefixes added or removed, named policies whose content changed, and which global
// settings moved. A peer whose `import`/`export` names a changed policy lists that key too, so the
// daemon can re-run policy (route refresh, re-export) without resetting the session. Acting on
// the diff is the daemon's job, not this module's.
import type { OriginateConfig, PeerConfig, TernConfig } from './types.ts';

export interface ConfigDiff {
  peersAdded: PeerConfig[];
  peersRemoved: PeerConfig[];
  peersChanged: { before: PeerConfig; after: PeerConfig; keys: string[] }[];
  /** A changed nextHop shows as the old entry removed and the new one added. */
  originateAdded: OriginateConfig[];
  originateRemoved: OriginateConfig[];
  /** Dotted key paths, e.g. "routerId", "listen.port", "control.socket", "routeReflector.clusterId". */
  globalChanged: string[];
  /** Names of policies added, removed, or whose terms changed (sorted). */
  policiesChanged: string[];
}

/** Keys of a peer whose change needs only policy re-evaluation, not a session reset. */
export const POLICY_KEYS: readonly string[] = ['import', 'export'];

export function diffConfig(a: TernConfig, b: TernConfig): ConfigDiff {
  const before = new Map(a.peers.map((p) => [p.name, p]));
  const after = new Map(b.peers.map((p) => [p.name, p]));
  const policiesChanged = changedKeys(a.policies, b.policies);
  const peersChanged: ConfigDiff['peersChanged'] = [];
  for (const p of b.peers) {
    const old = before.get(p.name);
    if (!old) continue;
    const keys = changedKeys(old, p);
    for (const key of POLICY_KEYS) {
      const ref = p[key as 'import' | 'export'];
      // Same name, new content: the policy changed under the peer.
      if (!keys.includes(key) && ref.kind === 'named' && policiesChanged.includes(ref.name)) keys.push(key);
    }
    if (keys.length > 0) peersChanged.push({ before: old, after: p, keys: keys.sort() });
  }
  const originKey = (o: OriginateConfig) => `${o.prefix} via ${o.nextHop ?? 'self'}`;
  const originBefore = new Set(a.originate.map(originKey));
  const originAfter = new Set(b.originate.map(originKey));
  return {
    peersAdded: b.peers.filter((p) => !before.has(p.name)),
    peersRemoved: a.peers.filter((p) => !after.has(p.name)),
    peersChanged,
    originateAdded: b.originate.filter((o) => !originBefore.has(originKey(o))),
    originateRemoved: a.originate.filter((o) => !originAfter.has(originKey(o))),
    globalChanged: globalChanges(a, b),
    policiesChanged,
  };
}

/** Keys whose values differ, in a stable order (union of both objects' keys, sorted). */
function changedKeys(a: object, b: object): string[] {
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  const keys = [...new Set([...Object.keys(ra), ...Object.keys(rb)])].sort();
  return keys.filter((k) => JSON.stringify(ra[k]) !== JSON.stringify(rb[k]));
}

function globalChanges(a: TernConfig, b: TernConfig): string[] {
  const out: string[] = [];
  // routerIdNum follows routerId; source (the file name) is not a setting.
  for (const key of ['routerId', 'asn', 'logLevel'] as const) if (a[key] !== b[key]) out.push(key);
  for (const key of changedKeys(a.listen, b.listen)) out.push(`listen.${key}`);
  for (const key of changedKeys(a.control, b.control)) out.push(`control.${key}`);
  for (const key of changedKeys(a.routeReflector, b.routeReflector)) out.push(`routeReflector.${key}`);
  for (const key of changedKeys(a.gracefulRestart, b.gracefulRestart)) out.push(`gracefulRestart.${key}`);
  if (a.metrics?.listen !== b.metrics?.listen) out.push('metrics.listen');
  // The kernel export policy is applied live; the other kernel settings take a restart.
  for (const key of changedKeys(a.kernel ?? {}, b.kernel ?? {})) if (key !== 'export') out.push(`kernel.${key}`);
  if (JSON.stringify(a.bmp ?? []) !== JSON.stringify(b.bmp ?? [])) out.push('bmp');
  if (JSON.stringify(a.birdSockets ?? {}) !== JSON.stringify(b.birdSockets ?? {})) out.push('birdSockets');
  return out;
}
