// SPDX-License-Identifier: Apache-2.0
// InterfaceTable (links and addresses as the kernel reports them), inPrefix and globMatch:
// which interface a next hop is directly on (longest prefix, up links only, never a host
// address), our own addresses, and the interface globs of `kernel.ignoreInterfaces`.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { InterfaceTable, IFF_UP, globMatch, inPrefix } from '../../src/kernel-sync/interfaces.ts';
import { IF, addr, interfaces, ip, link } from './kernel-fixtures.ts';

const onLinkName = (t: InterfaceTable, a: string): string | undefined => {
  const hit = t.onLink(ip(a));
  return hit ? t.byIndex(hit.index)?.name : undefined;
};

describe('InterfaceTable', () => {
  it('a next hop is on the up interface whose subnet holds it (IPv4 and IPv6)', () => {
    const t = interfaces();
    assert.equal(onLinkName(t, '10.0.0.2'), 'eth0');
    assert.equal(onLinkName(t, 'fd00::99'), 'eth0');
    assert.equal(onLinkName(t, '10.0.1.2'), undefined);
    assert.equal(onLinkName(t, 'fd01::2'), undefined);
  });

  it('never on a down interface, never through a host (/32) address', () => {
    const t = interfaces();
    assert.equal(onLinkName(t, '172.16.0.9'), undefined, 'eth1 is down');
    assert.equal(onLinkName(t, '10.244.7.1'), undefined, 'tunl0 has only a /32');
    t.applyLink('new', link(IF.eth1, 'eth1', IFF_UP));
    assert.equal(onLinkName(t, '172.16.0.9'), 'eth1', 'up again');
  });

  it('the longest prefix wins when subnets overlap', () => {
    const t = interfaces();
    t.applyAddr('new', addr(IF.cali1, '10.0.0.129/25'));
    assert.equal(onLinkName(t, '10.0.0.200'), 'cali1');
    assert.equal(onLinkName(t, '10.0.0.2'), 'eth0');
  });

  it('a point-to-point address: the local end (IFA_LOCAL) is ours, the subnet its prefix', () => {
    const t = interfaces();
    t.applyAddr('new', addr(IF.cali1, '192.0.2.2/30', '192.0.2.1'));
    assert.ok(t.isLocal(ip('192.0.2.1')));
    assert.ok(!t.isLocal(ip('192.0.2.2')));
    assert.equal(onLinkName(t, '192.0.2.2'), 'cali1');
  });

  it('isLocal: our addresses of every family, nothing else', () => {
    const t = interfaces();
    for (const a of ['10.0.0.1', 'fd00::1', '127.0.0.1', '10.244.7.1']) assert.ok(t.isLocal(ip(a)), a);
    for (const a of ['10.0.0.2', 'fd00::2']) assert.ok(!t.isLocal(ip(a)), a);
  });

  it('deleting an address or a link forgets it (and a link its addresses)', () => {
    const t = interfaces();
    t.applyAddr('del', addr(IF.eth0, 'fd00::1/64'));
    assert.equal(onLinkName(t, 'fd00::2'), undefined);
    assert.equal(onLinkName(t, '10.0.0.2'), 'eth0');
    t.applyLink('del', link(IF.eth0, 'eth0'));
    assert.equal(t.byName('eth0'), undefined);
    assert.equal(onLinkName(t, '10.0.0.2'), undefined);
    assert.ok(!t.isLocal(ip('10.0.0.1')));
  });

  it('a link update without IFLA_IFNAME keeps the name; flags give up and loopback', () => {
    const t = interfaces();
    t.applyLink('new', { type: 'link', index: IF.eth0, flags: 0, linkType: 1 });
    assert.deepEqual(t.byIndex(IF.eth0), { index: IF.eth0, name: 'eth0', up: false, loopback: false });
    assert.equal(t.byName('lo')?.loopback, true);
    assert.equal(onLinkName(t, '10.0.0.2'), undefined, 'eth0 went down');
  });

  it('an address without IFA_ADDRESS/IFA_LOCAL is ignored; clear() forgets everything', () => {
    const t = interfaces();
    const before = [...t.addresses()].length;
    t.applyAddr('new', { type: 'addr', family: 2, prefixLength: 24, flags: 0, scope: 0, index: IF.cali1 });
    assert.equal([...t.addresses()].length, before);
    t.clear();
    assert.deepEqual([[...t.addresses()].length, t.byIndex(IF.eth0)], [0, undefined]);
  });
});

describe('inPrefix', () => {
  it('bit-exact at the boundary, and never across families', () => {
    assert.ok(inPrefix(ip('10.0.0.255'), ip('10.0.0.0'), 24));
    assert.ok(!inPrefix(ip('10.0.1.0'), ip('10.0.0.0'), 24));
    assert.ok(inPrefix(ip('10.0.0.129'), ip('10.0.0.128'), 25));
    assert.ok(!inPrefix(ip('10.0.0.127'), ip('10.0.0.128'), 25));
    assert.ok(inPrefix(ip('1.2.3.4'), ip('0.0.0.0'), 0));
    assert.ok(!inPrefix(ip('::ffff:10.0.0.1'), ip('10.0.0.0'), 8));
  });

  it('property: the same as comparing the top `length` bits as integers', () => {
    fc.assert(
      fc.property(fc.nat(0xffffffff), fc.nat(0xffffffff), fc.integer({ min: 0, max: 32 }), (a, b, len) => {
        const bytes = (n: number) => new Uint8Array([n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]);
        const shift = 32 - len;
        const expected = len === 0 || Math.floor(a / 2 ** shift) === Math.floor(b / 2 ** shift);
        assert.equal(inPrefix(bytes(a), bytes(b), len), expected);
      }),
    );
  });
});

describe('globMatch', () => {
  it('`*` any run, `?` one character, everything else literal', () => {
    assert.ok(globMatch('cali*', 'cali1234'));
    assert.ok(globMatch('cali*', 'cali'));
    assert.ok(!globMatch('cali*', 'xcali1'));
    assert.ok(globMatch('*.calico', 'eth0.calico'));
    assert.ok(!globMatch('*.calico', 'eth0xcalico'), 'a dot is a dot');
    assert.ok(globMatch('eth?', 'eth1'));
    assert.ok(!globMatch('eth?', 'eth10'));
    assert.ok(globMatch('kube-ipvs*', 'kube-ipvs0'));
    assert.ok(globMatch('tunl0', 'tunl0'));
    assert.ok(!globMatch('tunl0', 'tunl01'));
    assert.ok(globMatch('a+b(c)', 'a+b(c)'), 'regex characters are literal');
  });
});
