// SPDX-License-Identifier: Apache-2.0
// `tern` command line: run the daemon, check a config, query a running daemon, run the demo.
// Exit codes: 0 success, 1 runtime failure, 2 bad arguments or invalid config.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { resolve as resolvePath } from 'node:path';
import { loadConfig, formatConfigError, ConfigError } from './config/index.ts';
import { createLogger } from './observability/log.ts';
import { HumanLogStream, LOG_FORMATS, defaultLogFormat } from './observability/human-log.ts';
import { Daemon } from './daemon.ts';
import { controlRequest, controlStream, ControlClientError } from './control/client.ts';
import { formatExplain, type ExplainResult } from './control/explain.ts';
import { formatWatchEvent, type WatchEvent } from './control/watch.ts';
import type { PeerOpResult } from './control/peer-ops.ts';
import { formatTable, peersTable, routesTable } from './control/table.ts';
import type { KernelView } from './kernel-sync/view.ts';
import type { PeerView, RouteView } from './control/views.ts';
import { calicoCommand } from './calico/cli.ts';
// calico/run.ts is imported where used: it pulls in @kubernetes/client-node (~80 MiB of RSS),
// which `tern run` never needs (docs/performance.md).

export const DEFAULT_SOCKET = '/run/tern/tern.ctl';

const USAGE = `usage:
  tern run --config FILE [--log-level trace|debug|info|warn|error] [--log-format json|human] [--graceful-restart]
  tern check --config FILE
  tern show peers  [--json] [--socket PATH | --config FILE]
  tern show routes [--json] [--family ipv4-unicast|ipv6-unicast] [--peer NAME] [--table loc|adj-in|adj-out]
                   [--prefix P [--longer]] [--community C] [--large-community C]
                   [--socket PATH | --config FILE]
  tern explain PREFIX [--peer NAME] [--json] [--socket PATH | --config FILE]
  tern watch [--peer NAME] [--prefix P] [--json] [--socket PATH | --config FILE]
  tern peer enable|disable|reset NAME [--json] [--socket PATH | --config FILE]
  tern show kernel [--json] [--socket PATH | --config FILE]
  tern reload [--socket PATH | --config FILE]
  tern refresh PEER [--family ipv4-unicast|ipv6-unicast] [--socket PATH | --config FILE]
  tern dump rib FILE [--json] [--socket PATH | --config FILE]            (MRT TABLE_DUMP_V2, RFC 6396)
  tern dump updates start FILE | tern dump updates stop [--json] [...]   (MRT BGP4MP, appended)
  tern demo [--speakers N] [--seconds S] [--port P]
  tern calico run [--config-out FILE] [--graceful-restart] [--log-level L] [--log-format F]
                   (in calico-node: reads Calico resources from Kubernetes; env NODENAME, NAMESPACE, ...)
  tern calico render --node NAME [--env KEY=VALUE]... [--config-out FILE] FILE...
                   (Calico resources in YAML -> the node's BGP settings as JSON; docs/calico-render.md)
  tern version
`;

class UsageError extends Error {}

interface ParsedArgs {
  positional: string[];
  flags: Map<string, string | true>;
}

const FLAGS_WITH_VALUE = new Set(['config', 'socket', 'family', 'peer', 'table', 'log-level', 'log-format', 'speakers', 'seconds', 'port']);
const BOOLEAN_FLAGS = new Set(['json', 'help', 'graceful-restart']);
// show routes filters, explain, watch.
for (const name of ['prefix', 'community', 'large-community']) FLAGS_WITH_VALUE.add(name);
BOOLEAN_FLAGS.add('longer');
FLAGS_WITH_VALUE.add('config-out'); // tern calico run

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
  // `calico render` parses its own arguments (--env repeats); see src/calico/cli.ts.
  if (argv[0] === 'calico' && argv[1] === 'render' && !argv.includes('--help')) {
    return calicoCommand(argv.slice(1), { stdout: (s) => process.stdout.write(s), stderr: (s) => process.stderr.write(s) });
  }
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
      case 'dump':
        return await dumpCommand(args);
      case 'explain':
        return await explainCommand(sub, args);
      case 'watch':
        return await watchCommand(args);
      case 'peer':
        return await peerCommand(sub, args.positional[2], args);
      case 'calico':
        if (sub === 'run') return await calicoRun(args);
        throw new UsageError(sub === undefined ? 'calico what? (run, render)' : `unknown calico command "${sub}"`);
      case 'demo': {
        const options = {
          speakers: intFlag(args, 'speakers', 4, 2, 50),
          seconds: intFlag(args, 'seconds', 0, 0, 86400),
          port: intFlag(args, 'port', 1790, 1, 65535),
        };
        // Loaded on use: `tern run` keeps the demo's code out of its memory.
        const { runDemo } = await import('./demo.ts');
        return await runDemo(options);
      }
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
  const format = (args.flags.get('log-format') as string | undefined) ?? defaultLogFormat();
  if (!(LOG_FORMATS as readonly string[]).includes(format)) throw new UsageError(`--log-format must be ${LOG_FORMATS.join(' or ')} (got "${format}")`);
  const log = createLogger({ level, ...(format === 'human' ? { destination: new HumanLogStream() } : {}) });
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

