// SPDX-License-Identifier: Apache-2.0
// The daemon side of the control socket. It reads requests, calls the handler and writes the
// response; a bad request gets an error response, never a crash. It knows no commands itself.
import { mkdirSync, rmSync, existsSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { dirname } from 'node:path';
import type { Logger } from '../observability/log.ts';
import { MAX_REQUEST_BYTES, parseRequest, type ControlResponse } from './protocol.ts';

export type CommandHandler = (command: string, args: Record<string, unknown>) => unknown | Promise<unknown>;

export class CommandError extends Error {}

/**
 * A command's answer that goes on (tern watch): instead of one response, the server writes
 *   {"id": 1, "ok": true, "stream": true}      once, then
 *   {"id": 1, "event": {...}}                  one line per event, until the client leaves, or
 *   {"id": 1, "ok": true, "end": true}         when the source ends (with "error" if it failed).
 * `start` subscribes and returns the unsubscribe function. Writing never waits for the client:
 * one that lets more than `maxStreamBytes` pile up is dropped, so a slow client never blocks
 * (or grows the memory of) the daemon.
 */
export class EventStream {
  readonly start: (emit: (event: unknown) => void, end: (error?: string) => void) => () => void;

  constructor(start: (emit: (event: unknown) => void, end: (error?: string) => void) => () => void) {
    this.start = start;
  }
}

export type StreamLine = { id?: number | string; ok: true; stream: true } | { id?: number | string; event: unknown } | { id?: number | string; ok: boolean; end: true; error?: string };

/** Bytes a streaming client may leave unread before it is dropped. */
export const DEFAULT_MAX_STREAM_BYTES = 1024 * 1024;

export class ControlServer {
  private server?: Server;
  private readonly clients = new Set<Socket>();

  private readonly path: string;
  private readonly handler: CommandHandler;
  private readonly log: Logger;
  private readonly maxStreamBytes: number;

  constructor(path: string, handler: CommandHandler, log: Logger, opts: { maxStreamBytes?: number } = {}) {
    this.path = path;
    this.handler = handler;
    this.log = log;
    this.maxStreamBytes = opts.maxStreamBytes ?? DEFAULT_MAX_STREAM_BYTES;
  }

  async listen(): Promise<void> {
    mkdirSync(dirname(this.path), { recursive: true });
    await removeStaleSocket(this.path);
    const server = createServer((socket) => this.serve(socket));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.path, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (err) => this.log.error({ err }, 'control socket error'));
  }

  async close(): Promise<void> {
    for (const c of this.clients) c.destroy();
    const server = this.server;
    if (!server) return;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(this.path, { force: true });
  }

  private serve(socket: Socket): void {
    this.clients.add(socket);
    let buffered = '';
    let queue = Promise.resolve();
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      buffered += chunk;
      if (buffered.length > MAX_REQUEST_BYTES && !buffered.includes('\n')) {
        this.reply(socket, { ok: false, error: `request longer than ${MAX_REQUEST_BYTES} bytes` });
        socket.end();
        buffered = '';
        return;
      }
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl).trim();
        buffered = buffered.slice(nl + 1);
        if (line) queue = queue.then(() => this.handle(socket, line));
      }
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => this.clients.delete(socket));
  }

  private async handle(socket: Socket, line: string): Promise<void> {
    const req = parseRequest(line);
    if ('error' in req) return this.reply(socket, { ok: false, error: req.error });
    try {
      const result = await this.handler(req.command, req.args ?? {});
      if (result instanceof EventStream) return this.stream(socket, req.id, req.command, result);
      this.reply(socket, { id: req.id, ok: true, result });
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      if (!(err instanceof CommandError)) this.log.warn({ err, command: req.command }, 'control command failed');
      this.reply(socket, { id: req.id, ok: false, error: message });
    }
  }

  private stream(socket: Socket, id: number | string | undefined, command: string, source: EventStream): void {
    if (socket.destroyed) return;
    let stop: (() => void) | undefined;
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      socket.off('close', finish);
      stop?.();
    };
    socket.on('close', finish);
    const write = (line: StreamLine): void => {
      if (done || socket.destroyed) return;
      if (socket.writableLength > this.maxStreamBytes) {
        // The client does not read: drop it rather than buffer without bound.
        this.log.warn({ command, unread: socket.writableLength }, 'control client too slow for its stream: dropped');
        finish();
        socket.destroy();
        return;
      }
      socket.write(JSON.stringify(line) + '\n');
    };
    write({ id, ok: true, stream: true });
    stop = source.start(
      (event) => write({ id, event }),
      (error) => {
        write(error === undefined ? { id, ok: true, end: true } : { id, ok: false, end: true, error });
        finish();
      },
    );
    if (done) stop();
  }

  private reply(socket: Socket, response: ControlResponse): void {
    if (!socket.destroyed) socket.write(JSON.stringify(response) + '\n');
  }
}

/** A socket file left by a daemon that died is removed; one that answers means a daemon runs. */
async function removeStaleSocket(path: string): Promise<void> {
  if (!existsSync(path)) return;
  const alive = await new Promise<boolean>((resolve) => {
    const probe = createConnection(path);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
  if (alive) throw new Error(`control socket ${path} is in use by a running daemon`);
  rmSync(path, { force: true });
}
