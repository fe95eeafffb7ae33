import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/**
 * The attempt outcome of a request the upstream dropped with a stale keep-alive connection (the
 * upstream client sends it again; see providers/shared/stale-connections.ts).
 */
export const STALE_CONNECTION_OUTCOME = 'stale_connection';

/**
 * The gateway's Prometheus metrics, each instance on its own registry (never prom-client's global
 * one), so two gateways in one process, or two tests, never share a series.
 *
 * Label safety: no label ever carries a key or raw client input. Every label value passes a
 * limiter that cuts it to a maximum length and admits only the first N distinct values; later new
 * values become `other`. For `model` (client input) N is `maxModelLabels`; for route, provider and
 * error code the caps are fixed and only guard against a wiring mistake (a raw URL as the route).
 * An absent value is the empty string, which Prometheus treats as "label not set".
 */
export interface GatewayMetrics {
  /** Call once when a request arrives (before auth), paired with exactly one {@link requestFinished}. */
  requestStarted(): void;
  /** Call once when the response closed (finished or the client left, then status 499). */
  requestFinished(sample: RequestSample): void;
  /** Call when an SSE response began, paired with exactly one {@link streamFinished}. */
  streamStarted(): void;
  streamFinished(): void;
  /** Seconds from the request's arrival to the stream's first chunk. */
  timeToFirstToken(provider: string, model: string, seconds: number): void;
  /**
   * One attempt at an upstream (retries and fallbacks each count): `outcome` is `ok`, our stable
   * error code, or {@link STALE_CONNECTION_OUTCOME}; failures also count in
   * `aigw_upstream_errors_total`.
   */
  upstreamAttempt(provider: string, outcome: string): void;
  /** Usage ledger rows lost: the database was down longer than the queue could hold. */
  ledgerRowsDropped(count: number): void;
  /** A request whose deployment has no price in the config: its tokens cost 0. */
  unpricedRequest(deployment: string): void;
  /** The exposition text of every metric on this instance's registry. */
  render(): Promise<string>;
  /** The content type of {@link render}'s text (Prometheus text format 0.0.4). */
  readonly contentType: string;
  /** This instance's registry, for cluster aggregation (`AggregatorRegistry.setRegistries`). */
  readonly registry: Registry;
}

/** What the access log knows about one finished request. */
export interface RequestSample {
  /**
   * The route *pattern* (`request.routeOptions.url`, e.g. `/v1/chat/completions`), or `unmatched`;
   * never the raw URL, which is unbounded client input.
   */
  readonly route: string;
  /** The provider id from config (`ollama`, `cerebras`); absent before routing. */
  readonly provider?: string | undefined;
  /** The model the client asked for; capped (see {@link GatewayMetricsOptions.maxModelLabels}). */
  readonly model?: string | undefined;
  /** The status sent, or 499 when the client left first. */
  readonly status: number;
  readonly durationSeconds: number;
  /** A code from our own GatewayError catalogue; absent on success. */
  readonly errorCode?: string | undefined;
  /** Whether the client asked for a stream (`stream: true`). */
  readonly streamed: boolean;
  readonly promptTokens?: number | undefined;
  readonly completionTokens?: number | undefined;
}

/** Options of {@link createGatewayMetrics}. */
export interface GatewayMetricsOptions {
  /** Process metrics (event-loop lag, memory, handles, GC), prefixed `aigw_`. Default true. */
  readonly collectDefaultMetrics?: boolean;
  /** Distinct model names kept as labels; later new names become `other`. Default 100. */
  readonly maxModelLabels?: number;
}

/** The label value that stands for every value past a label's cap. */
const OTHER_LABEL = 'other';
/** Model labels longer than this are cut. */
export const MAX_MODEL_LABEL_LENGTH = 128;

/** 5 ms … 120 s: a health check at the low end, a long generation at the high end. */
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120];
/** 10 ms (Cerebras) … 120 s (an Ollama model loading from disk). */
const FIRST_TOKEN_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120];
const CLIENT_CLOSED_STATUS = 499;

