import type { RequestObserver } from '../events/finished-request.js';
import type { GatewayMetrics } from './gateway-metrics.js';

/** The metrics as an observer of the end of each request. */
export function metricsObserver(metrics: GatewayMetrics): RequestObserver {
  return (request) =>
    metrics.requestFinished({
      route: request.route,
      provider: request.provider,
      model: request.model,
      status: request.status,
      durationSeconds: request.durationMs / 1000,
      errorCode: request.errorCode,
      streamed: request.streamed,
      promptTokens: request.usage?.prompt_tokens,
      completionTokens: request.usage?.completion_tokens,
    });
}
