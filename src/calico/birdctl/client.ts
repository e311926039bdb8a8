// SPDX-License-Identifier: Apache-2.0
// A minimal client for BIRD 1.6's control-socket protocol (what birdc/birdcl and calico-node's
// health and status code speak): connect, read the hello, send one command per line, and
// collect the raw reply lines up to the final `NNNN ` line. Used by tests and tools; it does not
// interpret replies beyond the framing (see frame.ts for the framing rules).
import { createConnection, type Socket } from 'node:net';

/** A reply's raw lines, exactly as sent (without the `\n`). */
export type BirdReply = string[];

/** True when a raw line ends a reply: four digits and a space (`0000 `, `0013 ...`, `9001 ...`). */
export function isFinalLine(line: string): boolean {
  return /^\d{4} /.test(line) || /^\d{4}$/.test(line);
}

export class BirdClient {
  readonly hello: string;
  private readonly socket: Socket;
  private readonly lines: string[] = [];
  private buffered = '';
  private waiter?: () => void;
  private closed = false;

  private constructor(socket: Socket, hello: string) {
    this.socket = socket;
    this.hello = hello;
  }

  /** Connects and reads the hello line (`0001 BIRD ... ready.`). */
  static async connect(path: string, opts: { timeoutMs?: number } = {}): Promise<BirdClient> {
    const socket = createConnection(path);
    socket.setEncoding('utf8');
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const pending = new BirdClient(socket, '');
    socket.on('data', (chunk: string) => pending.onData(chunk));
    socket.on('close', () => pending.onClose());
    socket.on('error', () => pending.onClose());
    const hello = await pending.nextLine(opts.timeoutMs ?? 2000);
    (pending as { hello: string }).hello = hello;
    return pending;
  }

  /** Sends one command and returns its reply's raw lines, the final line included. */
  async command(cmd: string, opts: { timeoutMs?: number } = {}): Promise<BirdReply> {
    this.socket.write(cmd + '\n');
    const out: string[] = [];
    for (;;) {
      const line = await this.nextLine(opts.timeoutMs ?? 2000);
      out.push(line);
      if (isFinalLine(line)) return out;
    }
  }

  /** Resolves when the server closes the connection (or after the timeout, rejecting). */
  async waitClosed(timeoutMs = 2000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed) {
      if (Date.now() > deadline) throw new Error('server did not close the connection');
      await new Promise<void>((resolve) => {
        this.waiter = resolve;
        setTimeout(resolve, 50);
      });
    }
  }

  /** Writes raw bytes (for tests of the server's line handling). */
  writeRaw(data: string): void {
    this.socket.write(data);
  }

  close(): void {
    this.socket.destroy();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private onData(chunk: string): void {
    this.buffered += chunk;
    let nl: number;
    while ((nl = this.buffered.indexOf('\n')) >= 0) {
      this.lines.push(this.buffered.slice(0, nl));
      this.buffered = this.buffered.slice(nl + 1);
    }
    this.wake();
  }

  private onClose(): void {
    this.closed = true;
    this.wake();
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }

  private async nextLine(timeoutMs: number): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const line = this.lines.shift();
      if (line !== undefined) return line;
      if (this.closed) throw new Error('connection closed by the server');
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no reply line within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
  }
}
