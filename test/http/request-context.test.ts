/** The request context: request ids, the headers every response carries, and the access line. */
import { describe, expect, it } from 'vitest';
import { appWith, auth, chatBody, KEY } from '../helpers/app-fixture.js';
import { captureLogs } from '../helpers/log-capture.js';

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
