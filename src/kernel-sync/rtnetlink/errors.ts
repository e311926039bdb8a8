// SPDX-License-Identifier: Apache-2.0
// The one error the rtnetlink decoder throws. Truncated or garbled bytes from the socket are a
// bug somewhere (ours, the addon's or the kernel's), not a protocol event: the kernel's own
// NLMSG_ERROR replies are decoded as values, never thrown. Encoders throw RangeError for
// values that cannot be put on the wire (a programming error at the call site).

export class NetlinkDecodeError extends Error {
  /** Byte offset in the datagram where decoding gave up. */
  readonly offset: number;

  constructor(message: string, offset: number) {
    super(`rtnetlink decode: ${message} (at byte ${offset})`);
    this.name = 'NetlinkDecodeError';
    this.offset = offset;
  }
}
