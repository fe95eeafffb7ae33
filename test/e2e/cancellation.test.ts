/**
 * A client that goes away must stop the upstream work at once (it costs money and GPU slots):
 * before the upstream answered, mid-stream, and while a non-streaming reply is pending. Each abort
 * is seen by the fake upstream within a second of the client's, the access line says 499
 * `client_closed_request`, and no upstream request is left open afterwards.
 */
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { FakeResponse } from '../helpers/fake-upstream.js';
import {
  ndjsonResponse,
  ollamaChatResponse,
  ollamaNdjsonLines,
  openAiCompletion,
  openAiSseEvents,
  sseResponse,
} from '../helpers/fake-upstream-wire.js';
import { type GatewayHarness, startGateway } from '../helpers/gateway-harness.js';
import { chatBody, postChat, readSseEvents, waitUntil } from '../helpers/sse-client.js';

type Provider = 'ollama' | 'cerebras';
const PROVIDERS: readonly Provider[] = ['ollama', 'cerebras'];
const ROUTES: Readonly<Record<Provider, string>> = {
  ollama: '/ollama/v1/chat/completions',
  cerebras: '/cerebras/v1/chat/completions',
};
/** The upstream must see the abort this soon after the client's. */
const ABORT_WITHIN_MS = 1_000;

/** A stream that sends its first chunks and then goes silent (a long generation). */
function stallingStream(provider: Provider): FakeResponse {
  return provider === 'cerebras'
    ? sseResponse(openAiSseEvents(['Hello', ' there']).slice(0, 3), { end: 'stall' })
    : ndjsonResponse(ollamaNdjsonLines(['Hello', ' there'], { done: false }), { end: 'stall' });
}

interface Scenario {
  readonly name: string;
  readonly stream: boolean;
  readonly respond: (provider: Provider) => FakeResponse;
  /** Abort once the first SSE event arrived (else as soon as the upstream has the request). */
  readonly afterFirstEvent: boolean;
}

const SCENARIOS: readonly Scenario[] = [
  {
    name: 'before the upstream answered (non-streaming)',
    stream: false,
    respond: () => ({ stallBeforeHeaders: true }),
    afterFirstEvent: false,
  },
  {
    name: 'before the upstream answered (streaming)',
    stream: true,
    respond: () => ({ stallBeforeHeaders: true }),
    afterFirstEvent: false,
  },
  {
    name: 'mid-stream',
    stream: true,
    respond: stallingStream,
    afterFirstEvent: true,
  },
  {
    name: 'while waiting on a slow non-streaming reply',
    stream: false,
    respond: (provider) => ({
      delayMs: 10_000,
      body: provider === 'cerebras' ? openAiCompletion() : ollamaChatResponse(),
    }),
    afterFirstEvent: false,
  },
  {
    name: 'while a non-streaming body is stalled after the headers',
    stream: false,
    respond: () => ({
      headers: { 'content-type': 'application/json' },
      chunks: ['{"id":"chatcmpl-slow","choices":['],
      end: 'stall',
    }),
    afterFirstEvent: false,
  },
];

const TABLE = PROVIDERS.flatMap((provider) =>
  SCENARIOS.map((scenario, index) => ({ ...scenario, provider, index })),
);

