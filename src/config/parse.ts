// SPDX-License-Identifier: Apache-2.0
// Reading Tern's config: file → YAML (JSON is read by the same parser, with the strict JSON
// schema for *.json) → schema check → TernConfig. Every problem in the file is reported at once,
// each with its key path and, where the YAML tree has it, its line and column.
import { readFileSync } from 'node:fs';
import { LineCounter, isMap, isPair, isScalar, isSeq, parseDocument, type Document } from 'yaml';
import { buildConfig } from './build.ts';
import { INVALID, ProblemSink, checkObject, formatPath, isMapping, show, type PathSeg, type RawProblem } from './check.ts';
import { ROOT_FIELDS } from './schema.ts';
import { ConfigError, type ConfigProblem, type TernConfig } from './types.ts';

export function loadConfig(file: string): TernConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(file, [{ path: '', message: `cannot read config file: ${(err as Error).message}` }]);
  }
  return parseConfig(text, file);
}

export function parseConfig(text: string, file: string): TernConfig {
  const { doc, lines } = parseText(text, file);
  let root: unknown;
  try {
    root = doc.toJS({ maxAliasCount: MAX_ALIASES });
  } catch (err) {
    // e.g. alias expansion past maxAliasCount ("billion laughs")
    throw new ConfigError(file, [{ path: '', message: `cannot read YAML: ${(err as Error).message}` }]);
  }
  return checkAndBuild(root, file, (problems) => locateAll(doc, lines, problems));
}

/** Alias expansions allowed when the YAML tree becomes JS ("billion laughs"). */
export const MAX_ALIASES = 100;

/** The YAML (or JSON) document of the file's text; throws ConfigError on a syntax error. */
export function parseText(text: string, file: string): { doc: Document; lines: LineCounter } {
  const lines = new LineCounter();
  const json = file.toLowerCase().endsWith('.json');
  const doc = parseDocument(text, {
    lineCounter: lines,
    prettyErrors: false,
    logLevel: 'error', // we report problems ourselves; no process warnings
    schema: json ? 'json' : 'core', // YAML 1.2 core: `no` stays a string
  });
  if (doc.errors.length > 0) {
    const language = json ? 'JSON' : 'YAML';
    throw new ConfigError(file, doc.errors.map((e) => syntaxProblem(text, `${language} syntax error: ${e.message}`, lines.linePos(e.pos[0]))));
  }
  return { doc, lines };
}

/**
 * The schema check and the build of the file's value (`root`, the YAML tree as plain JS). Problems
 * are given their line and column by `locate`, which is only called when there are some.
 */
export function checkAndBuild(root: unknown, file: string, locate: (problems: readonly RawProblem[]) => ConfigProblem[]): TernConfig {
  if (root === null || root === undefined) {
    throw new ConfigError(file, [{ path: '', message: 'config is empty (routerId and asn are required)' }]);
  }
  if (!isMapping(root)) {
    throw new ConfigError(file, [{ path: '', message: `the top level must be a mapping of keys such as routerId and asn (got ${show(root)})`, line: 1, column: 1 }]);
  }
  const sink = new ProblemSink();
  const checked = checkObject(ROOT_FIELDS, root, [], sink);
  const config = checked === INVALID ? undefined : buildConfig(checked, file, sink);
  if (sink.problems.length > 0 || !config) {
    throw new ConfigError(file, locate(sink.problems));
  }
  return config;
}

/** Where each problem is in `text` (parsed again: only a file with problems pays for it). */
export function locateInText(text: string, file: string, problems: readonly RawProblem[]): ConfigProblem[] {
  const { doc, lines } = parseText(text, file);
  return locateAll(doc, lines, problems);
}

function syntaxProblem(text: string, message: string, pos: { line: number; col: number }): ConfigProblem {
  const lineText = text.split(/\r?\n/)[pos.line - 1] ?? '';
  // `address: ::` is a YAML syntax error; say what to do about it.
  const hint = /(:|-)\s+::/.test(lineText) ? ' (quote IPv6 addresses that start with "::", like "::1")' : '';
  return { path: '', message: `${message}${hint}`, line: pos.line, column: pos.col };
}

function locateAll(doc: Document, lines: LineCounter, raw: readonly RawProblem[]): ConfigProblem[] {
  const located = raw.map((p): ConfigProblem => {
    const offset = offsetOf(doc, p.missing ? p.path.slice(0, -1) : p.path, p.atKey === true);
    const problem: ConfigProblem = { path: formatPath(p.path), message: p.message };
    if (offset !== undefined) {
      const pos = lines.linePos(offset);
      problem.line = pos.line;
      problem.column = pos.col;
    }
    return problem;
  });
  // Stable sort: file order, problems without a position last.
  return located
    .map((p, i) => ({ p, i }))
    .sort((a, b) => (a.p.line ?? Infinity) - (b.p.line ?? Infinity) || a.i - b.i)
    .map(({ p }) => p);
}

/** Start offset of the node at `path` (or of its key), else of its nearest ancestor that exists. */
function offsetOf(doc: Document, path: readonly PathSeg[], atKey: boolean): number | undefined {
  let node: unknown = doc.contents;
  let offset = rangeStart(node);
  for (let i = 0; i < path.length; i++) {
    const seg = path[i]!;
    let next: unknown;
    if (isMap(node)) {
      const pair = node.items.find((it) => isPair(it) && isScalar(it.key) && String(it.key.value) === String(seg));
      if (!pair) break;
      if (atKey && i === path.length - 1) return rangeStart(pair.key) ?? offset;
      next = pair.value;
    } else if (isSeq(node) && typeof seg === 'number') {
      next = node.items[seg];
    } else break; // an alias or a scalar: stay at the nearest known position
    node = next;
    offset = rangeStart(node) ?? offset;
  }
  return offset;
}

function rangeStart(node: unknown): number | undefined {
  const range = (node as { range?: [number, number, number] } | null | undefined)?.range;
  return range ? range[0] : undefined;
}
