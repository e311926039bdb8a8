// SPDX-License-Identifier: Apache-2.0
// The schema of the policy language (top-level `policies`, and inline policies under a peer's
// `import` / `export`), as data like schema.ts: the validator walks it, doc.ts prints it. The
// typed result is PolicySpec (src/policy/spec.ts); compile.ts gives it meaning.
import { FAMILIES } from '../bgp/messages/types.ts';
import type { FieldSpec, ValueType } from './schema.ts';

/** Policy names share the peer name alphabet; `all` and `none` are reserved (build.ts). */
export const POLICY_NAME_PATTERN = /^[A-Za-z0-9_.-]{1,100}$/;
export const POLICY_NAME_TEXT = '1-100 characters from A-Z a-z 0-9 _ . -';
export const RESERVED_POLICY_NAMES: readonly string[] = ['all', 'none'];

const u32: ValueType = { kind: 'integer', min: 0, max: 4294967295 };
const asn: ValueType = { kind: 'integer', min: 1, max: 4294967295 };
/** One value, or a list meaning "any of these". */
const anyOf = (of: ValueType): ValueType => ({ kind: 'list', of, minItems: 1, single: true });
// Linux interface names plus glob characters: `*` any run, `?` one character.
const interfaceGlob: ValueType = {
  kind: 'string',
  pattern: /^[A-Za-z0-9_.:@*?-]{1,64}$/,
  patternText: 'an interface name or glob (`*` any run of characters, `?` one character)',
};

/** Conditions, all of which must hold. Shared by `match` and `match.not`. */
const CONDITION_FIELDS: readonly FieldSpec[] = [
  { key: 'prefix', type: anyOf({ kind: 'prefix' }), description: 'The route is exactly this prefix.' },
  {
    key: 'prefixWithin',
    type: anyOf({ kind: 'prefix' }),
    description: 'The route is this prefix or a more specific one inside it (BIRD\'s `net ~ P`).',
  },
  {
    key: 'prefixLength',
    type: anyOf({ kind: 'range', min: 0, max: 128 }),
    description: 'Prefix length in this range: `32`, `"26-32"` or `{min: 26, max: 32}`.',
  },
  { key: 'family', type: anyOf({ kind: 'enum', values: FAMILIES }), description: 'Address family of the route.' },
  {
    key: 'community',
    type: anyOf({ kind: 'community' }),
    description: 'The route carries this community (RFC 1997): `"65000:100"` or `no-export`, `no-advertise`, `no-export-subconfed`.',
  },
  { key: 'largeCommunity', type: anyOf({ kind: 'largeCommunity' }), description: 'The route carries this large community (RFC 8092), `"65000:1:2"`.' },
  { key: 'asPathContains', type: anyOf(asn), description: 'This AS appears anywhere in the AS path.' },
  {
    key: 'neighborAs',
    type: anyOf(asn),
    description: 'The first AS of the AS path (the neighbouring AS, RFC 4271 §9.1.2.2 (c)); never holds for an empty path.',
  },
  { key: 'originAs', type: anyOf(asn), description: 'The last AS of the AS path (the origin); never holds for an empty path or one ending in an AS_SET.' },
  {
    key: 'asPathLength',
    type: anyOf({ kind: 'range', min: 0, max: 65535 }),
    description: 'AS path length in this range, counted as in RFC 4271 §9.1.2.2 (a): an AS_SET counts 1, confederation segments 0.',
  },
  {
    key: 'asPathPrefix',
    type: { kind: 'list', of: { kind: 'list', of: asn, minItems: 1 }, minItems: 1, single: true },
    description: 'The AS path starts with this sequence, e.g. `[65000, 65001]` (Calico\'s `asPathPrefix`); a list of sequences means any of them.',
  },
  {
    key: 'source',
    type: anyOf({ kind: 'enum', values: ['bgp', 'originated', 'kernel', 'connected'] }),
    description: 'Where the route entered Tern: `bgp` (from a peer), `originated` (config), `kernel`, `connected`.',
  },
  {
    key: 'interface',
    type: anyOf(interfaceGlob),
    description: 'Interface of a kernel or connected route matches this glob (`cali*`, `*.calico`, `tunl0`); never holds for BGP routes.',
  },
  {
    key: 'nextHop',
    type: anyOf({ kind: 'prefix', allowAddress: true }),
    description: 'The next hop is this address, or lies inside this prefix.',
  },
  {
    key: 'localPref',
    type: anyOf({ kind: 'range', min: 0, max: 4294967295 }),
    description: 'LOCAL_PREF in this range (`100`, `"100-200"`); never holds for a route without LOCAL_PREF. Calico\'s BGPFilter `priority` P is `localPref: 2147483647 − P`.',
  },
  {
    key: 'peerType',
    type: anyOf({ kind: 'enum', values: ['ibgp', 'ebgp'] }),
    description: 'Type of the peer the policy is attached to (import: where the route came from; export: where it goes).',
  },
];

