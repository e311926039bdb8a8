// SPDX-License-Identifier: Apache-2.0
// placeholder, being written
import type { CalicoSnapshot, KObj } from './resources.ts';
export function loadResourceFiles(_paths: string[]): CalicoSnapshot { throw new Error('not implemented yet'); }
export function normaliseObject(o: KObj): KObj { return o; }
export function addObject(_s: CalicoSnapshot, _o: KObj): void { throw new Error('not implemented yet'); }