describe('client cancellation', () => {
  let gateway: GatewayHarness;
  beforeAll(async () => {
    // Timeouts far beyond the test: only the client's abort may end these requests.
    gateway = await startGateway({
      UPSTREAM_FIRST_BYTE_TIMEOUT_MS: '20000',
      UPSTREAM_IDLE_TIMEOUT_MS: '20000',
    });
  });
  afterAll(async () => {
    await gateway?.close();
  });
  beforeEach(() => {
    gateway.upstream.reset();
  });

  /** Waits for the request's access line and checks it records a client disconnect. */
  async function expectClientClosedAccessLine(requestId: string): Promise<void> {
    const accessLine = () =>
      gateway.logs
        .entries()
        .find((entry) => entry.requestId === requestId && entry.msg === 'request completed');
    await waitUntil(() => accessLine() !== undefined, 1_000, `access line of ${requestId}`);
    expect(accessLine()).toMatchObject({ status: 499, errorCode: 'client_closed_request' });
    // Exactly one access line, and a client leaving is not logged as a gateway error.
    const lines = gateway.logs.entries().filter((entry) => entry.requestId === requestId);
    expect(lines.filter((entry) => entry.msg === 'request completed')).toHaveLength(1);
    expect(lines.filter((entry) => entry.level === 'error')).toEqual([]);
  }

  it.each(TABLE)('$provider: aborts the upstream $name', async (scenario) => {
    const { upstream } = gateway;
    const requestId = `cancel-${scenario.provider}-${scenario.index}`;
    upstream.enqueue(scenario.respond(scenario.provider));
    const controller = new AbortController();
    const pending = postChat(gateway.url, ROUTES[scenario.provider], chatBody(scenario.stream), {
      signal: controller.signal,
      headers: { 'x-request-id': requestId },
    });

    if (scenario.afterFirstEvent) {
      const response = await pending;
      expect(response.status).toBe(200);
      const events = await readSseEvents(response, () => 'stop');
      expect(events).toHaveLength(1);
    } else {
      await upstream.waitForRequests(1, 2_000);
      // The fetch promise rejects once aborted; catch it now so it is never unhandled.
      pending.catch(() => undefined);
    }
    const clientAbortedAt = performance.now();
    controller.abort();

    const recorded = await upstream.waitForAbort(0, ABORT_WITHIN_MS);
    expect((recorded.abortedAt ?? Number.POSITIVE_INFINITY) - clientAbortedAt).toBeLessThan(
      ABORT_WITHIN_MS,
    );
    await expect(pending.then((response) => response.text())).rejects.toThrow();
    await expectClientClosedAccessLine(requestId);
  });

  it.each(PROVIDERS)(
    '%s: the SDK aborting a stream (stream.controller.abort()) aborts the upstream',
    async (provider) => {
      const { upstream } = gateway;
      const requestId = `cancel-sdk-${provider}`;
      upstream.enqueue(stallingStream(provider));
      const stream = await gateway
        .client(provider)
        .chat.completions.create(
          { model: 'llama3.2', messages: [{ role: 'user', content: 'hi' }], stream: true },
          { headers: { 'x-request-id': requestId } },
        );
      let clientAbortedAt = Number.NaN;
      let received = 0;
      try {
        for await (const _chunk of stream) {
          received += 1;
          clientAbortedAt = performance.now();
          stream.controller.abort();
          // Chunks already buffered would still be yielded; one is enough.
          break;
        }
      } catch {
        // Depending on timing the SDK ends the iteration quietly or throws its abort error.
      }
      expect(received).toBe(1);
      const recorded = await upstream.waitForAbort(0, ABORT_WITHIN_MS);
      expect((recorded.abortedAt ?? Number.POSITIVE_INFINITY) - clientAbortedAt).toBeLessThan(
        ABORT_WITHIN_MS,
      );
      await expectClientClosedAccessLine(requestId);
    },
  );

  it('leaves no upstream request open after the aborts', async () => {
    // An aborted request whose socket the gateway kept would stay in flight upstream: every
    // response queued above stalls for far longer than this wait. Idle keep-alive sockets are not
    // counted: how many the pools hold for a moment after the aborts is a race between undici
    // reconnecting a destroyed socket and the next request (one per pool on Node 20 and 24 here,
    // often two on Node 22) and says nothing about a leak.
    await waitUntil(
      () => gateway.upstream.inFlight() === 0,
      1_000,
      'no upstream request in flight',
    );
  });

  it('counts every abort in the metrics and leaves no request or stream in flight', async () => {
    const text = await gateway.metrics.render();
    const aborts = text
      .split('\n')
      .filter((line) => line.startsWith('aigw_client_aborts_total{'))
      .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
    const aborted = gateway.logs
      .entries()
      .filter((entry) => entry.msg === 'request completed' && entry.status === 499).length;
    expect(aborted).toBeGreaterThan(0);
    expect(aborts).toBe(aborted);
    expect(text).toMatch(/^aigw_requests_in_flight 0$/m);
    expect(text).toMatch(/^aigw_streams_in_flight 0$/m);
  });
});
