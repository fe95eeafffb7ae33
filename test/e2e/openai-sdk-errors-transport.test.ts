/**
 * Transport faults, limits and errors inside streams as the `openai` SDK sees them over loopback:
 * unreachable upstreams (502), oversized bodies (413), silent upstreams (504), and failures before
 * and after the first streamed chunk (a proper status, or an in-stream error and no `[DONE]`).
 */
import { APIError, InternalServerError } from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  ndjsonResponse,
  ollamaNdjsonLines,
  openAiSseEvents,
  sseResponse,
} from '../helpers/fake-upstream-wire.js';
import { type GatewayHarness, startGateway, useGateway } from '../helpers/gateway-harness.js';
import {
  expectSdkError,
  MESSAGES,
  nextRequestId,
  PROVIDERS,
  postRaw,
  rejectionOf,
} from '../helpers/openai-sdk-helpers.js';
import { unusedPort } from '../helpers/unused-port.js';

const gateway = useGateway();

describe('unreachable upstreams', () => {
  let unreachable: GatewayHarness;
  beforeAll(async () => {
    const port = await unusedPort();
    unreachable = await startGateway({
      OLLAMA_HOST: `http://127.0.0.1:${port}`,
      CEREBRAS_BASE_URL: `http://127.0.0.1:${port}/v1`,
    });
  });
  afterAll(async () => {
    await unreachable.close();
  });

  for (const provider of PROVIDERS) {
    for (const stream of [false, true]) {
      it(`${provider}${stream ? ' (stream)' : ''}: refused → 502 upstream_unreachable`, async () => {
        const id = nextRequestId();
        const error = await rejectionOf(
          unreachable
            .client(provider)
            .chat.completions.create(
              { model: 'm', messages: MESSAGES, stream },
              { headers: { 'x-request-id': id } },
            ),
        );
        expectSdkError(
          error,
          InternalServerError,
          { status: 502, code: 'upstream_unreachable', type: 'api_error', param: null },
          id,
        );
      });
    }
  }
});

describe('limits and timeouts', () => {
  let limited: GatewayHarness;
  beforeAll(async () => {
    limited = await startGateway({
      BODY_LIMIT_BYTES: '2048',
      UPSTREAM_FIRST_BYTE_TIMEOUT_MS: '200',
    });
  });
  afterAll(async () => {
    await limited.close();
  });
  beforeEach(() => {
    limited.upstream.reset();
  });

  const oversized = JSON.stringify({
    model: 'm',
    messages: [{ role: 'user', content: 'x'.repeat(4096) }],
  });

  it('413 request_too_large envelope for a body over BODY_LIMIT_BYTES (fetch)', async () => {
    const response = await postRaw(`${limited.url}/v1/chat/completions`, oversized, {
      'x-request-id': 'e2e-too-large',
    });
    expect(response.status).toBe(413);
    expect(response.headers.get('x-request-id')).toBe('e2e-too-large');
    expect(await response.json()).toEqual({
      error: {
        message: 'The request body exceeds the limit of 2048 bytes.',
        type: 'invalid_request_error',
        param: null,
        code: 'request_too_large',
      },
    });
    expect(limited.upstream.requests).toHaveLength(0);
  });

  it('413 reaches the SDK as an APIError with the same fields', async () => {
    const id = nextRequestId();
    const error = await rejectionOf(
      limited
        .client('cerebras')
        .chat.completions.create(
          { model: 'm', messages: [{ role: 'user', content: 'x'.repeat(4096) }] },
          { headers: { 'x-request-id': id } },
        ),
    );
    expectSdkError(
      error,
      APIError,
      { status: 413, code: 'request_too_large', type: 'invalid_request_error', param: null },
      id,
    );
  });

  it('a silent upstream is a 504 upstream_timeout, JSON or stream, both providers', async () => {
    // undici checks the first-byte timeout on a ~0.5 s tick, so the cases run side by side.
    const cases = PROVIDERS.flatMap((provider) => [
      { provider, fault: { stallBeforeHeaders: true }, stream: false },
      { provider, fault: { delayMs: 2000 }, stream: false },
      { provider, fault: { stallBeforeHeaders: true }, stream: true },
    ]);
    for (const { fault } of cases) limited.upstream.enqueue(fault);
    const started = performance.now();
    const ids = await Promise.all(
      cases.map(async ({ provider, stream }) => {
        const id = nextRequestId();
        const error = await rejectionOf(
          limited
            .client(provider)
            .chat.completions.create(
              { model: 'm', messages: MESSAGES, stream },
              { headers: { 'x-request-id': id } },
            ),
        );
        expectSdkError(
          error,
          InternalServerError,
          { status: 504, code: 'upstream_timeout', type: 'api_error', param: null },
          id,
        );
        return id;
      }),
    );
    expect(performance.now() - started).toBeLessThan(1800);
    const seen = limited.upstream.requests.map((request) => request.headers['x-request-id']);
    expect(seen.sort()).toEqual([...ids].sort());
  });
});

