// SPDX-License-Identifier: Apache-2.0
// The speaker's protocol duties over real TCP on loopback, with a scripted peer on the other
// side: graceful restart as helper and as restarting speaker (RFC 4724), route refresh in and
// out (RFC 2918 / 7313), max-prefix (RFC 4486 Cease/1), End-of-RIB after the initial table.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../src/config/index.ts';
import { Daemon } from '../../src/daemon.ts';
import { createLogger } from '../../src/observability/log.ts';
import { controlRequest } from '../../src/control/client.ts';
import type { RouteView, PeerView } from '../../src/control/views.ts';
import { ScriptedPeer, basicAttributes } from '../helpers/scripted-peer.ts';
import { dottedToU32, ipv4ToBytes } from '../../src/util/ip.ts';
import { encodeRouteRefresh } from '../../src/bgp/messages/route-refresh.ts';

const ASN = 65000;
let port = 21179 + (process.pid % 500) * 2;

interface Lab {
  daemon: Daemon;
  socket: string;
  port: number;
  dir: string;
}

async function startTern(peer: Record<string, unknown>, opts: { recover?: boolean; deferralTime?: number; logLines?: string[] } = {}): Promise<Lab> {
  const dir = mkdtempSync(join(tmpdir(), 'tern-speaker-'));
  const p = port++;
  const config = parseConfig(
    JSON.stringify({
      routerId: '127.0.0.1',
      asn: ASN,
      listen: { address: '127.0.0.1', port: p },
      control: { socket: join(dir, 'tern.ctl') },
      gracefulRestart: { deferralTime: opts.deferralTime ?? 240 },
      peers: [{ name: 'scripted', address: '127.0.0.2', asn: ASN, passive: true, holdTime: 30, ...peer }],
      originate: [{ prefix: '10.244.1.0/26' }],
    }),
    'speaker-test.json',
  );
  const lines = opts.logLines;
  const logger = lines
    ? createLogger({ level: 'warn', destination: { write: (l: string) => void lines.push(l) } as unknown as NodeJS.WritableStream })
    : createLogger({ level: process.env.TERN_TEST_LOG ?? 'silent' });
  const daemon = new Daemon(config, logger);
  await daemon.start({ recover: opts.recover });
  return { daemon, socket: config.control.socket, port: p, dir };
}

async function stopTern(lab: Lab): Promise<void> {
  await lab.daemon.stop();
  rmSync(lab.dir, { recursive: true, force: true });
}

function scripted(gr?: { restartTime: number; forwarding: boolean; restarting?: boolean }, extra: { enhancedRefresh?: boolean } = {}): ScriptedPeer {
  void extra;
  return new ScriptedPeer(
    {
      asn: ASN,
      bgpId: dottedToU32('127.0.0.2')!,
      holdTime: 30,
      families: ['ipv4-unicast'],
      ...(gr ? { gracefulRestart: { restartTime: gr.restartTime, restarting: gr.restarting ?? false, notification: false, families: [{ family: 'ipv4-unicast', forwardingState: gr.forwarding }] } } : {}),
    },
    'ibgp',
  );
}

async function routes(lab: Lab): Promise<RouteView[]> {
  return ((await controlRequest(lab.socket, 'show routes', { peer: 'scripted' })) as RouteView[]);
}

