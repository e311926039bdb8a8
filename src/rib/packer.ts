// SPDX-License-Identifier: Apache-2.0
// Turns an Adj-RIB-Out batch into UPDATE messages for one session: withdrawals together, then
// one run of UPDATEs per attribute set, each filled with as many prefixes as fit the negotiated
// message size (buildUpdates splits). Path ids are already on the NLRI when ADD-PATH is on.
import type { CodecContext } from '../bgp/messages/types.ts';
import { attributesForAnnounce } from '../bgp/messages/route-view.ts';
import { buildUpdates } from '../bgp/messages/update.ts';
import type { OutBatch } from './adj-rib-out.ts';

export function encodeBatch(batch: OutBatch, ctx: CodecContext): Uint8Array[] {
  const frames: Uint8Array[] = [];
  if (batch.withdrawals.length) frames.push(...buildUpdates({ withdrawn: batch.withdrawals, attributes: [], nlri: [] }, ctx));
  for (const { attrs, nlri } of batch.announcements) {
    const attributes = attributesForAnnounce(attrs, batch.family, nlri, ctx);
    frames.push(...buildUpdates({ withdrawn: [], attributes, nlri }, ctx));
  }
  return frames;
}
