// SPDX-License-Identifier: Apache-2.0
// A live change of the kernel export policy (reload, or `tern calico run` applying a pool switched
// to IPIP / a new programClusterRoutes): Daemon.applyConfig hands the new policy to KernelSync, which
// plans every destination again under it. Before, the policy compiled at start stayed in force
// until a restart (found by interop/calico.test.ts: the pool's routes never moved to tunl0).
// No sockets: neither the sync nor the daemon is started.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EventEmitter } from 'node:events';
import { KernelSync, type KernelSyncOptions } from '../../src/kernel-sync/kernel-sync.ts';
import { Daemon } from '../../src/daemon.ts';
import { parseConfig } from '../../src/config/index.ts';
import { createLogger } from '../../src/observability/log.ts';
import { RTPROT } from '../../src/kernel-sync/rtnetlink/index.ts';
import type { Rib } from '../../src/rib/rib.ts';
import type { Speaker } from '../../src/speaker.ts';
import type { CompiledPolicy } from '../../src/policy/types.ts';

const silent = createLogger({ level: 'silent' });
const opts = (): KernelSyncOptions => ({
  learn: false, program: true, protocol: RTPROT.BIRD, table: 254, metric: 0, exportPolicy: { name: 'old' } as unknown as CompiledPolicy,
  ignoreInterfaces: [], tunnel: { device: 'tunl0', mode: 'never' }, persist: true, deferralTime: 240,
});

interface Internals { dirty: Set<string>; opts: KernelSyncOptions }

describe('KernelSync.setExportPolicy', () => {
  it('takes the new policy and re-plans every Loc-RIB destination and every programmed route', () => {
    const loc = new Map([['a', { key: 'a' }], ['b', { key: 'b' }]]);
    const k = new KernelSync(opts(), { loc, destinationListeners: [] } as unknown as Rib, { events: new EventEmitter() } as unknown as Speaker, silent);
    const nlri = { family: 'ipv4-unicast' as const, length: 24, address: new Uint8Array([10, 9, 9, 0]) };
    k.programmed.set('gone', { destKey: 'gone', family: 'ipv4-unicast', nlri, state: 'installed' });
    const internals = k as unknown as Internals;
    const next = { name: 'new' } as unknown as CompiledPolicy;
    k.setExportPolicy(next);
    assert.equal(internals.opts.exportPolicy, next);
    assert.deepEqual([...internals.dirty].sort(), ['a', 'b', 'gone']);
  });

  it('with program off it only keeps the policy', () => {
    const k = new KernelSync({ ...opts(), program: false }, { loc: new Map([['a', { key: 'a' }]]), destinationListeners: [] } as unknown as Rib, { events: new EventEmitter() } as unknown as Speaker, silent);
    k.setExportPolicy({ name: 'new' } as unknown as CompiledPolicy);
    assert.deepEqual([...(k as unknown as Internals).dirty], []);
  });
});

describe('Daemon.applyConfig and the kernel export policy', () => {
  const config = (policyTerms: unknown[], exportRef = 'to-kernel') =>
    parseConfig(JSON.stringify({
      routerId: '10.0.0.1', asn: 65000, listen: { port: 0 }, control: { socket: '/nonexistent/tern.ctl' }, peers: [],
      kernel: { learn: true, program: true, export: exportRef },
      policies: { 'to-kernel': policyTerms, other: [{ action: 'accept' }] },
    }), 'test.json');

  function daemonWithSpy(): { daemon: Daemon; calls: CompiledPolicy[] } {
    const daemon = new Daemon(config([{ match: { prefixWithin: '192.168.0.0/16' }, tunnel: 'never', action: 'accept' }]), silent);
    const calls: CompiledPolicy[] = [];
    daemon.kernel = { setExportPolicy: (p: CompiledPolicy) => calls.push(p) } as unknown as KernelSync;
    return { daemon, calls };
  }

  it('a changed policy under the same name reaches the kernel sync', async () => {
    const { daemon, calls } = daemonWithSpy();
    await daemon.applyConfig(config([{ match: { prefixWithin: '192.168.0.0/16' }, tunnel: 'always', action: 'accept' }]));
    assert.equal(calls.length, 1);
  });

  it('a kernel export naming another policy reaches it too', async () => {
    const { daemon, calls } = daemonWithSpy();
    await daemon.applyConfig(config([{ match: { prefixWithin: '192.168.0.0/16' }, tunnel: 'never', action: 'accept' }], 'other'));
    assert.equal(calls.length, 1);
  });

  it('an unchanged policy leaves the kernel alone', async () => {
    const { daemon, calls } = daemonWithSpy();
    await daemon.applyConfig(config([{ match: { prefixWithin: '192.168.0.0/16' }, tunnel: 'never', action: 'accept' }]));
    assert.equal(calls.length, 0);
  });
});
