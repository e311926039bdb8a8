// SPDX-License-Identifier: Apache-2.0
// placeholder, being written
import type { CalicoSnapshot, CalicoEnv } from './resources.ts';
import type { CompileResult } from './render-types.ts';
export function compileNode(_snapshot: CalicoSnapshot, _env: CalicoEnv): CompileResult {
  throw new Error('not implemented yet');
}