export const MATCH_FIELDS: readonly FieldSpec[] = [
  ...CONDITION_FIELDS,
  {
    key: 'not',
    type: { kind: 'object', fields: CONDITION_FIELDS },
    extension: true,
    description: 'Conditions (the keys above) that must NOT all hold: `not: {prefixWithin: 10.0.0.0/8}`.',
  },
];

export const TERM_FIELDS: readonly FieldSpec[] = [
  {
    key: 'name',
    type: { kind: 'string', pattern: POLICY_NAME_PATTERN, patternText: POLICY_NAME_TEXT },
    description: 'Label for the term, shown with its position in `tern explain` and logs.',
  },
  { key: 'match', type: { kind: 'object', fields: MATCH_FIELDS }, defaultText: 'every route', description: 'Conditions, all of which must hold (see below).' },
  { key: 'removeCommunities', type: anyOf({ kind: 'community' }), description: 'Remove these communities.' },
  { key: 'addCommunities', type: anyOf({ kind: 'community' }), description: 'Add these communities (once each).' },
  { key: 'removeLargeCommunities', type: anyOf({ kind: 'largeCommunity' }), description: 'Remove these large communities.' },
  { key: 'addLargeCommunities', type: anyOf({ kind: 'largeCommunity' }), description: 'Add these large communities (once each).' },
  { key: 'localPref', type: u32, description: 'Set LOCAL_PREF.' },
  { key: 'med', type: u32, description: 'Set MULTI_EXIT_DISC.' },
  { key: 'prepend', type: { kind: 'integer', min: 1, max: 10 }, description: 'Prepend the local AS this many more times (export).' },
  {
    key: 'prependAsPath',
    type: { kind: 'list', of: asn, minItems: 1, single: true },
    description: 'Prepend these ASNs so the AS path starts with them, in the order given (BIRD\'s `bgp_path.prepend`, Calico\'s `prependASPath`). Applies in both directions and to iBGP as written; to eBGP our own AS is then prepended in front as usual.',
  },
  {
    key: 'nextHop',
    type: { kind: 'address', keywords: ['self', 'keep'] },
    description: '`self` (our address on the session), `keep` (unchanged), or an address.',
  },
  { key: 'metric', type: u32, description: 'Kernel export: the route metric (priority) to install with, as BIRD\'s `krt_metric`.' },
  {
    key: 'tunnel',
    type: { kind: 'enum', values: ['always', 'crossSubnet', 'never'] },
    description: 'Kernel export: route through the tunnel device (`kernel.tunnel.device`) always, only when the next hop is outside our subnets, or never; overrides `kernel.tunnel.mode` for the route, as BIRD\'s `krt_tunnel`.',
  },
  {
    key: 'action',
    type: { kind: 'enum', values: ['accept', 'reject'] },
    defaultText: 'none: go on to the next term',
    description: 'Ends the policy with this verdict, after the modifications above.',
  },
];

/** A policy: an ordered list of terms. */
export const POLICY_TYPE: ValueType = { kind: 'list', of: { kind: 'object', fields: TERM_FIELDS }, minItems: 1 };

/** A peer's `import` / `export`: `all`, `none`, a policy name, or an inline policy. */
export const POLICY_REF_TYPE: ValueType = {
  kind: 'oneOf',
  options: [{ kind: 'string', pattern: POLICY_NAME_PATTERN, patternText: '`all`, `none` or a policy name' }, POLICY_TYPE],
};

export const POLICIES_TYPE: ValueType = { kind: 'map', keyPattern: POLICY_NAME_PATTERN, keyText: POLICY_NAME_TEXT, of: POLICY_TYPE };
