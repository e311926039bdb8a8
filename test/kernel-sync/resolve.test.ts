// SPDX-License-Identifier: Apache-2.0
// desiredRoute and sameRoute: every rule that turns a Loc-RIB destination into a kernel route,
// as BIRD's kernel protocol with Calico's calico_kernel_programming filter writes it — next hop
// on a connected subnet, krt_tunnel (always / cross-subnet, per route from policy), `gateway
// recursive`, ECMP (`merge paths`) with duplicate hops merged, originated blackholes, the metric
// (policy, config, the kernel's IPv6 default), and the reason when there is nothing to install.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { NextHopCache, desiredRoute, sameRoute, type Desired, type ProgramSettings } from '../../src/kernel-sync/resolve.ts';
import { KernelView } from '../../src/kernel-sync/kernel-view.ts';
import { RTN, RTNH_F, RTPROT, RT_SCOPE, type RouteMessage } from '../../src/kernel-sync/rtnetlink/index.ts';
import { bytesToIp } from '../../src/util/ip.ts';
import type { Path } from '../../src/rib/types.ts';
import { IF, accept, destination, hop, interfaces, ip, kroute, path, peer, reject, verdicts } from './kernel-fixtures.ts';

const settings = (mode: ProgramSettings['tunnel']['mode'] = 'never', extra: Partial<ProgramSettings> = {}): ProgramSettings => ({
  protocol: RTPROT.BIRD, table: 254, metric: 0, tunnel: { device: 'tunl0', mode }, ...extra,
});
const emptyView = () => new KernelView(RTPROT.BIRD);
const p1 = peer('node2', '10.0.0.2');
const p2 = peer('node3', '10.0.0.3');

function installed(d: Desired): RouteMessage {
  assert.equal(d.kind, 'route', JSON.stringify(d));
  return (d as { route: RouteMessage }).route;
}

/** The route in iproute2's words, so expectations read like `ip route`. */
function words(r: RouteMessage): string {
  const names: Record<number, string> = { [IF.eth0]: 'eth0', [IF.tunl0]: 'tunl0', [IF.eth1]: 'eth1', [IF.cali1]: 'cali1' };
  const h = (g: Uint8Array | undefined, oif: number | undefined, flags: number) =>
    [g ? `via ${bytesToIp(g)}` : '', oif !== undefined ? `dev ${names[oif] ?? oif}` : '', flags & RTNH_F.ONLINK ? 'onlink' : ''].filter(Boolean).join(' ');
  const type = r.routeType === RTN.BLACKHOLE ? 'blackhole' : 'unicast';
  const hops = r.multipath ? r.multipath.map((x) => `nexthop ${h(x.gateway, x.oif, x.flags)}`).join(' ') : h(r.gateway, r.oif, r.flags);
  return [type, hops, `proto ${r.protocol}`, r.priority !== undefined ? `metric ${r.priority}` : ''].filter(Boolean).join(' ');
}

function one(prefix: string, nextHop: string, mode: ProgramSettings['tunnel']['mode'], opts: { view?: KernelView; verdict?: Parameters<typeof accept>[0]; tunnel?: boolean } = {}): Desired {
  const best = path(prefix, { nextHop, peer: p1 });
  const dest = destination(prefix, best);
  return desiredRoute(dest, verdicts(dest, [[best, accept(opts.verdict)]]), interfaces({ tunnel: opts.tunnel }), opts.view ?? emptyView(), settings(mode));
}

