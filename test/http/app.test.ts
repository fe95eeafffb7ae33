/** buildApp: what the app is built from. */
import { describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { auth } from '../helpers/app-fixture.js';
import { createFakeProvider } from '../helpers/fake-provider.js';

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
