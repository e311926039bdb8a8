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

export class ControlServer {
  private server?: Server;
  private readonly clients = new Set<Socket>();

  private readonly path: string;
  private readonly handler: CommandHandler;
  private readonly log: Logger;

  constructor(path: string, handler: CommandHandler, log: Logger) {
    this.path = path;
    this.handler = handler;
    this.log = log;
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
      this.reply(socket, { id: req.id, ok: true, result });
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      if (!(err instanceof CommandError)) this.log.warn({ err, command: req.command }, 'control command failed');
      this.reply(socket, { id: req.id, ok: false, error: message });
    }
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
