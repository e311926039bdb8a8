// SPDX-License-Identifier: Apache-2.0
// `tern show kernel --json`: what kernel sync programmed (with its state and the kernel's error
// text) and what it learned. Field names are a public interface: extend, never rename.
import type { KernelSync } from './kernel-sync.ts';
import { formatNlri } from './kernel-sync.ts';
import type { RouteMessage } from './rtnetlink/index.ts';
import { RTN } from './rtnetlink/index.ts';
import { routeOf } from './route-form.ts';
import { bytesToIp } from '../util/ip.ts';

export interface KernelRouteView {
  prefix: string;
  /** unicast, blackhole, unreachable, prohibit */
  type: string;
  nextHops: { gateway: string | null; device: string | null; onlink: boolean }[];
  metric: number;
  table: number;
  protocol: number;
}

export interface KernelView {
  programmed: (KernelRouteView & { state: string; error: string | null })[];
  learned: KernelRouteView[];
  stats: Record<string, number>;
}

const TYPE_NAMES: Record<number, string> = { [RTN.UNICAST]: 'unicast', [RTN.BLACKHOLE]: 'blackhole', [RTN.UNREACHABLE]: 'unreachable', [RTN.PROHIBIT]: 'prohibit' };

export function kernelView(k: KernelSync): KernelView {
  const routeView = (r: RouteMessage | undefined, prefix: string): KernelRouteView => ({
    prefix,
    type: r ? (TYPE_NAMES[r.routeType] ?? `type ${r.routeType}`) : 'unicast',
    nextHops: !r
      ? []
      : r.multipath
        ? r.multipath.map((h) => ({ gateway: h.gateway ? bytesToIp(h.gateway) : null, device: k.ifaces.byIndex(h.oif)?.name ?? null, onlink: (h.flags & 4) !== 0 }))
        : r.gateway || r.oif !== undefined
          ? [{ gateway: r.gateway ? bytesToIp(r.gateway) : null, device: r.oif !== undefined ? (k.ifaces.byIndex(r.oif)?.name ?? null) : null, onlink: (r.flags & 4) !== 0 }]
          : [],
    metric: r?.priority ?? 0,
    table: r?.table ?? 0,
    protocol: r?.protocol ?? 0,
  });
  const prefixOf = (r: RouteMessage) => formatNlri({ family: r.family === 2 ? 'ipv4-unicast' : 'ipv6-unicast', length: r.dstLength, address: r.dst ?? new Uint8Array(r.family === 2 ? 4 : 16) });
  return {
    programmed: [...k.programmed.values()]
      .map((p) => ({ ...routeView(p.form ? routeOf(p.form, p.nlri) : undefined, formatNlri(p.nlri)), state: p.state, error: p.error ?? null }))
      .sort((a, b) => a.prefix.localeCompare(b.prefix, 'en', { numeric: true })),
    learned: k
      .learned()
      .map((r) => routeView(r, prefixOf(r)))
      .sort((a, b) => a.prefix.localeCompare(b.prefix, 'en', { numeric: true })),
    stats: { ...k.stats, ...k.counts() },
  };
}
