// SPDX-License-Identifier: Apache-2.0
// Runs in a worker thread (load-async.ts): the text of a config file → its value as plain JS, or
// its syntax problems. The YAML parser is the slow part of reading a large file (30,000
// originated prefixes: 1.4 s), and a reload must not stop the daemon's event loop that long:
// peers with a 3 s hold time would drop the session.
import { parentPort, workerData } from 'node:worker_threads';
import { MAX_ALIASES, parseText } from './parse.ts';
import { ConfigError } from './types.ts';

export type WorkerAnswer = { root: unknown } | { problems: ConfigError['problems'] } | { failure: string };

const { text, file } = workerData as { text: string; file: string };
let answer: WorkerAnswer;
try {
  const { doc } = parseText(text, file);
  answer = { root: doc.toJS({ maxAliasCount: MAX_ALIASES }) };
} catch (err) {
  answer = err instanceof ConfigError ? { problems: err.problems } : { failure: `cannot read YAML: ${(err as Error).message}` };
}
parentPort!.postMessage(answer);
