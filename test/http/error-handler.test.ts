/** The error handler: every failure in the OpenAI envelope with its status, and bounded input. */
import { describe, expect, it } from 'vitest';
import { InternalError, UpstreamRateLimitedError } from '../../src/errors/gateway-error.js';
import { appWith, auth, chatBody, expectEnvelope } from '../helpers/app-fixture.js';
import { captureLogs } from '../helpers/log-capture.js';

describe('errors', () => {
  it('answers malformed JSON with 400 invalid_json', async () => {
    const { app } = await appWith();
    const response = await app.inject({
      method: 'POST',
      url: '/v1/chat/completions',
      headers: { ...auth, 'content-type': 'application/json' },
      payload: '{"model": "m1", "messages": [',
    });
    expect(response.statusCode).toBe(400);
    expectEnvelope(response.body, 'invalid_request_error', 'invalid_json');
  });

  it('answers an empty JSON body with 400 invalid_json', async () => {
    const { app } = await appWith();
    const response = await app.inject({
      method: 'POST',
      url: '/v1/chat/completions',
      headers: { ...auth, 'content-type': 'application/json' },
      payload: '',
    });
    expect(response.statusCode).toBe(400);
    expectEnvelope(response.body, 'invalid_request_error', 'invalid_json');
  });

  it('answers a non-JSON content type with 400 unsupported_media_type', async () => {
    const { app } = await appWith();
    const response = await app.inject({
      method: 'POST',
      url: '/v1/chat/completions',
      headers: { ...auth, 'content-type': 'application/xml' },
      payload: '<x/>',
    });
    expect(response.statusCode).toBe(400);
    expectEnvelope(response.body, 'invalid_request_error', 'unsupported_media_type');
  });

  it.each([
    [{ messages: [{ role: 'user', content: 'x' }] }, 'model'],
    [{ model: 'm', messages: [] }, 'messages'],
    [{ model: 'm', messages: [{ role: 'robot', content: 'x' }] }, 'messages[0].role'],
    [{ model: 'm', messages: [{ content: 'x' }] }, 'messages[0].role'],
    [{ ...chatBody, temperature: 'hot' }, 'temperature'],
    [{ ...chatBody, temperature: 3 }, 'temperature'],
    [{ ...chatBody, max_tokens: 0 }, 'max_tokens'],
    [{ ...chatBody, stream: 'yes' }, 'stream'],
    [{ ...chatBody, n: 1.5 }, 'n'],
    [{ ...chatBody, response_format: { type: 'json_schema' } }, 'response_format.json_schema'],
  ])('answers schema violations with 422 naming the field (%j)', async (payload, param) => {
    const { app, ollama } = await appWith();
    const response = await app.inject({
      method: 'POST',
      url: '/v1/chat/completions',
      headers: auth,
      payload,
    });
    expect(response.statusCode).toBe(422);
    const error = expectEnvelope(response.body, 'invalid_request_error', 'validation_error');
    expect(error.param).toBe(param);
    expect(ollama.calls).toHaveLength(0);
  });

  it('keeps unknown fields for the provider (no stripping, no coercion)', async () => {
    const { app, cerebras } = await appWith();
    const response = await app.inject({
      method: 'POST',
      url: '/cerebras/v1/chat/completions',
      headers: auth,
      payload: { ...chatBody, vendor_extra: { a: 1 }, seed: 7 },
    });
    expect(response.statusCode).toBe(200);
    expect(cerebras.calls[0]?.request).toMatchObject({ vendor_extra: { a: 1 }, seed: 7 });
  });

  it('answers an oversized body with 413 before reading it', async () => {
    const { app } = await appWith({ bodyLimitBytes: 2048 });
    const response = await app.inject({
      method: 'POST',
      url: '/v1/chat/completions',
      headers: auth,
      payload: { ...chatBody, messages: [{ role: 'user', content: 'x'.repeat(4096) }] },
    });
    expect(response.statusCode).toBe(413);
    expectEnvelope(response.body, 'invalid_request_error', 'request_too_large');
  });

  it('answers unknown routes and providers with 404', async () => {
    const { app } = await appWith();
    const route = await app.inject({ method: 'GET', url: '/v2/things', headers: auth });
    expect(route.statusCode).toBe(404);
    expectEnvelope(route.body, 'not_found_error', 'route_not_found');
    const provider = await app.inject({
      method: 'POST',
      url: '/openai/v1/chat/completions',
      headers: auth,
      payload: chatBody,
    });
    expect(provider.statusCode).toBe(404);
    const error = expectEnvelope(provider.body, 'not_found_error', 'route_not_found');
    expect(error.message).toContain("'openai'");
    const models = await app.inject({ method: 'GET', url: '/groq/v1/models', headers: auth });
    expect(models.statusCode).toBe(404);
  });

  it('relays provider errors with their status, retry-after and request id', async () => {
    const { app } = await appWith({
      ollama: {
        chat: async () => {
          throw new UpstreamRateLimitedError('ollama', 7_000);
        },
      },
    });
    const response = await app.inject({
      method: 'POST',
      url: '/v1/chat/completions',
      headers: auth,
      payload: chatBody,
    });
    expect(response.statusCode).toBe(429);
    expect(response.headers['retry-after']).toBe('7');
    expect(response.headers['x-request-id']).toBeTruthy();
    expectEnvelope(response.body, 'rate_limit_error', 'upstream_rate_limited');
  });

  it('hides the cause of our own bugs behind a generic 500 and logs it', async () => {
    const logs = captureLogs();
    const { app } = await appWith({
      logs,
      ollama: {
        chat: async () => {
          throw new TypeError('secret internals: cannot read x of undefined');
        },
      },
    });
    const response = await app.inject({
      method: 'POST',
      url: '/v1/chat/completions',
      headers: auth,
      payload: chatBody,
    });
    expect(response.statusCode).toBe(500);
    const error = expectEnvelope(response.body, 'api_error', 'internal_error');
    expect(error.message).not.toContain('internals');
    expect(logs.text()).toContain('secret internals');
    expect(new InternalError().message).toBe(error.message);
  });
});