describe('desiredRoute: nothing to install', () => {
  it('no best path', () => {
    assert.deepEqual(desiredRoute(destination('10.1.0.0/24', undefined), new Map(), interfaces(), emptyView(), settings()), { kind: 'none', why: 'no route' });
  });

  it('the kernel export policy rejects it: the deciding term is the reason', () => {
    const best = path('10.1.0.0/24', { nextHop: '10.0.0.2', peer: p1 });
    const dest = destination('10.1.0.0/24', best);
    assert.deepEqual(desiredRoute(dest, verdicts(dest, [[best, reject()]]), interfaces(), emptyView(), settings()), { kind: 'none', why: 'kernel export policy: kernel-export term 1: reject' });
    assert.deepEqual(desiredRoute(dest, new Map(), interfaces(), emptyView(), settings()), { kind: 'none', why: 'not exported' });
  });

  it('kernel and connected routes are never written back; an originated route only as a blackhole', () => {
    for (const source of ['kernel', 'connected'] as const) {
      const best = path('10.244.0.5/32', { source, iface: 'cali1' });
      const dest = destination('10.244.0.5/32', best);
      assert.deepEqual(desiredRoute(dest, verdicts(dest), interfaces(), emptyView(), settings()), { kind: 'none', why: `the best route is a ${source} route` });
    }
    const originated = path('10.244.1.0/26', { source: 'originated' });
    const dest = destination('10.244.1.0/26', originated);
    assert.deepEqual(desiredRoute(dest, verdicts(dest), interfaces(), emptyView(), settings()), { kind: 'none', why: 'originated route (not a blackhole)' });
  });
});

describe('desiredRoute: originated blackholes', () => {
  it('an originated blackhole is `blackhole PREFIX proto bird` with no next hop, in the configured table', () => {
    const best = path('10.244.1.0/26', { source: 'originated', blackhole: true });
    const dest = destination('10.244.1.0/26', best);
    const r = installed(desiredRoute(dest, verdicts(dest), interfaces(), emptyView(), settings('always', { table: 100 })));
    assert.equal(words(r), 'blackhole proto 12');
    assert.deepEqual([r.table, r.scope, r.dstLength, [...r.dst!]], [100, RT_SCOPE.UNIVERSE, 26, [10, 244, 1, 0]]);
    assert.equal(r.gateway, undefined);
    assert.equal(r.oif, undefined);
  });
});

describe('desiredRoute: next hop on a connected subnet', () => {
  it('tunnel never: via the next hop on the interface of its subnet', () => {
    const r = installed(one('10.1.0.0/24', '10.0.0.2', 'never'));
    assert.equal(words(r), 'unicast via 10.0.0.2 dev eth0 proto 12');
    assert.equal(r.scope, RT_SCOPE.UNIVERSE);
  });

  it('IPv6: via the peer address on its subnet, never through the IPv4 tunnel', () => {
    for (const mode of ['never', 'crossSubnet', 'always'] as const) {
      assert.equal(words(installed(one('fd00:50::/48', 'fd00::2', mode))), 'unicast via fd00::2 dev eth0 proto 12 metric 1024', mode);
    }
  });

  it('a next hop on a down interface is not on-link', () => {
    assert.deepEqual(one('10.1.0.0/24', '172.16.0.9', 'never'), { kind: 'unresolved', why: 'path from node2: no route to next hop 172.16.0.9' });
  });
});

