// SPDX-License-Identifier: Apache-2.0
// Topology helper for the interop lab: uniquely named network namespaces (tern-it-<pid>-<node>),
// one bridge in its own namespace, one veth per node (eth0 inside the node, vN on the bridge),
// IPv4 and IPv6 test addresses (IPv6 with nodad, DAD off so link-locals are usable at once),
// loopback up. Cleanup is guaranteed: destroy() in a finally, plus exit/signal hooks that kill
// every daemon we started and delete every namespace we created; namespaces left behind by a
// dead run (its pid gone) are removed on the next start. It touches nothing outside the
// namespaces it creates (no addresses, routes or links in the caller's namespace).
import { run, runSyncQuiet, killDaemonsSync } from './proc.ts';

export const NETNS_PREFIX = 'tern-it-';
const BRIDGE = 'br0';

export interface NodeSpec {
  /** Short node name, unique in the topology: [a-z0-9-]. */
  name: string;
  /** IPv4 addresses with prefix length, e.g. "10.255.0.1/16". */
  ipv4: string[];
  /** IPv6 addresses with prefix length, e.g. "fd00:255::1/64". */
  ipv6: string[];
}

const active = new Set<Topology>();
let hooksInstalled = false;

function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.once('exit', () => {
    for (const t of active) t.destroySync();
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      for (const t of active) t.destroySync();
      process.exit(128 + (signal === 'SIGINT' ? 2 : signal === 'SIGTERM' ? 15 : 1));
    });
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function listNetns(): string[] {
  return runSyncQuiet('ip', ['netns', 'list'])
    .split('\n')
    .map((line) => line.split(' ')[0] ?? '')
    .filter((name) => name !== '');
}

/** Kills every process inside a namespace and deletes it (synchronous, never throws). */
function deleteNetnsSync(ns: string): void {
  for (const pid of runSyncQuiet('ip', ['netns', 'pids', ns]).split('\n')) {
    const n = Number(pid.trim());
    if (Number.isInteger(n) && n > 1 && n !== process.pid) {
      try {
        process.kill(n, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  runSyncQuiet('ip', ['netns', 'del', ns]);
}

/** Removes namespaces from earlier runs whose owning process no longer exists. */
export function removeStaleNamespaces(): string[] {
  const removed: string[] = [];
  for (const ns of listNetns()) {
    const m = /^tern-it-(\d+)-/.exec(ns);
    if (!m) continue;
    const owner = Number(m[1]);
    if (owner !== process.pid && !pidAlive(owner)) {
      deleteNetnsSync(ns);
      removed.push(ns);
    }
  }
  return removed;
}

export class Topology {
  readonly prefix: string;
  readonly bridgeNs: string;
  private readonly namespaces: string[] = [];
  private vethCount = 0;
  private destroyed = false;

  private constructor(tag: string) {
    this.prefix = `${NETNS_PREFIX}${process.pid}-${tag === '' ? '' : `${tag}-`}`;
    this.bridgeNs = `${this.prefix}br`;
  }

  /**
   * Creates the bridge namespace; call destroy() in a finally. `tag` ([a-z0-9]) keeps several
   * topologies of one process apart (namespaces tern-it-<pid>-<tag>-<node>).
   */
  static async create(tag = ''): Promise<Topology> {
    if (!/^[a-z0-9]{0,12}$/.test(tag)) throw new Error(`bad topology tag ${tag}`);
    installExitHooks();
    removeStaleNamespaces();
    const t = new Topology(tag);
    active.add(t);
    try {
      await t.addNamespace(t.bridgeNs);
      await ip(['-n', t.bridgeNs, 'link', 'add', BRIDGE, 'type', 'bridge']);
      // No STP: ports forward as soon as they are up.
      await ip(['-n', t.bridgeNs, 'link', 'set', BRIDGE, 'type', 'bridge', 'stp_state', '0']);
      await ip(['-n', t.bridgeNs, 'link', 'set', BRIDGE, 'up']);
    } catch (err) {
      t.destroySync();
      throw err;
    }
    return t;
  }

  nsName(node: string): string {
    return `${this.prefix}${node}`;
  }

  /** Adds a node namespace plugged into the bridge; returns the namespace name. */
  async addNode(spec: NodeSpec): Promise<string> {
    if (!/^[a-z0-9-]{1,30}$/.test(spec.name)) throw new Error(`bad node name ${spec.name}`);
    const ns = this.nsName(spec.name);
    await this.addNamespace(ns);
    // DAD off before eth0 exists, so its link-local address is usable at once (FRR needs it
    // for IPv6 next hops) and the test addresses are never "tentative".
    await run('sysctl', ['-qw', 'net.ipv6.conf.all.accept_dad=0', 'net.ipv6.conf.default.accept_dad=0'], { netns: ns });
    const bridgePort = `v${++this.vethCount}`;
    await ip(['-n', this.bridgeNs, 'link', 'add', bridgePort, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
    await ip(['-n', this.bridgeNs, 'link', 'set', bridgePort, 'master', BRIDGE, 'up']);
    for (const a of spec.ipv4) await ip(['-n', ns, 'addr', 'add', a, 'dev', 'eth0']);
    for (const a of spec.ipv6) await ip(['-n', ns, 'addr', 'add', a, 'dev', 'eth0', 'nodad']);
    await ip(['-n', ns, 'link', 'set', 'eth0', 'up']);
    return ns;
  }

  private async addNamespace(ns: string): Promise<void> {
    await ip(['netns', 'add', ns]);
    this.namespaces.push(ns);
    await ip(['-n', ns, 'link', 'set', 'lo', 'up']);
  }

  /** Kills our daemons, then every process left in our namespaces, then deletes them. */
  async destroy(): Promise<void> {
    this.destroySync();
  }

  destroySync(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    active.delete(this);
    killDaemonsSync(new Set(this.namespaces));
    for (const ns of [...this.namespaces].reverse()) deleteNetnsSync(ns);
    this.namespaces.length = 0;
  }

  /** Namespaces currently owned by this topology (for diagnostics and the cleanup test). */
  list(): string[] {
    return [...this.namespaces];
  }
}

function ip(args: string[]): Promise<unknown> {
  return run('ip', args, { timeoutMs: 10_000 });
}
