// SPDX-License-Identifier: Apache-2.0
// Collects the RFC 7606 verdicts found while decoding one UPDATE: every problem with the rule
// that decided it, and the strongest action (RFC 7606 §2: the most severe approach wins).
// Session resets are not collected here: they throw BgpNotificationError at the point found.
import { strongerAction } from '../errors.ts';
import type { AttributeProblem, Rfc7606Action } from '../errors.ts';
import { NotificationCode } from '../iana.ts';

export class ProblemList {
  action: Rfc7606Action = 'none';
  readonly list: AttributeProblem[] = [];

  /** Record one problem; `subcode` is the UPDATE Message Error subcode RFC 4271 would have sent. */
  add(action: AttributeProblem['action'], attrType: number | undefined, subcode: number, reason: string, rule: string): void {
    this.action = strongerAction(this.action, action);
    const problem: AttributeProblem = { action, code: NotificationCode.UpdateMessageError, subcode, reason, rule };
    if (attrType !== undefined) problem.attrType = attrType;
    this.list.push(problem);
  }
}
