// SPDX-License-Identifier: Apache-2.0
// Prefix keys built from wire bytes, never objects: a short latin1 string of
// family, length, the masked address bytes and (for ADD-PATH) the path id. Cheap to hash in a
// Map and collision-free, unlike BigInt keys (see node-ecosystem.md §0).
import type { Family, Nlri } from '../bgp/messages/types.ts';

const FAMILY_TAG: Record<Family, string> = { 'ipv4-unicast': '4', 'ipv6-unicast': '6' };

export function prefixKey(n: Nlri): string {
  let key = FAMILY_TAG[n.family] + String.fromCharCode(n.length);
  const full = n.length >> 3;
  for (let i = 0; i < full; i++) key += String.fromCharCode(n.address[i] ?? 0);
  const rest = n.length & 7;
  // Bits past the prefix length are not part of the prefix (RFC 4271 §4.3): mask them off.
  if (rest) key += String.fromCharCode((n.address[full] ?? 0) & (0xff << (8 - rest)) & 0xff);
  if (n.pathId !== undefined) key += '#' + n.pathId.toString(36);
  return key;
}

const FAMILY_OF_TAG: Record<string, Family> = { '4': 'ipv4-unicast', '6': 'ipv6-unicast' };

/** The NLRI a key was made from (address bytes masked, as in the key): prefixKey's inverse. */
export function nlriFromKey(key: string): Nlri {
  const family = FAMILY_OF_TAG[key[0]!] ?? 'ipv4-unicast';
  const length = key.charCodeAt(1);
  const octets = (length + 7) >> 3;
  const address = new Uint8Array(octets);
  for (let i = 0; i < octets; i++) address[i] = key.charCodeAt(2 + i);
  // After the address: nothing, or '#' and the path id in base 36 (the address has a fixed size).
  const rest = key.slice(2 + octets);
  return rest.length > 1 ? { family, length, address, pathId: parseInt(rest.slice(1), 36) } : { family, length, address };
}
