import { describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import {
  InternalError,
  UpstreamError,
  UpstreamRateLimitedError,
  UpstreamTimeoutError,
} from '../../src/errors/gateway-error.js';
import {
  chunks,
  completion,
  createFakeProvider,
  type FakeProviderBehaviour,
  streamOf,
} from '../helpers/fake-provider.js';
import { captureLogs } from '../helpers/log-capture.js';

const KEY = 'test-key-0123456789';
const auth = { authorization: `Bearer ${KEY}` };
const chatBody = { model: 'm1', messages: [{ role: 'user', content: 'hi' }] };

async function appWith(
  options: {
    ollama?: FakeProviderBehaviour;
    cerebras?: FakeProviderBehaviour;
    cors?: string[];
    securityHeaders?: boolean;
    authDisabled?: boolean;
    bodyLimitBytes?: number;
    logs?: ReturnType<typeof captureLogs>;
  } = {},
) {
  const ollama = createFakeProvider('ollama', options.ollama);
  const cerebras = createFakeProvider('cerebras', options.cerebras);
  const app = await buildApp({
    providers: new Map([
      ['ollama', ollama],
      ['cerebras', cerebras],
    ]),
    apiKeys: [KEY, 'second-key-abcdefgh'],
    ...(options.cors ? { corsAllowedOrigins: options.cors } : {}),
    ...(options.securityHeaders === undefined ? {} : { securityHeaders: options.securityHeaders }),
    ...(options.authDisabled ? { authDisabled: true } : {}),
    ...(options.bodyLimitBytes ? { bodyLimitBytes: options.bodyLimitBytes } : {}),
    ...(options.logs ? { logger: options.logs.logger } : {}),
  });
  return { app, ollama, cerebras };
}

function expectEnvelope(body: string, type: string, code: string) {
  const parsed = JSON.parse(body) as { error: Record<string, unknown> };
  expect(parsed.error).toMatchObject({ type, code });
  expect(typeof parsed.error.message).toBe('string');
  expect((parsed.error.message as string).length).toBeGreaterThan(0);
  expect(parsed.error).toHaveProperty('param');
  return parsed.error;
}

describe('buildApp', () => {
  it('builds with nothing but providers and refuses every keyed route by default', async () => {
    const app = await buildApp({ providers: new Map([['ollama', createFakeProvider('ollama')]]) });
    const response = await app.inject({ method: 'GET', url: '/v1/models', headers: auth });
    expect(response.statusCode).toBe(401);
    expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
  });

  it('refuses to build when the default provider is missing', async () => {
    await expect(buildApp({ providers: new Map(), defaultProvider: 'ollama' })).rejects.toThrow(
      /default provider 'ollama'/,
    );
  });
});

describe('auth', () => {
  it.each([
    ['no key', {}],
    ['wrong bearer', { authorization: 'Bearer nope-nope-nope' }],
    ['key ± one char', { authorization: `Bearer ${KEY}x` }],
    ['basic scheme', { authorization: `Basic ${KEY}` }],
    ['empty x-api-key', { 'x-api-key': '' }],
  ])('rejects %s with 401, WWW-Authenticate and the envelope', async (_name, headers) => {
    const { app, ollama } = await appWith();
    const response = await app.inject({
      method: 'POST',
      url: '/v1/chat/completions',
      headers,
      payload: chatBody,
    });
    expect(response.statusCode).toBe(401);
    expect(response.headers['www-authenticate']).toBe('Bearer');
    expectEnvelope(response.body, 'authentication_error', 'invalid_api_key');
    expect(ollama.calls).toHaveLength(0);
  });

  it('never accepts a key in the query string', async () => {
    const { app } = await appWith();
    for (const query of [`api_key=${KEY}`, `key=${KEY}`, `authorization=Bearer%20${KEY}`]) {
      const response = await app.inject({ method: 'GET', url: `/v1/models?${query}` });
      expect(response.statusCode).toBe(401);
    }
  });

  it('accepts Bearer (any case) and x-api-key, for every configured key', async () => {
    const { app } = await appWith();
    for (const headers of [
      auth,
      { authorization: `bearer ${KEY}` },
      { 'x-api-key': KEY },
      { authorization: 'Bearer second-key-abcdefgh' },
    ]) {
      const response = await app.inject({ method: 'GET', url: '/v1/models', headers });
      expect(response.statusCode).toBe(200);
    }
  });

  it('keeps refusing keys near an accepted one, and names each key by its own id', async () => {
    const logs = captureLogs([KEY]);
    const { app } = await appWith({ logs });
    const status = async (headers: Record<string, string>) =>
      (await app.inject({ method: 'GET', url: '/v1/models', headers })).statusCode;
    const second = 'second-key-abcdefgh';
    // Each accepted twice: the second time is the remembered path.
    for (const key of [KEY, KEY, second, second]) {
      expect(await status({ authorization: `Bearer ${key}` })).toBe(200);
    }
    for (const near of [`${KEY}x`, KEY.slice(0, -1), KEY.toUpperCase(), `${second}${KEY}`]) {
      expect(await status({ 'x-api-key': near }), near).toBe(401);
    }
    const keyIds = logs
      .entries()
      .filter((entry) => entry.msg === 'request completed' && entry.status === 200)
      .map((entry) => entry.keyId);
    expect(keyIds).toHaveLength(4);
    expect(keyIds[0]).toMatch(/^key_[0-9a-f]{12}$/);
    expect(keyIds[1]).toBe(keyIds[0]);
    expect(keyIds[2]).not.toBe(keyIds[0]);
    expect(keyIds[3]).toBe(keyIds[2]);
  });

  it('requires a key on unknown routes and path variants too', async () => {
    const { app } = await appWith();
    for (const url of ['/V1/models', '/v1/models/', '//v1/models', '/healthz/', '/nope']) {
      const response = await app.inject({ method: 'GET', url });
      expect(response.statusCode, url).toBe(401);
    }
  });

  it('lets everything through in development mode', async () => {
    const { app } = await appWith({ authDisabled: true });
    const response = await app.inject({ method: 'GET', url: '/v1/models' });
    expect(response.statusCode).toBe(200);
  });
});

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

describe('request ids and headers', () => {
  it('reuses a well-formed inbound X-Request-Id and passes it to the provider', async () => {
    const { app, ollama } = await appWith();
    const response = await app.inject({
      method: 'POST',
      url: '/v1/chat/completions',
      headers: { ...auth, 'x-request-id': 'client-id_1.2' },
      payload: chatBody,
    });
    expect(response.headers['x-request-id']).toBe('client-id_1.2');
    expect(ollama.calls[0]?.ctx.requestId).toBe('client-id_1.2');
  });

  it.each(['bad id with spaces', 'x'.repeat(65), 'evil\u00e9', '<script>'])(
    'replaces a malformed X-Request-Id (%s)',
    async (inbound) => {
      const { app } = await appWith();
      const response = await app.inject({
        method: 'GET',
        url: '/healthz',
        headers: { 'x-request-id': inbound },
      });
      expect(response.headers['x-request-id']).not.toBe(inbound);
      expect(response.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    },
  );

  it('puts security headers on successes, errors and 404s, and no X-Powered-By', async () => {
    const { app } = await appWith();
    for (const request of [
      { method: 'GET' as const, url: '/healthz' },
      { method: 'GET' as const, url: '/v1/models' },
      { method: 'GET' as const, url: '/nope', headers: auth },
    ]) {
      const response = await app.inject(request);
      expect(response.headers).toMatchObject({
        'x-content-type-options': 'nosniff',
        'x-frame-options': 'DENY',
        'referrer-policy': 'no-referrer',
        'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
        'cache-control': 'no-store',
      });
      expect(response.headers['x-powered-by']).toBeUndefined();
    }
  });

  it('omits security headers when disabled', async () => {
    const { app } = await appWith({ securityHeaders: false });
    const response = await app.inject({ method: 'GET', url: '/healthz' });
    expect(response.headers['x-frame-options']).toBeUndefined();
  });
});

describe('CORS', () => {
  it('sends no CORS headers at all when off', async () => {
    const { app } = await appWith();
    const response = await app.inject({
      method: 'GET',
      url: '/v1/models',
      headers: { ...auth, origin: 'https://app.example.com' },
    });
    expect(response.headers['access-control-allow-origin']).toBeUndefined();
    const preflight = await app.inject({
      method: 'OPTIONS',
      url: '/v1/chat/completions',
      headers: { origin: 'https://app.example.com', 'access-control-request-method': 'POST' },
    });
    expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('echoes only exact allowlisted origins, with Vary and the request id exposed', async () => {
    const { app } = await appWith({ cors: ['https://app.example.com'] });
    const allowed = await app.inject({
      method: 'GET',
      url: '/v1/models',
      headers: { ...auth, origin: 'https://app.example.com' },
    });
    expect(allowed.headers['access-control-allow-origin']).toBe('https://app.example.com');
    expect(allowed.headers.vary).toContain('Origin');
    expect(allowed.headers['access-control-expose-headers']).toContain('x-request-id');
    expect(allowed.headers['access-control-allow-credentials']).toBeUndefined();
    for (const origin of [
      'https://app.example.com.evil.com',
      'https://evil-app.example.com',
      'http://app.example.com',
      'null',
    ]) {
      const response = await app.inject({
        method: 'GET',
        url: '/v1/models',
        headers: { ...auth, origin },
      });
      expect(response.headers['access-control-allow-origin'], origin).toBeUndefined();
    }
  });

  it('answers an allowed preflight without a key', async () => {
    const { app } = await appWith({ cors: ['https://app.example.com'] });
    const response = await app.inject({
      method: 'OPTIONS',
      url: '/v1/chat/completions',
      headers: {
        origin: 'https://app.example.com',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization,content-type',
      },
    });
    expect(response.statusCode).toBe(204);
    expect(response.headers['access-control-allow-origin']).toBe('https://app.example.com');
    expect(response.headers['access-control-allow-methods']).toContain('POST');
  });
});

describe('chat completions', () => {
  it('serves /v1 from the default provider and prefixed routes from theirs', async () => {
    const { app, ollama, cerebras } = await appWith();
    const viaDefault = await app.inject({
      method: 'POST',
      url: '/v1/chat/completions',
      headers: auth,
      payload: chatBody,
    });
    expect(viaDefault.statusCode).toBe(200);
    expect(viaDefault.json()).toEqual(completion('m1'));
    expect(ollama.calls.map((call) => call.method)).toEqual(['chat']);
    const viaPrefix = await app.inject({
      method: 'POST',
      url: '/cerebras/v1/chat/completions',
      headers: auth,
      payload: chatBody,
    });
    expect(viaPrefix.statusCode).toBe(200);
    expect(cerebras.calls.map((call) => call.method)).toEqual(['chat']);
  });

  it('streams SSE with [DONE] and without the usage chunk unless asked', async () => {
    const { app } = await appWith();
    const response = await app.inject({
      method: 'POST',
      url: '/v1/chat/completions',
      headers: auth,
      payload: { ...chatBody, stream: true },
    });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(response.headers['cache-control']).toBe('no-cache');
    expect(response.headers['x-accel-buffering']).toBe('no');
    expect(response.headers['x-request-id']).toBeTruthy();
    expect(response.headers['x-frame-options']).toBe('DENY');
    const events = response.body.split('\n\n').filter(Boolean);
    expect(events.at(-1)).toBe('data: [DONE]');
    const parsed = events.slice(0, -1).map((event) => JSON.parse(event.slice(6)));
    expect(parsed).toEqual(chunks('m1', ['Hel', 'lo']).slice(0, -1));
  });

  it('sends exactly one usage chunk before [DONE] with include_usage', async () => {
    const { app } = await appWith();
    const response = await app.inject({
      method: 'POST',
      url: '/v1/chat/completions',
      headers: auth,
      payload: { ...chatBody, stream: true, stream_options: { include_usage: true } },
    });
    const events = response.body.split('\n\n').filter(Boolean);
    expect(events.at(-1)).toBe('data: [DONE]');
    const usageEvents = events
      .slice(0, -1)
      .map((event) => JSON.parse(event.slice(6)))
      .filter((chunk) => chunk.usage);
    expect(usageEvents).toHaveLength(1);
    expect(usageEvents[0].choices).toEqual([]);
  });

  it('ends a failing stream with an error event and no [DONE]', async () => {
    const { app } = await appWith({
      ollama: {
        chatStream: async () =>
          (async function* () {
            yield* streamOf(chunks('m1', ['Hel']).slice(0, 1));
            throw new UpstreamTimeoutError('ollama', 'idle');
          })(),
      },
    });
    const response = await app.inject({
      method: 'POST',
      url: '/v1/chat/completions',
      headers: auth,
      payload: { ...chatBody, stream: true },
    });
    expect(response.statusCode).toBe(200);
    expect(response.body).not.toContain('[DONE]');
    const events = response.body.split('\n\n').filter(Boolean);
    expect(JSON.parse(events.at(-1)?.slice(6) ?? '')).toEqual({
      error: {
        message: 'The ollama upstream timed out while streaming.',
        type: 'api_error',
        param: null,
        code: 'upstream_timeout',
      },
    });
  });

  it('answers a stream that fails before it starts with a plain error response', async () => {
    const { app } = await appWith({
      ollama: {
        chatStream: async () => {
          throw new UpstreamError('The ollama upstream failed with status 500.');
        },
      },
    });
    const response = await app.inject({
      method: 'POST',
      url: '/v1/chat/completions',
      headers: auth,
      payload: { ...chatBody, stream: true },
    });
    expect(response.statusCode).toBe(502);
    expect(response.headers['content-type']).toContain('application/json');
    expectEnvelope(response.body, 'api_error', 'upstream_error');
  });
});

describe('models and health', () => {
  it('lists models in the OpenAI list format', async () => {
    const { app } = await appWith();
    const response = await app.inject({ method: 'GET', url: '/cerebras/v1/models', headers: auth });
    expect(response.json()).toEqual({
      object: 'list',
      data: [{ id: 'cerebras-model', object: 'model', created: 1, owned_by: 'cerebras' }],
    });
  });

  it('reports readiness per provider, 503 when the default is down, cached', async () => {
    let cerebrasDown = true;
    let ollamaDown = false;
    const { app, ollama } = await appWith({
      ollama: {
        listModels: async () => {
          if (ollamaDown) throw new UpstreamError('down');
          return [];
        },
      },
      cerebras: {
        listModels: async () => {
          if (cerebrasDown) throw new UpstreamError('down');
          return [];
        },
      },
    });
    const ready = await app.inject({ method: 'GET', url: '/readyz' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toEqual({
      status: 'ready',
      providers: { ollama: 'ok', cerebras: 'unavailable' },
    });
    ollamaDown = true;
    cerebrasDown = false;
    const cached = await app.inject({ method: 'GET', url: '/readyz' });
    expect(cached.statusCode).toBe(200);
    expect(ollama.calls).toHaveLength(1);
    expect(ready.body).not.toMatch(/http|key|11434/i);
  });

  it('turns unavailable when the default provider is down', async () => {
    const { app } = await appWith({
      ollama: {
        listModels: async () => {
          throw new UpstreamError('down');
        },
      },
    });
    const response = await app.inject({ method: 'GET', url: '/readyz' });
    expect(response.statusCode).toBe(503);
    expect(response.json()).toMatchObject({ status: 'unavailable' });
  });
});

describe('access log', () => {
  it('writes one line per request with id, route, status, provider, model and usage', async () => {
    const logs = captureLogs([KEY]);
    const { app } = await appWith({ logs });
    const response = await app.inject({
      method: 'POST',
      url: '/cerebras/v1/chat/completions',
      headers: { ...auth, 'x-request-id': 'log-test-1' },
      payload: chatBody,
    });
    expect(response.statusCode).toBe(200);
    const access = logs.entries().filter((entry) => entry.msg === 'request completed');
    expect(access).toHaveLength(1);
    expect(access[0]).toMatchObject({
      level: 'info',
      requestId: 'log-test-1',
      method: 'POST',
      route: '/cerebras/v1/chat/completions',
      status: 200,
      provider: 'cerebras',
      model: 'm1',
      promptTokens: 3,
      completionTokens: 2,
    });
    expect(access[0]?.keyId).toMatch(/^key_[0-9a-f]{12}$/);
    expect(typeof access[0]?.durationMs).toBe('number');
    expect(logs.text()).not.toContain(KEY);
    expect(logs.text()).not.toContain('hi"');
  });

  it('logs the error code of a failed request and never the key', async () => {
    const logs = captureLogs([KEY]);
    const { app } = await appWith({ logs });
    await app.inject({
      method: 'GET',
      url: `/v1/models?api_key=${KEY}`,
      headers: { authorization: `Bearer ${KEY}-wrong` },
    });
    const access = logs.entries().find((entry) => entry.msg === 'request completed');
    expect(access).toMatchObject({ status: 401, errorCode: 'invalid_api_key' });
    expect(logs.text()).not.toContain(KEY);
  });
});

describe('stream start', () => {
  it('answers a stream whose first chunk fails with a status, not an SSE error', async () => {
    const { app } = await appWith({
      ollama: {
        chatStream: async () =>
          // biome-ignore lint/correctness/useYield: fails before its first chunk on purpose
          (async function* () {
            throw new UpstreamError('The ollama upstream failed mid-stream: model failed to load');
          })(),
      },
    });
    const response = await app.inject({
      method: 'POST',
      url: '/v1/chat/completions',
      headers: auth,
      payload: { ...chatBody, stream: true },
    });
    expect(response.statusCode).toBe(502);
    expectEnvelope(response.body, 'api_error', 'upstream_error');
  });

  it('sends just [DONE] for an empty stream', async () => {
    const { app } = await appWith({
      ollama: { chatStream: async () => (async function* () {})() },
    });
    const response = await app.inject({
      method: 'POST',
      url: '/v1/chat/completions',
      headers: auth,
      payload: { ...chatBody, stream: true },
    });
    expect(response.body).toBe('data: [DONE]\n\n');
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

describe('routing by model on /v1', () => {
  it.each([
    ['cerebras/m1', 'cerebras', 'm1'],
    ['ollama/library/m2:7b', 'ollama', 'library/m2:7b'],
    ['hf.co/org/m3', 'ollama', 'hf.co/org/m3'],
    ['m4', 'ollama', 'm4'],
  ])('%s goes to %s as %s, JSON and stream', async (model, providerId, upstreamModel) => {
    const { app, ollama, cerebras } = await appWith();
    const provider = providerId === 'cerebras' ? cerebras : ollama;
    for (const stream of [false, true]) {
      const response = await app.inject({
        method: 'POST',
        url: '/v1/chat/completions',
        headers: auth,
        payload: { ...chatBody, model, stream },
      });
      expect(response.statusCode).toBe(200);
    }
    expect(provider.calls.map((call) => [call.method, call.request?.model])).toEqual([
      ['chat', upstreamModel],
      ['chatStream', upstreamModel],
    ]);
  });

  it('keeps a prefixed route pinned to its provider whatever the model says', async () => {
    const { app, ollama, cerebras } = await appWith();
    await app.inject({
      method: 'POST',
      url: '/ollama/v1/chat/completions',
      headers: auth,
      payload: { ...chatBody, model: 'cerebras/m1' },
    });
    expect(ollama.calls[0]?.request?.model).toBe('cerebras/m1');
    expect(cerebras.calls).toHaveLength(0);
  });
});

describe('merged model list', () => {
  it('leaves out a provider that is down and caches each listing', async () => {
    const { app, ollama, cerebras } = await appWith({
      cerebras: {
        listModels: async () => {
          throw new UpstreamError('down');
        },
      },
    });
    for (let round = 0; round < 2; round++) {
      const response = await app.inject({ method: 'GET', url: '/v1/models', headers: auth });
      expect(response.statusCode).toBe(200);
      expect(response.json().data.map((model: { id: string }) => model.id)).toEqual([
        'ollama-model',
        'ollama/ollama-model',
      ]);
    }
    expect(ollama.calls).toHaveLength(1);
    expect(cerebras.calls).toHaveLength(1);
  });

  it("answers 200 with the config's public names alone when every provider is down", async () => {
    const down = {
      listModels: async () => {
        throw new UpstreamTimeoutError('x', 'first_byte');
      },
    };
    const { app } = await appWith({ ollama: down, cerebras: down });
    const response = await app.inject({ method: 'GET', url: '/v1/models', headers: auth });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ object: 'list', data: [] });
  });

  it("shares each provider's listing with /readyz: one upstream call serves both", async () => {
    const { app, ollama, cerebras } = await appWith();
    expect((await app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
    const models = await app.inject({ method: 'GET', url: '/v1/models', headers: auth });
    expect(models.statusCode).toBe(200);
    expect(ollama.calls.filter((call) => call.method === 'listModels')).toHaveLength(1);
    expect(cerebras.calls.filter((call) => call.method === 'listModels')).toHaveLength(1);
  });
});

describe('embeddings routes', () => {
  it('routes /v1/embeddings by model and pins prefixed routes', async () => {
    const { app, ollama, cerebras } = await appWith();
    const routed = await app.inject({
      method: 'POST',
      url: '/v1/embeddings',
      headers: auth,
      payload: { model: 'cerebras/e1', input: 'hi' },
    });
    expect(routed.statusCode).toBe(200);
    expect(routed.json()).toMatchObject({ object: 'list', model: 'e1' });
    expect(cerebras.calls[0]?.request?.model).toBe('e1');
    const pinned = await app.inject({
      method: 'POST',
      url: '/ollama/v1/embeddings',
      headers: auth,
      payload: { model: 'e2', input: ['a', 'b'] },
    });
    expect(pinned.statusCode).toBe(200);
    expect(ollama.calls[0]?.request?.model).toBe('e2');
    const unknown = await app.inject({
      method: 'POST',
      url: '/groq/v1/embeddings',
      headers: auth,
      payload: { model: 'e', input: 'a' },
    });
    expect(unknown.statusCode).toBe(404);
  });

  it.each([
    [{ input: 'a' }, 'model'],
    [{ model: 'e' }, 'input'],
    [{ model: 'e', input: 'a', encoding_format: 'hex' }, 'encoding_format'],
    [{ model: 'e', input: 'a', dimensions: 0 }, 'dimensions'],
  ])('answers %j with 422 naming %s', async (payload, param) => {
    const { app } = await appWith();
    const response = await app.inject({
      method: 'POST',
      url: '/v1/embeddings',
      headers: auth,
      payload,
    });
    expect(response.statusCode).toBe(422);
    expect(expectEnvelope(response.body, 'invalid_request_error', 'validation_error').param).toBe(
      param,
    );
  });
});
