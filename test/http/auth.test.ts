/** The api-key-auth hook: which keys get in, from where, and what a refusal looks like. */
import { describe, expect, it } from 'vitest';
import { appWith, auth, chatBody, expectEnvelope, KEY } from '../helpers/app-fixture.js';
import { captureLogs } from '../helpers/log-capture.js';

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
