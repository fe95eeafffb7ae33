import { register as globalRegistry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import {
  createGatewayMetrics,
  type GatewayMetrics,
  MAX_MODEL_LABEL_LENGTH,
  type RequestSample,
} from './gateway-metrics.js';

/** The sample lines of one metric (histograms: its _bucket/_sum/_count lines), in order. */
function samples(text: string, name: string): string[] {
  return text
    .split('\n')
    .filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `));
}

const CHAT = '/v1/chat/completions';

function finished(metrics: GatewayMetrics, overrides: Partial<RequestSample> = {}): void {
  metrics.requestFinished({
    route: CHAT,
    provider: 'ollama',
    model: 'llama3.2',
    status: 200,
    durationSeconds: 0.3,
    streamed: false,
    ...overrides,
  });
}

describe('createGatewayMetrics', () => {
  it('counts a finished request with its labels, duration and tokens', async () => {
    const metrics = createGatewayMetrics({ collectDefaultMetrics: false });
    metrics.requestStarted();
    finished(metrics, { streamed: true, promptTokens: 12, completionTokens: 34 });
    metrics.requestStarted();
    finished(metrics, { streamed: true, promptTokens: 3, completionTokens: 0 });
    metrics.requestStarted();
    metrics.requestFinished({
      route: 'unmatched',
      status: 404,
      durationSeconds: 0.002,
      errorCode: 'route_not_found',
      streamed: false,
    });
    const text = await metrics.render();

    expect(samples(text, 'aigw_requests_total')).toEqual([
      `aigw_requests_total{route="${CHAT}",provider="ollama",model="llama3.2",status="200",error_code=""} 2`,
      'aigw_requests_total{route="unmatched",provider="",model="",status="404",error_code="route_not_found"} 1',
    ]);
    expect(samples(text, 'aigw_tokens_total')).toEqual([
      'aigw_tokens_total{provider="ollama",model="llama3.2",direction="prompt"} 15',
      'aigw_tokens_total{provider="ollama",model="llama3.2",direction="completion"} 34',
    ]);
    expect(samples(text, 'aigw_request_duration_seconds_count')).toEqual([
      `aigw_request_duration_seconds_count{route="${CHAT}",provider="ollama",streamed="true"} 2`,
      'aigw_request_duration_seconds_count{route="unmatched",provider="",streamed="false"} 1',
    ]);
    expect(samples(text, 'aigw_request_duration_seconds_sum')).toEqual([
      `aigw_request_duration_seconds_sum{route="${CHAT}",provider="ollama",streamed="true"} 0.6`,
      'aigw_request_duration_seconds_sum{route="unmatched",provider="",streamed="false"} 0.002',
    ]);
    expect(samples(text, 'aigw_requests_in_flight')).toEqual(['aigw_requests_in_flight 0']);
    expect(samples(text, 'aigw_client_aborts_total')).toEqual([]);
  });

  it('puts durations in the right buckets, 5 ms to 120 s and +Inf past that', async () => {
    const metrics = createGatewayMetrics({ collectDefaultMetrics: false });
    for (const seconds of [0.004, 0.005, 0.3, 59, 150]) {
      finished(metrics, { durationSeconds: seconds });
    }
    const buckets = samples(await metrics.render(), 'aigw_request_duration_seconds_bucket').map(
      (line) => line.replace(`,route="${CHAT}",provider="ollama",streamed="false"}`, '}'),
    );
    expect(buckets).toEqual([
      'aigw_request_duration_seconds_bucket{le="0.005"} 2',
      'aigw_request_duration_seconds_bucket{le="0.01"} 2',
      'aigw_request_duration_seconds_bucket{le="0.025"} 2',
      'aigw_request_duration_seconds_bucket{le="0.05"} 2',
      'aigw_request_duration_seconds_bucket{le="0.1"} 2',
      'aigw_request_duration_seconds_bucket{le="0.25"} 2',
      'aigw_request_duration_seconds_bucket{le="0.5"} 3',
      'aigw_request_duration_seconds_bucket{le="1"} 3',
      'aigw_request_duration_seconds_bucket{le="2.5"} 3',
      'aigw_request_duration_seconds_bucket{le="5"} 3',
      'aigw_request_duration_seconds_bucket{le="10"} 3',
      'aigw_request_duration_seconds_bucket{le="20"} 3',
      'aigw_request_duration_seconds_bucket{le="30"} 3',
      'aigw_request_duration_seconds_bucket{le="60"} 4',
      'aigw_request_duration_seconds_bucket{le="120"} 4',
      'aigw_request_duration_seconds_bucket{le="+Inf"} 5',
    ]);
  });

  it('counts a 499 as a client abort as well as a request', async () => {
    const metrics = createGatewayMetrics({ collectDefaultMetrics: false });
    finished(metrics, { status: 499, errorCode: 'client_closed_request', streamed: true });
    const text = await metrics.render();
    expect(samples(text, 'aigw_client_aborts_total')).toEqual([
      `aigw_client_aborts_total{route="${CHAT}",provider="ollama"} 1`,
    ]);
    expect(samples(text, 'aigw_requests_total')).toEqual([
      `aigw_requests_total{route="${CHAT}",provider="ollama",model="llama3.2",status="499",error_code="client_closed_request"} 1`,
    ]);
  });

  it('tracks requests and streams in flight', async () => {
    const metrics = createGatewayMetrics({ collectDefaultMetrics: false });
    metrics.requestStarted();
    metrics.requestStarted();
    metrics.requestStarted();
    finished(metrics);
    metrics.streamStarted();
    metrics.streamStarted();
    metrics.streamFinished();
    const text = await metrics.render();
    expect(samples(text, 'aigw_requests_in_flight')).toEqual(['aigw_requests_in_flight 2']);
    expect(samples(text, 'aigw_streams_in_flight')).toEqual(['aigw_streams_in_flight 1']);
  });

  it('records time to first token per provider and model', async () => {
    const metrics = createGatewayMetrics({ collectDefaultMetrics: false });
    metrics.timeToFirstToken('cerebras', 'llama-3.3-70b', 0.08);
    metrics.timeToFirstToken('cerebras', 'llama-3.3-70b', 0.2);
    const text = await metrics.render();
    const labels = 'provider="cerebras",model="llama-3.3-70b"';
    expect(samples(text, 'aigw_time_to_first_token_seconds_count')).toEqual([
      `aigw_time_to_first_token_seconds_count{${labels}} 2`,
    ]);
    expect(samples(text, 'aigw_time_to_first_token_seconds_bucket').slice(0, 6)).toEqual([
      `aigw_time_to_first_token_seconds_bucket{le="0.01",${labels}} 0`,
      `aigw_time_to_first_token_seconds_bucket{le="0.025",${labels}} 0`,
      `aigw_time_to_first_token_seconds_bucket{le="0.05",${labels}} 0`,
      `aigw_time_to_first_token_seconds_bucket{le="0.1",${labels}} 1`,
      `aigw_time_to_first_token_seconds_bucket{le="0.25",${labels}} 2`,
      `aigw_time_to_first_token_seconds_bucket{le="0.5",${labels}} 2`,
    ]);
  });

  it('counts upstream attempts by outcome, and the failed ones as errors by code', async () => {
    const metrics = createGatewayMetrics({ collectDefaultMetrics: false });
    metrics.upstreamAttempt('cerebras', 'upstream_rate_limited');
    metrics.upstreamAttempt('cerebras', 'upstream_rate_limited');
    metrics.upstreamAttempt('cerebras', 'ok');
    metrics.upstreamAttempt('ollama', 'upstream_timeout');
    const text = await metrics.render();
    expect(samples(text, 'aigw_upstream_errors_total')).toEqual([
      'aigw_upstream_errors_total{provider="cerebras",code="upstream_rate_limited"} 2',
      'aigw_upstream_errors_total{provider="ollama",code="upstream_timeout"} 1',
    ]);
    expect(samples(text, 'aigw_upstream_attempts_total')).toEqual([
      'aigw_upstream_attempts_total{provider="cerebras",outcome="upstream_rate_limited"} 2',
      'aigw_upstream_attempts_total{provider="cerebras",outcome="ok"} 1',
      'aigw_upstream_attempts_total{provider="ollama",outcome="upstream_timeout"} 1',
    ]);
  });

  it('maps the 101st distinct model to "other" and keeps the first 100', async () => {
    const metrics = createGatewayMetrics({ collectDefaultMetrics: false });
    for (let index = 1; index <= 101; index++) finished(metrics, { model: `model-${index}` });
    finished(metrics, { model: 'model-1' });
    finished(metrics, { model: 'model-102' });
    metrics.timeToFirstToken('ollama', 'model-103', 1);
    const text = await metrics.render();
    const lines = samples(text, 'aigw_requests_total');
    expect(lines).toHaveLength(101);
    expect(lines).toContain(
      `aigw_requests_total{route="${CHAT}",provider="ollama",model="model-1",status="200",error_code=""} 2`,
    );
    expect(lines).toContain(
      `aigw_requests_total{route="${CHAT}",provider="ollama",model="model-100",status="200",error_code=""} 1`,
    );
    expect(lines).toContain(
      `aigw_requests_total{route="${CHAT}",provider="ollama",model="other",status="200",error_code=""} 2`,
    );
    expect(text).not.toContain('model-101');
    expect(samples(text, 'aigw_time_to_first_token_seconds_count')).toEqual([
      'aigw_time_to_first_token_seconds_count{provider="ollama",model="other"} 1',
    ]);
  });

  it('honours a smaller model cap, and 0 labels every model "other"', async () => {
    const two = createGatewayMetrics({ collectDefaultMetrics: false, maxModelLabels: 2 });
    for (const model of ['a', 'b', 'c']) finished(two, { model });
    expect(
      samples(await two.render(), 'aigw_requests_total').map(
        (line) => /model="([^"]*)"/.exec(line)?.[1],
      ),
    ).toEqual(['a', 'b', 'other']);

    const none = createGatewayMetrics({ collectDefaultMetrics: false, maxModelLabels: 0 });
    finished(none, { model: 'a' });
    expect(await none.render()).toContain('model="other"');
    expect(() => createGatewayMetrics({ maxModelLabels: -1 })).toThrow(RangeError);
    expect(() => createGatewayMetrics({ maxModelLabels: 1.5 })).toThrow(RangeError);
  });

  it('cuts a long model name, without splitting a surrogate pair', async () => {
    const metrics = createGatewayMetrics({ collectDefaultMetrics: false });
    const long = `${'m'.repeat(MAX_MODEL_LABEL_LENGTH)}-tail`;
    finished(metrics, { model: long });
    finished(metrics, { model: `${'m'.repeat(MAX_MODEL_LABEL_LENGTH)}-other-tail` });
    // An emoji (two UTF-16 units) straddling the cut is dropped whole.
    const emoji = `${'e'.repeat(MAX_MODEL_LABEL_LENGTH - 1)}😀x`;
    finished(metrics, { model: emoji });
    const models = samples(await metrics.render(), 'aigw_requests_total').map(
      (line) => /model="([^"]*)"/.exec(line)?.[1],
    );
    expect(models).toEqual([
      'm'.repeat(MAX_MODEL_LABEL_LENGTH),
      'e'.repeat(MAX_MODEL_LABEL_LENGTH - 1),
    ]);
    expect(samples(await metrics.render(), 'aigw_requests_total')[0]).toMatch(/ 2$/);
  });

  it('drops invalid numbers instead of throwing', async () => {
    const metrics = createGatewayMetrics({ collectDefaultMetrics: false });
    expect(() => {
      finished(metrics, {
        durationSeconds: Number.NaN,
        promptTokens: -1,
        completionTokens: Number.POSITIVE_INFINITY,
      });
      finished(metrics, { durationSeconds: -0.1, status: 200.5 });
      metrics.timeToFirstToken('ollama', 'llama3.2', Number.NaN);
    }).not.toThrow();
    const text = await metrics.render();
    expect(samples(text, 'aigw_requests_total')).toEqual([
      `aigw_requests_total{route="${CHAT}",provider="ollama",model="llama3.2",status="200",error_code=""} 1`,
      `aigw_requests_total{route="${CHAT}",provider="ollama",model="llama3.2",status="0",error_code=""} 1`,
    ]);
    expect(samples(text, 'aigw_request_duration_seconds_count')).toEqual([]);
    expect(samples(text, 'aigw_tokens_total')).toEqual([]);
    expect(samples(text, 'aigw_time_to_first_token_seconds_count')).toEqual([]);
  });

  it('caps routes too, so a raw URL passed by mistake cannot explode the series', async () => {
    const metrics = createGatewayMetrics({ collectDefaultMetrics: false });
    for (let index = 0; index < 70; index++) finished(metrics, { route: `/v1/x?id=${index}` });
    const lines = samples(await metrics.render(), 'aigw_requests_total');
    expect(lines).toHaveLength(65);
    expect(lines.at(-1)).toBe(
      'aigw_requests_total{route="other",provider="ollama",model="llama3.2",status="200",error_code=""} 6',
    );
  });

  it('keeps two instances apart, off the global registry', async () => {
    const first = createGatewayMetrics();
    const second = createGatewayMetrics();
    finished(first);
    first.upstreamAttempt('ollama', 'upstream_error');
    expect(samples(await first.render(), 'aigw_requests_total')).toHaveLength(1);
    const other = await second.render();
    expect(samples(other, 'aigw_requests_total')).toEqual([]);
    expect(samples(other, 'aigw_upstream_errors_total')).toEqual([]);
    expect(first.registry).not.toBe(second.registry);
    expect(await globalRegistry.metrics()).not.toContain('aigw_');
  });

  it('adds prefixed process metrics by default, and none when disabled', async () => {
    const withDefaults = await createGatewayMetrics().render();
    expect(withDefaults).toContain('# TYPE aigw_nodejs_eventloop_lag_seconds gauge');
    expect(withDefaults).toContain('# TYPE aigw_process_resident_memory_bytes gauge');
    expect(withDefaults).toContain('# TYPE aigw_nodejs_active_handles gauge');
    expect(withDefaults).toContain('# TYPE aigw_nodejs_gc_duration_seconds histogram');

    const bare = await createGatewayMetrics({ collectDefaultMetrics: false }).render();
    const names = bare
      .split('\n')
      .filter((line) => line.startsWith('# TYPE '))
      .map((line) => line.split(' ')[2]);
    expect(names).toEqual([
      'aigw_requests_total',
      'aigw_request_duration_seconds',
      'aigw_requests_in_flight',
      'aigw_client_aborts_total',
      'aigw_tokens_total',
      'aigw_streams_in_flight',
      'aigw_time_to_first_token_seconds',
      'aigw_upstream_errors_total',
      'aigw_upstream_attempts_total',
      'aigw_ledger_rows_dropped_total',
      'aigw_unpriced_requests_total',
    ]);
  });

  it('states the Prometheus text content type', () => {
    expect(createGatewayMetrics({ collectDefaultMetrics: false }).contentType).toBe(
      'text/plain; version=0.0.4; charset=utf-8',
    );
  });
});

describe('tenancy metrics', () => {
  it('counts dropped ledger rows and requests served without a price', async () => {
    const metrics = createGatewayMetrics({ collectDefaultMetrics: false });
    metrics.ledgerRowsDropped(3);
    metrics.ledgerRowsDropped(Number.NaN);
    metrics.unpricedRequest('ollama/llama3.2');
    metrics.unpricedRequest('ollama/llama3.2');
    const text = await metrics.render();
    expect(text).toContain('aigw_ledger_rows_dropped_total 3');
    expect(text).toContain('aigw_unpriced_requests_total{deployment="ollama/llama3.2"} 2');
  });
});
