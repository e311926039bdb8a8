#!/usr/bin/env node
// SPDX-License-Identifier: Apache-2.0
// Entry point: runs the compiled CLI. `npm run build` (or `npm start`/`npm test`) compiles dist/.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('../dist/main.js', import.meta.url));
if (!existsSync(cli)) {
  process.stderr.write('tern: dist/main.js is missing; run `npm run build` (or `npm start`, which builds on first run)\n');
  process.exit(2);
}
await import(cli);
