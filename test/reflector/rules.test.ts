// SPDX-License-Identifier: Apache-2.0
// RFC 4456 §6 / RFC 4271 §9.2 export matrix, split horizon, and the RFC 4456 §8 / RFC 4271
// §9.1.2 import loop checks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { importRejectReason, mayExport } from '../../src/reflector/index.ts';
import type { Path, PeerRef } from '../../src/rib/types.ts';
import { CFG, attrs, id, path, peer, seq, set } from './fixtures.ts';

const ebgpIn = peer('isp-a', 'ebgp', { asn: 65100 });
const clientIn = peer('client-a', 'ibgp', { rrClient: true, routerId: '10.0.0.1' });
const nonClientIn = peer('rr-2', 'ibgp', { routerId: '10.0.0.2' });

const ebgpOut = peer('isp-b', 'ebgp', { asn: 65200 });
const clientOut = peer('client-b', 'ibgp', { rrClient: true, routerId: '10.0.0.11' });
const nonClientOut = peer('rr-3', 'ibgp', { routerId: '10.0.0.12' });

const sources: Record<string, Path> = {
  ebgp: path('bgp', ebgpIn, attrs({ asPath: [seq(65100)] })),
  originated: path('originated', undefined, attrs()),
  kernel: path('kernel', undefined, attrs()),
  connected: path('connected', undefined, attrs()),
  client: path('bgp', clientIn, attrs()),
  nonClient: path('bgp', nonClientIn, attrs()),
};
const receivers: Record<string, PeerRef> = { ebgp: ebgpOut, client: clientOut, nonClient: nonClientOut };

// The table in src/reflector/index.ts, row by row.
const expected: Record<string, Record<string, boolean>> = {
  ebgp: { ebgp: true, client: true, nonClient: true }, // RFC 4456 §6 3)
  originated: { ebgp: true, client: true, nonClient: true },
  kernel: { ebgp: true, client: true, nonClient: true },
  connected: { ebgp: true, client: true, nonClient: true },
  client: { ebgp: true, client: true, nonClient: true }, // RFC 4456 §6 2)
  nonClient: { ebgp: true, client: true, nonClient: false }, // RFC 4456 §6 1)
};

test('RFC 4456 §6: the source × receiver matrix', () => {
  for (const [from, p] of Object.entries(sources)) {
    for (const [toName, to] of Object.entries(receivers)) {
      const verdict = mayExport(p, to);
      assert.equal(verdict === true, expected[from]![toName], `${from} → ${toName}: ${String(verdict)}`);
    }
  }
});

test('RFC 4456 §6 1): a non-client route is reflected to clients only, with the reason stated', () => {
  assert.equal(mayExport(sources.nonClient!, clientOut), true);
  assert.equal(
    mayExport(sources.nonClient!, nonClientOut),
    'iBGP route from non-client rr-2 is not sent to non-client rr-3 (RFC 4456 §6, RFC 4271 §9.2 full mesh)',
  );
});

test('full mesh (no clients configured): iBGP-learned routes never go to another iBGP peer, but do go to eBGP', () => {
  const a = peer('node-a', 'ibgp', { routerId: '10.1.0.1' });
  const b = peer('node-b', 'ibgp', { routerId: '10.1.0.2' });
  const c = peer('node-c', 'ibgp', { routerId: '10.1.0.3' });
  const fromA = path('bgp', a, attrs({ nextHop: Uint8Array.of(10, 1, 0, 1) }));
  assert.equal(mayExport(fromA, b), 'iBGP route from non-client node-a is not sent to non-client node-b (RFC 4456 §6, RFC 4271 §9.2 full mesh)');
  assert.equal(mayExport(fromA, c), 'iBGP route from non-client node-a is not sent to non-client node-c (RFC 4456 §6, RFC 4271 §9.2 full mesh)');
  assert.equal(mayExport(fromA, ebgpOut), true);
  // A node's own routes do go to every mesh peer.
  assert.equal(mayExport(path('originated', undefined, attrs()), b), true);
  assert.equal(mayExport(path('kernel', undefined, attrs()), c), true);
});

test('split horizon: never back to the peer the route came from, whatever its type', () => {
  assert.equal(mayExport(sources.ebgp!, ebgpIn), 'split horizon: isp-a is the peer the route came from');
  assert.equal(mayExport(sources.client!, clientIn), 'split horizon: client-a is the peer the route came from');
  assert.equal(mayExport(sources.nonClient!, nonClientIn), 'split horizon: rr-2 is the peer the route came from');
});

test('RFC 4456 §8: a reflected route is not sent to its originator (it would have to drop it)', () => {
  const originator = peer('client-c', 'ibgp', { rrClient: true, routerId: '10.0.0.21' });
  const reflected = path('bgp', clientIn, attrs({ originatorId: id('10.0.0.21'), clusterList: [id('10.9.9.9')] }));
  assert.equal(mayExport(reflected, originator), 'client-c is the route\'s originator (ORIGINATOR_ID 10.0.0.21, RFC 4456 §8)');
  assert.equal(mayExport(reflected, clientOut), true);
  // routerId 0 = OPEN not yet seen: no match possible.
  const unknown = { ...originator, id: 999, routerId: 0 };
  assert.equal(mayExport(path('bgp', clientIn, attrs({ originatorId: 0 })), unknown), true);
});

