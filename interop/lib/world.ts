// SPDX-License-Identifier: Apache-2.0
// A scenario "world" for the interop lab: a small iBGP topology of named nodes (Tern, BIRD 2,
// BIRD 1.6, GoBGP, FRR) on one bridge of its own, with sessions only where a link says so, and
// per-link route-reflector, ADD-PATH and graceful-restart options. Each world has its own
// namespaces (tern-it-<pid>-<tag>-<node>), so several run at once. Every node is queried only
// through its own CLI, and routes come back in one shape (ScenarioRoute) whatever the node.
// With INTEROP_DUT=standin every Tern node is a BIRD 2 with the same role, which proves the
// scenario and the peer configs without Tern. IPv4 only: the session lab covers IPv6 transports.
// It makes no assertions (scenarios.test.ts does).
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { Topology } from './netns.ts';
import { Bird2Peer } from './peers/bird2.ts';
import { Bird1Peer } from './peers/bird1.ts';
import { GobgpPeer } from './peers/gobgp.ts';
import { FrrPeer } from './peers/frr.ts';
import { TernDut, asNumbers, type TernRouteJson, type TernTable } from './tern.ts';
import { waitFor } from './wait.ts';
import type { AddPaths, DutPeer, PeerDriver, PeerKind, PeerSpec, RouteDetail, SessionSpec, SessionStatus } from './types.ts';

export type NodeKind = 'tern' | PeerKind;
export const SCENARIO_ASN = 65000;
const FAMILY = 'ipv4-unicast';

export interface NodePlan {
  /** [a-z0-9-], unique in the world; also the peer/session name others use for it. */
  name: string;
  kind: NodeKind;
  /** Prefixes it originates; default one of its own, 10.100.<index>.0/24. */
  prefixes?: string[];
  /** RFC 4456 cluster id when it reflects for its clients. */
  clusterId?: string;
}

export interface LinkPlan {
  a: string;
  b: string;
  /** `b` is a route-reflector client of `a` (RFC 4456). */
  bIsClientOfA?: boolean;
  /** ADD-PATH (RFC 7911) each side offers. */
  addPaths?: { a?: AddPaths; b?: AddPaths };
  /** Graceful restart (RFC 4724) on both sides. */
  gracefulRestart?: boolean;
}

/** A received path, with the neighbor named by node name and Tern's RIB fields when it is Tern. */
export interface ScenarioRoute extends RouteDetail {
  fromNode: string;
  best?: boolean;
  reason?: string | null;
  pathId?: number | null;
}

interface Neighbor {
  node: string;
  address: string;
  clientOfUs: boolean;
  addPaths?: AddPaths;
  gracefulRestart: boolean;
}

export class WorldNode {
  readonly plan: NodePlan;
  readonly index: number;
  readonly address: string;
  readonly routerId: string;
  readonly prefixes: string[];
  /** Runs Tern (false for a BIRD 2 stand-in of a Tern node). */
  readonly isTern: boolean;
  readonly tern: TernDut | undefined;
  readonly peer: PeerDriver | undefined;
  private readonly neighbors: Neighbor[];

