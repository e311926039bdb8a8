// SPDX-License-Identifier: Apache-2.0
// RouteForm: a programmed route is its record's prefix plus a form shared by every route that
// says the same. routeOf(form, prefix) gives back the route that was installed, field for field;
// RouteForms hands out one form for consecutive routes that say the same, a new one otherwise.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { RouteForms, deleteBodyOf, formOf, hasForm, routeOf } from '../../src/kernel-sync/route-form.ts';
import { RouteRequests, decodeNetlink } from '../../src/kernel-sync/rtnetlink/index.ts';
import { RTN, RTNH_F, RTPROT, RT_SCOPE, type RouteMessage } from '../../src/kernel-sync/rtnetlink/index.ts';
import { IF, hop, ip, kroute } from './kernel-fixtures.ts';

const nlriOf = (r: RouteMessage) => ({ family: r.family === 2 ? ('ipv4-unicast' as const) : ('ipv6-unicast' as const), length: r.dstLength, address: r.dst! });

describe('RouteForm', () => {
  it('a delete says the table, protocol and metric only: the kernel deletes our route whatever its next hops', () => {
    const ecmp = formOf(kroute('10.9.0.0/24', { protocol: RTPROT.BIRD, table: 1000, priority: 500, multipath: [hop('10.0.0.2', IF.eth0), hop('10.0.0.3', IF.eth0)] }));
    const v6 = formOf(kroute('fd09::/64', { protocol: RTPROT.BIRD, priority: 1024, gateway: ip('fd00::2'), oif: IF.eth0 }));
    for (const [form, prefix] of [[ecmp, '10.9.0.0/24'], [v6, 'fd09::/64']] as const) {
      const body = deleteBodyOf(form);
      assert.equal(deleteBodyOf(form), body, 'one body per form');
      const requests = new RouteRequests();
      const route = kroute(prefix);
      requests.addBody('del', body, routeOf(form, { family: route.family === 2 ? 'ipv4-unicast' : 'ipv6-unicast', length: route.dstLength, address: route.dst! }).dst!, route.dstLength);
      const [ev] = decodeNetlink(requests.bytes(0, 1));
      assert.equal(ev?.kind, 'del');
      const m = (ev as { message: RouteMessage }).message;
      assert.deepEqual(
        { table: m.table, protocol: m.protocol, priority: m.priority, scope: m.scope, routeType: m.routeType, gateway: m.gateway, oif: m.oif, multipath: m.multipath, dstLength: m.dstLength },
        { table: form.table, protocol: RTPROT.BIRD, priority: form.priority, scope: RT_SCOPE.NOWHERE, routeType: RTN.UNSPEC, gateway: undefined, oif: undefined, multipath: undefined, dstLength: route.dstLength },
      );
    }
  });

  it('routeOf(formOf(r), prefix) is r again, for every kind of route we program', () => {
    const routes = [
      kroute('10.65.1.0/26', { protocol: RTPROT.BIRD, gateway: ip('10.0.0.2'), oif: IF.eth0 }),
      kroute('10.65.2.0/26', { protocol: RTPROT.BIRD, gateway: ip('10.0.0.3'), oif: IF.tunl0, flags: RTNH_F.ONLINK, priority: 100 }),
      kroute('10.65.3.0/26', { protocol: RTPROT.BIRD, routeType: RTN.BLACKHOLE }),
      kroute('10.65.4.0/26', { protocol: RTPROT.BIRD, multipath: [hop('10.0.0.7', IF.eth0), hop('10.0.0.8', IF.eth0)] }),
      kroute('fd00:1::/64', { protocol: RTPROT.BIRD, gateway: ip('fd00::2'), oif: IF.eth0, priority: 1024, table: 100 }),
      kroute('192.168.9.0/24', { protocol: RTPROT.BIRD, oif: IF.eth0, scope: RT_SCOPE.LINK }),
    ];
    for (const r of routes) {
      const back = routeOf(formOf(r), nlriOf(r));
      for (const field of ['type', 'family', 'dstLength', 'srcLength', 'tos', 'table', 'protocol', 'scope', 'routeType', 'flags', 'gateway', 'oif', 'priority', 'multipath'] as const) {
        assert.deepEqual(back[field], r[field], `${field} of ${JSON.stringify(r)}`);
      }
      assert.deepEqual([...back.dst!], [...r.dst!]);
    }
  });

  it('one form for consecutive routes that say the same; a new one when anything differs', () => {
    const forms = new RouteForms();
    const gw = ip('10.0.0.2');
    const a = forms.of(kroute('10.1.0.0/24', { protocol: RTPROT.BIRD, gateway: gw, oif: IF.eth0 }));
    assert.equal(forms.of(kroute('10.2.0.0/24', { protocol: RTPROT.BIRD, gateway: gw, oif: IF.eth0 })), a);
    assert.equal(forms.of(kroute('10.3.0.0/24', { protocol: RTPROT.BIRD, gateway: ip('10.0.0.2'), oif: IF.eth0 })), a, 'equal gateway bytes');
    const changes: Partial<RouteMessage>[] = [{ gateway: ip('10.0.0.3') }, { oif: IF.tunl0 }, { priority: 5 }, { flags: RTNH_F.ONLINK }, { table: 100 }, { routeType: RTN.BLACKHOLE, gateway: undefined }];
    for (const change of changes) {
      const f = forms.of(kroute('10.4.0.0/24', { protocol: RTPROT.BIRD, gateway: gw, oif: IF.eth0, ...change }));
      assert.notEqual(f, a, JSON.stringify(change));
      assert.equal(hasForm(kroute('10.4.0.0/24', { protocol: RTPROT.BIRD, gateway: gw, oif: IF.eth0 }), f), false);
      forms.of(kroute('10.1.0.0/24', { protocol: RTPROT.BIRD, gateway: gw, oif: IF.eth0 })); // back to the first kind
    }
  });

  it('property: a form matches exactly the routes equal to its own in every field it keeps', () => {
    const route = fc.record({
      gw: fc.constantFrom(undefined, '10.0.0.2', '10.0.0.3'), oif: fc.constantFrom(undefined, IF.eth0, IF.tunl0), priority: fc.constantFrom(undefined, 0, 100),
      flags: fc.constantFrom(0, RTNH_F.ONLINK), table: fc.constantFrom(254, 100), blackhole: fc.boolean(),
    }).map((x) => kroute('10.9.0.0/24', { protocol: RTPROT.BIRD, gateway: x.gw ? ip(x.gw) : undefined, oif: x.oif, priority: x.priority, flags: x.flags, table: x.table, ...(x.blackhole ? { routeType: RTN.BLACKHOLE } : {}) }));
    fc.assert(fc.property(route, route, (a, b) => {
      const same = a.gateway?.join('.') === b.gateway?.join('.') && a.oif === b.oif && a.priority === b.priority && a.flags === b.flags && a.table === b.table && a.routeType === b.routeType;
      assert.equal(hasForm(b, formOf(a)), same);
    }), { numRuns: 300 });
  });
});
