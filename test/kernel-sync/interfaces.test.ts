// SPDX-License-Identifier: Apache-2.0
// InterfaceTable (links and addresses as the kernel reports them), inPrefix and globMatch:
// which interface a next hop is directly on (longest prefix, up links only, never a host
// address), our own addresses, and the interface globs of `kernel.ignoreInterfaces`.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { IFACE_CHANGE, InterfaceTable, IFF_UP, globMatch, inPrefix, nextHopBits } from '../../src/kernel-sync/interfaces.ts';
import type { AddrMessage, LinkMessage } from '../../src/kernel-sync/rtnetlink/index.ts';
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

describe('InterfaceTable: what a message changed', () => {
  const { CHANGED, RESOLVES_V4, RESOLVES_V6, RESOLVES_V6_LINK_LOCAL, NAMED } = IFACE_CHANGE;

  it('a repeated link or address message changes nothing (0), and the generation stays', () => {
    const t = interfaces();
    const g = t.generation;
    assert.equal(t.applyLink('new', link(IF.eth0, 'eth0')), 0);
    assert.equal(t.applyLink('new', link(IF.eth0, 'eth0', IFF_UP | 0x40 /* IFF_RUNNING: not read */)), 0);
    assert.equal(t.applyAddr('new', addr(IF.eth0, '10.0.0.1/24')), 0, 'e.g. the end of duplicate address detection');
    assert.equal(t.applyAddr('del', addr(IF.eth0, '10.9.9.9/24')), 0, 'an address it never had');
    assert.equal(t.applyLink('del', link(99, 'gone')), 0, 'a link it never had');
    assert.equal(t.generation, g);
  });

  it('addresses: the family whose next hops may resolve otherwise', () => {
    const t = interfaces();
    const g = t.generation;
    assert.equal(t.applyAddr('new', addr(IF.cali1, 'fe80::ecee:eeff:feee:eeee/64')), CHANGED | RESOLVES_V6_LINK_LOCAL, "a pod veth's link-local address");
    assert.equal(t.applyAddr('new', addr(IF.eth0, '10.0.5.1/24')), CHANGED | RESOLVES_V4);
    assert.equal(t.applyAddr('del', addr(IF.eth0, '10.0.5.1/24')), CHANGED | RESOLVES_V4);
    assert.equal(t.applyAddr('new', addr(IF.eth0, 'fd00::5:1/112')), CHANGED | RESOLVES_V6);
    assert.equal(t.applyAddr('new', addr(IF.eth0, 'fc00::1/6')), CHANGED | RESOLVES_V6 | RESOLVES_V6_LINK_LOCAL, 'a subnet holding fe80::/10 too');
    assert.equal(t.applyAddr('new', addr(IF.eth0, 'fe80::1/9')), CHANGED | RESOLVES_V6 | RESOLVES_V6_LINK_LOCAL, 'a link-local address whose subnet is wider than fe80::/10');
    assert.equal(t.generation, g + 6);
    assert.equal(nextHopBits(ip('10.0.0.2')), RESOLVES_V4);
    assert.equal(nextHopBits(ip('fd00::2')), RESOLVES_V6);
    assert.equal(nextHopBits(ip('febf::2')), RESOLVES_V6_LINK_LOCAL);
    assert.equal(nextHopBits(ip('fec0::2')), RESOLVES_V6);
  });

  it('links: up or down changes the families of its addresses; a name coming, going or changing is NAMED', () => {
    const t = interfaces();
    assert.equal(t.applyLink('new', link(IF.eth0, 'eth0', 0)), CHANGED | RESOLVES_V4 | RESOLVES_V6, 'eth0 has 10.0.0.1/24 and fd00::1/64');
    assert.equal(t.applyLink('new', link(IF.cali1, 'cali1', 0)), CHANGED, 'cali1 has no address: down changes no next hop');
    assert.equal(t.applyLink('new', link(42, 'cali42')), CHANGED | NAMED, 'a new link');
    assert.equal(t.applyLink('new', link(42, 'cali43')), CHANGED | NAMED, 'renamed');
    assert.equal(t.applyLink('del', link(IF.eth1, 'eth1')), CHANGED | NAMED | RESOLVES_V4, 'eth1 (down) had 172.16.0.1/24, which goes with it');
    assert.equal(t.applyAddr('del', addr(IF.eth1, '172.16.0.1/24')), 0, 'already gone');
    // An address heard of before its link: it goes with the link's deletion all the same.
    assert.equal(t.applyAddr('new', addr(77, '192.0.2.1/24')), CHANGED | RESOLVES_V4);
    assert.ok(t.isLocal(ip('192.0.2.1')));
    assert.equal(t.applyLink('del', link(77, 'veth77')), CHANGED | RESOLVES_V4);
    assert.ok(!t.isLocal(ip('192.0.2.1')));
  });

  // The promise the bits make: what they leave out, no lookup can tell apart.
  it('property: after a message, every next hop whose bits it leaves clear resolves as before (onLink, isLocal; byName without NAMED)', () => {
    const names = ['eth0', 'eth1', 'tunl0', 'cali1'];
    const cidrs = ['10.0.0.1/24', '10.0.0.9/32', '10.1.0.1/16', 'fd00::1/64', 'fe80::1/64', 'fe80::2/64', 'fe80::3/128', 'fc00::1/6', 'fe80::4/9', 'fe00::1/8'];
    const probes = ['10.0.0.2', '10.0.0.9', '10.1.2.3', '10.2.0.1', 'fd00::2', 'fe80::9', 'fe80::1', 'fe80::2', 'fe80::3', 'fe00::9', 'fec0::1', 'fc00::1'].map(ip);
    const message = fc.oneof(
      fc.record({ kind: fc.constantFrom('new', 'del'), index: fc.integer({ min: 1, max: 4 }), name: fc.constantFrom(...names), up: fc.boolean() }).map((l) => ({ type: 'link' as const, ...l })),
      fc.record({ kind: fc.constantFrom('new', 'del'), index: fc.integer({ min: 1, max: 4 }), cidr: fc.constantFrom(...cidrs) }).map((a) => ({ type: 'addr' as const, ...a })),
    );
    const answers = (t: InterfaceTable) => probes.map((p) => ({ bits: nextHopBits(p), answer: `${t.onLink(p)?.index ?? '-'} ${t.isLocal(p)}` }));
    fc.assert(
      fc.property(fc.array(message, { maxLength: 30 }), (messages) => {
        const t = new InterfaceTable();
        for (const m of messages) {
          const before = answers(t);
          const named = names.map((n) => t.byName(n)?.index);
          const generation = t.generation;
          const bits =
            m.type === 'link'
              ? t.applyLink(m.kind as 'new' | 'del', { ...link(m.index, m.name, m.up ? IFF_UP : 0) } as LinkMessage)
              : t.applyAddr(m.kind as 'new' | 'del', addr(m.index, m.cidr) as AddrMessage);
          answers(t).forEach((a, i) => {
            if ((bits & a.bits) === 0) assert.equal(a.answer, before[i]!.answer, `${m.type} ${JSON.stringify(m)}: probe ${i}`);
          });
          if ((bits & NAMED) === 0) assert.deepEqual(names.map((n) => t.byName(n)?.index), named);
          assert.equal(t.generation !== generation, bits !== 0, 'the generation moves exactly when something changed');
        }
      }),
      { numRuns: 300 },
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
