// SPDX-License-Identifier: Apache-2.0
// `tern` command line: run the daemon, check a config, query a running daemon, run the demo.
// Exit codes: 0 success, 1 runtime failure, 2 bad arguments or invalid config.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadConfig, formatConfigError, ConfigError } from './config/index.ts';
import { createLogger } from './observability/log.ts';
import { Daemon } from './daemon.ts';
import { controlRequest, ControlClientError } from './control/client.ts';
import { peersTable, routesTable } from './control/table.ts';
import type { PeerView, RouteView } from './control/views.ts';
import { runDemo } from './demo.ts';

export const DEFAULT_SOCKET = '/run/tern/tern.ctl';

const USAGE = `usage:
  tern run --config FILE [--log-level trace|debug|info|warn|error] [--graceful-restart]
  tern check --config FILE
  tern show peers  [--json] [--socket PATH | --config FILE]
  tern show routes [--json] [--family ipv4-unicast|ipv6-unicast] [--peer NAME] [--table loc|adj-in|adj-out]
                   [--socket PATH | --config FILE]
  tern reload [--socket PATH | --config FILE]
  tern refresh PEER [--family ipv4-unicast|ipv6-unicast] [--socket PATH | --config FILE]
  tern demo [--speakers N] [--seconds S] [--port P]
  tern version
`;

class UsageError extends Error {}

interface ParsedArgs {
  positional: string[];
  flags: Map<string, string | true>;
}

const FLAGS_WITH_VALUE = new Set(['config', 'socket', 'family', 'peer', 'table', 'log-level', 'speakers', 'seconds', 'port']);
const BOOLEAN_FLAGS = new Set(['json', 'help', 'graceful-restart']);

export function parseArgs(argv: string[]): ParsedArgs {
  const positional: string[] = [];
  const flags = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) {
      positional.push(arg);
      continue;
    }
    const [name, inline] = arg.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
    if (BOOLEAN_FLAGS.has(name)) flags.set(name, true);
    else if (FLAGS_WITH_VALUE.has(name)) {
      const value = inline ?? argv[++i];
      if (value === undefined || value === '') throw new UsageError(`--${name} needs a value`);
      flags.set(name, value);
    } else throw new UsageError(`unknown option --${name}`);
  }
  return { positional, flags };
}

