// SPDX-License-Identifier: Apache-2.0
// OPEN message codec (RFC 4271 §4.2) with the Capabilities optional parameter (RFC 5492) and the
// RFC 9072 extended optional-parameters length. Structure only: whether the values are
// acceptable (version, AS, BGP ID, hold time, unknown parameters) is validateOpen in negotiate.ts.
//
//  0                   1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// +-+-+-+-+-+-+-+-+
// |    Version    |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |     My Autonomous System      |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |           Hold Time           |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                         BGP Identifier                        |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// | Opt Parm Len  |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |             Optional Parameters (variable)                    |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// RFC 9072 §2 replaces "Opt Parm Len" by: Non-Ext OP Len (255), Non-Ext OP Type (255),
// Extended Opt. Parm. Length (2 octets); each parameter's length then takes 2 octets.
import { decodeCapabilities, encodeCapability } from './capabilities.ts';
import { BgpNotificationError } from './errors.ts';
import { HEADER_LENGTH, MessageType, OptionalParameter } from './iana.ts';
import { withHeader } from './header.ts';
import type { Capability, OpenMessage } from './types.ts';
import { Reader, Writer } from '../../util/reader.ts';

const FIXED_BODY_LENGTH = 10; // version 1 + my AS 2 + hold 2 + BGP ID 4 + opt parm len 1
const MAX_CLASSIC_PARAMS_LENGTH = 255;
const MAX_PARAM_VALUE_LENGTH = 255;

// ===== Decoding =====

export function decodeOpen(body: Uint8Array): OpenMessage {
  // RFC 4271 §6.1: an OPEN shorter than 29 octets has a bad message length (data: the length).
  if (body.length < FIXED_BODY_LENGTH) throw BgpNotificationError.badMessageLength(body.length + HEADER_LENGTH, 'OPEN too short');
  const r = new Reader(body, () => BgpNotificationError.openUnspecific('OPEN optional parameters overrun'));
  const version = r.u8();
  const myAs = r.u16();
  const holdTime = r.u16();
  const bgpId = r.u32();
  const nonExtLength = r.u8();
  // RFC 9072 §2: "If the value of the Non-Ext OP Type field is 255 ... the speaker MUST treat
  // the message as having the extended format" — whatever the Non-Ext OP Len value (if non-zero).
  const extended = nonExtLength !== 0 && r.remaining > 0 && body[r.offset] === OptionalParameter.ExtendedLength;
  let paramsLength = nonExtLength;
  if (extended) {
    r.skip(1);
    paramsLength = r.u16();
  }
  // The parameters must fill the rest of the message exactly (RFC 4271 §4.2 lengths agree).
  if (paramsLength !== r.remaining) {
    throw BgpNotificationError.openUnspecific(`optional parameters length ${paramsLength} but ${r.remaining} octets follow`);
  }
  const { capabilities, otherParameters } = decodeParameters(r, extended);
  const open: OpenMessage = { type: 'open', version, myAs, holdTime, bgpId, capabilities, otherParameters };
  if (extended) open.extendedParameters = true;
  return open;
}

function decodeParameters(r: Reader, extended: boolean): Pick<OpenMessage, 'capabilities' | 'otherParameters'> {
  const capabilities: Capability[] = [];
  const otherParameters: OpenMessage['otherParameters'] = [];
  while (r.remaining > 0) {
    const type = r.u8();
    const length = extended ? r.u16() : r.u8();
    const value = r.sub(length);
    // RFC 5492 §4: capabilities travel in parameter type 2, possibly spread over several.
    if (type === OptionalParameter.Capabilities) capabilities.push(...decodeCapabilities(value));
    else otherParameters.push({ type, value: value.bytes(length).slice() });
  }
  return { capabilities, otherParameters };
}

// ===== Encoding =====

/** The whole OPEN message, header included. */
export function encodeOpen(msg: OpenMessage): Uint8Array {
  const params = [...capabilityParameters(msg.capabilities), ...msg.otherParameters];
  const classicLength = params.reduce((n, p) => n + 2 + p.value.length, 0);
  // RFC 9072 §2: use the extended format only when the parameters do not fit in 255 octets
  // ("the BGP speaker MUST use the encoding described in this section" only in that case), so
  // peers that predate RFC 9072 keep understanding our OPEN. A peer's extended OPEN we decoded
  // is re-encoded the same way so that captures round-trip.
  const extended = msg.extendedParameters === true || classicLength > MAX_CLASSIC_PARAMS_LENGTH;
  const w = new Writer(64 + classicLength);
  w.u8(msg.version).u16(msg.myAs).u16(msg.holdTime).u32(msg.bgpId);
  if (extended) {
    w.u8(OptionalParameter.ExtendedLength).u8(OptionalParameter.ExtendedLength).u16(classicLength + params.length);
  } else {
    w.u8(classicLength);
  }
  for (const p of params) {
    w.u8(p.type);
    if (extended) w.u16(p.value.length);
    else w.u8(p.value.length);
    w.bytes(p.value);
  }
  return withHeader(MessageType.Open, w.finish());
}

/**
 * Capabilities packed into as few type-2 parameters as fit (BIRD sends one parameter for all;
 * RFC 5492 §4 allows either). A parameter value is at most 255 octets in the classic format.
 */
function capabilityParameters(caps: Capability[]): { type: number; value: Uint8Array }[] {
  const params: { type: number; value: Uint8Array }[] = [];
  let current = new Writer(64);
  for (const c of caps) {
    const one = new Writer(16);
    encodeCapability(one, c);
    if (current.length > 0 && current.length + one.length > MAX_PARAM_VALUE_LENGTH) {
      params.push({ type: OptionalParameter.Capabilities, value: current.finish() });
      current = new Writer(64);
    }
    current.bytes(one.finish());
  }
  if (current.length > 0) params.push({ type: OptionalParameter.Capabilities, value: current.finish() });
  return params;
}