  constructor(plan: NodePlan, index: number, neighbors: Neighbor[], namespace: string, workDir: string, standIn: boolean) {
    this.plan = plan;
    this.index = index;
    this.address = `10.0.0.${index}`;
    this.routerId = this.address;
    this.prefixes = plan.prefixes ?? [`10.100.${index}.0/24`];
    this.neighbors = neighbors;
    this.isTern = plan.kind === 'tern' && !standIn;
    if (this.isTern) {
      const peers: DutPeer[] = neighbors.map((n) => ({
        name: n.node,
        address: n.address,
        asn: SCENARIO_ASN,
        families: [FAMILY],
        localAddress: this.address,
        rrClient: n.clientOfUs || undefined,
        addPaths: n.addPaths,
        gracefulRestart: n.gracefulRestart || undefined,
      }));
      this.tern = new TernDut({
        namespace,
        routerId: this.routerId,
        asn: SCENARIO_ASN,
        listen: [this.address],
        peers,
        originate: this.prefixes.map((prefix) => ({ prefix })),
        ipv6Address: '',
        workDir,
        clusterId: plan.clusterId,
      });
    } else {
      const sessions: SessionSpec[] = neighbors.map((n) => ({
        name: n.node,
        label: sessionLabel(n.node),
        kind: 'ipv4',
        families: [FAMILY],
        localAddress: this.address,
        remoteAddress: n.address,
        localAsn: SCENARIO_ASN,
        remoteAsn: SCENARIO_ASN,
        rrClient: n.clientOfUs || undefined,
        addPaths: n.addPaths,
        gracefulRestart: n.gracefulRestart || undefined,
        keepNextHop: true,
      }));
      const spec: PeerSpec = {
        kind: plan.kind === 'tern' ? 'bird2' : plan.kind,
        relation: 'ibgp',
        namespace,
        routerId: this.routerId,
        asn: SCENARIO_ASN,
        ipv6Address: '',
        sessions,
        prefixes: { 'ipv4-unicast': this.prefixes, 'ipv6-unicast': [] },
        workDir,
        clusterId: plan.clusterId,
      };
      this.peer = makePeer(spec);
    }
  }

  get name(): string {
    return this.plan.name;
  }

  /** What runs here, for messages: "Tern", "bird2", "bird2 (stand-in for Tern)". */
  get description(): string {
    if (this.isTern) return `${this.name} (Tern)`;
    return `${this.name} (${this.plan.kind === 'tern' ? 'BIRD 2 stand-in for Tern' : this.plan.kind})`;
  }

  start(opts: { recovery?: boolean } = {}): Promise<void> {
    return this.tern ? this.tern.start(opts) : this.peer!.start(opts);
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (this.tern) await this.tern.stop(signal);
    else await this.peer!.stop(signal);
  }

  private neighbor(node: string): Neighbor {
    const n = this.neighbors.find((x) => x.node === node);
    if (n === undefined) throw new Error(`${this.name} has no session to ${node}`);
    return n;
  }

  session(node: string): Promise<SessionStatus> {
    const n = this.neighbor(node);
    return this.tern ? this.tern.peer(n.node) : this.peer!.session(sessionLabel(n.node));
  }

  /** Every path it received (Tern: its Adj-RIB-In per peer, `--table adj-in --peer P`), neighbors named by node. */
  async routes(): Promise<ScenarioRoute[]> {
    if (this.tern) {
      const perPeer = await Promise.all(this.neighbors.map((n) => this.ternRows('adj-in', n.node)));
      return perPeer.flat().map((r) => this.fromTernRow(r));
    }
    const byAddress = new Map(this.neighbors.map((n) => [n.address, n.node]));
    return (await this.peer!.routeDetails(FAMILY)).map((r) => ({ ...r, fromNode: byAddress.get(r.from) ?? `?${r.from}` }));
  }

  /**
   * Tern's rows of one table (Tern only). A Tern that predates `--table` answers adj-in
   * queries from its default view (received routes); other tables then fail.
   */
  async ternRows(table: TernTable, peer?: string): Promise<TernRouteJson[]> {
    if (!this.tern) throw new Error(`${this.description} is not Tern`);
    try {
      return await this.tern.routeRows(FAMILY, { table, peer });
    } catch (err) {
      if (table === 'adj-in' && err instanceof Error && /unknown option --table/.test(err.message)) return this.tern.routeRows(FAMILY, { peer });
      throw err;
    }
  }

  fromTernRow(r: TernRouteJson): ScenarioRoute {
    const n = this.neighbors.find((x) => x.node === r.peer);
    return {
      prefix: r.prefix,
      nextHop: r.nextHop ?? '',
      asPath: asNumbers(r.asPath),
      from: n?.address ?? '',
      fromNode: r.peer,
      originatorId: r.originatorId ?? undefined,
      clusterList: r.clusterList ?? [],
      stale: r.stale === true,
      best: r.best,
      reason: r.reason,
      pathId: r.pathId,
    };
  }

