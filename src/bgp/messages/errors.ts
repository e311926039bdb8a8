// SPDX-License-Identifier: Apache-2.0
// Tern's typed codec errors. The error *is* the NOTIFICATION: decoders throw only
// BgpNotificationError (a session reset with the code, subcode and data to send). Attribute
// problems that RFC 7606 does not treat as session resets are not errors but values
// (Rfc7606Action), and the strongest action for an UPDATE wins.
import {
  CeaseSubcode,
  FsmErrorSubcode,
  HeaderErrorSubcode,
  NotificationCode,
  OpenErrorSubcode,
  RouteRefreshErrorSubcode,
  UpdateErrorSubcode,
  notificationName,
} from './iana.ts';

export class BgpNotificationError extends Error {
  readonly code: number;
  readonly subcode: number;
  readonly data: Uint8Array;

  constructor(code: number, subcode: number, data: Uint8Array = new Uint8Array(0), detail?: string) {
    super(detail ? `${notificationName(code, subcode)}: ${detail}` : notificationName(code, subcode));
    this.name = 'BgpNotificationError';
    this.code = code;
    this.subcode = subcode;
    this.data = data;
  }

  // ===== RFC 4271 §6.1: message header errors =====
  static connectionNotSynchronized(): BgpNotificationError {
    return new BgpNotificationError(NotificationCode.MessageHeaderError, HeaderErrorSubcode.ConnectionNotSynchronized, undefined, 'marker is not all ones');
  }
  /** RFC 4271 §6.1: "the Data field MUST contain the erroneous Length field". */
  static badMessageLength(length: number, detail?: string): BgpNotificationError {
    return new BgpNotificationError(NotificationCode.MessageHeaderError, HeaderErrorSubcode.BadMessageLength, u16(length), detail ?? `length ${length}`);
  }
  /** RFC 4271 §6.1: "the Data field MUST contain the erroneous Type field". */
  static badMessageType(type: number): BgpNotificationError {
    return new BgpNotificationError(NotificationCode.MessageHeaderError, HeaderErrorSubcode.BadMessageType, Uint8Array.of(type & 0xff), `type ${type}`);
  }

  // ===== RFC 4271 §6.2: OPEN message errors =====
  static openUnspecific(detail: string): BgpNotificationError {
    return new BgpNotificationError(NotificationCode.OpenMessageError, OpenErrorSubcode.Unspecific, undefined, detail);
  }
  /** RFC 4271 §6.2: data is the largest locally supported version, 2 octets. */
  static unsupportedVersion(version: number): BgpNotificationError {
    return new BgpNotificationError(NotificationCode.OpenMessageError, OpenErrorSubcode.UnsupportedVersionNumber, u16(4), `version ${version}`);
  }
  static badPeerAs(detail: string): BgpNotificationError {
    return new BgpNotificationError(NotificationCode.OpenMessageError, OpenErrorSubcode.BadPeerAs, undefined, detail);
  }
  static badBgpIdentifier(detail: string): BgpNotificationError {
    return new BgpNotificationError(NotificationCode.OpenMessageError, OpenErrorSubcode.BadBgpIdentifier, undefined, detail);
  }
  static unsupportedOptionalParameter(type: number): BgpNotificationError {
    return new BgpNotificationError(NotificationCode.OpenMessageError, OpenErrorSubcode.UnsupportedOptionalParameter, undefined, `parameter type ${type}`);
  }
  static unacceptableHoldTime(holdTime: number): BgpNotificationError {
    return new BgpNotificationError(NotificationCode.OpenMessageError, OpenErrorSubcode.UnacceptableHoldTime, undefined, `hold time ${holdTime}`);
  }
  /** RFC 5492 §5: data lists the unsupported capabilities (code, length, value). */
  static unsupportedCapability(data: Uint8Array, detail: string): BgpNotificationError {
    return new BgpNotificationError(NotificationCode.OpenMessageError, OpenErrorSubcode.UnsupportedCapability, data, detail);
  }

  // ===== RFC 4271 §6.3 / RFC 7606: UPDATE errors that still reset the session =====
  static update(subcode: number, detail: string, data: Uint8Array = new Uint8Array(0)): BgpNotificationError {
    return new BgpNotificationError(NotificationCode.UpdateMessageError, subcode, data, detail);
  }
  static malformedAttributeList(detail: string): BgpNotificationError {
    return BgpNotificationError.update(UpdateErrorSubcode.MalformedAttributeList, detail);
  }
  static invalidNetworkField(detail: string): BgpNotificationError {
    return BgpNotificationError.update(UpdateErrorSubcode.InvalidNetworkField, detail);
  }
  static optionalAttributeError(detail: string, data?: Uint8Array): BgpNotificationError {
    return BgpNotificationError.update(UpdateErrorSubcode.OptionalAttributeError, detail, data);
  }

  // ===== RFC 4271 §6.5, §6.6; RFC 6608; RFC 9687 =====
  static holdTimerExpired(): BgpNotificationError {
    return new BgpNotificationError(NotificationCode.HoldTimerExpired, 0);
  }
  static sendHoldTimerExpired(): BgpNotificationError {
    return new BgpNotificationError(NotificationCode.SendHoldTimerExpired, 0);
  }
  static fsmError(subcode: (typeof FsmErrorSubcode)[keyof typeof FsmErrorSubcode], detail?: string): BgpNotificationError {
    return new BgpNotificationError(NotificationCode.FsmError, subcode, undefined, detail);
  }

  // ===== RFC 4486 Cease =====
  static cease(subcode: (typeof CeaseSubcode)[keyof typeof CeaseSubcode], data?: Uint8Array, detail?: string): BgpNotificationError {
    return new BgpNotificationError(NotificationCode.Cease, subcode, data, detail);
  }

  // ===== RFC 7313 §5 =====
  static routeRefreshInvalidLength(length: number): BgpNotificationError {
    return new BgpNotificationError(NotificationCode.RouteRefreshMessageError, RouteRefreshErrorSubcode.InvalidMessageLength, undefined, `length ${length}`);
  }
}

function u16(v: number): Uint8Array {
  return Uint8Array.of((v >> 8) & 0xff, v & 0xff);
}

// ===== RFC 7606 §2: the approaches, weakest first =====
// "strongest wins": when one UPDATE has several problems, the most severe action applies.
export const Rfc7606Actions = ['none', 'attribute-discard', 'treat-as-withdraw', 'afi-safi-disable', 'session-reset'] as const;
export type Rfc7606Action = (typeof Rfc7606Actions)[number];

export function strongerAction(a: Rfc7606Action, b: Rfc7606Action): Rfc7606Action {
  return Rfc7606Actions.indexOf(a) >= Rfc7606Actions.indexOf(b) ? a : b;
}

/** One problem found in an UPDATE: what, where, and what RFC 7606 says to do about it. */
export interface AttributeProblem {
  action: Exclude<Rfc7606Action, 'none'>;
  /** Attribute type code, or undefined for problems with the message layout. */
  attrType?: number;
  /** The NOTIFICATION RFC 4271 would have sent (kept for logs and counters). */
  code: number;
  subcode: number;
  reason: string;
  /** RFC clause, e.g. "RFC 7606 §7.3". */
  rule: string;
}
