/** CORS: off by default, exact origins only when on. */
import { describe, expect, it } from 'vitest';
import { appWith, auth } from '../helpers/app-fixture.js';

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
