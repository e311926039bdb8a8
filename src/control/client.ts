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
