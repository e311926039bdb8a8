// SPDX-License-Identifier: Apache-2.0
// The session driver over real loopback TCP: two Tern sessions reaching Established and
// exchanging an UPDATE, hold timer expiry against a silent raw peer, reconnect after the peer
// closes, stop() with an RFC 9003 shutdown text, a connection collision with both sides active,
// and a byte stream delivered one octet at a time. Bounded waits; every socket is closed.
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { CeaseSubcode, NotificationCode } from '../../src/bgp/messages/iana.ts';
import { decodeShutdownCommunication } from '../../src/bgp/messages/notification.ts';
import { encodeMessage } from '../../src/bgp/messages/index.ts';
import { buildOpen } from '../../src/bgp/messages/negotiate.ts';
import { DEFAULT_CONTEXT, type DecodedUpdate } from '../../src/bgp/messages/types.ts';
import { Listener } from '../../src/bgp/session/listener.ts';
import type { PeerSession } from '../../src/bgp/session/peer-session.ts';
import { ID_A, ID_B, RawPeer, rawServer, session, sleep, until, updateFrame, waitFor } from './helpers.ts';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function listenerFor(target: () => PeerSession): Promise<{ port: number }> {
  const listener = new Listener(['127.0.0.1'], 0, (socket) => target().acceptIncoming(socket));
  await listener.listen();
  cleanups.push(() => listener.close());
  return { port: listener.bound()[0]!.port };
}

function track(s: PeerSession): PeerSession {
  cleanups.push(() => s.stop());
  return s;
}

