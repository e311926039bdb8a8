// SPDX-License-Identifier: Apache-2.0
// `--log-format human`: a synchronous pino destination that rewrites each JSON line into
//   2026-11-21T22:00:01.123Z INFO  [bird1] session established holdTime=90 keepalive=30
// pino stays the logger and JSON stays the default off a terminal; this only changes how a line
// is printed (no pino-pretty, no worker thread: formatting happens inside the write call). It
// does not filter or reorder anything, and a line that is not JSON passes through unchanged.
import { Writable } from 'node:stream';
import { pino } from 'pino';

export const LOG_FORMATS = ['json', 'human'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** Human output on a terminal, JSON lines otherwise (pipes, files, log collectors). */
export function defaultLogFormat(isTTY: boolean | undefined = process.stdout.isTTY): LogFormat {
  return isTTY ? 'human' : 'json';
}

const LEVEL_NAMES: Readonly<Record<number, string>> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
/** Fields printed in the fixed columns, or that only repeat what the columns already say. */
const HIDDEN = new Set(['time', 'level', 'msg', 'pid', 'hostname', 'peer', 'peerAddress', 'peerAs', 'v']);
const DEFAULT_COMPONENT = 'tern';
/** Strings printed without quotes: nothing that could be mistaken for a separator or forge a line. */
const BARE = /^[A-Za-z0-9_.:/@+\-[\]%,]+$/;

/** One pino JSON line as text (no trailing newline); the input unchanged when it is not a JSON object. */
export function formatHumanLine(line: string): string {
  let rec: unknown;
  try {
    rec = JSON.parse(line);
  } catch {
    return line;
  }
  if (typeof rec !== 'object' || rec === null || Array.isArray(rec)) return line;
  const r = rec as Record<string, unknown>;
  const parts = [timeText(r.time), levelText(r.level)];
  const context = contextText(r);
  if (context) parts.push(`[${context}]`);
  if (r.msg !== undefined && r.msg !== '') parts.push(typeof r.msg === 'string' ? sanitize(r.msg) : valueText(r.msg));
  for (const [key, value] of Object.entries(r)) {
    if (HIDDEN.has(key) || value === undefined) continue;
    if (key === 'component' && value === DEFAULT_COMPONENT) continue;
    parts.push(`${key}=${valueText(value)}`);
  }
  return parts.join(' ');
}

function timeText(time: unknown): string {
  if (typeof time === 'string') return time;
  if (typeof time === 'number') return new Date(time).toISOString();
  return new Date().toISOString();
}

function levelText(level: unknown): string {
  const name = typeof level === 'number' ? (LEVEL_NAMES[level] ?? `L${level}`) : typeof level === 'string' ? level.toUpperCase() : 'INFO';
  return name.padEnd(5);
}

/** The peer a line is about (sessions log through child loggers that carry `peer`). */
function contextText(r: Record<string, unknown>): string | undefined {
  if (typeof r.peer === 'string' && r.peer !== '') return sanitize(r.peer);
  if (r.peer !== undefined) return valueText(r.peer);
  return undefined;
}

function valueText(value: unknown): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      return value !== '' && BARE.test(value) ? value : quote(value);
    case 'number':
    case 'boolean':
    case 'bigint':
      return String(value);
    case 'object':
      return isErrorLike(value) ? errorText(value) : inlineJson(value);
    default:
      return quote(String(value));
  }
}

/** pino's err serializer gives {type, message, stack}: the reader wants "Type: message". */
function isErrorLike(value: object): value is { message: string; type?: unknown } {
  const v = value as Record<string, unknown>;
  return typeof v.message === 'string' && (typeof v.stack === 'string' || typeof v.type === 'string');
}

function errorText(e: { message: string; type?: unknown; code?: unknown }): string {
  const type = typeof e.type === 'string' && e.type !== 'Error' ? `${e.type}: ` : '';
  const code = typeof e.code === 'string' ? ` (${e.code})` : '';
  return quote(`${type}${e.message}${code}`);
}

/** Objects and arrays inline, as compact JSON (one line, control characters escaped). */
function inlineJson(value: object): string {
  try {
    return escapeBreaks(JSON.stringify(value, (_k, v: unknown) => (typeof v === 'object' && v !== null && isErrorLike(v) ? JSON.parse(errorText(v)) : v)));
  } catch {
    return '"[unprintable]"';
  }
}

/** A JSON string literal that also escapes what JSON leaves raw but viewers may break lines at. */
function quote(text: string): string {
  return escapeBreaks(JSON.stringify(text));
}

/** C1 controls (NEL is a line break to some tools) and U+2028/2029, which JSON.stringify keeps as they are. */
function escapeBreaks(json: string): string {
  return json.replace(/[\u007f-\u009f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** A message printed bare: control characters would break the one-line-per-record format. */
function sanitize(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => (c === '\n' ? '\\n' : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));
}

/** Where formatted lines go: anything with a synchronous-enough write (SonicBoom, a test sink). */
export interface LineSink {
  write(text: string): unknown;
}

/**
 * A pino destination: takes pino's JSON lines and writes human ones to `out` (default: stdout
 * through a synchronous SonicBoom, so nothing is lost on exit and no worker thread is needed).
 */
export class HumanLogStream extends Writable {
  private readonly out: LineSink;
  private partial = '';

  constructor(out: LineSink = pino.destination({ dest: 1, sync: true })) {
    super({ decodeStrings: false });
    this.out = out;
  }

  override _write(chunk: Buffer | string, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    try {
      const text = this.partial + (typeof chunk === 'string' ? chunk : chunk.toString('utf8'));
      const lines = text.split('\n');
      this.partial = lines.pop() ?? '';
      for (const line of lines) if (line !== '') this.out.write(formatHumanLine(line) + '\n');
      callback();
    } catch (err) {
      callback(err as Error);
    }
  }

  override _final(callback: (error?: Error | null) => void): void {
    if (this.partial !== '') this.out.write(formatHumanLine(this.partial) + '\n');
    this.partial = '';
    callback();
  }
}
