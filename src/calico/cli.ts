// SPDX-License-Identifier: Apache-2.0
// `tern calico render --node NAME [--env KEY=VALUE]... [--config-out FILE] FILE...`: read Calico
// resources (calicoctl/kubectl YAML) and print the render output for one node as JSON, with the
// compiler's warnings on stderr. `--config-out` also writes the Tern config (JSON, which Tern's
// config loader reads). Argument parsing is local because `--env` repeats.
import { writeFileSync } from 'node:fs';
import { compileNode } from './compile.ts';
import { loadResourceFiles } from './load.ts';
import type { CalicoEnv } from './resources.ts';

export const CALICO_USAGE = '  tern calico render --node NAME [--env KEY=VALUE]... [--config-out FILE] FILE...\n';

export class CalicoUsageError extends Error {}

export interface RenderArgs {
  node: string;
  env: Record<string, string>;
  files: string[];
  configOut?: string;
}

/** Parses the arguments after `calico render`. */
export function parseRenderArgs(argv: string[]): RenderArgs {
  const env: Record<string, string> = {};
  const files: string[] = [];
  let node: string | undefined;
  let configOut: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [flag, inline] = arg.startsWith('--') ? (arg.split(/=(.*)/s, 2) as [string, string | undefined]) : [arg, undefined];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined || v === '') throw new CalicoUsageError(`${flag} needs a value`);
      return v;
    };
    if (flag === '--node') node = value();
    else if (flag === '--config-out') configOut = value();
    else if (flag === '--env') {
      const kv = value();
      const eq = kv.indexOf('=');
      if (eq <= 0) throw new CalicoUsageError(`--env wants KEY=VALUE (got "${kv}")`);
      env[kv.slice(0, eq)] = kv.slice(eq + 1);
    } else if (arg.startsWith('--')) throw new CalicoUsageError(`unknown option ${flag}`);
    else files.push(arg);
  }
  if (!node) throw new CalicoUsageError('calico render needs --node NAME');
  if (files.length === 0) throw new CalicoUsageError('calico render needs at least one resource FILE');
  return configOut === undefined ? { node, env, files } : { node, env, files, configOut };
}

export interface CalicoIo {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
}

/** `tern calico <sub> ...`; returns the exit code (2 for usage errors). */
export function calicoCommand(argv: string[], io: CalicoIo): number {
  const [sub, ...rest] = argv;
  try {
    if (sub !== 'render') throw new CalicoUsageError(sub ? `unknown calico subcommand "${sub}"` : 'calico needs a subcommand');
    const args = parseRenderArgs(rest);
    const env: CalicoEnv = { ...args.env, NODENAME: args.node };
    const { config, render, warnings } = compileNode(loadResourceFiles(args.files), env);
    for (const w of warnings) io.stderr(`tern: warning: ${w}\n`);
    if (args.configOut) writeFileSync(args.configOut, JSON.stringify(config, null, 2) + '\n');
    io.stdout(JSON.stringify(render, null, 2) + '\n');
    return 0;
  } catch (e) {
    if (e instanceof CalicoUsageError) {
      io.stderr(`tern: ${e.message}\nusage:\n${CALICO_USAGE}`);
      return 2;
    }
    io.stderr(`tern: ${(e as Error).message}\n`);
    return 1;
  }
}
