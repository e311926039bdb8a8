// SPDX-License-Identifier: Apache-2.0
// The "kernel" section of `tern explain PREFIX`: whether and how the prefix is in the kernel —
// what Tern programmed (state, next hops, the kernel's error), or why it did not, and any route
// of another protocol for it that Tern learned.
import { registerExplainSection } from '../control/explain.ts';
import { prefixKey } from '../rib/prefix-key.ts';
import { kernelView } from './view.ts';

registerExplainSection('kernel', ({ daemon, prefix, destination }) => {
  const k = daemon.kernel;
  if (!k) return { summary: 'kernel sync not enabled (config: kernel.learn / kernel.program)' };
  if (!prefix) return { summary: 'no prefix to look up' };
  const view = kernelView(k);
  const programmed = view.programmed.find((r) => r.prefix === prefix);
  const learned = view.learned.filter((r) => r.prefix === prefix);
  const hops = (r: (typeof view.learned)[number]) =>
    r.nextHops.map((h) => [h.gateway ? `via ${h.gateway}` : '', h.device ? `dev ${h.device}` : '', h.onlink ? 'onlink' : ''].filter(Boolean).join(' ')).join(', ') || r.type;
  const lines: string[] = [];
  let summary: string;
  if (programmed) {
    summary = `${programmed.state}: ${programmed.type} ${hops(programmed)}, metric ${programmed.metric}, table ${programmed.table}, protocol ${programmed.protocol}`;
    if (programmed.error) lines.push(`kernel said: ${programmed.error}`);
  } else if (destination && k.programmed.has(prefixKey(destination.nlri))) {
    summary = 'programmed (state unknown)';
  } else {
    summary = destination?.decision.best ? `not programmed: the best route is a ${destination.decision.best.source} route or the kernel export policy rejects it` : 'not programmed: no route';
  }
  for (const r of learned) lines.push(`learned from the kernel: ${r.type} ${hops(r)}, metric ${r.metric}, protocol ${r.protocol}`);
  return { summary, lines, data: { programmed: programmed ?? null, learned } };
});