describe('bounded input', () => {
  it('refuses JSON nested past the depth limit with 400, before the provider', async () => {
    const { app, cerebras } = await appWith();
    const deep = `${'['.repeat(20_000)}${']'.repeat(20_000)}`;
    const response = await app.inject({
      method: 'POST',
      url: '/cerebras/v1/chat/completions',
      headers: { ...auth, 'content-type': 'application/json' },
      payload: `{"model":"m","messages":[{"role":"user","content":"x"}],"extra":${deep}}`,
    });
    expect(response.statusCode).toBe(400);
    expectEnvelope(response.body, 'invalid_request_error', 'json_too_deep');
    expect(cerebras.calls).toHaveLength(0);
  });

  it('serves a body with prototype keys, the keys removed', async () => {
    const { app, ollama } = await appWith();
    const response = await app.inject({
      method: 'POST',
      url: '/v1/chat/completions',
      headers: { ...auth, 'content-type': 'application/json' },
      payload: '{"model":"m","messages":[{"role":"user"}],"__proto__":{"admin":true}}',
    });
    expect(response.statusCode).toBe(200);
    expect(Object.hasOwn(ollama.calls[0]?.request ?? {}, '__proto__')).toBe(false);
    expect(({} as { admin?: unknown }).admin).toBeUndefined();
  });

  it('accepts JSON with a charset parameter', async () => {
    const { app } = await appWith();
    const response = await app.inject({
      method: 'POST',
      url: '/v1/chat/completions',
      headers: { ...auth, 'content-type': 'application/json; charset=utf-8' },
      payload: JSON.stringify(chatBody),
    });
    expect(response.statusCode).toBe(200);
  });
});
