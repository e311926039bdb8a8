// SPDX-License-Identifier: Apache-2.0
// Turns an Adj-RIB-Out batch into UPDATE messages for one session: withdrawals together, then
// one run of UPDATEs per attribute set, each filled with as many prefixes as fit the negotiated
// message size (buildUpdates splits). Path ids are already on the NLRI when ADD-PATH is on.
import type { CodecContext, Nlri, PathAttribute } from '../bgp/messages/types.ts';
import { attributesForAnnounce } from '../bgp/messages/route-view.ts';
import { buildUpdates } from '../bgp/messages/update.ts';
import type { OutBatch } from './class-out.ts';
import type { EncodeCache } from './export-class.ts';

export function encodeBatch(batch: OutBatch, ctx: CodecContext, cache?: EncodeCache): Uint8Array[] {
  const frames: Uint8Array[] = [];
  const { family } = batch;
  if (batch.withdrawals.length) {
    const nlri = batch.withdrawals;
    let encoded = cache?.get(null, family, nlri, ctx);
    if (!encoded) {
      encoded = buildUpdates({ withdrawn: nlri, attributes: [], nlri: [] }, ctx);
      cache?.set(null, family, nlri, ctx, encoded);
    }
    for (const f of encoded) frames.push(f);
  }
  for (const { attrs, nlri } of batch.announcements) {
    // Peers of one export class stage the same attribute objects and NLRI objects: the frames
    // of the first peer are the frames of the others (encoded once per update group). No
    // closure or spread per group: a member's batch of Calico blocks is a group per route.
    let encoded = cache?.get(attrs, family, nlri, ctx);
    if (!encoded) {
      encoded = announceOrWithdraw(attributesForAnnounce(attrs, family, nlri, ctx), nlri, ctx);
      cache?.set(attrs, family, nlri, ctx, encoded);
    }
    for (const f of encoded) frames.push(f);
  }
  return frames;
}

/**
 * RFC 8654 §4: senders "MUST limit the size of their payload to take the maximum message size
 * into account". A route whose attributes do not fit one message for this peer (a very long AS
 * path from an extended-message peer, sent to one without the capability, or grown by prepending)
 * is withdrawn instead of announced, so the peer keeps no older version of it. This runs in the
 * speaker's flush: a throw here would end the process (found by test/security/regress.test.ts).
 */
function announceOrWithdraw(attributes: PathAttribute[], nlri: Nlri[], ctx: CodecContext): Uint8Array[] {
  try {
    return buildUpdates({ withdrawn: [], attributes, nlri }, ctx);
  } catch (err) {
    if (!(err instanceof RangeError)) throw err;
    return buildUpdates({ withdrawn: nlri, attributes: [], nlri: [] }, ctx);
  }
}
