// SPDX-License-Identifier: Apache-2.0
// BIRD 1.6's control-socket reply framing (nest/cli.c `cli_printf`, doc/reply_codes), which
// birdc/birdcl and calico-node's health and status parsers depend on:
//   `NNNN-text`  first line of a block with code NNNN, more lines follow;
//   ` text`      a further line with the same code as the line before;
//   `NNNN text`  the reply's final line (`0000 ` ends a table).
// Codes: 0xxx status, 1xxx table rows, 2xxx table headings, 8xxx run-time errors, 9xxx parse
// errors. This module only frames; the texts come from format.ts and commands.ts.

/** One non-final line of a reply: its code and text (without the code prefix). */
export interface ReplyLine {
  code: number;
  text: string;
}

/** A whole reply: the lines before the final one, and the final line. */
export interface Reply {
  lines: ReplyLine[];
  final: ReplyLine;
}

/** Reply codes from BIRD 1.6's doc/reply_codes that Tern sends. */
export const Code = {
  Ok: 0,
  Welcome: 1,
  ReadingConfig: 2,
  Reconfigured: 3,
  AlreadyDisabled: 8,
  Disabled: 9,
  AlreadyEnabled: 10,
  Enabled: 11,
  Restarted: 12,
  Status: 13,
  RouteCount: 14,
  AccessRestricted: 16,
  GracefulRestartStatus: 24,
  Version: 1000,
  ProtocolList: 1002,
  ProtocolDetails: 1006,
  RouteList: 1007,
  RouteDetails: 1008,
  Uptime: 1011,
  RouteExtendedAttributes: 1012,
  MemoryUsage: 1018,
  ProtocolHeading: 2002,
  NetworkNotInTable: 8001,
  ConfigurationError: 8002,
  NoProtocolsMatch: 8003,
  AccessDenied: 8007,
  CommandTooLong: 9000,
  SyntaxError: 9001,
  NotAProtocol: 9002,
} as const;

export function reply(final: ReplyLine, lines: ReplyLine[] = []): Reply {
  return { lines, final };
}

/** A table reply: rows, then the empty final `0000 `. */
export function table(lines: ReplyLine[]): Reply {
  return { lines, final: { code: Code.Ok, text: '' } };
}

export function errorReply(code: number, text: string): Reply {
  return { lines: [], final: { code, text } };
}

function code4(code: number): string {
  return String(code).padStart(4, '0');
}

/**
 * Frames replies for one connection. As in `cli_printf`, a non-final line repeats the previous
 * line's code as a bare leading space, so the framer remembers the last code it wrote (the
 * hello's 0001 first).
 */
export class ReplyFramer {
  private last: number = Code.Welcome;

  hello(version: string): string {
    this.last = Code.Welcome;
    return `${code4(Code.Welcome)} BIRD ${version} ready.\n`;
  }

  frame(r: Reply): string {
    let out = '';
    for (const l of r.lines) {
      out += (l.code === this.last ? ' ' : `${code4(l.code)}-`) + l.text + '\n';
      this.last = l.code;
    }
    out += `${code4(r.final.code)} ${r.final.text}\n`;
    this.last = r.final.code;
    return out;
  }
}
