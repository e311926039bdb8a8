// SPDX-License-Identifier: Apache-2.0
// Operator actions on one peer (`tern peer disable|enable|reset NAME`):
//   disable  Cease / Administrative Shutdown with the RFC 9003 text "disabled by operator"; the
//            session stays down (incoming connections refused) until enable.
//   enable   start the session again (RFC 4271 §8.1.2 ManualStart).
//   reset    Cease / Administrative Reset (RFC 4486 subcode 4) with RFC 9003 text, then start.
// A disabled peer stays disabled across a reload unless that peer's configuration changed (a
// reset by reload makes a new session, which starts; a soft change restarts it here).
// Not here: the session mechanics (bgp/session/peer-session.ts), persisting the flag across a
// daemon restart (it is not persisted).
import type { Daemon, PeerEntry, ReloadReport } from '../daemon.ts';
import { CeaseSubcode } from '../bgp/messages/iana.ts';
import { shutdownNotification } from '../bgp/messages/notification.ts';
import { CommandError } from './server.ts';

/** RFC 9003 Shutdown Communication sent by `tern peer disable`. */
export const DISABLE_TEXT = 'disabled by operator';
/** RFC 9003 Shutdown Communication sent by `tern peer reset`. */
export const RESET_TEXT = 'reset by operator';

export interface PeerOpResult {
  peer: string;
  action: 'disable' | 'enable' | 'reset';
  /** false when the peer already was in the requested state (disable twice, enable an enabled peer). */
  changed: boolean;
  disabled: boolean;
  /** Session state right after the action. */
  state: string;
}

// Keyed by entry, not name: a reload that re-creates the peer (hard change) makes a new entry,
// which is therefore enabled, as the configuration changed.
const disabledPeers = new WeakSet<PeerEntry>();
const reloadHooked = new WeakSet<Daemon>();

export function isPeerDisabled(entry: PeerEntry): boolean {
  return disabledPeers.has(entry);
}

/** The peer named `name`, or a CommandError listing the known ones. */
export function findPeer(daemon: Daemon, name: unknown): PeerEntry {
  const entry = typeof name === 'string' ? daemon.peerByName(name) : undefined;
  if (!entry) throw new CommandError(`no peer named "${String(name)}" (peers: ${[...daemon.peers.keys()].join(', ') || 'none'})`);
  return entry;
}

export async function disablePeer(daemon: Daemon, name: unknown): Promise<PeerOpResult> {
  const entry = findPeer(daemon, name);
  hookReload(daemon);
  if (disabledPeers.has(entry)) return result(entry, 'disable', false);
  disabledPeers.add(entry);
  daemon.log.info({ peer: entry.config.name }, 'peer disabled by operator');
  // RFC 9003 §2: Cease / Administrative Shutdown carrying the operator's reason.
  await entry.session.stop(undefined, shutdownNotification(CeaseSubcode.AdministrativeShutdown, DISABLE_TEXT));
  return result(entry, 'disable', true);
}

export function enablePeer(daemon: Daemon, name: unknown): PeerOpResult {
  const entry = findPeer(daemon, name);
  if (!disabledPeers.has(entry)) return result(entry, 'enable', false);
  disabledPeers.delete(entry);
  daemon.log.info({ peer: entry.config.name }, 'peer enabled by operator');
  entry.session.start();
  return result(entry, 'enable', true);
}

export async function resetPeer(daemon: Daemon, name: unknown): Promise<PeerOpResult> {
  const entry = findPeer(daemon, name);
  if (disabledPeers.has(entry)) throw new CommandError(`peer "${entry.config.name}" is disabled; enable it instead of resetting it`);
  daemon.log.info({ peer: entry.config.name }, 'peer reset by operator');
  // RFC 4486 §4 / RFC 9003 §2: Cease / Administrative Reset, then connect again.
  await entry.session.stop(undefined, shutdownNotification(CeaseSubcode.AdministrativeReset, RESET_TEXT));
  if (daemon.peerByName(entry.config.name) === entry) entry.session.start();
  return result(entry, 'reset', true);
}

function result(entry: PeerEntry, action: PeerOpResult['action'], changed: boolean): PeerOpResult {
  return { peer: entry.config.name, action, changed, disabled: disabledPeers.has(entry), state: entry.session.state };
}

/** A soft config change of a disabled peer (policy, next hop...) enables it again. */
function hookReload(daemon: Daemon): void {
  if (reloadHooked.has(daemon)) return;
  reloadHooked.add(daemon);
  daemon.events.on('reload', (report: ReloadReport) => {
    for (const name of report.peersUpdated) {
      const entry = daemon.peerByName(name);
      if (!entry || !disabledPeers.has(entry)) continue;
      disabledPeers.delete(entry);
      daemon.log.info({ peer: name }, 'disabled peer enabled again: its configuration changed');
      entry.session.start();
    }
  });
}

/** The control commands this module adds (registered by commands.ts). */
export const peerOpsCommands = {
  'peer disable': (daemon: Daemon, args: Record<string, unknown>) => disablePeer(daemon, args.peer),
  'peer enable': (daemon: Daemon, args: Record<string, unknown>) => enablePeer(daemon, args.peer),
  'peer reset': (daemon: Daemon, args: Record<string, unknown>) => resetPeer(daemon, args.peer),
};