describe('desiredRoute: the tunnel (krt_tunnel)', () => {
  it('always: via NH dev tunl0 onlink, even for a next hop on our subnet', () => {
    assert.equal(words(installed(one('10.1.0.0/24', '10.0.0.2', 'always'))), 'unicast via 10.0.0.2 dev tunl0 onlink proto 12');
  });

  it('crossSubnet: same subnet direct, another subnet through the tunnel', () => {
    assert.equal(words(installed(one('10.1.0.0/24', '10.0.0.2', 'crossSubnet'))), 'unicast via 10.0.0.2 dev eth0 proto 12');
    assert.equal(words(installed(one('10.1.0.0/24', '192.168.5.5', 'crossSubnet'))), 'unicast via 192.168.5.5 dev tunl0 onlink proto 12');
  });

  it('a policy term overrides the configured mode for its route', () => {
    assert.equal(words(installed(one('10.1.0.0/24', '10.0.0.2', 'never', { verdict: { tunnel: 'always' } }))), 'unicast via 10.0.0.2 dev tunl0 onlink proto 12');
    assert.equal(words(installed(one('10.1.0.0/24', '10.0.0.2', 'always', { verdict: { tunnel: 'never' } }))), 'unicast via 10.0.0.2 dev eth0 proto 12');
  });

  it('no tunnel device: unresolved, and says which device', () => {
    assert.deepEqual(one('10.1.0.0/24', '10.0.0.2', 'always', { tunnel: false }), { kind: 'unresolved', why: 'path from node2: tunnel device tunl0 not found' });
  });

  it('property: crossSubnet tunnels exactly the IPv4 next hops outside every up subnet', () => {
    fc.assert(
      fc.property(fc.tuple(fc.integer({ min: 1, max: 223 }), fc.nat(255), fc.nat(255), fc.integer({ min: 1, max: 254 })), ([a, b, c, d]) => {
        const nh = `${a}.${b}.${c}.${d}`;
        if (a === 127 || nh === '10.0.0.1') return;
        const onEth0 = a === 10 && b === 0 && c === 0;
        const r = installed(one('10.1.0.0/24', nh, 'crossSubnet'));
        assert.equal(words(r), onEth0 ? `unicast via ${nh} dev eth0 proto 12` : `unicast via ${nh} dev tunl0 onlink proto 12`);
      }),
    );
  });
});

describe('desiredRoute: recursive next hops (gateway recursive)', () => {
  const view = (): KernelView => {
    const v = new KernelView(RTPROT.BIRD);
    v.apply('new', kroute('192.168.0.0/16', { gateway: ip('10.0.0.254'), oif: IF.eth0 }));
    v.apply('new', kroute('192.168.5.0/24', { oif: IF.eth0, scope: RT_SCOPE.LINK }));
    v.apply('new', kroute('192.168.9.0/24', { gateway: ip('10.244.9.1'), oif: IF.tunl0, flags: RTNH_F.ONLINK }));
    v.apply('new', kroute('192.168.7.0/24', { routeType: RTN.BLACKHOLE }));
    v.apply('new', kroute('192.168.8.0/24', { multipath: [hop('10.0.0.7', IF.eth0), hop('10.0.0.8', IF.eth0)] }));
    return v;
  };

  it('through the gateway of the longest matching route', () => {
    assert.equal(words(installed(one('10.1.0.0/24', '192.168.100.1', 'never', { view: view() }))), 'unicast via 10.0.0.254 dev eth0 proto 12');
  });

  it('a device route: via the next hop itself on that device', () => {
    assert.equal(words(installed(one('10.1.0.0/24', '192.168.5.5', 'never', { view: view() }))), 'unicast via 192.168.5.5 dev eth0 proto 12');
  });

  it('keeps onlink when the route it goes through is onlink', () => {
    assert.equal(words(installed(one('10.1.0.0/24', '192.168.9.9', 'never', { view: view() }))), 'unicast via 10.244.9.1 dev tunl0 onlink proto 12');
  });

  it('through a multipath route: its first hop', () => {
    assert.equal(words(installed(one('10.1.0.0/24', '192.168.8.1', 'never', { view: view() }))), 'unicast via 10.0.0.7 dev eth0 proto 12');
  });

  it('a blackhole, or no route at all, leaves it unresolved with the next hop named', () => {
    assert.deepEqual(one('10.1.0.0/24', '192.168.7.1', 'never', { view: view() }), { kind: 'unresolved', why: 'path from node2: no route to next hop 192.168.7.1' });
    assert.deepEqual(one('10.1.0.0/24', '172.31.0.1', 'never', { view: view() }), { kind: 'unresolved', why: 'path from node2: no route to next hop 172.31.0.1' });
  });

  it('our own address, or no next hop at all, is unresolved', () => {
    assert.deepEqual(one('10.1.0.0/24', '10.0.0.1', 'never'), { kind: 'unresolved', why: 'path from node2: next hop 10.0.0.1 is our own address' });
    const best = path('10.1.0.0/24', { peer: p1 });
    const dest = destination('10.1.0.0/24', best);
    assert.deepEqual(desiredRoute(dest, verdicts(dest), interfaces(), emptyView(), settings()), { kind: 'unresolved', why: 'path from node2: no next hop' });
  });
});

