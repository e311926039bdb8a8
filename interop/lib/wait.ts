// SPDX-License-Identifier: Apache-2.0
// Bounded polling for the interop lab: every wait has a deadline and reports what it last saw.
// It does not retry failed assertions forever, and it never sleeps without a bound.

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export class WaitTimeout extends Error {}

/**
 * Polls `probe` until it returns a value other than undefined, or throws WaitTimeout after
 * `timeoutMs` with the description and the last error/observation, so a failing case says why.
 */
export async function waitFor<T>(
  description: string,
  probe: () => Promise<T | undefined>,
  opts: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const intervalMs = opts.intervalMs ?? 500;
  const deadline = Date.now() + timeoutMs;
  let last = 'nothing observed yet';
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    if (Date.now() >= deadline) throw new WaitTimeout(`timed out after ${timeoutMs} ms waiting for ${description}; last: ${last}`);
    await sleep(intervalMs);
  }
}
