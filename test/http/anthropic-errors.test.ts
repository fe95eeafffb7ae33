/**
 * Every error on the Messages routes is Anthropic's body with Anthropic's type, whatever raised
 * it (auth, validation, routing, the upstream), with the request id in `request-id`; what the
 * schema does not know is accepted.
 */
import { describe, expect, it } from 'vitest';
import {
  UpstreamError,
  UpstreamRateLimitedError,
  UpstreamTimeoutError,
  UpstreamUnavailableError,
} from '../../src/errors/gateway-error.js';
import { appWith, KEY } from '../helpers/app-fixture.js';

const headers = { 'x-api-key': KEY, 'anthropic-version': '2023-06-01' };
const body = { model: 'm1', max_tokens: 256, messages: [{ role: 'user', content: 'hi' }] };

/** The parsed Anthropic error body, checked to have the request id header beside it. */
function anthropicError(response: {
  json(): unknown;
  headers: Record<string, unknown>;
}): Record<string, unknown> {
  expect(response.headers['request-id']).toBe(response.headers['x-request-id']);
  const parsed = response.json() as { type: string; error: Record<string, unknown> };
  expect(parsed.type).toBe('error');
  expect(typeof parsed.error.message).toBe('string');
  return parsed.error;
}

describe('Messages errors', () => {
  it.each([
    ['no key', {}, 401, 'authentication_error'],
    ['a wrong x-api-key', { 'x-api-key': 'wrong' }, 401, 'authentication_error'],
  ])('answers %s with %i %s', async (_name, sent, status, type) => {
    const { app } = await appWith();
    const response = await app.inject({
      method: 'POST',
      url: '/v1/messages',
      headers: sent,
      payload: body,
    });
    expect(response.statusCode).toBe(status);
    expect(anthropicError(response).type).toBe(type);
  });

  it.each([
    ['max_tokens missing', { model: 'm1', messages: body.messages }, 'max_tokens'],
    ['messages missing', { model: 'm1', max_tokens: 5 }, 'messages'],
    ['max_tokens not a number', { ...body, max_tokens: '5' }, 'max_tokens'],
    ['a role unknown', { ...body, messages: [{ role: 'tool', content: 'x' }] }, 'messages[0].role'],
    [
      'a block without type',
      { ...body, messages: [{ role: 'user', content: [{ text: 'x' }] }] },
      'messages[0].content',
    ],
  ])(
    'answers %s with a 400 invalid_request_error naming the field',
    async (_name, payload, field) => {
      const { app, ollama } = await appWith();
      const response = await app.inject({ method: 'POST', url: '/v1/messages', headers, payload });
      expect(response.statusCode).toBe(400);
      const error = anthropicError(response);
      expect(error.type).toBe('invalid_request_error');
      expect(error.message).toContain(field);
      expect(ollama.calls).toHaveLength(0);
    },
  );

  it('answers malformed JSON and an unknown provider in the same body', async () => {
    const { app } = await appWith();
    const malformed = await app.inject({
      method: 'POST',
      url: '/v1/messages',
      headers: { ...headers, 'content-type': 'application/json' },
      payload: '{"model":',
    });
    expect(malformed.statusCode).toBe(400);
    expect(anthropicError(malformed).type).toBe('invalid_request_error');
    const unknown = await app.inject({
      method: 'POST',
      url: '/nope/v1/messages',
      headers,
      payload: body,
    });
    expect(unknown.statusCode).toBe(404);
    expect(anthropicError(unknown)).toMatchObject({ type: 'not_found_error' });
  });

  it('answers a body over the limit with 413 request_too_large', async () => {
    const { app } = await appWith({ bodyLimitBytes: 1_024 });
    const response = await app.inject({
      method: 'POST',
      url: '/v1/messages',
      headers,
      payload: { ...body, system: 'x'.repeat(2_048) },
    });
    expect(response.statusCode).toBe(413);
    expect(anthropicError(response).type).toBe('request_too_large');
  });

  it.each([
    [new UpstreamRateLimitedError('ollama', 600_000), 429, 'rate_limit_error'],
    [new UpstreamUnavailableError('ollama', undefined), 503, 'overloaded_error'],
    [new UpstreamTimeoutError('ollama', 'first_byte'), 504, 'timeout_error'],
    [new UpstreamError('The ollama upstream failed.'), 502, 'api_error'],
  ])(
    'relays an upstream failure before the first byte as its status and type (%#)',
    async (failure, status, type) => {
      const fail = async () => {
        throw failure;
      };
      const { app } = await appWith({ ollama: { chat: fail, chatStream: fail } });
      for (const stream of [false, true]) {
        const response = await app.inject({
          method: 'POST',
          url: '/ollama/v1/messages',
          headers,
          payload: { ...body, stream },
        });
        expect(response.statusCode).toBe(status);
        expect(anthropicError(response).type).toBe(type);
        if (status === 429) expect(response.headers['retry-after']).toBe('600');
      }
    },
  );

  it('ignores unknown fields, blocks, tool fields and beta headers, and a missing anthropic-version', async () => {
    const { app } = await appWith();
    const response = await app.inject({
      method: 'POST',
      url: '/v1/messages?beta=true',
      headers: { 'x-api-key': KEY, 'anthropic-beta': 'a-2099-01-01,b-2099-02-02' },
      payload: {
        ...body,
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'hi', citations: null, future: { x: 1 } },
              { type: 'hologram', data: 'x' },
            ],
          },
        ],
        tools: [
          {
            name: 't',
            input_schema: { type: 'object' },
            eager_input_streaming: true,
            defer_loading: false,
          },
        ],
        tool_choice: { type: 'auto', future_option: 1 },
        service_tier: 'auto',
        a_field_from_next_month: { nested: [1, 2] },
      },
    });
    expect(response.statusCode).toBe(200);
  });
});
