// SPDX-License-Identifier: Apache-2.0
// Summarises a V8 .cpuprofile (from `npm run bench -- <scenario> --profile`, written by
// `node --cpu-prof` in the Tern DUT): self time per function and per source file, top N.
// Usage: node --import tsx bench/profile-summary.ts FILE.cpuprofile [N]
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export function summarise(profile: Profile, top = 25): string {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const fn = new Map<string, number>();
  const file = new Map<string, number>();
  for (const [id, us] of self) {
    const f = byId.get(id)!.callFrame;
    const short = f.url.replace(/^.*\/(src|dist|node_modules)\//, '$1/').replace(/^file:\/\//, '');
    const name = `${f.functionName || '(anonymous)'} ${short}:${f.lineNumber + 1}`;
    fn.set(name, (fn.get(name) ?? 0) + us);
    file.set(short || '(native/gc)', (file.get(short || '(native/gc)') ?? 0) + us);
  }
  const list = (m: Map<string, number>): string =>
    [...m].sort((a, b) => b[1] - a[1]).slice(0, top).map(([k, us]) => `${((us / total) * 100).toFixed(1).padStart(5)} %  ${(us / 1e3).toFixed(0).padStart(6)} ms  ${k}`).join('\n');
  return `total ${(total / 1e6).toFixed(2)} s sampled\n\nself time by function:\n${list(fn)}\n\nself time by file:\n${list(file)}\n`;
}

if (process.argv[1]?.endsWith('profile-summary.ts')) {
  const [path, n] = process.argv.slice(2);
  if (!path) throw new Error('usage: profile-summary.ts FILE.cpuprofile [N]');
  process.stdout.write(summarise(JSON.parse(readFileSync(path, 'utf8')) as Profile, Number(n ?? 25)));
}
