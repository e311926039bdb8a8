// SPDX-License-Identifier: Apache-2.0
// A Unix-socket server speaking BIRD 1.6's CLI protocol (the hello, one command per line, framed
// replies; see frame.ts), so the real birdc/birdcl, calico-node's -bird-ready/-bird-live probes
// and `calicoctl node status` work against Tern. One server per socket path; each serves one
// address family through its backend. Bounded: command lines (BIRD closes the connection on an
// over-long line; Tern says 9000 first), clients at once, and unread reply bytes per client.
// Commands of one connection run in order; connections are independent.
import { chmodSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { dirname } from 'node:path';
import type { Logger } from '../../observability/log.ts';
import { Code, ReplyFramer, errorReply } from './frame.ts';
import { executeCommand, type BirdBackend, type CliSession } from './commands.ts';

/** BIRD 1.6 reads commands into a 1 KiB buffer and drops clients that overflow it. */
export const MAX_COMMAND_BYTES = 1024;
export const DEFAULT_MAX_CLIENTS = 64;
/** Reply bytes a client may leave unread before it is dropped (a full `show route all` of a
 *  large table is written at once; the client reads it at its pace up to this much). */
export const DEFAULT_MAX_UNREAD_BYTES = 64 * 1024 * 1024;

export interface BirdServerOptions {
  path: string;
  backend: BirdBackend;
  /** Version in the hello and `show status`, e.g. "v0.3.3+birdv1.6.8". */
  version: string;
  log: Logger;
  maxClients?: number;
  maxUnreadBytes?: number;
}

export class BirdControlServer {
  private server?: Server;
  private readonly clients = new Set<Socket>();
  private readonly opts: BirdServerOptions;

  constructor(opts: BirdServerOptions) {
    this.opts = opts;
  }

  get path(): string {
    return this.opts.path;
  }

  get clientCount(): number {
    return this.clients.size;
  }

  async listen(): Promise<void> {
    const { path } = this.opts;
    mkdirSync(dirname(path), { recursive: true });
    await removeStaleSocket(path);
    const server = createServer((socket) => this.accept(socket));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => {
        server.off('error', reject);
        resolve();
      });
    });
    // As BIRD's socket: root's tools (calicoctl, the probes) connect; nobody else needs to.
    chmodSync(path, 0o660);
    server.on('error', (err) => this.opts.log.error({ err, path }, 'BIRD control socket error'));
  }

  async close(): Promise<void> {
    for (const c of this.clients) c.destroy();
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(this.opts.path, { force: true });
  }

  private accept(socket: Socket): void {
    if (this.clients.size >= (this.opts.maxClients ?? DEFAULT_MAX_CLIENTS)) {
      this.opts.log.warn({ path: this.opts.path, clients: this.clients.size }, 'BIRD control socket: too many clients, connection closed');
      socket.destroy();
      return;
    }
    this.clients.add(socket);
    const framer = new ReplyFramer();
    const session: CliSession = { restricted: false };
    let buffered = '';
    let queue = Promise.resolve();
    let closing = false;
    const write = (text: string): void => {
      if (socket.destroyed || closing) return;
      if (socket.writableLength > (this.opts.maxUnreadBytes ?? DEFAULT_MAX_UNREAD_BYTES)) {
        this.opts.log.warn({ path: this.opts.path }, 'BIRD control client does not read its replies: dropped');
        socket.destroy();
        return;
      }
      socket.write(text);
    };
    const run = async (line: string): Promise<void> => {
      if (closing || socket.destroyed) return;
      let result;
      try {
        result = await executeCommand(line, this.opts.backend, session);
      } catch (err) {
        this.opts.log.warn({ err, command: line }, 'BIRD control command failed');
        result = errorReply(Code.SyntaxError, 'internal error');
      }
      if (result === 'quit') {
        closing = true;
        socket.end();
        return;
      }
      write(framer.frame(result));
    };
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      if (closing) return;
      buffered += chunk;
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl).replace(/\r$/, '');
        buffered = buffered.slice(nl + 1);
        if (Buffer.byteLength(line) > MAX_COMMAND_BYTES) return this.tooLong(socket, framer, () => (closing = true));
        queue = queue.then(() => run(line));
      }
      if (Buffer.byteLength(buffered) > MAX_COMMAND_BYTES) this.tooLong(socket, framer, () => (closing = true));
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => this.clients.delete(socket));
    write(framer.hello(this.opts.version));
  }

  private tooLong(socket: Socket, framer: ReplyFramer, markClosing: () => void): void {
    markClosing();
    if (!socket.destroyed) socket.end(framer.frame(errorReply(Code.CommandTooLong, 'Command too long')));
  }
}

/** A socket file left by a process that died is removed; one that answers is in use. */
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
  if (alive) throw new Error(`BIRD control socket ${path} is in use by a running process`);
  rmSync(path, { force: true });
}