  logs(): string[] {
    return this.tern ? this.tern.logs() : this.peer!.logs();
  }
}

export function sessionLabel(node: string): string {
  return `to_${node.replace(/-/g, '_')}`;
}

function makePeer(spec: PeerSpec): PeerDriver {
  switch (spec.kind) {
    case 'bird2':
      return new Bird2Peer(spec);
    case 'bird1':
      return new Bird1Peer(spec);
    case 'gobgp':
      return new GobgpPeer(spec);
    case 'frr':
      return new FrrPeer(spec);
  }
}

export class World {
  readonly tag: string;
  readonly workDir: string;
  private readonly topology: Topology;
  private readonly nodes = new Map<string, WorldNode>();

  private constructor(tag: string, topology: Topology, workDir: string) {
    this.tag = tag;
    this.topology = topology;
    this.workDir = workDir;
  }

  /** Builds the namespaces, writes every config and starts every node at once. */
  static async start(tag: string, nodes: readonly NodePlan[], links: readonly LinkPlan[], opts: { standIn: boolean }): Promise<World> {
    const topology = await Topology.create(tag);
    const workDir = join(tmpdir(), `tern-scenarios-${process.pid}`, tag);
    rmSync(workDir, { recursive: true, force: true });
    mkdirSync(workDir, { recursive: true });
    const world = new World(tag, topology, workDir);
    try {
      const indexOf = new Map(nodes.map((n, i) => [n.name, i + 1]));
      for (const l of links) {
        if (!indexOf.has(l.a) || !indexOf.has(l.b)) throw new Error(`link ${l.a}-${l.b} names an unknown node`);
      }
      for (const [i, plan] of nodes.entries()) {
        const index = i + 1;
        const ns = await topology.addNode({ name: plan.name, ipv4: [`10.0.0.${index}/24`], ipv6: [] });
        const neighbors: Neighbor[] = links.flatMap((l) => {
          const side = l.a === plan.name ? 'a' : l.b === plan.name ? 'b' : undefined;
          if (side === undefined) return [];
          const other = side === 'a' ? l.b : l.a;
          return [{
            node: other,
            address: `10.0.0.${indexOf.get(other)!}`,
            clientOfUs: side === 'a' && l.bIsClientOfA === true,
            addPaths: l.addPaths?.[side],
            gracefulRestart: l.gracefulRestart === true,
          }];
        });
        world.nodes.set(plan.name, new WorldNode(plan, index, neighbors, ns, join(workDir, plan.name), opts.standIn));
      }
      await Promise.all([...world.nodes.values()].map((n) => n.start()));
      return world;
    } catch (err) {
      await world.destroy(true);
      throw err;
    }
  }

  node(name: string): WorldNode {
    const n = this.nodes.get(name);
    if (n === undefined) throw new Error(`no node ${name} in world ${this.tag}`);
    return n;
  }

  all(): WorldNode[] {
    return [...this.nodes.values()];
  }

  /** Waits until both ends of every listed session say Established. */
  async established(pairs: readonly [string, string][], timeoutMs: number): Promise<void> {
    await Promise.all(
      pairs.flatMap(([a, b]) =>
        [[a, b], [b, a]].map(([x, y]) =>
          waitFor(`${this.node(x!).description} to report ${y} Established`, async () => {
            const s = await this.node(x!).session(y!);
            if (!s.established) throw new Error(`state ${s.state} ${s.lastError}`);
            return s;
          }, { timeoutMs }),
        ),
      ),
    );
  }

  async destroy(keepLogs: boolean): Promise<void> {
    await Promise.allSettled([...this.nodes.values()].map((n) => n.stop('SIGKILL')));
    await this.topology.destroy();
    if (!keepLogs) rmSync(this.workDir, { recursive: true, force: true });
  }
}
