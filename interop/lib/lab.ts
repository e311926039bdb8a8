// SPDX-License-Identifier: Apache-2.0
// The interop lab as one topology: a DUT namespace (Tern, or the BIRD 2 stand-in) and one
// namespace per peer daemon kind x relation (iBGP/eBGP), all on one bridge. Each peer has three
// sessions to the DUT on distinct addresses: IPv4 transport + IPv4 unicast, IPv6 transport +
// IPv6 unicast, and IPv4 transport carrying both families (dual). Everything starts at once
// so all cases converge in parallel. This module plans addresses and expectations; it makes no
// assertions (interop.test.ts does).
import { mkdirSync, rmSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { Topology } from './netns.ts';
import { Bird2Peer, BIRD2 } from './peers/bird2.ts';
import { Bird1Peer, bird1Installed } from './peers/bird1.ts';
import { GobgpPeer, GOBGP } from './peers/gobgp.ts';
import { FrrPeer, FRR } from './peers/frr.ts';
import { TernDut } from './tern.ts';
import { Bird2StandInDut } from './standin.ts';
import {
  familiesOf,
  PEER_KINDS,
  RELATIONS,
  SESSION_KINDS,
  type DutDriver,
  type DutPeer,
  type DutSpec,
  type Family,
  type PeerDriver,
  type PeerKind,
  type PeerSpec,
  type Relation,
  type SessionKind,
  type SessionSpec,
} from './types.ts';

export const DUT_ASN = 65000;
export const EBGP_ASN: Record<PeerKind, number> = { bird2: 65001, bird1: 65002, gobgp: 65003, frr: 65004 };

/** DUT addresses: one per session kind, so every peer daemon sees three distinct neighbors. */
export const DUT_ADDR: Record<SessionKind, string> = { ipv4: '10.255.0.1', dual: '10.255.0.2', ipv6: 'fd00:255::1' };
export const DUT_ROUTES: Record<Family, string> = { 'ipv4-unicast': '10.99.0.0/24', 'ipv6-unicast': 'fd00:99::/48' };

export type DutChoice = 'tern' | 'standin';

/** Which binaries each peer kind needs; undefined when all are present. */
export function missingPeerBinaries(kind: PeerKind): string | undefined {
  const need: Record<PeerKind, () => string[]> = {
    bird2: () => [BIRD2.daemon, BIRD2.client],
    bird1: () => (bird1Installed() ? [] : ['interop/.cache/bird1 (run scripts/install-peers.sh)']),
    gobgp: () => [GOBGP.daemon, GOBGP.client],
    frr: () => [FRR.bgpd, FRR.zebra, FRR.vtysh],
  };
  const missing = need[kind]().filter((p) => p.startsWith('interop/') || !existsSync(p));
  return missing.length === 0 ? undefined : missing.join(', ');
}

export interface LabPeer {
  driver: PeerDriver;
  /** Set when the daemon failed to start: its cases fail with this. */
  startError?: Error;
}

export function peerKey(kind: PeerKind, relation: Relation): string {
  return `${kind}-${relation}`;
}

export function sessionName(kind: PeerKind, relation: Relation, sessionKind: SessionKind): string {
  return `${kind}-${relation}-${sessionKind}`;
}

function sessionsSupported(kind: PeerKind): SessionKind[] {
  // BIRD 1.6: separate bird/bird6 processes, one family per session (see bird1.ts).
  return kind === 'bird1' ? ['ipv4', 'ipv6'] : [...SESSION_KINDS];
}

export class Lab {
  readonly topology: Topology;
  readonly workDir: string;
  readonly dut: DutDriver;
  readonly peers = new Map<string, LabPeer>();
  readonly dutSpec: DutSpec;
  dutStartError?: Error;

  private constructor(topology: Topology, workDir: string, dut: DutDriver, dutSpec: DutSpec) {
    this.topology = topology;
    this.workDir = workDir;
    this.dut = dut;
    this.dutSpec = dutSpec;
  }

  /** Builds the topology, writes every config and starts every daemon concurrently. */
  static async start(choice: DutChoice, kinds: readonly PeerKind[]): Promise<Lab> {
    const topology = await Topology.create();
    try {
      const workDir = join(tmpdir(), `tern-interop-${process.pid}`);
      rmSync(workDir, { recursive: true, force: true });
      mkdirSync(workDir, { recursive: true });
      const dutNs = await topology.addNode({
        name: 'dut',
        ipv4: [`${DUT_ADDR.ipv4}/16`, `${DUT_ADDR.dual}/16`],
        ipv6: [`${DUT_ADDR.ipv6}/64`],
      });
      const specs: PeerSpec[] = [];
      let index = 0;
      for (const kind of kinds) {
        for (const relation of RELATIONS) {
          index++;
          const ns = await topology.addNode({
            name: peerKey(kind, relation),
            ipv4: [`10.255.1.${index}/16`, `10.255.2.${index}/16`],
            ipv6: [`fd00:255::1:${index}/64`],
          });
          specs.push(peerSpec(kind, relation, index, ns, join(workDir, peerKey(kind, relation))));
        }
      }
      const dutSpec = buildDutSpec(dutNs, specs, join(workDir, 'dut'));
      const dut = choice === 'tern' ? new TernDut(dutSpec) : new Bird2StandInDut(dutSpec);
      const lab = new Lab(topology, workDir, dut, dutSpec);
      for (const spec of specs) lab.peers.set(peerKey(spec.kind, spec.relation), { driver: makeDriver(spec) });
      await Promise.all([
        dut.start().catch((err: unknown) => {
          lab.dutStartError = err instanceof Error ? err : new Error(String(err));
        }),
        ...[...lab.peers.values()].map((p) =>
          p.driver.start().catch((err: unknown) => {
            p.startError = err instanceof Error ? err : new Error(String(err));
          }),
        ),
      ]);
      return lab;
    } catch (err) {
      topology.destroySync();
      throw err;
    }
  }

  peer(kind: PeerKind, relation: Relation): LabPeer {
    const p = this.peers.get(peerKey(kind, relation));
    if (p === undefined) throw new Error(`no peer ${peerKey(kind, relation)} in the lab`);
    return p;
  }

  async destroy(keepLogs: boolean): Promise<void> {
    await Promise.allSettled([this.dut.stop(), ...[...this.peers.values()].map((p) => p.driver.stop('SIGKILL'))]);
    await this.topology.destroy();
    if (!keepLogs) rmSync(this.workDir, { recursive: true, force: true });
  }
}

function peerSpec(kind: PeerKind, relation: Relation, index: number, namespace: string, workDir: string): PeerSpec {
  const asn = relation === 'ibgp' ? DUT_ASN : EBGP_ASN[kind];
  const local: Record<SessionKind, string> = { ipv4: `10.255.1.${index}`, dual: `10.255.2.${index}`, ipv6: `fd00:255::1:${index}` };
  const sessions: SessionSpec[] = sessionsSupported(kind).map((sk) => ({
    name: sessionName(kind, relation, sk),
    label: `tern_${sk}`,
    kind: sk,
    families: familiesOf(sk),
    localAddress: local[sk],
    remoteAddress: DUT_ADDR[sk],
    localAsn: asn,
    remoteAsn: DUT_ASN,
  }));
  return {
    kind,
    relation,
    namespace,
    routerId: `10.255.1.${index}`,
    asn,
    ipv6Address: local.ipv6,
    sessions,
    prefixes: { 'ipv4-unicast': [`10.${100 + index}.0.0/24`], 'ipv6-unicast': [`fd00:${100 + index}::/48`] },
    workDir,
  };
}

function buildDutSpec(namespace: string, specs: PeerSpec[], workDir: string): DutSpec {
  const peers: DutPeer[] = specs.flatMap((p) =>
    p.sessions.map((s) => ({ name: s.name, address: s.localAddress, asn: p.asn, families: s.families, localAddress: s.remoteAddress })),
  );
  return {
    namespace,
    routerId: DUT_ADDR.ipv4,
    asn: DUT_ASN,
    listen: [DUT_ADDR.ipv4, DUT_ADDR.dual, DUT_ADDR.ipv6],
    peers,
    // The IPv6 route names its next hop: on an IPv4 session "self" has no IPv6 address.
    originate: [{ prefix: DUT_ROUTES['ipv4-unicast'] }, { prefix: DUT_ROUTES['ipv6-unicast'], nextHop: DUT_ADDR.ipv6 }],
    ipv6Address: DUT_ADDR.ipv6,
    workDir,
  };
}

function makeDriver(spec: PeerSpec): PeerDriver {
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

export { PEER_KINDS };