describe('errors after the stream began', () => {
  const midStreamFailure = {
    // Role chunk and two content chunks, then an error event instead of the end.
    cerebras: () =>
      sseResponse([
        ...openAiSseEvents(['Hello', ' wor'], { done: false }).slice(0, 3),
        'data: {"error":{"message":"boom","type":"server_error"}}\n\n',
      ]),
    ollama: () =>
      ndjsonResponse([
        ...ollamaNdjsonLines(['Hello', ' wor'], { done: false }),
        '{"error":"model runner has unexpectedly stopped"}\n',
      ]),
  };

  for (const provider of PROVIDERS) {
    it(`${provider}: an error before the first chunk is a proper 502, not an SSE stream`, async () => {
      gateway.upstream.enqueue(
        provider === 'ollama'
          ? ndjsonResponse(['{"error":"model failed to load"}\n'])
          : sseResponse(['data: {"error":{"message":"overloaded","type":"server_error"}}\n\n']),
      );
      const id = nextRequestId();
      const error = await rejectionOf(
        gateway
          .client(provider)
          .chat.completions.create(
            { model: 'm', messages: MESSAGES, stream: true },
            { headers: { 'x-request-id': id } },
          ),
      );
      const parsed = expectSdkError(
        error,
        InternalServerError,
        { status: 502, code: 'upstream_error', type: 'api_error', param: null },
        id,
      );
      expect(parsed.headers?.get('content-type')).toBe('application/json; charset=utf-8');
    });
  }

  for (const provider of PROVIDERS) {
    it(`${provider}: the SDK's stream iteration throws an APIError with the request id`, async () => {
      gateway.upstream.enqueue(midStreamFailure[provider]());
      const id = nextRequestId();
      const stream = await gateway
        .client(provider)
        .chat.completions.create(
          { model: 'm', messages: MESSAGES, stream: true },
          { headers: { 'x-request-id': id } },
        );
      let text = '';
      const finishReasons: unknown[] = [];
      const error = await rejectionOf(
        (async () => {
          for await (const chunk of stream) {
            text += chunk.choices[0]?.delta.content ?? '';
            finishReasons.push(chunk.choices[0]?.finish_reason ?? null);
          }
        })(),
      );
      expectSdkError(
        error,
        APIError,
        { status: undefined, code: 'upstream_error', type: 'api_error', param: null },
        id,
      );
      expect(text).toBe('Hello wor');
      // No invented finish_reason before the failure.
      expect(finishReasons.filter((reason) => reason !== null)).toEqual([]);
    });

    it(`${provider}: raw body ends with the error event and no [DONE]`, async () => {
      gateway.upstream.enqueue(midStreamFailure[provider]());
      const response = await postRaw(
        `${gateway.url}/${provider}/v1/chat/completions`,
        JSON.stringify({ model: 'm', messages: MESSAGES, stream: true }),
      );
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
      const body = await response.text();
      expect(body).not.toContain('[DONE]');
      const events = body.split('\n\n').filter((event) => event !== '');
      const last = JSON.parse((events.at(-1) ?? '').replace(/^data: /, '')) as unknown;
      expect(last).toEqual({
        error: {
          message: expect.stringMatching(/\S/),
          type: 'api_error',
          param: null,
          code: 'upstream_error',
        },
      });
      expect(events.length).toBeGreaterThan(1);
    });
  }
});
