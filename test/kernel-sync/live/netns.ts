// SPDX-License-Identifier: Apache-2.0
// A network namespace of its own for a live kernel test: a veth pair (no dummy module on these
// kernels) with d0 = 10.200.0.1/24, both ends up. `runChild` runs a script of ./ inside it with
// d0's ifindex as its argument and returns its stdout. The namespace is removed even on failure.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

export const ip = (...args: string[]): string => execFileSync('ip', args, { encoding: 'utf8' });

export function withVethNamespace(ns: string, body: (runChild: (script: string) => string) => void): void {
  ip('netns', 'add', ns);
  try {
    ip('-n', ns, 'link', 'add', 'd0', 'type', 'veth', 'peer', 'name', 'd1');
    ip('-n', ns, 'link', 'set', 'd1', 'up');
    ip('-n', ns, 'addr', 'add', '10.200.0.1/24', 'dev', 'd0');
    ip('-n', ns, 'link', 'set', 'd0', 'up');
    const oif = JSON.parse(ip('-n', ns, '-json', 'link', 'show', 'd0'))[0].ifindex as number;
    const root = join(import.meta.dirname, '..', '..', '..');
    body((script) => execFileSync('ip', ['netns', 'exec', ns, process.execPath, '--import', 'tsx', join(import.meta.dirname, script), String(oif)], { encoding: 'utf8', cwd: root }));
  } finally {
    ip('netns', 'del', ns);
  }
}
