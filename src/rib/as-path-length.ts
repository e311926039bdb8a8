// SPDX-License-Identifier: Apache-2.0
// Two AS_PATH measures the decision process needs: its length for tie-break (a) and the
// neighbor AS that scopes MED comparison in tie-break (c) of RFC 4271 §9.1.2.2. Pure functions
// over already-decoded segments; no validation (the codec did that), no loop detection (import).
import { AsPathSegmentType } from '../bgp/messages/iana.ts';
import type { AsPathSegment } from '../bgp/messages/types.ts';
import type { Path } from './types.ts';

/**
 * The AS_PATH length for route selection.
 * RFC 4271 §9.1.2.2 (a): "when counting this number, an AS_SET counts as 1, no matter how many
 * ASes are in the set." RFC 5065 §5.3: "When comparing routes using AS_PATH length,
 * CONFED_SEQUENCE and CONFED_SETs SHOULD NOT be counted."
 */
export function asPathLength(segments: readonly AsPathSegment[]): number {
  let length = 0;
  for (const segment of segments) {
    if (segment.type === AsPathSegmentType.AsSequence) length += segment.asns.length;
    // An empty AS_SET names no AS at all: it adds nothing (the codec rejects it anyway).
    else if (segment.type === AsPathSegmentType.AsSet && segment.asns.length > 0) length += 1;
    // Confederation segments (and any unknown type): 0.
  }
  return length;
}

/**
 * The neighbor AS of RFC 4271 §9.1.2.2 (c): "the neighboring AS is determined from the AS_PATH
 * attribute" — the first AS of the AS_SEQUENCE that leads the path once confederation segments
 * (our own confederation's members, RFC 5065) are skipped.
 *
 * undefined when the route was originated by us or by an internal peer (empty AS_PATH), or is
 * an aggregate whose AS_PATH starts with an AS_SET; §9.1.2.2 (c) says that neighbor AS "is the
 * local AS", and decide() compares such routes' MEDs with each other under the local AS.
 */
export function neighborAs(path: Path): number | undefined {
  if (path.source !== 'bgp') return undefined;
  for (const segment of path.attrs.asPath) {
    if (segment.type === AsPathSegmentType.AsConfedSequence || segment.type === AsPathSegmentType.AsConfedSet) continue;
    if (segment.type === AsPathSegmentType.AsSequence) return segment.asns[0];
    return undefined;
  }
  return undefined;
}
