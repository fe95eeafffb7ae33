import { AggregatorRegistry } from 'prom-client';
import type { GatewayMetrics } from './gateway-metrics.js';
import type { MetricsSource } from './metrics-server.js';

/**
 * With WORKERS > 1 each worker records into its own registry and the primary serves their sum:
 * prom-client's aggregator asks every worker over the cluster IPC channel at scrape time.
 */
export function shareWithPrimary(metrics: GatewayMetrics): void {
  // Constructing one installs prom-client's worker-side listener for the primary's requests.
  new AggregatorRegistry();
  AggregatorRegistry.setRegistries([metrics.registry]);
}

/** The primary's source for `/metrics`: every worker's metrics, aggregated. */
export function clusterMetricsSource(): MetricsSource {
  const aggregator = new AggregatorRegistry();
  return {
    contentType: aggregator.contentType,
    render: () => aggregator.clusterMetrics(),
  };
}
