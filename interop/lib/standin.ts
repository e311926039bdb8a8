// SPDX-License-Identifier: Apache-2.0
// A BIRD 2 stand-in for the device under test, configured from the same DutSpec as Tern (same
// addresses, peers, originated routes, IPv6 next hop). It exists to prove the lab and every
// peer driver independently of Tern: `INTEROP_DUT=standin`. It is not a Tern substitute in CI.
import { birdSymbol } from './peers/bird-common.ts';
import { Bird2Process, bird2Config } from './peers/bird2.ts';
import type { DutDriver, DutSpec, Family, RouteInfo, SessionStatus } from './types.ts';

export class Bird2StandInDut implements DutDriver {
  readonly description = 'BIRD 2 stand-in DUT';
  private readonly bird: Bird2Process;

  constructor(spec: DutSpec) {
    const statics: Record<Family, string[]> = { 'ipv4-unicast': [], 'ipv6-unicast': [] };
    for (const o of spec.originate) statics[o.prefix.includes(':') ? 'ipv6-unicast' : 'ipv4-unicast'].push(o.prefix);
    const sessions = spec.peers.map((p) => ({
      protocol: birdSymbol(p.name),
      localAddress: p.localAddress,
      remoteAddress: p.address,
      localAsn: spec.asn,
      remoteAsn: p.asn,
      families: p.families,
      nextHop6: spec.ipv6Address,
    }));
    this.bird = new Bird2Process('standin', spec.namespace, spec.workDir, bird2Config(spec.routerId, statics, sessions));
  }

  start(): Promise<void> {
    return this.bird.start();
  }

  stop(): Promise<number | string | null> {
    return this.bird.stop('SIGTERM');
  }

  peer(name: string): Promise<SessionStatus> {
    return this.bird.protocol(birdSymbol(name));
  }

  routes(peer: string, family: Family): Promise<RouteInfo[]> {
    return this.bird.routes(birdSymbol(peer), family);
  }

  logs(): string[] {
    return [this.bird.logFile];
  }
}
