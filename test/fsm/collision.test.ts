// SPDX-License-Identifier: Apache-2.0
// Connection collision (RFC 4271 §6.8, RFC 6286 §2.3): who survives, both ways round, seen
// from both speakers; admission of incoming connections; cleanup once one is Established.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  CONNECTION_REJECTED,
  admitIncoming,
  othersOnEstablished,
  resolveCollision,
  survivingDirection,
  type ConnectionView,
} from '../../src/bgp/fsm/index.ts';

const LOW = { bgpId: 0x0a000001, asn: 65001 }; // 10.0.0.1
const HIGH = { bgpId: 0xc0000201, asn: 65002 }; // 192.0.2.1 (> 2^31: must compare unsigned)

const out = (state: ConnectionView['state']): ConnectionView => ({ id: 1, direction: 'outgoing', state });
const inc = (state: ConnectionView['state']): ConnectionView => ({ id: 2, direction: 'incoming', state });

describe('survivingDirection', () => {
  it('keeps the connection initiated by the higher BGP Identifier, compared unsigned', () => {
    assert.equal(survivingDirection(HIGH, LOW), 'outgoing');
    assert.equal(survivingDirection(LOW, HIGH), 'incoming');
    // Signed comparison would get this wrong: 0x80000000 is the larger identifier.
    assert.equal(survivingDirection({ bgpId: 0x80000000, asn: 1 }, { bgpId: 0x7fffffff, asn: 1 }), 'outgoing');
    assert.equal(survivingDirection({ bgpId: -0x80000000, asn: 1 }, { bgpId: 0x7fffffff, asn: 1 }), 'outgoing');
  });

  it('RFC 6286 §2.3: equal identifiers, the larger AS wins; identical speakers: undecided', () => {
    assert.equal(survivingDirection({ bgpId: 7, asn: 65010 }, { bgpId: 7, asn: 65001 }), 'outgoing');
    assert.equal(survivingDirection({ bgpId: 7, asn: 65001 }, { bgpId: 7, asn: 65010 }), 'incoming');
    assert.equal(survivingDirection({ bgpId: 7, asn: 65001 }, { bgpId: 7, asn: 65001 }), undefined);
  });
});

