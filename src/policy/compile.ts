// SPDX-License-Identifier: Apache-2.0
// Policy compilation and evaluation. A validated PolicySpec becomes a CompiledPolicy whose terms
// are closures (match.ts, actions.ts); evaluate() runs them in order on one route:
//   - a term whose match holds applies its modifications, then ends with its `action` if it has one;
//   - a term without an action lets evaluation go on (modifications accumulate);
//   - falling off the end rejects.
// Also the two trivial policies (`all`, `none`) and resolvePolicy for a peer's import/export.
// No I/O, no state kept between routes; the input route is never modified.
import { compileModifications, type Modification } from './actions.ts';
import { compileMatch, type Condition, type EvalState } from './match.ts';
import type { PolicyRef, PolicySpec } from './spec.ts';
import type { CompiledPolicy, PolicyContext, PolicyInput, PolicyVerdict } from './types.ts';

export type { PolicyRef, PolicySpec } from './spec.ts';

interface CompiledTerm {
  matches: Condition;
  modifications: Modification[];
  action?: 'accept' | 'reject';
  /** e.g. `calico-export term 2 (local-block)`: term N is `policies.<name>[N]` in the config. */
  label: string;
}

export function compilePolicy(name: string, spec: PolicySpec): CompiledPolicy {
  const terms: CompiledTerm[] = spec.map((t, i) => {
    const term: CompiledTerm = {
      matches: compileMatch(t.match),
      modifications: compileModifications(t),
      label: `${name} term ${i}${t.name ? ` (${t.name})` : ''}`,
    };
    if (t.action) term.action = t.action;
    return term;
  });
  const fallOff = `${name}: no term decided: reject`;
  return {
    name,
    evaluate(input: PolicyInput, ctx: PolicyContext): PolicyVerdict {
      const s: EvalState = { input, ctx, attrs: input.attrs, copied: false, prepend: 0 };
      for (const term of terms) {
        if (!term.matches(s)) continue;
        for (const modify of term.modifications) modify(s);
        if (term.action) return verdict(s, term.action === 'accept', `${term.label}: ${term.action}`);
      }
      return verdict(s, false, fallOff);
    },
  };
}

function verdict(s: EvalState, accept: boolean, decidedBy: string): PolicyVerdict {
  const out: PolicyVerdict = {
    accept,
    // The contract: a private copy when an action changed something, else the input itself
    // (read-only): a million unchanged routes cost no copies.
    attrs: s.attrs as PolicyVerdict['attrs'],
    prepend: s.prepend,
    decidedBy,
  };
  if (s.nextHop !== undefined) out.nextHop = s.nextHop;
  if (s.metric !== undefined) out.metric = s.metric;
  if (s.tunnel !== undefined) out.tunnel = s.tunnel;
  return out;
}

function constant(name: string, accept: boolean): CompiledPolicy {
  const decidedBy = `${name}: ${accept ? 'accept' : 'reject'}`;
  return {
    name,
    evaluate: (input) => ({ accept, attrs: input.attrs as PolicyVerdict['attrs'], prepend: 0, decidedBy }),
    prefixIndependent: true,
  };
}

/** `import: all` / `export: all`. */
export const ACCEPT_ALL: CompiledPolicy = constant('all', true);
/** `import: none` / `export: none`, and the eBGP default (RFC 8212). */
export const REJECT_ALL: CompiledPolicy = constant('none', false);

// Compiled named policies, per spec object: peers sharing a policy share its closures.
const compiled = new WeakMap<PolicySpec, Map<string, CompiledPolicy>>();

function cachedCompile(name: string, spec: PolicySpec): CompiledPolicy {
  let byName = compiled.get(spec);
  if (!byName) {
    byName = new Map();
    compiled.set(spec, byName);
  }
  let policy = byName.get(name);
  if (!policy) {
    policy = compilePolicy(name, spec);
    byName.set(name, policy);
  }
  return policy;
}

/**
 * The policy a peer's `import` or `export` refers to. An inline policy is named after the peer
 * (`bird1 export`), so decidedBy says where it came from. A name missing from `policies` cannot
 * pass config validation; here it throws.
 */
export function resolvePolicy(
  ref: PolicyRef,
  policies: Record<string, PolicySpec>,
  peerName: string,
  direction?: 'import' | 'export',
): CompiledPolicy {
  switch (ref.kind) {
    case 'all':
      return ACCEPT_ALL;
    case 'none':
      return REJECT_ALL;
    case 'named': {
      const spec = Object.hasOwn(policies, ref.name) ? policies[ref.name] : undefined;
      if (!spec) throw new Error(`peer ${peerName}: unknown policy "${ref.name}"`);
      return cachedCompile(ref.name, spec);
    }
    case 'inline':
      return cachedCompile(`${peerName} ${direction ?? 'inline'}`, ref.spec);
  }
}