// ===== import =====

test('RFC 4456 §8: ORIGINATOR_ID equal to our router id is rejected with the reason', () => {
  const a = attrs({ originatorId: CFG.routerId, asPath: [] });
  assert.equal(importRejectReason(a, clientIn, CFG), 'ORIGINATOR_ID 10.0.0.254 is our router id (RFC 4456 §8)');
  assert.equal(importRejectReason(attrs({ originatorId: id('10.0.0.1') }), clientIn, CFG), undefined);
});

test('RFC 4456 §8: CLUSTER_LIST holding our cluster id is rejected, anywhere in the list', () => {
  const cfg = { ...CFG, clusterId: id('1.1.1.1') };
  assert.equal(importRejectReason(attrs({ clusterList: [id('2.2.2.2'), id('1.1.1.1')] }), nonClientIn, cfg), 'CLUSTER_LIST contains our cluster id 1.1.1.1 (RFC 4456 §8)');
  assert.equal(importRejectReason(attrs({ clusterList: [id('1.1.1.1')] }), nonClientIn, cfg), 'CLUSTER_LIST contains our cluster id 1.1.1.1 (RFC 4456 §8)');
  // Our router id in the list is not our cluster id when they differ (two RRs, two clusters).
  assert.equal(importRejectReason(attrs({ clusterList: [CFG.routerId] }), nonClientIn, cfg), undefined);
});

test('RFC 4271 §9.1.2: our AS anywhere in the AS_PATH is a loop, sets included', () => {
  assert.equal(
    importRejectReason(attrs({ asPath: [seq(65100, 65000, 65300)] }), ebgpIn, CFG),
    'AS loop: our AS 65000 appears once in the AS_PATH from isp-a, 0 allowed (RFC 4271 §9.1.2)',
  );
  assert.equal(
    importRejectReason(attrs({ asPath: [seq(65100), set(65001, 65000)] }), ebgpIn, CFG),
    'AS loop: our AS 65000 appears once in the AS_PATH from isp-a, 0 allowed (RFC 4271 §9.1.2)',
  );
  assert.equal(importRejectReason(attrs({ asPath: [seq(65100, 65001), set(65002)] }), ebgpIn, CFG), undefined);
  assert.equal(importRejectReason(attrs({ asPath: [] }), clientIn, CFG), undefined);
});

test('allowOwnAs: up to N occurrences of our AS pass, N+1 is a loop', () => {
  const cfg = { ...CFG, allowOwnAs: 1 };
  assert.equal(importRejectReason(attrs({ asPath: [seq(65100, 65000)] }), ebgpIn, cfg), undefined);
  assert.equal(
    importRejectReason(attrs({ asPath: [seq(65000, 65100, 65000)] }), ebgpIn, cfg),
    'AS loop: our AS 65000 appears 2 times in the AS_PATH from isp-a, 1 allowed (RFC 4271 §9.1.2)',
  );
  const three = { ...CFG, allowOwnAs: 3 };
  assert.equal(importRejectReason(attrs({ asPath: [seq(65000, 65000, 65000)] }), ebgpIn, three), undefined);
  assert.match(importRejectReason(attrs({ asPath: [seq(65000, 65000, 65000), set(65000)] }), ebgpIn, three) ?? '', /appears 4 times .* 3 allowed/);
});

test('the ORIGINATOR_ID check comes first when several checks fail', () => {
  const a = attrs({ originatorId: CFG.routerId, clusterList: [CFG.clusterId], asPath: [seq(65000)] });
  assert.equal(importRejectReason(a, clientIn, CFG), 'ORIGINATOR_ID 10.0.0.254 is our router id (RFC 4456 §8)');
  assert.equal(importRejectReason({ ...a, originatorId: 1 }, clientIn, CFG), 'CLUSTER_LIST contains our cluster id 10.0.0.254 (RFC 4456 §8)');
});

test('RFC 1997 well-known communities: NO_EXPORT and NO_EXPORT_SUBCONFED stay inside the AS, NO_ADVERTISE goes nowhere', () => {
  const src = peer('src', 'ebgp');
  const ibgp = peer('i', 'ibgp');
  const ebgp = peer('e', 'ebgp');
  const withCommunity = (c: number) => path('bgp', src, attrs({ communities: [65000 * 65536 + 1, c] }));
  assert.equal(mayExport(withCommunity(0xffffff01), ibgp), true);
  assert.match(mayExport(withCommunity(0xffffff01), ebgp) as string, /NO_EXPORT: not sent to external peer e/);
  assert.equal(mayExport(withCommunity(0xffffff03), ibgp), true);
  assert.match(mayExport(withCommunity(0xffffff03), ebgp) as string, /NO_EXPORT_SUBCONFED/);
  assert.match(mayExport(withCommunity(0xffffff02), ibgp) as string, /NO_ADVERTISE/);
  assert.match(mayExport(withCommunity(0xffffff02), ebgp) as string, /NO_ADVERTISE/);
  assert.equal(mayExport(path('originated', undefined, attrs({ communities: [0xffffff01] })), ibgp), true);
});
