// SPDX-License-Identifier: Apache-2.0
// Where modules register the metrics they own (kernel sync, BFD, TCP security counters), without
// loading prom-client: it is loaded only when a metrics endpoint is configured (observability/
// http.ts → metrics.ts), and a sources gets the library through its context. prom-client and its
// default collectors cost ~13 MiB of RSS that a daemon without `metrics` never needs
// (docs/performance.md).
import type * as Prom from 'prom-client';
import type { Daemon } from '../daemon.ts';

/** What an extension gets: the daemon's registry to add metrics to, prom-client to make them
 *  with, and the daemon to read. */
export interface MetricsSourceContext {
  registry: Prom.Registry;
  prom: typeof Prom;
  daemon: Daemon;
}

/**
 * An extension point for metrics owned by other modules (kernel sync, TCP-AO/MD5/TTL drop
 * counters...). It is called once per daemon's metrics and should create its metrics with
 * `registers: [ctx.registry]` (collect-on-scrape gauges where possible). Names start with `tern_`.
 */
export type MetricsSource = (ctx: MetricsSourceContext) => void;

const sources: MetricsSource[] = [];
const listeners = new Set<(source: MetricsSource) => void>();

/** Adds a metrics source to every daemon's metrics, present and future. */
export function registerMetricsSource(source: MetricsSource): void {
  sources.push(source);
  for (const listener of listeners) listener(source);
}

/** The sources registered so far, and a subscription to those registered later (metrics.ts). */
export function followMetricsSources(listener: (source: MetricsSource) => void): { sources: readonly MetricsSource[]; stop: () => void } {
  listeners.add(listener);
  return { sources: [...sources], stop: () => listeners.delete(listener) };
}