/** `tern calico run`: the datastore-driven daemon (src/calico/run.ts). */
async function calicoRun(args: ParsedArgs): Promise<number> {
  const format = (args.flags.get('log-format') as string | undefined) ?? defaultLogFormat();
  if (!(LOG_FORMATS as readonly string[]).includes(format)) throw new UsageError(`--log-format must be ${LOG_FORMATS.join(' or ')} (got "${format}")`);
  const level = (args.flags.get('log-level') as string | undefined) ?? 'info';
  const log = createLogger({ level, ...(format === 'human' ? { destination: new HumanLogStream() } : {}) });
  const configFile = args.flags.get('config-out');
  const { runCalicoUntilSignalled } = await import('./calico/run.ts');
  return runCalicoUntilSignalled({
    env: process.env,
    log,
    gracefulRestart: args.flags.has('graceful-restart'),
    ...(typeof configFile === 'string' ? { configFile: resolvePath(configFile) } : {}),
  });
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
    process.stdout.write(json ? JSON.stringify(peers, null, 2) + '\n' : peersTable(peers.map(withDisabledState)));
    return 0;
  }
  if (what === 'routes') {
    const filter: Record<string, string | boolean> = {};
    for (const key of ['family', 'peer', 'table', 'prefix', 'community']) {
      const v = args.flags.get(key);
      if (typeof v === 'string') filter[key] = v;
    }
    const large = args.flags.get('large-community');
    if (typeof large === 'string') filter.largeCommunity = large;
    if (args.flags.has('longer')) filter.longer = true;
    const routes = (await controlRequest(socketPath(args), 'show routes', filter)) as RouteView[];
    process.stdout.write(json ? JSON.stringify(routes, null, 2) + '\n' : routesTable(routes));
    return 0;
  }
  if (what === 'bfd') {
    // RFC 5880 sessions (src/bfd/): JSON rows; the table is one line per session.
    const rows = (await controlRequest(socketPath(args), 'show bfd')) as { name: string; address: string; state: string; remoteState: string; detectionTimeMs: number }[];
    process.stdout.write(json ? JSON.stringify(rows, null, 2) + '\n' : rows.map((r) => `${r.name} ${r.address} ${r.state} (remote ${r.remoteState}, detection ${r.detectionTimeMs} ms)\n`).join(''));
    return 0;
  }
  if (what === 'kernel') {
    const view = (await controlRequest(socketPath(args), 'show kernel')) as KernelView;
    process.stdout.write(json ? JSON.stringify(view, null, 2) + '\n' : kernelTable(view));
    return 0;
  }
  throw new UsageError(what === undefined ? 'show what? (peers, routes or kernel)' : `cannot show "${what}" (peers, routes or kernel)`);
}

function kernelTable(view: KernelView): string {
  const hops = (r: KernelView['learned'][number]) =>
    r.nextHops.map((h) => [h.gateway ? `via ${h.gateway}` : '', h.device ? `dev ${h.device}` : '', h.onlink ? 'onlink' : ''].filter(Boolean).join(' ')).join(', ') || '-';
  const programmed = formatTable(
    ['PREFIX', 'TYPE', 'NEXT HOPS', 'METRIC', 'STATE', 'ERROR'],
    view.programmed.map((r) => [r.prefix, r.type, hops(r), String(r.metric), r.state, r.error ?? '']),
  );
  const learned = formatTable(
    ['PREFIX', 'TYPE', 'NEXT HOPS', 'METRIC', 'PROTOCOL'],
    view.learned.map((r) => [r.prefix, r.type, hops(r), String(r.metric), String(r.protocol)]),
  );
  const stats = Object.entries(view.stats).map(([k, v]) => `${k}=${v}`).join(' ');
  return `Programmed routes\n${programmed}\nLearned routes\n${learned}\n${stats}\n`;
}