async function eventually<T>(what: string, probe: () => Promise<T | undefined>, ms = 10_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const NH = ipv4ToBytes('127.0.0.2')!;

describe('graceful restart, Tern as helper (RFC 4724 §4.2)', () => {
  it('keeps a crashed peer\'s routes as stale, refreshes them after reconnect and End-of-RIB, sweeps the rest', async () => {
    const lab = await startTern({ gracefulRestart: { restartTime: 30 } });
    try {
      const first = scripted({ restartTime: 30, forwarding: true });
      await first.establish('127.0.0.1', lab.port, '127.0.0.2');
      first.announce('ipv4-unicast', ['10.50.0.0/24', '10.51.0.0/24'], basicAttributes(NH, { localPref: 100 }));
      first.sendEndOfRib('ipv4-unicast');
      await eventually('two routes', async () => ((await routes(lab)).length === 2 ? true : undefined));
      first.crash();
      const stale = await eventually('stale routes', async () => {
        const r = await routes(lab);
        return r.length === 2 && r.every((x) => x.stale) ? r : undefined;
      });
      assert.equal(stale.length, 2);
      const again = scripted({ restartTime: 30, forwarding: true, restarting: true });
      await again.establish('127.0.0.1', lab.port, '127.0.0.2');
      again.announce('ipv4-unicast', ['10.50.0.0/24'], basicAttributes(NH, { localPref: 100 }));
      await eventually('refreshed route', async () => ((await routes(lab)).find((r) => r.prefix === '10.50.0.0/24' && !r.stale) ? true : undefined));
      assert.equal((await routes(lab)).find((r) => r.prefix === '10.51.0.0/24')?.stale, true, 'still stale before End-of-RIB');
      again.sendEndOfRib('ipv4-unicast');
      const after = await eventually('stale swept', async () => {
        const r = await routes(lab);
        return r.length === 1 ? r : undefined;
      });
      assert.deepEqual(after.map((r) => [r.prefix, r.stale]), [['10.50.0.0/24', false]]);
      again.close();
    } finally {
      await stopTern(lab);
    }
  });

  it('drops the stale routes at once when the peer comes back without forwarding state', async () => {
    const lab = await startTern({ gracefulRestart: { restartTime: 30 } });
    try {
      const first = scripted({ restartTime: 30, forwarding: true });
      await first.establish('127.0.0.1', lab.port, '127.0.0.2');
      first.announce('ipv4-unicast', ['10.52.0.0/24'], basicAttributes(NH, { localPref: 100 }));
      await eventually('route', async () => ((await routes(lab)).length === 1 ? true : undefined));
      first.crash();
      await eventually('stale', async () => ((await routes(lab))[0]?.stale ? true : undefined));
      const again = scripted({ restartTime: 30, forwarding: false });
      await again.establish('127.0.0.1', lab.port, '127.0.0.2');
      await eventually('stale routes removed', async () => ((await routes(lab)).length === 0 ? true : undefined));
      again.close();
    } finally {
      await stopTern(lab);
    }
  });

  it('a peer without the capability loses its routes when the session drops', async () => {
    const lab = await startTern({ gracefulRestart: { restartTime: 30 } });
    try {
      const p = scripted();
      await p.establish('127.0.0.1', lab.port, '127.0.0.2');
      p.announce('ipv4-unicast', ['10.53.0.0/24'], basicAttributes(NH, { localPref: 100 }));
      await eventually('route', async () => ((await routes(lab)).length === 1 ? true : undefined));
      p.crash();
      await eventually('routes withdrawn', async () => ((await routes(lab)).length === 0 ? true : undefined));
    } finally {
      await stopTern(lab);
    }
  });
});

describe('graceful restart, Tern restarting (RFC 4724 §4.1)', () => {
  it('sets the R bit and defers its routes until the peer\'s End-of-RIB, then sends them and End-of-RIB', async () => {
    const lab = await startTern({ gracefulRestart: { restartTime: 30 } }, { recover: true });
    try {
      const p = scripted({ restartTime: 30, forwarding: true });
      await p.establish('127.0.0.1', lab.port, '127.0.0.2');
      const gr = p.remoteOpen!.capabilities.find((c) => c.kind === 'graceful-restart');
      assert.ok(gr && gr.kind === 'graceful-restart' && gr.restarting, 'R bit set after a restart');
      assert.deepEqual(gr.families.map((f) => f.forwardingState), [true], 'Forwarding State kept across our restart');
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(p.routes.size, 0, 'nothing advertised before the peer\'s End-of-RIB');
      assert.equal(p.endOfRib.size, 0);
      p.sendEndOfRib('ipv4-unicast');
      await p.waitFor('routes and End-of-RIB', () => p.routes.has('10.244.1.0/26') && p.endOfRib.has('ipv4-unicast'));
      const status = (await controlRequest(lab.socket, 'show status')) as { recovering: boolean };
      assert.equal(status.recovering, false);
      p.close();
    } finally {
      await stopTern(lab);
    }
  });

  it('the deferral timer ends recovery when End-of-RIB never comes', async () => {
    const lab = await startTern({ gracefulRestart: { restartTime: 30 } }, { recover: true, deferralTime: 1 });
    try {
      const p = scripted({ restartTime: 30, forwarding: true });
      await p.establish('127.0.0.1', lab.port, '127.0.0.2');
      await p.waitFor('routes after the deferral time', () => p.routes.has('10.244.1.0/26') && p.endOfRib.has('ipv4-unicast'), 5000);
      p.close();
    } finally {
      await stopTern(lab);
    }
  });
});

describe('route refresh and max-prefix', () => {
  it('answers a ROUTE-REFRESH by sending its routes again (RFC 2918 §4)', async () => {
    const lab = await startTern({});
    try {
      const p = scripted();
      await p.establish('127.0.0.1', lab.port, '127.0.0.2');
      await p.waitFor('initial routes', () => p.routes.has('10.244.1.0/26') && p.endOfRib.has('ipv4-unicast'));
      const before = p.received.filter((m) => m.type === 'update').length;
      p.routes.clear();
      p.sendRaw(encodeRouteRefresh({ type: 'route-refresh', afi: 1, safi: 1, subtype: 0 }));
      await p.waitFor('routes again', () => p.routes.has('10.244.1.0/26'));
      assert.ok(p.received.filter((m) => m.type === 'update').length > before);
      // Enhanced route refresh (RFC 7313) was negotiated (both sides send capability 70): BoRR … EoRR.
      const rr = p.received.filter((m) => m.type === 'route-refresh').map((m) => (m.type === 'route-refresh' ? m.subtype : -1));
      assert.deepEqual(rr, [1, 2]);
      p.close();
    } finally {
      await stopTern(lab);
    }
  });

  it('sends a ROUTE-REFRESH when asked (tern refresh)', async () => {
    const lab = await startTern({});
    try {
      const p = scripted();
      await p.establish('127.0.0.1', lab.port, '127.0.0.2');
      const result = (await controlRequest(lab.socket, 'refresh', { peer: 'scripted' })) as { families: string[] };
      assert.deepEqual(result.families, ['ipv4-unicast']);
      await p.waitFor('ROUTE-REFRESH', () => p.received.some((m) => m.type === 'route-refresh' && m.subtype === 0));
      p.close();
    } finally {
      await stopTern(lab);
    }
  });

  it('closes the session with Cease / Maximum Number of Prefixes Reached over the limit', async () => {
    const lab = await startTern({ maxPrefixes: { limit: 2, action: 'restart', restartDelay: 60 } });
    try {
      const p = scripted();
      await p.establish('127.0.0.1', lab.port, '127.0.0.2');
      p.announce('ipv4-unicast', ['10.60.0.0/24', '10.61.0.0/24', '10.62.0.0/24'], basicAttributes(NH, { localPref: 100 }));
      await p.waitFor('NOTIFICATION', () => p.received.some((m) => m.type === 'notification'));
      const n = p.received.find((m) => m.type === 'notification');
      assert.ok(n && n.type === 'notification');
      assert.deepEqual([n.code, n.subcode], [6, 1]);
      const peers = (await controlRequest(lab.socket, 'show peers')) as PeerView[];
      assert.match(peers[0]!.lastError!, /Maximum Number of Prefixes Reached/);
      assert.deepEqual(await routes(lab), []);
    } finally {
      await stopTern(lab);
    }
  });
});

describe('RFC 7606 error logging', () => {
  it('logs malformed UPDATEs with rate limiting: a burst per peer per minute, then silence', async () => {
    const lines: string[] = [];
    const lab = await startTern({}, { logLines: lines });
    try {
      const p = scripted();
      await p.establish('127.0.0.1', lab.port, '127.0.0.2');
      // MED with a 3-octet value: treat-as-withdraw (RFC 7606 §7.4), the session stays.
      const bad = (i: number) =>
        Uint8Array.from([...new Array(16).fill(0xff), 0, 54, 2, 0, 0, 0, 27,
          0x40, 1, 1, 0, 0x40, 2, 0, 0x40, 3, 4, 127, 0, 0, 2, 0x80, 4, 3, 0, 0, 1, 0x40, 5, 4, 0, 0, 0, 100, 24, 10, 70, i]);
      for (let i = 0; i < 25; i++) p.sendRaw(bad(i));
      p.sendRaw(encodeRouteRefresh({ type: 'route-refresh', afi: 1, safi: 1, subtype: 0 }));
      await p.waitFor('the refresh answer (all UPDATEs processed)', () => p.received.some((m) => m.type === 'route-refresh' && m.subtype === 2));
      const logged = lines.filter((l) => l.includes('UPDATE with errors (RFC 7606)')).length;
      assert.equal(logged, 10);
      assert.equal(p.closed, false, 'treat-as-withdraw keeps the session');
      p.close();
    } finally {
      await stopTern(lab);
    }
  });
});
