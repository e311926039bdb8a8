// SPDX-License-Identifier: Apache-2.0
// The outgoing queue of one connection: whole encoded messages in priority classes, so a
// KEEPALIVE (or the NOTIFICATION that ends the session) never waits behind a long run of
// UPDATEs. Order within a class is kept (UPDATE order matters). No sockets here: the driver
// takes frames off the front while the socket accepts them.

/** Highest priority first. */
export const SEND_CLASSES = ['notification', 'open', 'keepalive', 'route-refresh', 'update'] as const;
export type SendClass = (typeof SEND_CLASSES)[number];

export class SendQueue {
  private readonly queues: Record<SendClass, Uint8Array[]> = {
    notification: [],
    open: [],
    keepalive: [],
    'route-refresh': [],
    update: [],
  };
  /** Read positions, so shifting a long UPDATE queue stays O(1). */
  private readonly heads: Record<SendClass, number> = { notification: 0, open: 0, keepalive: 0, 'route-refresh': 0, update: 0 };
  private bytes = 0;
  private count = 0;

  push(kind: SendClass, frame: Uint8Array): void {
    this.queues[kind].push(frame);
    this.bytes += frame.length;
    this.count += 1;
  }

  /** The next frame to write, highest class first; undefined when empty. */
  shift(): { kind: SendClass; frame: Uint8Array } | undefined {
    for (const kind of SEND_CLASSES) {
      const q = this.queues[kind];
      const head = this.heads[kind];
      if (head >= q.length) continue;
      const frame = q[head]!;
      this.heads[kind] = head + 1;
      // Compact now and then so a long-lived queue does not keep sent frames alive.
      if (this.heads[kind] >= 1024 || this.heads[kind] === q.length) {
        q.splice(0, this.heads[kind]);
        this.heads[kind] = 0;
      }
      this.bytes -= frame.length;
      this.count -= 1;
      return { kind, frame };
    }
    return undefined;
  }

  get pendingBytes(): number {
    return this.bytes;
  }

  get length(): number {
    return this.count;
  }

  clear(): void {
    for (const kind of SEND_CLASSES) {
      this.queues[kind].length = 0;
      this.heads[kind] = 0;
    }
    this.bytes = 0;
    this.count = 0;
  }
}
