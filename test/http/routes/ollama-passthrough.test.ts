import { describe, expect, it } from 'vitest';
import { buildApp } from '../../../src/app.js';
import { createFakeNativeProvider } from '../../helpers/fake-provider.js';

const KEY = 'passthrough-key-0123456789';
const DIGEST = 'ab'.repeat(32);

/** A gateway whose Ollama has a native API that records what it relays. */
async function appWith(allowManagement: boolean) {
  const { provider: ollama, relayed } = createFakeNativeProvider('ollama');
  const app = await buildApp({
    providers: new Map([['ollama', ollama]]),
    apiKeys: [KEY],
    ollamaAllowManagement: allowManagement,
  });
  const send = (method: 'HEAD' | 'POST', url: string) =>
    app.inject({ method, url, headers: { authorization: `Bearer ${KEY}` } });
  return { send, relayed };
}

describe('Ollama blobs through the native API', () => {
  it.each([`sha256:${DIGEST}`, `sha256-${DIGEST.toUpperCase()}`])(
    'relays a blob named by its digest (%s)',
    async (digest) => {
      const { send, relayed } = await appWith(true);
      for (const method of ['HEAD', 'POST'] as const) {
        const response = await send(method, `/ollama/api/blobs/${digest}`);
        expect(response.statusCode, method).toBe(200);
      }
      expect(relayed.map((request) => `${request.method} ${request.path}`)).toEqual([
        `HEAD /api/blobs/${digest}`,
        `POST /api/blobs/${digest}`,
      ]);
    },
  );

  it.each([
    '/ollama/api/blobs/a%20b',
    '/ollama/api/blobs/100%25',
    `/ollama/api/blobs/sha256:${DIGEST.slice(1)}`,
    `/ollama/api/blobs/sha512:${DIGEST}`,
    `/ollama/api/blobs/sha256:${DIGEST}%20`,
    `/ollama/api/blobs/sha256:${DIGEST.slice(2)}%C3%A9`,
  ])(
    "answers %s, which names no digest, with 400 in Ollama's shape, relaying nothing",
    async (url) => {
      const { send, relayed } = await appWith(true);
      const response = await send('POST', url);
      expect(response.statusCode).toBe(400);
      expect(response.json()).toEqual({
        error: 'A blob is named by its digest: sha256: (or sha256-) and 64 hexadecimal digits.',
      });
      expect(relayed).toEqual([]);
    },
  );

  it('refuses blobs with 403 while model management is off, whatever the name', async () => {
    const { send, relayed } = await appWith(false);
    for (const url of [`/ollama/api/blobs/sha256:${DIGEST}`, '/ollama/api/blobs/a%20b']) {
      const response = await send('POST', url);
      expect(response.statusCode, url).toBe(403);
    }
    expect(relayed).toEqual([]);
  });
});
