// SPDX-License-Identifier: Apache-2.0
// Process entry: `node dist/main.js ARGS` (bin/tern.js does the same after checking the build).
import { main } from './cli.ts';

process.exitCode = await main(process.argv.slice(2));
