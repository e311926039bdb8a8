// SPDX-License-Identifier: Apache-2.0
// RTM_NEWLINK / RTM_DELLINK payloads: struct ifinfomsg (16 bytes) + the few IFLA_* attributes
// kernel sync needs (name, MTU, kind, operstate, link-layer address, master). Statistics,
// AF_SPEC and the rest are skipped: the `device` protocol only tracks names, state and flags.
import { IFINFOMSG_LEN, IFLA, IFLA_INFO } from './constants.ts';
import { attrString, attrU8, attrU32, readAttrs, readNested, writeAttr, writeAttrString, writeAttrU32, writeAttrU8, writeNest } from './attrs.ts';
import type { LeReader, LeWriter } from './le.ts';
import type { LinkMessage } from './types.ts';

export function decodeLink(p: LeReader): LinkMessage {
  p.need(IFINFOMSG_LEN, 'struct ifinfomsg');
  p.u8(); // ifi_family
  p.u8(); // __ifi_pad
  const linkType = p.u16();
  const index = p.u32();
  const flags = p.u32();
  p.u32(); // ifi_change: only meaningful in requests
  const link: LinkMessage = { type: 'link', index, flags, linkType };
  for (const a of readAttrs(p, 'link')) {
    switch (a.type) {
      case IFLA.IFNAME:
        link.name = attrString(a);
        break;
      case IFLA.MTU:
        link.mtu = attrU32(a, 'IFLA_MTU');
        break;
      case IFLA.OPERSTATE:
        link.operState = attrU8(a, 'IFLA_OPERSTATE');
        break;
      case IFLA.ADDRESS:
        link.address = a.value.slice();
        break;
      case IFLA.MASTER:
        link.master = attrU32(a, 'IFLA_MASTER');
        break;
      case IFLA.LINKINFO:
        for (const info of readNested(a, 'IFLA_LINKINFO')) {
          if (info.type === IFLA_INFO.KIND) link.kind = attrString(info);
        }
        break;
    }
  }
  return link;
}

/** Writes struct ifinfomsg + the modelled attributes (as the kernel would send them). */
export function writeLink(w: LeWriter, link: LinkMessage, family = 0): void {
  w.u8(family);
  w.u8(0);
  w.u16(link.linkType);
  w.u32(link.index);
  w.u32(link.flags);
  w.u32(0); // ifi_change
  if (link.name !== undefined) writeAttrString(w, IFLA.IFNAME, link.name);
  if (link.mtu !== undefined) writeAttrU32(w, IFLA.MTU, link.mtu);
  if (link.operState !== undefined) writeAttrU8(w, IFLA.OPERSTATE, link.operState);
  if (link.address !== undefined) writeAttr(w, IFLA.ADDRESS, link.address);
  if (link.master !== undefined) writeAttrU32(w, IFLA.MASTER, link.master);
  const kind = link.kind;
  if (kind !== undefined) writeNest(w, IFLA.LINKINFO, () => writeAttrString(w, IFLA_INFO.KIND, kind));
}
