// SPDX-License-Identifier: Apache-2.0
// Pieces the namespace suites with Tern as DUT share (reload, security, faults, bfd): waiting
// until a session is Established from both ends, and tearing a lab down (its work directory is
// kept when a test failed, or when INTEROP_KEEP=1, for the logs).
import { rmSync } from 'node:fs';
import { waitFor } from './wait.ts';

/** Wait until Tern says `name` is Established, then until the peer says so too. */
export async function bothEstablished(
  name: string,
  tern: () => Promise<{ state: string; lastError?: string | null }>,
  peer: () => Promise<{ established: boolean; state: string; lastError?: string }>,
  wait: { timeoutMs: number; intervalMs?: number },
): Promise<void> {
  await waitFor(`Tern: ${name} Established`, async () => {
    const p = await tern();
    if (p.state !== 'Established') throw new Error(`${p.state} ${p.lastError ?? ''}`);
    return true;
  }, wait);
  await waitFor(`${name}: Tern Established`, async () => {
    const s = await peer();
    if (!s.established) throw new Error(`${s.state} ${s.lastError}`);
    return true;
  }, wait);
}

/** Stop every daemon of a lab (SIGKILL), remove its namespaces, and its work directory unless
 *  a test failed or INTEROP_KEEP=1. */
export async function tearDownLab(lab: {
  daemons: readonly ({ stop(signal: NodeJS.Signals): Promise<unknown> } | undefined)[];
  topo: { destroy(): Promise<void> } | undefined;
  workDir: string;
  failed: boolean;
}): Promise<void> {
  await Promise.allSettled(lab.daemons.map((d) => d?.stop('SIGKILL')));
  await lab.topo?.destroy();
  if (!lab.failed && process.env.INTEROP_KEEP !== '1') rmSync(lab.workDir, { recursive: true, force: true });
}