describe('desiredRoute: the next-hop cache (one resolution for routes sharing attributes)', () => {
  // Routes of one peer share one interned attribute set; the cache answers for all of them until
  // the interfaces, the other protocols' routes, the tunnel mode or the settings change.
  const shared = path('10.1.0.0/24', { nextHop: '10.9.0.9', peer: p1 });
  const sibling = (prefix: string, peerRef = p1): Path => ({ ...path(prefix, { peer: peerRef }), attrs: shared.attrs });
  const run = (best: Path, ifs: ReturnType<typeof interfaces>, v: KernelView, cache: NextHopCache, cfg: ProgramSettings, verdict = accept()): Desired => {
    const dest = destination(best.destKey, best);
    return desiredRoute(dest, verdicts(dest, [[best, verdict]]), ifs, v, cfg, cache);
  };
  const setup = () => {
    const v = new KernelView(RTPROT.BIRD);
    v.apply('new', kroute('10.9.0.0/16', { gateway: ip('10.0.0.254'), oif: IF.eth0 }));
    return { ifs: interfaces(), v, cache: new NextHopCache(), cfg: settings() };
  };

  it('answers every route with the same attributes as the first, and follows a new address', () => {
    const { ifs, v, cache, cfg } = setup();
    assert.equal(words(installed(run(shared, ifs, v, cache, cfg))), 'unicast via 10.0.0.254 dev eth0 proto 12');
    assert.equal(words(installed(run(sibling('10.2.0.0/24'), ifs, v, cache, cfg))), 'unicast via 10.0.0.254 dev eth0 proto 12');
    // The next hop's subnet is now connected: direct, not through the route any more.
    ifs.applyAddr('new', { type: 'addr', family: 2, index: IF.eth0, prefixLength: 16, flags: 0, scope: 0, address: ip('10.9.0.1') });
    assert.equal(words(installed(run(sibling('10.3.0.0/24'), ifs, v, cache, cfg))), 'unicast via 10.9.0.9 dev eth0 proto 12');
  });

  it('follows a change to the route the next hop resolves through', () => {
    const { ifs, v, cache, cfg } = setup();
    assert.equal(words(installed(run(shared, ifs, v, cache, cfg))), 'unicast via 10.0.0.254 dev eth0 proto 12');
    v.apply('new', kroute('10.9.0.0/16', { gateway: ip('10.0.0.253'), oif: IF.eth0 }));
    assert.equal(words(installed(run(sibling('10.2.0.0/24'), ifs, v, cache, cfg))), 'unicast via 10.0.0.253 dev eth0 proto 12');
  });

  it('a verdict with another tunnel mode, or other settings, is resolved afresh', () => {
    const { ifs, v, cache, cfg } = setup();
    assert.equal(words(installed(run(shared, ifs, v, cache, cfg))), 'unicast via 10.0.0.254 dev eth0 proto 12');
    assert.equal(words(installed(run(sibling('10.2.0.0/24'), ifs, v, cache, cfg, accept({ tunnel: 'always' })))), 'unicast via 10.9.0.9 dev tunl0 onlink proto 12');
    assert.equal(words(installed(run(sibling('10.3.0.0/24'), ifs, v, cache, settings('always')))), 'unicast via 10.9.0.9 dev tunl0 onlink proto 12');
  });

  it('a failure is not kept: each path is named in its own reason', () => {
    const { ifs, cache, cfg } = setup();
    const none = new KernelView(RTPROT.BIRD);
    assert.deepEqual(run(shared, ifs, none, cache, cfg), { kind: 'unresolved', why: 'path from node2: no route to next hop 10.9.0.9' });
    assert.deepEqual(run(sibling('10.2.0.0/24', p2), ifs, none, cache, cfg), { kind: 'unresolved', why: 'path from node3: no route to next hop 10.9.0.9' });
  });

  it('with or without the cache, the same route for any next hop and routes (property)', () => {
    fc.assert(fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 2 })), { minLength: 1, maxLength: 30 }), (steps) => {
      const { ifs, v, cache, cfg } = setup();
      const hops = ['10.9.0.9', '10.0.0.7', '192.168.1.1', '10.9.3.3'];
      const attrsOf = hops.map((h) => path('10.1.0.0/24', { nextHop: h, peer: p1 }).attrs);
      steps.forEach(([h, change], i) => {
        if (change === 1) v.apply('new', kroute('192.168.0.0/16', { gateway: ip(`10.0.0.${100 + i}`), oif: IF.eth0 }));
        if (change === 2) v.apply('del', kroute('10.9.0.0/16', { gateway: ip('10.0.0.254'), oif: IF.eth0 }));
        const best: Path = { ...path(`10.${100 + i}.0.0/24`, { peer: p1 }), attrs: attrsOf[h]! };
        const dest = destination(`10.${100 + i}.0.0/24`, best);
        assert.deepEqual(desiredRoute(dest, verdicts(dest, [[best, accept()]]), ifs, v, cfg, cache), desiredRoute(dest, verdicts(dest, [[best, accept()]]), ifs, v, cfg));
      });
    }), { numRuns: 200 });
  });
});

