// SPDX-License-Identifier: Apache-2.0
// Reading the config file for a reload, while the daemon runs: a large file's text is parsed in a
// worker thread (parse-worker.ts), so sessions keep their keepalives; the schema check and the
// build run here (they are a small part of the time), and only a file with problems is parsed
// again here, to give each problem its line and column. A small file is read as at start-up:
// starting a worker costs more than parsing it.
import { readFile } from 'node:fs/promises';
import { Worker } from 'node:worker_threads';
import { checkAndBuild, locateInText, parseConfig } from './parse.ts';
import type { WorkerAnswer } from './parse-worker.ts';
import { ConfigError, type TernConfig } from './types.ts';

/** Files at least this large are parsed in a worker thread. */
export const WORKER_PARSE_BYTES = 64 * 1024;

export async function loadConfigAsync(file: string, workerFromBytes = WORKER_PARSE_BYTES): Promise<TernConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new ConfigError(file, [{ path: '', message: `cannot read config file: ${(err as Error).message}` }]);
  }
  if (text.length < workerFromBytes) return parseConfig(text, file);
  const answer = await parseInWorker(text, file);
  if ('problems' in answer) throw new ConfigError(file, answer.problems);
  if ('failure' in answer) throw new ConfigError(file, [{ path: '', message: answer.failure }]);
  return checkAndBuild(answer.root, file, (problems) => locateInText(text, file, problems));
}

function parseInWorker(text: string, file: string): Promise<WorkerAnswer> {
  return new Promise((resolve, reject) => {
    const worker = startWorker({ text, file });
    let answered = false;
    worker.once('message', (answer: WorkerAnswer) => {
      answered = true;
      resolve(answer);
    });
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (!answered) reject(new Error(`config parser thread exited (code ${code}) without an answer`));
    });
  });
}

/** The compiled worker beside this module (dist/); run from the TypeScript sources (tests, under
 *  tsx), the worker registers tsx itself: Node 20 does not pass `--import` on to worker threads. */
function startWorker(workerData: { text: string; file: string }): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./parse-worker.js', import.meta.url), { workerData });
  const source = new URL('./parse-worker.ts', import.meta.url).href;
  const boot = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(source)}); })`;
  return new Worker(boot, { eval: true, workerData });
}
