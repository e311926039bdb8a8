// SPDX-License-Identifier: Apache-2.0
// The CLI side of the control socket: send one request, wait for its response line.
import { createConnection } from 'node:net';
import type { ControlResponse } from './protocol.ts';

export class ControlClientError extends Error {}

export function controlRequest(path: string, command: string, args: Record<string, unknown> = {}, timeoutMs = 10_000): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(path);
    let buffered = '';
    const timer = setTimeout(() => finish(new ControlClientError(`no answer from ${path} within ${timeoutMs} ms`)), timeoutMs);
    const finish = (err?: Error, value?: unknown) => {
      clearTimeout(timer);
      socket.destroy();
      if (err) reject(err);
      else resolve(value);
    };
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write(JSON.stringify({ id: 1, command, args }) + '\n'));
    socket.on('data', (chunk: string) => {
      buffered += chunk;
      const nl = buffered.indexOf('\n');
      if (nl < 0) return;
      let response: ControlResponse;
      try {
        response = JSON.parse(buffered.slice(0, nl)) as ControlResponse;
      } catch {
        return finish(new ControlClientError(`unreadable answer from ${path}`));
      }
      if (response.ok) finish(undefined, response.result);
      else finish(new ControlClientError(response.error));
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      const why = err.code === 'ENOENT' ? 'no such socket (is tern running?)' : err.code === 'ECONNREFUSED' ? 'connection refused (is tern running?)' : err.message;
      finish(new ControlClientError(`cannot reach the control socket ${path}: ${why}`));
    });
    socket.on('end', () => finish(new ControlClientError(`control socket ${path} closed without an answer`)));
  });
}

export interface ControlStream {
  /** Resolves when the stream ends (the daemon ended it, or close() was called); rejects on error. */
  readonly done: Promise<void>;
  close(): void;
}

/**
 * Subscribe to a streaming command (tern watch): `onEvent` gets every event line in order.
 * `started` resolves once the daemon accepted the command (rejects with its error if not).
 */
export function controlStream(path: string, command: string, args: Record<string, unknown>, onEvent: (event: unknown) => void): { started: Promise<void> } & ControlStream {
  const socket = createConnection(path);
  let buffered = '';
  let closing = false;
  let isStarted = false;
  let resolveStarted!: () => void;
  let rejectStarted!: (err: Error) => void;
  const started = new Promise<void>((resolve, reject) => {
    resolveStarted = resolve;
    rejectStarted = reject;
  });
  const done = new Promise<void>((resolve, reject) => {
    const fail = (err: Error) => {
      socket.destroy();
      if (!isStarted) rejectStarted(err);
      reject(err);
    };
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write(JSON.stringify({ id: 1, command, args }) + '\n'));
    socket.on('data', (chunk: string) => {
      buffered += chunk;
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const text = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        let line: Record<string, unknown>;
        try {
          line = JSON.parse(text) as Record<string, unknown>;
        } catch {
          return fail(new ControlClientError(`unreadable answer from ${path}`));
        }
        if ('event' in line) onEvent(line.event);
        else if (line.ok === false) return fail(new ControlClientError(String(line.error)));
        else if (line.stream === true) {
          isStarted = true;
          resolveStarted();
        } else if (line.end === true) {
          closing = true;
          socket.destroy();
          return resolve();
        } else return fail(new ControlClientError(`"${command}" is not a streaming command`));
      }
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (closing) return;
      const why = err.code === 'ENOENT' ? 'no such socket (is tern running?)' : err.code === 'ECONNREFUSED' ? 'connection refused (is tern running?)' : err.message;
      fail(new ControlClientError(`cannot reach the control socket ${path}: ${why}`));
    });
    socket.on('close', () => {
      if (closing) resolve();
      else fail(new ControlClientError(`control socket ${path} closed the stream`));
    });
  });
  // Callers may await only one of the two; the other must not become an unhandled rejection.
  started.catch(() => {});
  done.catch(() => {});
  return {
    started,
    done,
    close() {
      closing = true;
      socket.destroy();
    },
  };
}
