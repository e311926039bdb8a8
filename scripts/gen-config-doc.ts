// SPDX-License-Identifier: Apache-2.0
// Writes docs/config.md from the config schema. Run: node --import tsx scripts/gen-config-doc.ts
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { renderConfigDoc } from '../src/config/doc.ts';

const target = fileURLToPath(new URL('../docs/config.md', import.meta.url));
writeFileSync(target, renderConfigDoc());
console.log(`wrote ${target}`);
