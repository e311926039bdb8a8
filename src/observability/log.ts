// SPDX-License-Identifier: Apache-2.0
// Structured logs: pino JSON lines on stdout (state changes and errors at info/warn; per-route
// lines only at trace). One base logger per daemon; sessions take child loggers with their peer.
import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

export function createLogger(opts: { level?: string; name?: string; destination?: NodeJS.WritableStream } = {}): Logger {
  const level = (LOG_LEVELS as readonly string[]).includes(opts.level ?? '') ? (opts.level as LevelWithSilent) : 'info';
  return pino(
    {
      level,
      base: { component: opts.name ?? 'tern' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: ['*.password', 'password'], censor: '[Redacted]' },
    },
    opts.destination ?? process.stdout,
  );
}