export async function main(argv: string[]): Promise<number> {
  try {
    const args = parseArgs(argv);
    const [command, sub] = args.positional;
    if (args.flags.has('help') || command === 'help' || command === undefined) {
      process.stdout.write(USAGE);
      return command === undefined && !args.flags.has('help') ? 2 : 0;
    }
    switch (command) {
      case 'run':
        return await run(args);
      case 'check':
        return check(args);
      case 'show':
        return await show(sub, args);
      case 'reload':
        return await reload(args);
      case 'refresh':
        return await refresh(sub, args);
      case 'demo':
        return await runDemo({
          speakers: intFlag(args, 'speakers', 4, 2, 50),
          seconds: intFlag(args, 'seconds', 0, 0, 86400),
          port: intFlag(args, 'port', 1790, 1, 65535),
        });
      case 'version':
        process.stdout.write(`tern ${version()}\n`);
        return 0;
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`tern: ${err.message}\n${USAGE}`);
      return 2;
    }
    if (err instanceof ConfigError) {
      process.stderr.write(formatConfigError(err) + '\n');
      return 2;
    }
    if (err instanceof ControlClientError) {
      process.stderr.write(`tern: ${err.message}\n`);
      return 1;
    }
    process.stderr.write(`tern: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
    return 1;
  }
}

function requireFlag(args: ParsedArgs, name: string): string {
  const v = args.flags.get(name);
  if (typeof v !== 'string') throw new UsageError(`--${name} is required`);
  return v;
}

function intFlag(args: ParsedArgs, name: string, fallback: number, min: number, max: number): number {
  const v = args.flags.get(name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`--${name} must be an integer from ${min} to ${max} (got "${String(v)}")`);
  return n;
}

async function run(args: ParsedArgs): Promise<number> {
  const config = loadConfig(requireFlag(args, 'config'));
  const level = (args.flags.get('log-level') as string | undefined) ?? config.logLevel;
  const log = createLogger({ level });
  const daemon = new Daemon(config, log);
  await daemon.start({ recover: args.flags.has('graceful-restart') });
  // SIGHUP: reload, as BIRD's `configure` (a broken file leaves the running config in place).
  const onHangup = () => {
    daemon.reload().catch((err: unknown) => log.error({ err: err instanceof ConfigError ? formatConfigError(err) : String(err) }, 'reload failed; the running configuration is unchanged'));
  };
  process.on('SIGHUP', onHangup);
  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      log.info({ signal }, 'stopping');
      daemon.stop(`Tern stopped (${signal})`).finally(resolve);
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  return 0;
}

function check(args: ParsedArgs): number {
  const file = requireFlag(args, 'config');
  const config = loadConfig(file);
  process.stdout.write(`${file}: OK (${config.peers.length} peers, ${config.originate.length} originated prefixes)\n`);
  return 0;
}

async function reload(args: ParsedArgs): Promise<number> {
  const report = (await controlRequest(socketPath(args), 'reload', {}, 30_000)) as Record<string, unknown>;
  process.stdout.write(args.flags.has('json') ? JSON.stringify(report, null, 2) + '\n' : formatReload(report));
  return 0;
}

function formatReload(r: Record<string, unknown>): string {
  const lines = [`reloaded ${String(r.file)}`];
  for (const [key, label] of [['peersAdded', 'peers added'], ['peersRemoved', 'peers removed'], ['peersReset', 'peers reset'], ['peersUpdated', 'peers updated without reset'], ['needsRestart', 'changed but applied only after a restart']] as const) {
    const list = r[key] as string[];
    if (list.length) lines.push(`  ${label}: ${list.join(', ')}`);
  }
  if (r.originateChanged) lines.push('  originated routes changed');
  if (lines.length === 1) lines.push('  no changes');
  return lines.join('\n') + '\n';
}

async function refresh(peer: string | undefined, args: ParsedArgs): Promise<number> {
  if (!peer) throw new UsageError('refresh needs a peer name');
  const family = args.flags.get('family');
  const result = (await controlRequest(socketPath(args), 'refresh', typeof family === 'string' ? { peer, family } : { peer })) as { peer: string; families: string[] };
  process.stdout.write(`route refresh sent to ${result.peer} for ${result.families.join(', ')}\n`);
  return 0;
}

function socketPath(args: ParsedArgs): string {
  const socket = args.flags.get('socket');
  if (typeof socket === 'string') return socket;
  const config = args.flags.get('config');
  if (typeof config === 'string') return loadConfig(config).control.socket;
  return DEFAULT_SOCKET;
}

async function show(what: string | undefined, args: ParsedArgs): Promise<number> {
  const json = args.flags.has('json');
  if (what === 'peers') {
    const peers = (await controlRequest(socketPath(args), 'show peers')) as PeerView[];
    process.stdout.write(json ? JSON.stringify(peers, null, 2) + '\n' : peersTable(peers));
    return 0;
  }
  if (what === 'routes') {
    const filter: Record<string, string> = {};
    for (const key of ['family', 'peer', 'table']) {
      const v = args.flags.get(key);
      if (typeof v === 'string') filter[key] = v;
    }
    const routes = (await controlRequest(socketPath(args), 'show routes', filter)) as RouteView[];
    process.stdout.write(json ? JSON.stringify(routes, null, 2) + '\n' : routesTable(routes));
    return 0;
  }
  throw new UsageError(what === undefined ? 'show what? (peers or routes)' : `cannot show "${what}" (peers or routes)`);
}

function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(fileURLToPath(new URL('../package.json', import.meta.url)), 'utf8')) as { version: string };
    return pkg.version;
  } catch {
    return 'unknown';
  }
}
