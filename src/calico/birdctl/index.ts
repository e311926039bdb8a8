// SPDX-License-Identifier: Apache-2.0
// BIRD-compatible control sockets for Calico mode: `birdSockets.ipv4` shows IPv4 sessions and
// routes (as Calico's bird.ctl), `birdSockets.ipv6` IPv6 ones (bird6.ctl). Started and stopped by
// the daemon; read at start only. See server.ts (transport), commands.ts (grammar), format.ts
// (texts), snapshot.ts (what is shown).
import type { Daemon } from '../../daemon.ts';
import { disablePeer, enablePeer, resetPeer } from '../../control/peer-ops.ts';
import type { BirdBackend, ProtocolAction } from './commands.ts';
import { BirdControlServer } from './server.ts';
import { CALICO_BIRD_VERSION, ProtocolClock, buildSnapshot, type BirdFamily } from './snapshot.ts';

export { BirdControlServer } from './server.ts';
export { BirdClient, isFinalLine } from './client.ts';
export { CALICO_BIRD_VERSION, buildSnapshot, ProtocolClock } from './snapshot.ts';
export { executeCommand, type BirdBackend, type CliSession } from './commands.ts';

export interface BirdSocketsConfig {
  ipv4?: string;
  ipv6?: string;
}

export interface BirdSockets {
  servers: BirdControlServer[];
  close(): Promise<void>;
}

/** The memory rows of `show memory`, from the process's own accounting. */
function memoryRows(): [string, number][] {
  const m = process.memoryUsage();
  return [
    ['Routing tables', m.heapUsed],
    ['Route attributes', m.external],
    ['ROA tables', 0],
    ['Protocols', m.arrayBuffers],
    ['Total', m.rss],
  ];
}

export function daemonBackend(daemon: Daemon, clock: ProtocolClock, family: BirdFamily, version = CALICO_BIRD_VERSION): BirdBackend {
  return {
    family,
    snapshot: () => buildSnapshot(daemon, clock, family, version),
    memory: memoryRows,
    async configure() {
      const file = daemon.config.source;
      try {
        await daemon.reload();
        return { file };
      } catch (err) {
        return { file, error: err instanceof Error ? err.message : String(err) };
      }
    },
    async protocolAction(action: ProtocolAction, name: string) {
      if (action === 'disable') return (await disablePeer(daemon, name)).changed;
      if (action === 'enable') return enablePeer(daemon, name).changed;
      try {
        return (await resetPeer(daemon, name)).changed;
      } catch {
        return false; // a disabled peer is not restarted
      }
    },
  };
}

/** Starts the configured sockets; none when `config` has no paths. */
export async function startBirdSockets(daemon: Daemon, config: BirdSocketsConfig | undefined, version = CALICO_BIRD_VERSION): Promise<BirdSockets> {
  const clock = new ProtocolClock(daemon);
  const servers: BirdControlServer[] = [];
  const close = async (): Promise<void> => {
    clock.dispose();
    await Promise.allSettled(servers.map((s) => s.close()));
  };
  try {
    for (const family of ['ipv4', 'ipv6'] as const) {
      const path = config?.[family];
      if (!path) continue;
      const server = new BirdControlServer({ path, backend: daemonBackend(daemon, clock, family, version), version, log: daemon.log });
      await server.listen();
      servers.push(server);
    }
  } catch (err) {
    await close();
    throw err;
  }
  if (servers.length) daemon.log.info({ sockets: servers.map((s) => s.path) }, 'BIRD-compatible control sockets listening');
  return { servers, close };
}
