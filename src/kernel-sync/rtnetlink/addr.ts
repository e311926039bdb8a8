// SPDX-License-Identifier: Apache-2.0
// RTM_NEWADDR / RTM_DELADDR payloads: struct ifaddrmsg (8 bytes) + IFA_ADDRESS, IFA_LOCAL,
// IFA_LABEL and IFA_FLAGS. Lifetimes (IFA_CACHEINFO) and broadcast are skipped. Families other
// than AF_INET/AF_INET6 are not modelled.
import { ADDRESS_LENGTH, AF, IFA, IFADDRMSG_LEN } from './constants.ts';
import { attrAddress, attrString, attrU32, readAttrs, writeAttr, writeAttrString, writeAttrU32 } from './attrs.ts';
import { NetlinkDecodeError } from './errors.ts';
import type { LeReader, LeWriter } from './le.ts';
import type { AddrMessage } from './types.ts';

export function decodeAddr(p: LeReader): AddrMessage | undefined {
  const start = p.offset;
  p.need(IFADDRMSG_LEN, 'struct ifaddrmsg');
  const family = p.u8();
  const prefixLength = p.u8();
  const flags8 = p.u8();
  const scope = p.u8();
  const index = p.u32();
  if (family !== AF.INET && family !== AF.INET6) return undefined;
  const size = ADDRESS_LENGTH[family]!;
  if (prefixLength > size * 8) throw new NetlinkDecodeError(`ifa_prefixlen ${prefixLength} too long for family ${family}`, start);
  const addr: AddrMessage = { type: 'addr', family, prefixLength, flags: flags8, scope, index };
  for (const a of readAttrs(p, 'addr')) {
    switch (a.type) {
      case IFA.ADDRESS:
        addr.address = attrAddress(a, size, 'IFA_ADDRESS');
        break;
      case IFA.LOCAL:
        addr.local = attrAddress(a, size, 'IFA_LOCAL');
        break;
      case IFA.LABEL:
        addr.label = attrString(a);
        break;
      case IFA.FLAGS:
        // if_addr.h: "IFA_FLAGS is a u32 attribute that extends the u8 field ifa_flags.
        // If present, the value from struct ifaddrmsg will be ignored."
        addr.flags = attrU32(a, 'IFA_FLAGS');
        break;
    }
  }
  return addr;
}

/** Writes struct ifaddrmsg + the modelled attributes, IFA_FLAGS whenever flags exceed 8 bits. */
export function writeAddr(w: LeWriter, addr: AddrMessage): void {
  const size = ADDRESS_LENGTH[addr.family];
  if (size === undefined) throw new RangeError(`address family ${addr.family} is not AF_INET/AF_INET6`);
  for (const [what, a] of [['address', addr.address], ['local', addr.local]] as const) {
    if (a !== undefined && a.length !== size) throw new RangeError(`${what} is ${a.length} bytes, family needs ${size}`);
  }
  w.u8(addr.family);
  w.u8(addr.prefixLength);
  w.u8(addr.flags & 0xff);
  w.u8(addr.scope);
  w.u32(addr.index);
  if (addr.address !== undefined) writeAttr(w, IFA.ADDRESS, addr.address);
  if (addr.local !== undefined) writeAttr(w, IFA.LOCAL, addr.local);
  if (addr.label !== undefined) writeAttrString(w, IFA.LABEL, addr.label);
  if (addr.flags > 0xff) writeAttrU32(w, IFA.FLAGS, addr.flags);
}
