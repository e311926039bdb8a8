// SPDX-License-Identifier: Apache-2.0
// Calico's export filter written as a Tern policy (test/fixtures/policy/calico-export.yaml, which
// cites the confd goldens it was read from), run over a table of routes. Expected verdicts follow
// BIRD's semantics of the golden filters: mesh/ipip-always/bird_ipam.cfg (calico_export_to_bgp_peers),
// mesh/ipip-always/bird_aggr.cfg (calico_aggr), mesh/bgp-export/bird_ipam.cfg (disableBGPExport),
// and upstream mesh/communities/bird.cfg (apply_communities). "true"/"false" below is BIRD's
// internal_peer argument, i.e. the iBGP mesh peer vs the eBGP ToR.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig } from '../../src/config/index.ts';
import { resolvePolicy } from '../../src/policy/compile.ts';
import type { PolicyContext, PolicyInput } from '../../src/policy/types.ts';
import { EBGP_PEER, IBGP_PEER, LOCAL_AS, comm, ifaceRoute, route } from './helpers.ts';

const config = loadConfig(new URL('../fixtures/policy/calico-export.yaml', import.meta.url).pathname);
const [mesh, tor] = config.peers;
const meshExport = resolvePolicy(mesh!.export, config.policies, mesh!.name, 'export');
const torExport = resolvePolicy(tor!.export, config.policies, tor!.name, 'export');
const TO_MESH: PolicyContext = { direction: 'export', peer: { ...IBGP_PEER, name: mesh!.name }, localAsn: LOCAL_AS };
const TO_TOR: PolicyContext = { direction: 'export', peer: { ...EBGP_PEER, name: tor!.name }, localAsn: LOCAL_AS };

// apply_communities() for net ~ 10.244.0.0/16 (upstream mesh/communities golden, values kept).
const POOL_COMMUNITIES = [comm('100:6532'), comm('5663:12')];
const POOL_LARGE = [[100, 555, 107]];

interface Row {
  what: string;
  route: PolicyInput;
  /** Term that decides, for the iBGP mesh peer and for the eBGP ToR ("-" = fell off: reject). */
  mesh: string;
  tor: string;
}

const originated = (cidr: string) => route(cidr, {}, { source: 'originated' });

// The decisive term's name; the verdict is the term's action (accept / reject), "-" falls off.
const ROWS: Row[] = [
  { what: 'local block (static blackhole)', route: originated('10.244.1.0/26'), mesh: 'local-block', tor: 'local-block' },
  { what: 'workload /32 inside the local block', route: ifaceRoute('10.244.1.5/32', 'cali1234abcd'), mesh: 'inside-local-block', tor: 'inside-local-block' },
  { what: 'a /27 inside the local block', route: route('10.244.1.32/27'), mesh: 'inside-local-block', tor: 'inside-local-block' },
  { what: "another node's block, learned by BGP", route: route('10.244.2.0/26'), mesh: 'ip-pool', tor: 'ip-pool' },
  { what: 'borrowed workload IP outside the local block', route: ifaceRoute('10.244.9.7/32', 'cali99'), mesh: 'ip-pool', tor: 'ip-pool' },
  { what: 'IPIP route on tunl0', route: ifaceRoute('10.244.3.0/26', 'tunl0'), mesh: 'tunnel-routes-to-ibgp', tor: 'ip-pool' },
  { what: 'VXLAN route on vxlan.calico', route: ifaceRoute('10.244.4.0/26', 'vxlan.calico'), mesh: 'tunnel-routes-to-ibgp', tor: 'ip-pool' },
  { what: 'route on a *.cali interface (wireguard.cali)', route: ifaceRoute('10.244.6.0/26', 'wireguard.cali'), mesh: 'tunnel-routes-to-ibgp', tor: 'ip-pool' },
  { what: 'eBPF host-local route', route: ifaceRoute('10.244.5.1/32', 'bpfout.cali'), mesh: 'tunnel-routes-to-ibgp', tor: 'local-routes' },
  { what: 'pool with disableBGPExport', route: originated('10.245.1.0/26'), mesh: 'bgp-export-disabled', tor: 'bgp-export-disabled' },
  { what: 'the pool itself', route: route('10.244.0.0/16'), mesh: 'ip-pool', tor: 'ip-pool' },
  { what: 'a supernet of the pool', route: route('10.0.0.0/8'), mesh: '-', tor: '-' },
  { what: 'an unrelated prefix', route: route('192.168.50.0/24'), mesh: '-', tor: '-' },
  { what: 'node subnet on eth0 (connected)', route: ifaceRoute('10.192.0.0/24', 'eth0', 'connected'), mesh: '-', tor: '-' },
  { what: 'IPv6 route (no v6 terms)', route: route('fd00:96::/122'), mesh: '-', tor: '-' },
];

const TERM_INDEX: Record<string, number> = {
  'bgp-export-disabled': 0,
  'tunnel-routes-to-ibgp': 1,
  'local-routes': 2,
  'local-block': 4,
  'inside-local-block': 5,
  'ip-pool': 6,
};
const ACCEPTING = new Set(['local-block', 'ip-pool']);

function expectedDecidedBy(term: string): string {
  if (term === '-') return 'calico-export: no term decided: reject';
  return `calico-export term ${TERM_INDEX[term]} (${term}): ${ACCEPTING.has(term) ? 'accept' : 'reject'}`;
}

test('the fixture is a valid config; both peers export through the one named policy', () => {
  assert.deepEqual(mesh!.export, { kind: 'named', name: 'calico-export' });
  assert.deepEqual(tor!.export, { kind: 'named', name: 'calico-export' });
  // The mesh peer leaves import unset: iBGP default all. The ToR sets it (RFC 8212 would say none).
  assert.deepEqual([mesh!.import, tor!.import], [{ kind: 'all' }, { kind: 'all' }]);
  assert.equal(meshExport, torExport);
});

for (const row of ROWS) {
  test(`calico export: ${row.what} → mesh ${row.mesh}, ToR ${row.tor}`, () => {
    for (const [ctx, term] of [
      [TO_MESH, row.mesh],
      [TO_TOR, row.tor],
    ] as const) {
      const v = (ctx === TO_MESH ? meshExport : torExport).evaluate(row.route, ctx);
      assert.equal(v.decidedBy, expectedDecidedBy(term), `${row.what} to ${ctx.peer.name}`);
      assert.equal(v.accept, ACCEPTING.has(term));
      if (v.accept) {
        // Every exported route lies in the pool, so apply_communities() tagged it.
        assert.deepEqual(v.attrs.communities, POOL_COMMUNITIES);
        assert.deepEqual(v.attrs.largeCommunities, POOL_LARGE);
      }
    }
  });
}

test('communities are added to routes already carrying some, once, and the input keeps its own', () => {
  const r = route('10.244.2.0/26', { communities: [comm('100:6532'), comm('65000:1')] });
  const v = meshExport.evaluate(r, TO_MESH);
  assert.deepEqual(v.attrs.communities, [comm('100:6532'), comm('65000:1'), comm('5663:12')]);
  assert.deepEqual(r.attrs.communities, [comm('100:6532'), comm('65000:1')]);
});
