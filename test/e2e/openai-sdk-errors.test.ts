/**
 * Client and upstream-status errors as the `openai` SDK parses them over loopback: the SDK error
 * class, `status`, `code`, `type`, `param`, and `requestID` equal to the response's `x-request-id`
 * (which is also what the upstream received). Transport faults, limits and errors inside streams:
 * `openai-sdk-errors-transport.test.ts`.
 */
import {
  APIError,
  AuthenticationError,
  BadRequestError,
  InternalServerError,
  NotFoundError,
  RateLimitError,
  UnprocessableEntityError,
} from 'openai';
import { describe, expect, it } from 'vitest';
import { PROVIDER_KEY, useGateway } from '../helpers/gateway-harness.js';
import {
  expectSdkError,
  expectUpstreamSaw,
  MESSAGES,
  nextRequestId,
  PROVIDERS,
  postRaw,
  rejectionOf,
  UUID,
} from '../helpers/openai-sdk-helpers.js';

const gateway = useGateway();

const chat = (prefix: string, id: string, extra: Record<string, unknown> = {}) =>
  gateway
    .client(prefix)
    .chat.completions.create(
      { model: 'llama3.2', messages: MESSAGES, ...extra },
      { headers: { 'x-request-id': id } },
    );

describe('client errors parsed by the SDK', () => {
  it('401 AuthenticationError for a bad key, with WWW-Authenticate, no upstream call', async () => {
    const id = nextRequestId();
    const error = await rejectionOf(
      gateway
        .client('ollama', { apiKey: 'not-the-right-key-123' })
        .chat.completions.create(
          { model: 'm', messages: MESSAGES },
          { headers: { 'x-request-id': id } },
        ),
    );
    const parsed = expectSdkError(
      error,
      AuthenticationError,
      { status: 401, code: 'invalid_api_key', type: 'authentication_error', param: null },
      id,
    );
    expect(parsed.headers?.get('www-authenticate')).toBe('Bearer');
    expect(gateway.upstream.requests).toHaveLength(0);
  });

  it('requestID is the generated id when the client sent none', async () => {
    const error = await rejectionOf(
      gateway.client('', { apiKey: 'not-the-right-key-123' }).models.list(),
    );
    expect(error).toBeInstanceOf(AuthenticationError);
    if (!(error instanceof APIError)) throw error;
    expect(error.requestID).toMatch(UUID);
    expect(error.requestID).toBe(error.headers?.get('x-request-id'));
  });

  it('404 NotFoundError route_not_found for an unknown provider prefix', async () => {
    const id = nextRequestId();
    expectSdkError(
      await rejectionOf(chat('mistral', id)),
      NotFoundError,
      { status: 404, code: 'route_not_found', type: 'not_found_error', param: null },
      id,
    );
    const listId = nextRequestId();
    expectSdkError(
      await rejectionOf(
        gateway.client('mistral').models.list({ headers: { 'x-request-id': listId } }),
      ),
      NotFoundError,
      { status: 404, code: 'route_not_found', type: 'not_found_error', param: null },
      listId,
    );
    expect(gateway.upstream.requests).toHaveLength(0);
  });

  for (const [param, extra] of [
    ['temperature', { temperature: 5 }],
    ['max_tokens', { max_tokens: 0 }],
    ['messages[0].role', { messages: [{ role: 'robot', content: 'hi' }] }],
  ] as const) {
    it(`422 UnprocessableEntityError for a schema violation (${param})`, async () => {
      const id = nextRequestId();
      expectSdkError(
        await rejectionOf(chat('cerebras', id, extra)),
        UnprocessableEntityError,
        { status: 422, code: 'validation_error', type: 'invalid_request_error', param },
        id,
      );
      expect(gateway.upstream.requests).toHaveLength(0);
    });
  }

  it('400 invalid_json envelope for malformed JSON (fetch)', async () => {
    const response = await postRaw(`${gateway.url}/v1/chat/completions`, '{"model": "m",', {
      'x-request-id': 'e2e-bad-json',
    });
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(response.headers.get('x-request-id')).toBe('e2e-bad-json');
    expect(await response.json()).toEqual({
      error: {
        message: expect.any(String),
        type: 'invalid_request_error',
        param: null,
        code: 'invalid_json',
      },
    });
    expect(gateway.upstream.requests).toHaveLength(0);
  });
});

