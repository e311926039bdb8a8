// SPDX-License-Identifier: Apache-2.0
// From the schema-checked tree to policy data: the `policies` map, and each peer's `import` /
// `export` reference with its RFC 8212 default. Enforces the rules the schema cannot say alone
// (a name must exist, `all`/`none` are reserved, a term must do something). No evaluation here.
import type { PolicyRef, PolicySpec, PolicyTerm } from '../policy/spec.ts';
import { INVALID, didYouMean, isMapping, setOwn, type PathSeg, type ProblemSink } from './check.ts';
import { RESERVED_POLICY_NAMES } from './schema-policy.ts';

/** Keys of a term that change the route; a term needs one of these or an `action`. */
const MODIFICATION_KEYS: readonly (keyof PolicyTerm)[] = [
  'removeCommunities',
  'addCommunities',
  'removeLargeCommunities',
  'addLargeCommunities',
  'localPref',
  'med',
  'prepend',
  'prependAsPath',
  'nextHop',
  'metric',
  'tunnel',
];

export function buildPolicies(raw: unknown, sink: ProblemSink): Record<string, PolicySpec> {
  const out: Record<string, PolicySpec> = {};
  if (!isMapping(raw)) return out;
  for (const [name, terms] of Object.entries(raw)) {
    if (RESERVED_POLICY_NAMES.includes(name)) {
      sink.add(['policies', name], `"${name}" is reserved (a peer's import/export: ${name} needs no policy); choose another name`, { atKey: true });
      continue;
    }
    const spec = terms === INVALID ? undefined : buildTerms(terms, ['policies', name], sink);
    if (spec) setOwn(out, name, spec);
  }
  return out;
}

/** The checked terms of one policy; undefined if the list itself was unusable. */
function buildTerms(raw: unknown, path: PathSeg[], sink: ProblemSink): PolicySpec | undefined {
  if (!Array.isArray(raw)) return undefined;
  const terms: PolicyTerm[] = [];
  raw.forEach((term: unknown, i) => {
    if (!isMapping(term)) return; // INVALID: its problems are already reported
    const t = term as PolicyTerm;
    // A key dropped for a bad value has its own problem; do not also call the term empty.
    if (t.action === undefined && !MODIFICATION_KEYS.some((k) => t[k] !== undefined) && !hasProblemUnder(sink, [...path, i])) {
      sink.add([...path, i], 'term does nothing: give it an `action` (accept or reject) or a modification such as `addCommunities`');
    }
    terms.push(t);
  });
  return terms;
}

function hasProblemUnder(sink: ProblemSink, path: readonly PathSeg[]): boolean {
  return sink.problems.some((p) => p.path.length > path.length && path.every((seg, i) => p.path[i] === seg));
}

/**
 * A peer's `import` or `export`. Absent: `all` for iBGP, `none` for eBGP — RFC 8212 §2: routes
 * from (and to) an EBGP peer "MUST NOT" be accepted (advertised) without explicit configuration.
 */
export function buildPolicyRef(
  raw: unknown,
  ibgp: boolean,
  policies: Record<string, PolicySpec>,
  knownNames: readonly string[],
  path: PathSeg[],
  sink: ProblemSink,
): PolicyRef {
  if (raw === undefined) return { kind: ibgp ? 'all' : 'none' };
  if (raw === 'all' || raw === 'none') return { kind: raw };
  if (typeof raw === 'string') {
    // A policy with problems of its own is left out of `policies` but its name still counts.
    if (Object.hasOwn(policies, raw) || knownNames.includes(raw)) return { kind: 'named', name: raw };
    const names = [...Object.keys(policies), ...RESERVED_POLICY_NAMES];
    sink.add(path, `unknown policy "${raw}": not in policies, and not all or none${didYouMean(raw, names)}`);
    return { kind: 'none' };
  }
  return { kind: 'inline', spec: buildTerms(raw, path, sink) ?? [] };
}
