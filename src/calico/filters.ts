// SPDX-License-Identifier: Apache-2.0
// BGPFilter rules → Tern policy terms, rule for rule and in order, with the meaning confd's
// BIRD functions give them (confd/pkg/resource/template/template_funcs.go):
//   cidr + matchOperator Equal/NotEqual/In/NotIn (+ prefixLength) → prefix / prefixWithin (+ not)
//   source RemotePeers → source: bgp;  interface → interface;  peerType → see below
//   communities → community / largeCommunity;  asPathPrefix → asPathPrefix;  priority → localPref
//   operations addCommunity / prependASPath / setPriority → addCommunities / prependAsPath / localPref
// A rule with no condition is a bare accept/reject. `peerType` is resolved when the policy is
// built, from the peer's is_same_as (peer AS == effective local AS, so per-peer localASNumber
// counts), as BIRD's `if (is_same_as)` guard does: the rule is kept, unguarded, or left out.
import type { IpFamily } from './net.ts';
import { parseCidr } from './net.ts';
import { specOf, str, type Spec } from './model.ts';
import type { KObj } from './resources.ts';

/** 2^31 − 1: Calico converts between route priority and LOCAL_PREF as x = 2^31−1 − y. */
export const BIRD_INT_MAX = 2147483647;

export type Term = Record<string, unknown>;
export type Direction = 'import' | 'export';

function rulesOf(filter: KObj, dir: Direction, family: IpFamily): Spec[] {
  const spec = specOf(filter);
  const key = `${dir}V${family}`;
  return Array.isArray(spec[key]) ? (spec[key] as Spec[]) : [];
}

export function hasRules(filter: KObj, dir: Direction, family: IpFamily): boolean {
  return rulesOf(filter, dir, family).length > 0;
}

/** Terms for one filter, direction and family. */
export function filterTerms(filter: KObj, dir: Direction, family: IpFamily, localAsn: number, sameAs: boolean, warnings: string[]): Term[] {
  const name = filter.metadata?.name ?? '';
  const out: Term[] = [];
  rulesOf(filter, dir, family).forEach((rule, i) => {
    const where = `BGPFilter ${name} ${dir}V${family}[${i}]`;
    const peerType = str(rule.peerType).toLowerCase();
    if (peerType !== '' && (peerType === 'ibgp') !== sameAs) return; // guarded out for this peer type
    const term = ruleTerm(rule, family, localAsn, where, warnings);
    if (term) out.push({ name: termName(name, dir, family, i), ...term });
  });
  return out;
}

function termName(filter: string, dir: Direction, family: IpFamily, i: number): string {
  const n = `${filter}.${dir}V${family}.${i}`;
  return n.length <= 100 ? n : n.slice(n.length - 100);
}

function ruleTerm(rule: Spec, family: IpFamily, localAsn: number, where: string, warnings: string[]): Term | undefined {
  const action = str(rule.action).toLowerCase();
  if (action !== 'accept' && action !== 'reject') {
    warnings.push(`${where}: unknown action "${str(rule.action)}"; rule dropped`);
    return undefined;
  }
  const match: Record<string, unknown> = {};
  const cidr = str(rule.cidr);
  if (cidr) {
    const cond = cidrCondition(cidr, str(rule.matchOperator), rule.prefixLength as Spec | undefined, family, where, warnings);
    if (!cond) return undefined;
    Object.assign(match, cond);
  }
  if (rule.source !== undefined && rule.source !== '') {
    if (str(rule.source) !== 'RemotePeers') {
      warnings.push(`${where}: unknown source "${str(rule.source)}"; rule dropped`);
      return undefined;
    }
    match.source = 'bgp';
  }
  if (str(rule.interface)) match.interface = str(rule.interface);
  const values = ((rule.communities ?? {}) as Spec).values;
  if (Array.isArray(values) && values.length > 0) {
    const v = str(values[0]);
    if (v.split(':').length === 3) match.largeCommunity = v;
    else match.community = v;
  }
  if (Array.isArray(rule.asPathPrefix) && rule.asPathPrefix.length > 0) match.asPathPrefix = [rule.asPathPrefix.map(Number)];
  // priority P: BIRD's `defined(bgp_local_pref) && bgp_local_pref = 2147483647-P`.
  if (rule.priority !== undefined && rule.priority !== null) match.localPref = BIRD_INT_MAX - Number(rule.priority);
  const term: Term = {};
  if (Object.keys(match).length > 0) term.match = match;
  if (Array.isArray(rule.operations) && !applyOperations(term, rule.operations as Spec[], localAsn, where, warnings)) return undefined;
  term.action = action;
  return term;
}

function cidrCondition(cidr: string, op: string, len: Spec | undefined, family: IpFamily, where: string, warnings: string[]): Record<string, unknown> | undefined {
  const c = parseCidr(cidr);
  if (!c) {
    warnings.push(`${where}: bad cidr "${cidr}"; rule dropped`);
    return undefined;
  }
  const prefix = cidr;
  const inner: Record<string, unknown> = {};
  if (op === 'Equal' || op === 'NotEqual') {
    if (len) warnings.push(`${where}: prefixLength with ${op} is ignored`);
    inner.prefix = prefix;
  } else if (op === 'In' || op === 'NotIn') {
    inner.prefixWithin = prefix;
    if (len) {
      // BIRD's `net ~ [ P{min,max} ]`: min no shorter than P's own length, max no longer than the family's.
      const min = Math.max(c.length, Number(len.min ?? c.length));
      const max = Math.min(family === 4 ? 32 : 128, Number(len.max ?? (family === 4 ? 32 : 128)));
      inner.prefixLength = { min, max };
    }
  } else {
    warnings.push(`${where}: unknown matchOperator "${op}"; rule dropped`);
    return undefined;
  }
  return op.startsWith('Not') ? { not: inner } : inner;
}

function applyOperations(term: Term, ops: Spec[], localAsn: number, where: string, warnings: string[]): boolean {
  const communities: string[] = [];
  const large: string[] = [];
  for (const op of ops) {
    const add = op.addCommunity as Spec | undefined;
    const prepend = op.prependASPath as Spec | undefined;
    const setPriority = op.setPriority as Spec | undefined;
    if (add) {
      const v = str(add.value);
      (v.split(':').length === 3 ? large : communities).push(v);
    } else if (prepend) {
      const asns = Array.isArray(prepend.prefix) ? prepend.prefix.map(Number) : [];
      // BIRD's `bgp_path.prepend(...)` in the filter: exactly Tern's prependAsPath.
      if (asns.length) term.prependAsPath = [...asns, ...((term.prependAsPath as number[] | undefined) ?? [])];
    } else if (setPriority) {
      term.localPref = BIRD_INT_MAX - Number(setPriority.value);
    }
  }
  if (communities.length > 0) term.addCommunities = communities;
  if (large.length > 0) term.addLargeCommunities = large;
  return true;
}
