// SPDX-License-Identifier: Apache-2.0
// The control socket's commands, answered from a running daemon. Read-only views plus the few
// operator actions (reload, route refresh). Unknown commands and bad arguments get a
// CommandError naming what is wrong; nothing here changes routing state directly.
import type { Daemon } from '../daemon.ts';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { FAMILIES, type Family } from '../bgp/messages/types.ts';
import { ConfigError, formatConfigError } from '../config/index.ts';
import { CommandError, type CommandHandler } from './server.ts';
import { peerView, routeRows, ROUTE_TABLES, type RouteFilters, type RouteTable } from './views.ts';
import { kernelView } from '../kernel-sync/view.ts';
import { parsePrefixArg } from './explain.ts';
import { communityValue, largeCommunityValue } from '../policy/spec.ts';
import { explainCommands } from './explain.ts';
import { watchCommands } from './watch.ts';
import { peerOpsCommands } from './peer-ops.ts';

export const COMMANDS = ['show peers', 'show routes', 'show kernel', 'show status', 'reload', 'refresh'] as const;

export type CommandImpl = (daemon: Daemon, args: Record<string, unknown>) => unknown | Promise<unknown>;

/** Commands contributed by other modules (explain, watch, peer operations, dumps...). */
const extraCommands = new Map<string, CommandImpl>();

export function registerCommand(name: string, impl: CommandImpl): void {
  extraCommands.set(name, impl);
}

// The operator commands of explain.ts, watch.ts and peer-ops.ts.
for (const [name, impl] of Object.entries({ ...explainCommands, ...watchCommands, ...peerOpsCommands })) registerCommand(name, impl);

/**
 * Event-loop delay since the daemon started or the last reset (`show status` with
 * `resetEventLoop: true`; the benchmark harness resets before a measured run). libuv's own
 * histogram, sampled every 10 ms; created with the first command handler, so once per daemon.
 */
let loopHistogram: IntervalHistogram | undefined;

function eventLoopDelay(reset: boolean): { maxMs: number; p99Ms: number; meanMs: number } {
  const h = loopHistogram;
  const round = (ns: number): number => Math.round(ns / 1e4) / 100;
  const out = h && h.count > 0 ? { maxMs: round(h.max), p99Ms: round(h.percentile(99)), meanMs: round(h.mean) } : { maxMs: 0, p99Ms: 0, meanMs: 0 };
  if (reset) h?.reset();
  return out;
}

export function commandHandler(daemon: Daemon): CommandHandler {
  if (!loopHistogram) {
    loopHistogram = monitorEventLoopDelay({ resolution: 10 });
    loopHistogram.enable();
  }
  return async (command, args) => {
    switch (command) {
      case 'show peers':
        return [...daemon.peers.values()].map((p) => peerView(daemon, p));
      case 'show routes':
        return showRoutes(daemon, args);
      case 'show status':
        return {
          routerId: daemon.config.routerId,
          asn: daemon.config.asn,
          uptimeSeconds: Math.floor((Date.now() - daemon.startedAt) / 1000),
          peers: daemon.peers.size,
          destinations: daemon.rib.loc.size,
          attributeSets: daemon.rib.attrs.size,
          recovering: daemon.speaker.recovering,
          pid: process.pid,
          eventLoopDelayMs: eventLoopDelay(args.resetEventLoop === true),
        };
      case 'show kernel':
        if (!daemon.kernel) throw new CommandError('kernel sync is not enabled (config: kernel.learn / kernel.program)');
        return kernelView(daemon.kernel);
      case 'reload':
        try {
          return await daemon.reload();
        } catch (err) {
          if (err instanceof ConfigError) throw new CommandError(`reload refused, the running configuration is unchanged:\n${formatConfigError(err)}`);
          throw err;
        }
      case 'refresh': {
        const entry = requirePeer(daemon, args.peer);
        const families = args.family === undefined ? entry.config.families : [requireFamily(args.family)];
        const sent = families.filter((f) => daemon.speaker.requestRefresh(entry.ref.id, f));
        if (!sent.length) throw new CommandError(`peer "${entry.config.name}" is not established with route refresh for ${families.join(', ')}`);
        return { peer: entry.config.name, families: sent };
      }
      default: {
        const extra = extraCommands.get(command);
        if (extra) return extra(daemon, args);
        throw new CommandError(`unknown command "${command}" (known: ${[...COMMANDS, ...extraCommands.keys()].join(', ')})`);
      }
    }
  };
}

function showRoutes(daemon: Daemon, args: Record<string, unknown>): unknown {
  const family = args.family === undefined ? undefined : requireFamily(args.family);
  const table = (args.table ?? 'loc') as RouteTable;
  if (!ROUTE_TABLES.includes(table)) throw new CommandError(`unknown table "${String(args.table)}" (use ${ROUTE_TABLES.join(', ')})`);
  const peer = args.peer === undefined ? undefined : requirePeer(daemon, args.peer);
  if (table !== 'loc' && !peer) throw new CommandError(`--table ${table} needs --peer NAME`);
  return routeRows(daemon, table, { family, peer, ...routeFilters(args) });
}

/** `--prefix P [--longer]`, `--community C`, `--large-community C` of show routes. */
function routeFilters(args: Record<string, unknown>): RouteFilters {
  const f: RouteFilters = {};
  if (args.prefix !== undefined) f.prefix = parsePrefixArg(args.prefix);
  if (args.longer !== undefined && args.longer !== false) {
    if (!f.prefix) throw new CommandError('--longer needs --prefix');
    f.longer = true;
  }
  if (args.community !== undefined) {
    const c = communityValue(String(args.community));
    if (c === undefined) throw new CommandError(`bad community "${String(args.community)}" (expected ASN:VALUE like 65000:100, or no-export, no-advertise, no-export-subconfed)`);
    f.community = c;
  }
  if (args.largeCommunity !== undefined) {
    const c = largeCommunityValue(String(args.largeCommunity));
    if (c === undefined) throw new CommandError(`bad large community "${String(args.largeCommunity)}" (expected GLOBAL:DATA1:DATA2 like 65000:1:2)`);
    f.largeCommunity = c;
  }
  return f;
}

export function requireFamily(value: unknown): Family {
  if (!FAMILIES.includes(value as Family)) throw new CommandError(`unknown family "${String(value)}" (use ${FAMILIES.join(' or ')})`);
  return value as Family;
}

export function requirePeer(daemon: Daemon, value: unknown) {
  const entry = typeof value === 'string' ? daemon.peerByName(value) : undefined;
  if (!entry) throw new CommandError(`no peer named "${String(value)}" (peers: ${[...daemon.peers.keys()].join(', ') || 'none'})`);
  return entry;
}
