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
  const withdraw = (): Uint8Array[] => buildUpdates({ withdrawn: batch.withdrawals, attributes: [], nlri: [] }, ctx);
  if (batch.withdrawals.length) frames.push(...(cache ? cache.frames(null, family, batch.withdrawals, ctx, withdraw) : withdraw()));
  for (const { attrs, nlri } of batch.announcements) {
    // Peers of one export class stage the same attribute objects and NLRI objects: the frames
    // of the first peer are the frames of the others (encoded once per update group).
    const announce = (): Uint8Array[] => announceOrWithdraw(attributesForAnnounce(attrs, family, nlri, ctx), nlri, ctx);
    frames.push(...(cache ? cache.frames(attrs, family, nlri, ctx, announce) : announce()));
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