describe('desiredRoute: ECMP (merge paths)', () => {
  const ecmp = (nh1: string, nh2: string, mode: ProgramSettings['tunnel']['mode'] = 'never', overrides: (a: ReturnType<typeof path>, b: ReturnType<typeof path>) => [ReturnType<typeof path>, ReturnType<typeof accept>][] = () => []) => {
    const a = path('10.60.0.0/24', { nextHop: nh1, peer: p1 });
    const b = path('10.60.0.0/24', { nextHop: nh2, peer: p2 });
    const dest = destination('10.60.0.0/24', a, [a, b]);
    return desiredRoute(dest, verdicts(dest, overrides(a, b)), interfaces(), emptyView(), settings(mode));
  };

  it('two paths: one multipath route, a hop each, weight 1', () => {
    const r = installed(ecmp('10.0.0.2', '10.0.0.3'));
    assert.equal(words(r), 'unicast nexthop via 10.0.0.2 dev eth0 nexthop via 10.0.0.3 dev eth0 proto 12');
    assert.deepEqual(r.multipath!.map((h) => h.weight), [1, 1]);
    assert.equal(r.gateway, undefined);
  });

  it('paths with the same next hop are one hop: a single-path route', () => {
    assert.equal(words(installed(ecmp('10.0.0.2', '10.0.0.2'))), 'unicast via 10.0.0.2 dev eth0 proto 12');
  });

  it('hops through the tunnel keep onlink', () => {
    assert.equal(words(installed(ecmp('10.0.0.2', '10.0.0.3', 'always'))), 'unicast nexthop via 10.0.0.2 dev tunl0 onlink nexthop via 10.0.0.3 dev tunl0 onlink proto 12');
  });

  it('a member the policy rejects is left out; an unresolvable member is left out', () => {
    assert.equal(words(installed(ecmp('10.0.0.2', '10.0.0.3', 'never', (_a, b) => [[b, reject()]]))), 'unicast via 10.0.0.2 dev eth0 proto 12');
    assert.equal(words(installed(ecmp('10.0.0.2', '172.31.0.1'))), 'unicast via 10.0.0.2 dev eth0 proto 12');
  });

  it('no member resolves: unresolved with every reason', () => {
    assert.deepEqual(ecmp('172.31.0.1', '172.31.0.2'), { kind: 'unresolved', why: 'path from node2: no route to next hop 172.31.0.1; path from node3: no route to next hop 172.31.0.2' });
  });
});

