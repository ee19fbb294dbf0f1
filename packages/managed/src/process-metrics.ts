import { collectDefaultMetrics, type Registry } from 'prom-client';

/**
 * prom-client's totals of its per-type gauges: gauges named `_total`, which Prometheus reserves for
 * counters, so `promtool check metrics` fails the whole exposition on them. They add nothing:
 * `sum(nodejs_active_handles)` is the same figure, and so for requests and resources.
 */
const MISNAMED_DEFAULTS = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

/**
 * The process's own metrics (CPU, memory, file descriptors, event loop, heap, GC), for the MASTER
 * and every managed server alike: prom-client's defaults, less those that break the naming rules.
 */
export function registerProcessMetrics(registry: Registry): void {
  collectDefaultMetrics({ register: registry });
  for (const name of MISNAMED_DEFAULTS) registry.removeSingleMetric(name);
}
