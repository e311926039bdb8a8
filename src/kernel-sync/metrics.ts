// SPDX-License-Identifier: Apache-2.0
// Kernel sync's Prometheus metrics (names from node-ecosystem.md §5.2), computed on scrape from
// the daemon's KernelSync so they always match `tern show kernel`.
import { registerMetricsSource } from '../observability/metric-sources.ts';

registerMetricsSource(({ registry, prom, daemon }) => {
  const registers = [registry];
  const kernel = () => daemon.kernel;
  new prom.Gauge({
    name: 'tern_kernel_routes',
    help: 'Routes Tern programmed into the kernel, by state (installed, pending, failed, unresolved).',
    labelNames: ['state'],
    registers,
    collect() {
      this.reset();
      const k = kernel();
      if (k) for (const [state, n] of Object.entries(k.counts())) this.set({ state }, n);
    },
  });
  new prom.Gauge({
    name: 'tern_kernel_routes_learned',
    help: 'Routes of other protocols learned from the kernel table.',
    registers,
    collect() {
      this.set(kernel()?.learned().length ?? 0);
    },
  });
  const counter = (name: string, help: string, read: (s: NonNullable<ReturnType<typeof kernel>>['stats']) => number) =>
    new prom.Counter({
      name,
      help,
      registers,
      collect() {
        this.reset();
        const k = kernel();
        if (k) this.inc(read(k.stats));
      },
    });
  counter('tern_kernel_netlink_overruns_total', 'Netlink monitor overruns (ENOBUFS): messages lost, a full resync followed.', (s) => s.overruns);
  counter('tern_kernel_resyncs_total', 'Full dumps and reconciliations of the kernel table after an overrun.', (s) => s.resyncs);
  counter('tern_kernel_route_installs_total', 'Routes written to the kernel (add or replace) that the kernel accepted.', (s) => s.installs);
  counter('tern_kernel_route_removals_total', 'Routes Tern removed from the kernel.', (s) => s.removals);
  counter('tern_kernel_route_failures_total', 'Route writes the kernel refused.', (s) => s.failures);
});