/** `show peers`: a peer stopped by `tern peer disable` reads "Idle (disabled)". */
export function withDisabledState(p: PeerView): PeerView {
  return p.disabled ? { ...p, state: `${p.state} (disabled)` } : p;
}

async function explainCommand(prefix: string | undefined, args: ParsedArgs): Promise<number> {
  if (!prefix) throw new UsageError('explain needs a prefix (e.g. tern explain 10.0.0.0/24)');
  const peer = args.flags.get('peer');
  const result = (await controlRequest(socketPath(args), 'explain', typeof peer === 'string' ? { prefix, peer } : { prefix }, 30_000)) as ExplainResult;
  process.stdout.write(args.flags.has('json') ? JSON.stringify(result, null, 2) + '\n' : formatExplain(result));
  return 0;
}

/** Streams events until Ctrl-C (exit 0) or the daemon goes away (exit 1). */
async function watchCommand(args: ParsedArgs): Promise<number> {
  const request: Record<string, string> = {};
  for (const key of ['peer', 'prefix']) {
    const v = args.flags.get(key);
    if (typeof v === 'string') request[key] = v;
  }
  const json = args.flags.has('json');
  const stream = controlStream(socketPath(args), 'watch', request, (event) => {
    process.stdout.write((json ? JSON.stringify(event) : formatWatchEvent(event as WatchEvent)) + '\n');
  });
  const stop = () => stream.close();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    await stream.done;
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
  return 0;
}

async function peerCommand(action: string | undefined, name: string | undefined, args: ParsedArgs): Promise<number> {
  if (action !== 'enable' && action !== 'disable' && action !== 'reset') throw new UsageError(action === undefined ? 'peer what? (enable, disable or reset)' : `cannot "${action}" a peer (enable, disable or reset)`);
  if (!name) throw new UsageError(`peer ${action} needs a peer name`);
  const r = (await controlRequest(socketPath(args), `peer ${action}`, { peer: name }, 30_000)) as PeerOpResult;
  if (args.flags.has('json')) process.stdout.write(JSON.stringify(r, null, 2) + '\n');
  else if (!r.changed) process.stdout.write(`peer ${r.peer} already ${action}d\n`);
  else process.stdout.write(`peer ${r.peer} ${action === 'reset' ? 'reset (Cease / Administrative Reset sent; reconnecting)' : action === 'disable' ? 'disabled (Cease / Administrative Shutdown sent)' : 'enabled'}; state ${r.state}\n`);
  return 0;
}

/** `dump rib FILE`, `dump updates start FILE`, `dump updates stop`: the daemon writes FILE (made absolute here). */
async function dumpCommand(args: ParsedArgs): Promise<number> {
  const [, what, third, fourth] = args.positional;
  let command: string;
  let file: string | undefined;
  if (what === 'rib') [command, file] = ['dump rib', third];
  else if (what === 'updates' && third === 'start') [command, file] = ['dump updates start', fourth];
  else if (what === 'updates' && third === 'stop') command = 'dump updates stop';
  else throw new UsageError('dump what? (rib FILE, updates start FILE, updates stop)');
  if (command !== 'dump updates stop' && !file) throw new UsageError(`${command} needs a FILE`);
  const r = (await controlRequest(socketPath(args), command, file ? { file: resolvePath(file) } : {}, 120_000)) as Record<string, unknown>;
  if (args.flags.has('json')) process.stdout.write(JSON.stringify(r, null, 2) + '\n');
  else if (command === 'dump rib') process.stdout.write(`wrote ${String(r.file)}: ${String(r.prefixes)} prefixes, ${String(r.paths)} paths from ${String(r.peers)} peers (${String(r.bytes)} bytes)\n`);
  else if (command === 'dump updates start') process.stdout.write(`dumping received UPDATEs to ${String(r.file)}\n`);
  else process.stdout.write(`stopped dumping to ${String(r.file)}: ${String(r.records)} records (${String(r.bytes)} bytes), ${String(r.dropped)} dropped\n`);
  return 0;
}

function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(fileURLToPath(new URL('../package.json', import.meta.url)), 'utf8')) as { version: string };
    return pkg.version;
  } catch {
    return 'unknown';
  }
}