describe('PeerSession over loopback', () => {
  it('active and passive sessions reach Established and exchange an UPDATE', async () => {
    let b!: PeerSession;
    const { port } = await listenerFor(() => b);
    b = track(session({ name: 'b', port: 1, asn: 65001, passive: true, local: { asn: 65002, routerId: ID_B } }));
    const a = track(session({ name: 'a', port, asn: 65002, local: { asn: 65001, routerId: ID_A } }));
    const states: string[] = [];
    a.on('state', (_from: string, to: string) => states.push(to));
    const established = Promise.all([waitFor(a, 'established'), waitFor(b, 'established')]);
    b.start();
    assert.equal(b.state, 'Active'); // passive: waits without connecting
    a.start();
    await established;
    assert.equal(a.state, 'Established');
    assert.equal(b.state, 'Established');
    assert.deepEqual(states, ['Connect', 'OpenSent', 'OpenConfirm', 'Established']);
    assert.equal(a.ctx.as4, true);
    assert.equal(a.info.negotiated?.holdTime, 90);
    assert.equal(a.info.remoteOpen?.bgpId, ID_B);

    const got = waitFor<[DecodedUpdate]>(b, 'update');
    assert.equal(a.send([updateFrame(7, a.ctx, 65001)]), true);
    const [decoded] = await got;
    assert.equal(decoded.action, 'none');
    assert.deepEqual([...decoded.message.nlri[0]!.address], [10, 0, 7]);
    assert.equal(decoded.message.nlri[0]!.length, 24);
    assert.equal(b.info.messagesIn.UPDATE, 1);
    assert.equal(a.info.messagesOut.UPDATE, 1);
  });

  it('a throwing event listener is contained: the session stays up', async () => {
    let b!: PeerSession;
    const { port } = await listenerFor(() => b);
    b = track(session({ name: 'b', port: 1, asn: 65001, passive: true, local: { asn: 65002, routerId: ID_B } }));
    const a = track(session({ name: 'a', port, asn: 65002, local: { asn: 65001, routerId: ID_A } }));
    b.start();
    a.start();
    await Promise.all([waitFor(a, 'established'), waitFor(b, 'established')]);
    let calls = 0;
    b.on('update', () => {
      calls += 1;
      throw new Error('listener bug');
    });
    a.send([updateFrame(1, a.ctx, 65001), updateFrame(2, a.ctx, 65001)]);
    await until(() => calls === 2, 3000, 'both updates delivered');
    await sleep(100);
    assert.equal(b.state, 'Established');
    assert.equal(a.state, 'Established');
  });

  it('send() refuses when not Established', () => {
    const a = session({ name: 'a', port: 1, asn: 65002, local: { asn: 65001, routerId: ID_A } });
    assert.equal(a.send([updateFrame(1, DEFAULT_CONTEXT, 65001)]), false);
    assert.equal(a.state, 'Idle');
  });

  it('hold timer expiry: a silent peer gets NOTIFICATION 4/0 after the 3 s hold time', async () => {
    const server = await rawServer();
    cleanups.push(() => server.close());
    const a = track(session({ name: 'a', port: server.port, asn: 65002, holdTime: 3, local: { asn: 65001, routerId: ID_A } }));
    a.start();
    const peer = await server.nextPeer();
    await peer.next('open');
    peer.sendOpen({ asn: 65002, bgpId: ID_B, holdTime: 3 });
    peer.send({ type: 'keepalive' });
    await waitFor(a, 'established');
    assert.equal(a.info.negotiated?.keepaliveTime, 1);
    const started = Date.now();
    const down = waitFor<[string]>(a, 'down', 6000);
    const notification = await peer.next('notification', 6000); // we stay silent
    const elapsed = Date.now() - started;
    assert.equal(notification.code, NotificationCode.HoldTimerExpired);
    assert.equal(notification.subcode, 0);
    assert.ok(elapsed >= 2500 && elapsed < 5000, `hold timer fired after ${elapsed} ms`);
    const [reason] = await down;
    assert.match(reason, /Hold Timer Expired/);
    assert.ok(peer.received.filter((m) => m.type === 'keepalive').length >= 1, 'keepalives were sent meanwhile');
    await peer.waitClosed();
  });

  it('peer closes the connection: session goes down and reconnects', async () => {
    const server = await rawServer();
    cleanups.push(() => server.close());
    const a = track(session({ name: 'a', port: server.port, asn: 65002, local: { asn: 65001, routerId: ID_A } }));
    a.start();
    const first = await server.nextPeer();
    await first.next('open');
    first.sendOpen({ asn: 65002, bgpId: ID_B, holdTime: 90 });
    first.send({ type: 'keepalive' });
    await waitFor(a, 'established');
    const down = waitFor<[string]>(a, 'down');
    first.destroy();
    const [reason] = await down;
    assert.match(reason, /closed/);
    assert.notEqual(a.state, 'Established');
    const second = await server.nextPeer(5000);
    await second.next('open');
    second.sendOpen({ asn: 65002, bgpId: ID_B, holdTime: 90 });
    second.send({ type: 'keepalive' });
    await waitFor(a, 'established');
    assert.equal(a.state, 'Established');
  });

  it('stop() sends Cease/2 with the RFC 9003 text, and the other session reports it', async () => {
    let b!: PeerSession;
    const { port } = await listenerFor(() => b);
    b = track(session({ name: 'b', port: 1, asn: 65001, passive: true, local: { asn: 65002, routerId: ID_B } }));
    const a = session({ name: 'a', port, asn: 65002, local: { asn: 65001, routerId: ID_A } });
    b.start();
    a.start();
    await Promise.all([waitFor(a, 'established'), waitFor(b, 'established')]);
    const down = waitFor<[string]>(b, 'down');
    await a.stop('maintenance window 42');
    assert.equal(a.state, 'Idle');
    const [reason] = await down;
    assert.match(reason, /Cease \/ Administrative Shutdown/);
    assert.match(reason, /maintenance window 42/);
    assert.match(b.info.lastError ?? '', /maintenance window 42/);
    assert.equal(a.info.messagesOut.NOTIFICATION, 1);
  });

  it('stop() text reaches a raw peer byte-exact (RFC 9003 length + UTF-8)', async () => {
    const server = await rawServer();
    cleanups.push(() => server.close());
    const a = session({ name: 'a', port: server.port, asn: 65002, local: { asn: 65001, routerId: ID_A } });
    a.start();
    const peer = await server.nextPeer();
    await peer.next('open');
    peer.sendOpen({ asn: 65002, bgpId: ID_B, holdTime: 90 });
    peer.send({ type: 'keepalive' });
    await waitFor(a, 'established');
    await a.stop('déjà vu');
    const n = await peer.next('notification');
    assert.equal(n.code, NotificationCode.Cease);
    assert.equal(n.subcode, CeaseSubcode.AdministrativeShutdown);
    assert.deepEqual(decodeShutdownCommunication(n.data), { ok: true, message: 'déjà vu' });
    await peer.waitClosed();
  });

  it('collision: both sides connect at once and exactly one connection survives', async () => {
    let a!: PeerSession;
    let b!: PeerSession;
    const la = await listenerFor(() => a);
    const lb = await listenerFor(() => b);
    a = track(session({ name: 'a', port: lb.port, asn: 65002, local: { asn: 65001, routerId: ID_A } }));
    b = track(session({ name: 'b', port: la.port, asn: 65001, local: { asn: 65002, routerId: ID_B } }));
    a.start();
    b.start();
    await until(() => a.state === 'Established' && b.state === 'Established', 8000, 'both Established');
    await sleep(300); // let any second connection finish its collision handling
    await until(() => a.connections.length === 1 && b.connections.length === 1, 3000, 'one connection each');
    assert.equal(a.state, 'Established');
    assert.equal(b.state, 'Established');
    const [ca] = a.connections;
    const [cb] = b.connections;
    // The same TCP connection seen from both ends.
    assert.equal(ca!.local, cb!.remote);
    assert.equal(ca!.remote, cb!.local);
    assert.notEqual(ca!.direction, cb!.direction);
    // §6.8: the survivor is the connection initiated by the higher BGP Identifier (B).
    assert.equal(cb!.direction, 'outgoing');
    assert.equal(ca!.direction, 'incoming');
  });

  it('frames split one byte per segment are reassembled', async () => {
    const server = await rawServer();
    cleanups.push(() => server.close());
    const a = track(session({ name: 'a', port: server.port, asn: 65002, local: { asn: 65001, routerId: ID_A } }));
    a.start();
    const peer: RawPeer = await server.nextPeer();
    await peer.next('open');
    const open = encodeMessage(buildOpen({ asn: 65002, bgpId: ID_B, holdTime: 90, families: ['ipv4-unicast'] }), DEFAULT_CONTEXT);
    const keepalive = encodeMessage({ type: 'keepalive' }, DEFAULT_CONTEXT);
    const established = waitFor(a, 'established');
    await peer.trickle(Uint8Array.from([...open, ...keepalive]));
    await established;
    const got = waitFor<[DecodedUpdate]>(a, 'update');
    await peer.trickle(updateFrame(9, a.ctx, 65002));
    const [decoded] = await got;
    assert.equal(decoded.action, 'none');
    assert.deepEqual([...decoded.message.nlri[0]!.address], [10, 0, 9]);
    assert.equal(a.info.messagesIn.OPEN, 1);
    assert.equal(a.info.messagesIn.KEEPALIVE, 1);
  });

  it('a malformed OPEN (bad peer AS) gets NOTIFICATION 2/2 and the connection closes', async () => {
    const server = await rawServer();
    cleanups.push(() => server.close());
    const a = track(session({ name: 'a', port: server.port, asn: 65002, local: { asn: 65001, routerId: ID_A } }));
    a.start();
    const peer = await server.nextPeer();
    await peer.next('open');
    peer.sendOpen({ asn: 64999, bgpId: ID_B, holdTime: 90 });
    const n = await peer.next('notification');
    assert.deepEqual([n.code, n.subcode], [2, 2]);
    await peer.waitClosed();
    assert.match(a.info.lastError ?? '', /Bad Peer As/i);
  });

  it('an incoming connection while Established is refused with Cease/5', async () => {
    let b!: PeerSession;
    const { port } = await listenerFor(() => b);
    b = track(session({ name: 'b', port: 1, asn: 65001, passive: true, local: { asn: 65002, routerId: ID_B } }));
    const a = track(session({ name: 'a', port, asn: 65002, local: { asn: 65001, routerId: ID_A } }));
    b.start();
    a.start();
    await Promise.all([waitFor(a, 'established'), waitFor(b, 'established')]);
    const net = await import('node:net');
    const socket = net.connect({ host: '127.0.0.1', port });
    const intruder = new RawPeer(socket);
    cleanups.push(() => intruder.destroy());
    const n = await intruder.next('notification');
    assert.deepEqual([n.code, n.subcode], [NotificationCode.Cease, CeaseSubcode.ConnectionRejected]);
    await intruder.waitClosed();
    assert.equal(b.state, 'Established');
    assert.equal(b.connections.length, 1);
  });
});
