// SPDX-License-Identifier: Apache-2.0
// A minimal client for BIRD's control socket (the protocol birdc speaks): connect, read the
// "0001 BIRD x.y ready." greeting, send one command, collect reply lines until a line whose
// 4-digit code is followed by a space. Used instead of spawning birdc because the Calico
// scenarios poll up to 1000 BIRD processes; a process spawn per poll would load the same two
// cores the device under test runs on. It only reads and toggles protocols; no config changes.
import { createConnection } from 'node:net';

/** One command on a fresh connection; resolves with the reply text (codes stripped). */
export function birdCommand(socketPath: string, command: string, timeoutMs = 5_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(socketPath);
    let buffered = '';
    let greeted = false;
    const lines: string[] = [];
    const timer = setTimeout(() => finish(new Error(`birdctl ${socketPath}: no answer to "${command}" in ${timeoutMs} ms`)), timeoutMs);
    const finish = (err?: Error): void => {
      clearTimeout(timer);
      socket.destroy();
      if (err) reject(err);
      else resolve(lines.join('\n'));
    };
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      buffered += chunk;
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        if (!greeted) {
          greeted = true;
          socket.write(command + '\n');
          continue;
        }
        const m = /^(\d{4})([ -])(.*)$/.exec(line);
        if (!m) {
          lines.push(line.replace(/^ /, ''));
          continue;
        }
        lines.push(m[3]!);
        if (m[2] === ' ') {
          const code = Number(m[1]);
          // 8xxx: run-time errors, 9xxx: parse errors (BIRD doc "Remote control").
          return finish(code >= 8000 ? new Error(`birdctl ${socketPath}: "${command}": ${lines.join(' ')}`) : undefined);
        }
      }
    });
    socket.on('error', (err) => finish(new Error(`birdctl ${socketPath}: ${err.message}`)));
    socket.on('end', () => finish(new Error(`birdctl ${socketPath}: closed before the reply ended`)));
  });
}

/** Networks in the main table, from `show route count` (BIRD 1.6 and 2). */
export async function birdNetworkCount(socketPath: string): Promise<number> {
  const text = await birdCommand(socketPath, 'show route count');
  const m = /(\d+) of (\d+) routes for (\d+) networks/.exec(text);
  if (!m) throw new Error(`birdctl ${socketPath}: unexpected route count reply: ${text.slice(0, 200)}`);
  return Number(m[3]);
}

/** BGP state of one protocol, from `show protocols all NAME` ("Established", "Active", ...). */
export async function birdBgpState(socketPath: string, protocol: string): Promise<string> {
  const text = await birdCommand(socketPath, `show protocols all ${protocol}`);
  return /BGP state:\s+(\S+)/.exec(text)?.[1] ?? 'down';
}

/** Run `fn` over items with at most `limit` in flight. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