describe('desiredRoute: metric', () => {
  it('a policy metric wins over kernel.metric, which wins over none', () => {
    assert.equal(installed(one('10.1.0.0/24', '10.0.0.2', 'never', { verdict: { metric: 500 } })).priority, 500);
    const best = path('10.1.0.0/24', { nextHop: '10.0.0.2', peer: p1 });
    const dest = destination('10.1.0.0/24', best);
    assert.equal(installed(desiredRoute(dest, verdicts(dest), interfaces(), emptyView(), settings('never', { metric: 32 }))).priority, 32);
    assert.equal(installed(desiredRoute(dest, verdicts(dest), interfaces(), emptyView(), settings())).priority, undefined);
  });

  it('IPv6 with metric 0 asks for 1024, the metric the kernel stores (IP6_RT_PRIO_USER)', () => {
    assert.equal(installed(one('fd00:50::/48', 'fd00::2', 'never')).priority, 1024);
    assert.equal(installed(one('fd00:50::/48', 'fd00::2', 'never', { verdict: { metric: 7 } })).priority, 7);
  });
});

describe('sameRoute', () => {
  const base = kroute('10.1.0.0/24', { protocol: RTPROT.BIRD, gateway: ip('10.0.0.2'), oif: IF.eth0 });

  it('the same route as the kernel reports it (extra flags and attributes do not matter)', () => {
    assert.ok(sameRoute(base, { ...base, flags: 0x200, unknown: [{ type: 12, value: new Uint8Array(4) }] }));
  });

  it('a different gateway, device, onlink, metric, table or type is a different route', () => {
    assert.ok(!sameRoute(base, { ...base, gateway: ip('10.0.0.3') }));
    assert.ok(!sameRoute(base, { ...base, oif: IF.tunl0 }));
    assert.ok(!sameRoute(base, { ...base, flags: RTNH_F.ONLINK }));
    assert.ok(!sameRoute(base, { ...base, priority: 5 }));
    assert.ok(!sameRoute(base, { ...base, table: 100 }));
    assert.ok(!sameRoute(base, { ...base, routeType: RTN.BLACKHOLE }));
  });

  it('multipath: the same hops in any order; a different set is different', () => {
    const m = { ...base, gateway: undefined, oif: undefined, multipath: [hop('10.0.0.2', IF.eth0), hop('10.0.0.3', IF.eth0)] };
    assert.ok(sameRoute(m, { ...m, multipath: [hop('10.0.0.3', IF.eth0), hop('10.0.0.2', IF.eth0)] }));
    assert.ok(!sameRoute(m, { ...m, multipath: [hop('10.0.0.2', IF.eth0)] }));
    assert.ok(!sameRoute(m, { ...m, multipath: [hop('10.0.0.2', IF.eth0), hop('10.0.0.3', IF.eth0, RTNH_F.ONLINK)] }));
    assert.ok(!sameRoute(m, base));
  });

  it('blackholes compare by type and metric', () => {
    const bh = kroute('10.244.1.0/26', { protocol: RTPROT.BIRD, routeType: RTN.BLACKHOLE });
    assert.ok(sameRoute(bh, { ...bh }));
    assert.ok(!sameRoute(bh, { ...bh, priority: 1 }));
  });

  it('what desiredRoute builds is the same route the kernel echoes back', () => {
    for (const [nh, mode] of [['10.0.0.2', 'never'], ['10.0.0.2', 'always'], ['fd00::2', 'never']] as const) {
      const r = installed(one(nh.includes(':') ? 'fd00:50::/48' : '10.1.0.0/24', nh, mode));
      // The kernel's copy: RTM_F_* flags and cache attributes added, scope as stored.
      assert.ok(sameRoute(r, { ...r, flags: r.flags | 0x200, unknown: [{ type: 12, value: new Uint8Array(16) }] }), `${nh} ${mode}`);
    }
  });
});