describe('resolveCollision', () => {
  it('OPEN on the incoming connection while ours is in OpenConfirm, local ID higher: close the incoming one', () => {
    const conns = [out('OpenConfirm'), inc('OpenSent')];
    assert.deepEqual(resolveCollision({ local: HIGH, remote: LOW, receivedOn: conns[1]!, conns }), [2]);
  });

  it('same, local ID lower: close our existing (outgoing) connection', () => {
    const conns = [out('OpenConfirm'), inc('OpenSent')];
    assert.deepEqual(resolveCollision({ local: LOW, remote: HIGH, receivedOn: conns[1]!, conns }), [1]);
  });

  it('the other way round: OPEN on ours while theirs is in OpenConfirm', () => {
    const conns = [out('OpenSent'), inc('OpenConfirm')];
    assert.deepEqual(resolveCollision({ local: HIGH, remote: LOW, receivedOn: conns[0]!, conns }), [2]);
    assert.deepEqual(resolveCollision({ local: LOW, remote: HIGH, receivedOn: conns[0]!, conns }), [1]);
  });

  it('no collision while the other connection has not seen an OPEN (OpenSent, Connect) or is alone', () => {
    assert.deepEqual(resolveCollision({ local: HIGH, remote: LOW, receivedOn: inc('OpenSent'), conns: [out('OpenSent'), inc('OpenSent')] }), []);
    assert.deepEqual(resolveCollision({ local: HIGH, remote: LOW, receivedOn: inc('OpenSent'), conns: [out('Connect'), inc('OpenSent')] }), []);
    assert.deepEqual(resolveCollision({ local: HIGH, remote: LOW, receivedOn: out('OpenSent'), conns: [out('OpenSent')] }), []);
  });

  it('§6.8: against an Established connection the new one always loses, whatever the IDs', () => {
    for (const [local, remote] of [
      [HIGH, LOW],
      [LOW, HIGH],
    ] as const) {
      assert.deepEqual(resolveCollision({ local, remote, receivedOn: inc('OpenSent'), conns: [out('Established'), inc('OpenSent')] }), [2]);
    }
  });

  it('identical speakers: the existing connection stays', () => {
    const same = { bgpId: 9, asn: 65001 };
    assert.deepEqual(resolveCollision({ local: same, remote: same, receivedOn: inc('OpenSent'), conns: [out('OpenConfirm'), inc('OpenSent')] }), [2]);
  });

  it('both speakers keep the same TCP connection, whatever the IDs and arrival order (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 0xffffffff }), fc.integer({ min: 1, max: 0xffffffff }), fc.boolean(), fc.boolean(), (idA, idB, aFirst, bFirst) => {
        fc.pre(idA !== idB);
        const a = { bgpId: idA, asn: 65001 };
        const b = { bgpId: idB, asn: 65002 };
        // TCP connection X: A→B (A outgoing id 1, B incoming id 2); Y: B→A (A incoming id 2, B outgoing id 1).
        // Each speaker receives its second OPEN while the first connection is in OpenConfirm.
        const loserAtA = aFirst
          ? resolveCollision({ local: a, remote: b, receivedOn: inc('OpenSent'), conns: [out('OpenConfirm'), inc('OpenSent')] })
          : resolveCollision({ local: a, remote: b, receivedOn: out('OpenSent'), conns: [out('OpenSent'), inc('OpenConfirm')] });
        const loserAtB = bFirst
          ? resolveCollision({ local: b, remote: a, receivedOn: inc('OpenSent'), conns: [out('OpenConfirm'), inc('OpenSent')] })
          : resolveCollision({ local: b, remote: a, receivedOn: out('OpenSent'), conns: [out('OpenSent'), inc('OpenConfirm')] });
        const tcpOf = (side: 'A' | 'B', id: number): 'X' | 'Y' => (side === 'A' ? (id === 1 ? 'X' : 'Y') : id === 1 ? 'Y' : 'X');
        assert.equal(loserAtA.length, 1);
        assert.equal(loserAtB.length, 1);
        assert.equal(tcpOf('A', loserAtA[0]!), tcpOf('B', loserAtB[0]!));
        // And it is the one initiated by the lower identifier.
        assert.equal(tcpOf('A', loserAtA[0]!), (idA >>> 0) < (idB >>> 0) ? 'X' : 'Y');
      }),
    );
  });
});

describe('admitIncoming', () => {
  it('refuses with Cease/5 when a connection is Established', () => {
    assert.deepEqual(admitIncoming([out('Established')]), { kind: 'reject', reason: 'session already established', notification: CONNECTION_REJECTED });
    assert.deepEqual([CONNECTION_REJECTED.code, CONNECTION_REJECTED.subcode], [6, 5]);
  });

  it('refuses silently when idle (stopped or backing off)', () => {
    assert.deepEqual(admitIncoming([out('Idle')]), { kind: 'reject', reason: 'session idle' });
    assert.deepEqual(admitIncoming([]), { kind: 'reject', reason: 'session idle' });
  });

  it('hands the socket to a connection waiting in Active', () => {
    assert.deepEqual(admitIncoming([out('Active')]), { kind: 'attach', id: 1 });
  });

  it('runs a second connection while ours is connecting or exchanging OPENs', () => {
    for (const state of ['Connect', 'OpenSent', 'OpenConfirm'] as const) assert.deepEqual(admitIncoming([out(state)]), { kind: 'second' });
  });

  it('at most one incoming connection at a time', () => {
    const r = admitIncoming([out('OpenSent'), inc('OpenSent')]);
    assert.equal(r.kind, 'reject');
  });
});

describe('othersOnEstablished', () => {
  it('dumps connections that sent an OPEN, discards the rest', () => {
    assert.deepEqual(othersOnEstablished([out('Established'), inc('OpenSent')], 1), { dump: [2], discard: [] });
    assert.deepEqual(othersOnEstablished([out('Connect'), inc('Established')], 2), { dump: [], discard: [1] });
    assert.deepEqual(othersOnEstablished([out('Established')], 1), { dump: [], discard: [] });
  });
});