describe('upstream errors parsed by the SDK', () => {
  for (const provider of PROVIDERS) {
    it(`${provider}: upstream 404 → NotFoundError model_not_found (param model)`, async () => {
      gateway.upstream.enqueue({
        status: 404,
        body:
          provider === 'ollama'
            ? { error: "model 'nope' not found" }
            : { error: { message: 'Model nope does not exist', code: 'model_not_found' } },
      });
      const id = nextRequestId();
      const error = expectSdkError(
        await rejectionOf(chat(provider, id, { model: 'nope' })),
        NotFoundError,
        { status: 404, code: 'model_not_found', type: 'not_found_error', param: 'model' },
        id,
      );
      expect(error.message).toContain("'nope'");
      expectUpstreamSaw(gateway.upstream, id);
    });

    it(`${provider}: upstream 400 → BadRequestError, scrubbed of the provider key`, async () => {
      const upstreamMessage = `context length exceeded for key ${PROVIDER_KEY}`;
      gateway.upstream.enqueue({
        status: 400,
        body:
          provider === 'ollama'
            ? { error: upstreamMessage }
            : { error: { message: upstreamMessage, type: 'invalid_request_error' } },
      });
      const id = nextRequestId();
      const error = expectSdkError(
        await rejectionOf(chat(provider, id)),
        BadRequestError,
        { status: 400, code: 'upstream_bad_request', type: 'invalid_request_error', param: null },
        id,
      );
      expect(error.message).toContain('context length exceeded');
      expect(error.message).not.toContain(PROVIDER_KEY);
      expectUpstreamSaw(gateway.upstream, id);
    });

    it(`${provider}: upstream 429 → RateLimitError with retry-after relayed`, async () => {
      gateway.upstream.enqueue({
        status: 429,
        headers: { 'retry-after': '7' },
        body: { error: { message: 'slow down' } },
      });
      const id = nextRequestId();
      const error = expectSdkError(
        await rejectionOf(chat(provider, id)),
        RateLimitError,
        { status: 429, code: 'upstream_rate_limited', type: 'rate_limit_error', param: null },
        id,
      );
      expect(error.headers?.get('retry-after')).toBe('7');
      expectUpstreamSaw(gateway.upstream, id);
    });

    it(`${provider}: upstream 401/403 (the gateway's key) → 502, never a client 401`, async () => {
      for (const status of [401, 403]) {
        gateway.upstream.reset();
        gateway.upstream.enqueue({
          status,
          body: { error: { message: `bad key ${PROVIDER_KEY}` } },
        });
        const id = nextRequestId();
        const error = expectSdkError(
          await rejectionOf(chat(provider, id)),
          InternalServerError,
          { status: 502, code: 'upstream_error', type: 'api_error', param: null },
          id,
        );
        expect(error.message).not.toContain(PROVIDER_KEY);
        expectUpstreamSaw(gateway.upstream, id);
      }
    });

    it(`${provider}: a 200 whose body is not JSON → 502 upstream_error`, async () => {
      gateway.upstream.enqueue({
        headers: { 'content-type': 'text/html' },
        body: '<html><body>502 Bad Gateway</body></html>',
      });
      const id = nextRequestId();
      expectSdkError(
        await rejectionOf(chat(provider, id)),
        InternalServerError,
        { status: 502, code: 'upstream_error', type: 'api_error', param: null },
        id,
      );
    });

    it(`${provider}: upstream 500 → 502 InternalServerError upstream_error, text hidden`, async () => {
      gateway.upstream.enqueue({
        status: 500,
        body: { error: `panic: runtime error at 0xdeadbeef (${PROVIDER_KEY})` },
      });
      const id = nextRequestId();
      const error = expectSdkError(
        await rejectionOf(chat(provider, id)),
        InternalServerError,
        { status: 502, code: 'upstream_error', type: 'api_error', param: null },
        id,
      );
      expect(error.message).not.toContain('panic');
      expect(error.message).not.toContain(PROVIDER_KEY);
      expectUpstreamSaw(gateway.upstream, id);
    });
  }
});
