// SPDX-License-Identifier: Apache-2.0
// Turns an Adj-RIB-Out batch into UPDATE messages for one session: withdrawals together, then
// one run of UPDATEs per attribute set, each filled with as many prefixes as fit the negotiated
// message size (buildUpdates splits), then an UPDATE per prefix that is alone with its attribute
// set in the class table. Path ids are already on the NLRI when ADD-PATH is on.
import type { CodecContext, Family, Nlri, PathAttribute } from '../bgp/messages/types.ts';
import { attributesForAnnounce } from '../bgp/messages/route-view.ts';
import { buildUpdates } from '../bgp/messages/update.ts';
import type { OutBatch, SingleEncoding } from './class-out.ts';
import type { EncodeCache } from './export-class.ts';

export function encodeBatch(batch: OutBatch, ctx: CodecContext, cache?: EncodeCache): Uint8Array[] {
  const frames: Uint8Array[] = [];
  const { family } = batch;
  if (batch.withdrawals.length) {
    const nlri = batch.withdrawals;
    let encoded = cache?.get(null, family, nlri, ctx);
    if (!encoded) {
      encoded = buildUpdates({ withdrawn: nlri, attributes: [], nlri: [] }, ctx);
      cache?.set(null, family, nlri, ctx, encoded, batch.upTo);
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
      cache?.set(attrs, family, nlri, ctx, encoded, batch.upTo);
    }
    for (const f of encoded) frames.push(f);
  }
  // Routes alone with their attribute set in the class table: an UPDATE each, kept on the
  // class's record of that attribute set for the other members (read right after the take, so
  // each node still carries the answer it was taken with).
  for (const node of batch.singles) {
    const use = node.use!;
    let encoded = use.encoded;
    if (encoded === undefined || encoded.nlri !== node.nlri || !sameSettings(encoded, family, ctx)) {
      const nlri = [node.nlri];
      encoded = { nlri: node.nlri, as4: ctx.as4, maxMessageSize: ctx.maxMessageSize, addPath: ctx.addPathSend.has(family), extendedNextHopIpv4: ctx.extendedNextHopIpv4, frames: announceOrWithdraw(attributesForAnnounce(use.attrs, family, nlri, ctx), nlri, ctx) };
      if (cache) use.encoded = encoded;
    }
    for (const f of encoded.frames) frames.push(f);
  }
  return frames;
}

function sameSettings(e: SingleEncoding, family: Family, ctx: CodecContext): boolean {
  return e.as4 === ctx.as4 && e.maxMessageSize === ctx.maxMessageSize && e.extendedNextHopIpv4 === ctx.extendedNextHopIpv4 && e.addPath === ctx.addPathSend.has(family);
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
