// SPDX-License-Identifier: Apache-2.0
// decodeNetlink: one recv() datagram from a NETLINK_ROUTE socket → typed events, in order.
// A datagram may hold many messages (a dump chunk, or an ack after each request of a batch).
// Message types the model does not cover (neighbours, rules, qdiscs, NLMSG_NOOP/OVERRUN) and
// route/addr messages of other families are skipped. Throws only NetlinkDecodeError.
import { NLMSG, RTM } from './constants.ts';
import { decodeAddr } from './addr.ts';
import { decodeLink } from './link.ts';
import { type NlMessage, decodeDone, decodeError, splitMessages } from './nlmsg.ts';
import { decodeRoute } from './route.ts';
import type { NetlinkEvent, RtMessage } from './types.ts';

export function decodeNetlink(datagram: Uint8Array, skip?: (m: NlMessage) => boolean): NetlinkEvent[] {
  const events: NetlinkEvent[] = [];
  for (const m of splitMessages(datagram)) {
    if (skip?.(m)) continue; // the caller's filter: not decoded at all
    const event = decodeMessage(m);
    if (event !== undefined) events.push(event);
  }
  return events;
}

function decodeMessage(m: NlMessage): NetlinkEvent | undefined {
  switch (m.header.type) {
    case NLMSG.ERROR:
      return decodeError(m);
    case NLMSG.DONE:
      return decodeDone(m);
    case RTM.NEWROUTE:
    case RTM.DELROUTE:
      return change(m, decodeRoute(m.payload), RTM.NEWROUTE);
    case RTM.NEWLINK:
    case RTM.DELLINK:
      return change(m, decodeLink(m.payload), RTM.NEWLINK);
    case RTM.NEWADDR:
    case RTM.DELADDR:
      return change(m, decodeAddr(m.payload), RTM.NEWADDR);
    default:
      return undefined;
  }
}

function change(m: NlMessage, message: RtMessage | undefined, newType: number): NetlinkEvent | undefined {
  if (message === undefined) return undefined;
  return { kind: m.header.type === newType ? 'new' : 'del', seq: m.header.seq, message };
}