/** Creates the metrics on a registry of their own. */
export function createGatewayMetrics(options: GatewayMetricsOptions = {}): GatewayMetrics {
  const maxModelLabels = options.maxModelLabels ?? 100;
  if (!Number.isInteger(maxModelLabels) || maxModelLabels < 0) {
    throw new RangeError(`maxModelLabels must be a non-negative integer (got ${maxModelLabels})`);
  }
  const registry = new Registry();
  const registers = [registry];
  if (options.collectDefaultMetrics ?? true) {
    collectDefaultMetrics({ register: registry, prefix: 'aigw_' });
  }

  const requests = new Counter({
    name: 'aigw_requests_total',
    help: 'Requests answered, by route pattern, provider, model, status and error code.',
    labelNames: ['route', 'provider', 'model', 'status', 'error_code'] as const,
    registers,
  });
  const duration = new Histogram({
    name: 'aigw_request_duration_seconds',
    help: 'Time from request arrival to response close.',
    labelNames: ['route', 'provider', 'streamed'] as const,
    buckets: DURATION_BUCKETS,
    registers,
  });
  const requestsInFlight = new Gauge({
    name: 'aigw_requests_in_flight',
    help: 'Requests received and not yet closed.',
    registers,
  });
  const clientAborts = new Counter({
    name: 'aigw_client_aborts_total',
    help: 'Requests the client abandoned before the response ended (logged as status 499).',
    labelNames: ['route', 'provider'] as const,
    registers,
  });
  const tokens = new Counter({
    name: 'aigw_tokens_total',
    help: 'Tokens reported by the upstream, by direction (prompt or completion).',
    labelNames: ['provider', 'model', 'direction'] as const,
    registers,
  });
  const streamsInFlight = new Gauge({
    name: 'aigw_streams_in_flight',
    help: 'SSE responses currently streaming.',
    registers,
  });
  const firstToken = new Histogram({
    name: 'aigw_time_to_first_token_seconds',
    help: 'Time from request arrival to the first streamed chunk.',
    labelNames: ['provider', 'model'] as const,
    buckets: FIRST_TOKEN_BUCKETS,
    registers,
  });
  const upstreamErrors = new Counter({
    name: 'aigw_upstream_errors_total',
    help: 'Upstream failures by provider and gateway error code.',
    labelNames: ['provider', 'code'] as const,
    registers,
  });
  const upstreamAttempts = new Counter({
    name: 'aigw_upstream_attempts_total',
    help: 'Upstream attempts (retries and fallbacks included) by provider and outcome.',
    labelNames: ['provider', 'outcome'] as const,
    registers,
  });

  const ledgerDropped = new Counter({
    name: 'aigw_ledger_rows_dropped_total',
    help: 'Usage ledger rows dropped because the database was down longer than the queue holds.',
    registers,
  });
  const unpriced = new Counter({
    name: 'aigw_unpriced_requests_total',
    help: 'Requests served by a deployment with no price in the config (their cost is 0).',
    labelNames: ['deployment'] as const,
    registers,
  });

  const routeLabel = labelLimiter(64, 128);
  const deploymentLabel = labelLimiter(maxModelLabels, MAX_MODEL_LABEL_LENGTH);
  const providerLabel = labelLimiter(32, 64);
  const errorCodeLabel = labelLimiter(64, 64);
  const modelLabel = labelLimiter(maxModelLabels, MAX_MODEL_LABEL_LENGTH);

  // Label objects are fresh literals on purpose: prom-client keeps the first labels object of a
  // series by reference, so a reused scratch object would silently relabel existing series.
  // Every number is checked first: these run in 'close' handlers, where a throw would crash.
  return {
    registry,
    contentType: registry.contentType,
    requestStarted() {
      requestsInFlight.inc();
    },
    requestFinished(sample) {
      requestsInFlight.dec();
      const route = routeLabel(sample.route);
      const provider = providerLabel(sample.provider);
      const model = modelLabel(sample.model);
      const status = Number.isInteger(sample.status) ? sample.status : 0;
      requests.inc({
        route,
        provider,
        model,
        status,
        error_code: errorCodeLabel(sample.errorCode),
      });
      if (isSeconds(sample.durationSeconds)) {
        duration.observe(
          { route, provider, streamed: sample.streamed ? 'true' : 'false' },
          sample.durationSeconds,
        );
      }
      if (status === CLIENT_CLOSED_STATUS) clientAborts.inc({ route, provider });
      if (isCount(sample.promptTokens)) {
        tokens.inc({ provider, model, direction: 'prompt' }, sample.promptTokens);
      }
      if (isCount(sample.completionTokens)) {
        tokens.inc({ provider, model, direction: 'completion' }, sample.completionTokens);
      }
    },
    streamStarted() {
      streamsInFlight.inc();
    },
    streamFinished() {
      streamsInFlight.dec();
    },
    timeToFirstToken(provider, model, seconds) {
      if (!isSeconds(seconds)) return;
      firstToken.observe({ provider: providerLabel(provider), model: modelLabel(model) }, seconds);
    },
    upstreamAttempt(provider, outcome) {
      const providerValue = providerLabel(provider);
      const outcomeValue = errorCodeLabel(outcome);
      upstreamAttempts.inc({ provider: providerValue, outcome: outcomeValue });
      if (outcome !== 'ok') upstreamErrors.inc({ provider: providerValue, code: outcomeValue });
    },
    ledgerRowsDropped(count) {
      if (isCount(count)) ledgerDropped.inc(count);
    },
    unpricedRequest(deployment) {
      unpriced.inc({ deployment: deploymentLabel(deployment) });
    },
    render() {
      return registry.metrics();
    },
  };
}

/**
 * A label's value guard: cuts values to `maxLength` and admits the first `maxValues` distinct
 * values; any later new value maps to {@link OTHER_LABEL}. Memory stays bounded by the caps.
 */
function labelLimiter(maxValues: number, maxLength: number): (value: string | undefined) => string {
  const admitted = new Set<string>();
  return (value) => {
    if (value === undefined || value === '') return '';
    const label = value.length > maxLength ? cut(value, maxLength) : value;
    if (admitted.has(label)) return label;
    if (admitted.size >= maxValues) return OTHER_LABEL;
    admitted.add(label);
    return label;
  };
}

/** `value` cut to `length` UTF-16 units, without leaving half a surrogate pair at the end. */
function cut(value: string, length: number): string {
  const last = value.charCodeAt(length - 1);
  return value.slice(0, last >= 0xd800 && last <= 0xdbff ? length - 1 : length);
}

function isSeconds(value: number): boolean {
  return Number.isFinite(value) && value >= 0;
}

function isCount(value: number | undefined): value is number {
  return value !== undefined && Number.isFinite(value) && value > 0;
}
