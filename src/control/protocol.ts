// SPDX-License-Identifier: Apache-2.0
// The control socket protocol: line-delimited JSON over a Unix stream socket.
//   request:  {"id": 1, "command": "show peers", "args": {"family": "ipv4-unicast"}}
//   response: {"id": 1, "ok": true, "result": ...}  or  {"id": 1, "ok": false, "error": "why"}
// One request per line; responses come back in order, each on one line.

export const MAX_REQUEST_BYTES = 64 * 1024;

export interface ControlRequest {
  id?: number | string;
  command: string;
  args?: Record<string, unknown>;
}

export type ControlResponse =
  | { id?: number | string; ok: true; result: unknown }
  | { id?: number | string; ok: false; error: string };

/** Parses one request line; returns an error message instead of throwing. */
export function parseRequest(line: string): ControlRequest | { error: string } {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (e) {
    return { error: `request is not valid JSON: ${(e as Error).message}` };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { error: 'request must be a JSON object' };
  const req = value as Record<string, unknown>;
  if (typeof req.command !== 'string' || req.command.length === 0) return { error: 'request needs a "command" string' };
  if (req.args !== undefined && (typeof req.args !== 'object' || req.args === null || Array.isArray(req.args)))
    return { error: '"args" must be an object' };
  const id = typeof req.id === 'number' || typeof req.id === 'string' ? req.id : undefined;
  return { id, command: req.command, args: (req.args as Record<string, unknown> | undefined) ?? {} };
}
