// SPDX-License-Identifier: Apache-2.0
// Where the shared real-world test data lives: `shared/data` beside the checkout (as on the
// developers' machines and in CI), or TERN_SHARED_DATA. Tests that need it fail loudly without it.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('..', import.meta.url));

export function sharedDataDir(): string {
  const candidates = [process.env.TERN_SHARED_DATA, resolve(repo, '..', 'shared', 'data'), '/work/shared/data'].filter((c): c is string => !!c);
  const found = candidates.find((c) => existsSync(c));
  if (!found) throw new Error(`shared test data not found (looked in ${candidates.join(', ')}); set TERN_SHARED_DATA`);
  return found;
}

export function sharedData(...parts: string[]): string {
  return join(sharedDataDir(), ...parts);
}
