import { Ollama } from 'ollama';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CLIENT_KEY, type GatewayHarness, startGateway } from '../helpers/gateway-harness.js';
import { rejectionOf } from '../helpers/openai-sdk-helpers.js';

let gateway: GatewayHarness;
let managed: GatewayHarness;
beforeAll(async () => {
  gateway = await startGateway();
  managed = await startGateway({ OLLAMA_ALLOW_MANAGEMENT: 'true' });
});
beforeEach(() => {
  gateway.upstream.reset();
  managed.upstream.reset();
});
afterAll(async () => {
  await gateway.close();
  await managed.close();
});

function client(harness: GatewayHarness, key = CLIENT_KEY): Ollama {
  return new Ollama({
    host: `${harness.url}/ollama`,
    headers: { authorization: `Bearer ${key}` },
  });
}

describe('Ollama native API through the gateway, with the ollama npm client', () => {
  it('lists models and answers a chat, JSON and streamed NDJSON', async () => {
    const ollama = client(gateway);
    const tags = await ollama.list();
    expect(tags.models.map((model) => model.name)).toContain('llama3.2:latest');
    const reply = await ollama.chat({
      model: 'llama3.2',
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(reply.message.content).toBe('Hello from the fake upstream!');
    const parts: string[] = [];
    const stream = await ollama.chat({
      model: 'llama3.2',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
    });
    for await (const part of stream) parts.push(part.message.content);
    expect(parts.join('')).toBe('Hello from the fake upstream!');
    const paths = gateway.upstream.requests.map((request) => `${request.method} ${request.path}`);
    expect(paths).toEqual(['GET /api/tags', 'POST /api/chat', 'POST /api/chat']);
    expect(gateway.upstream.requests[1]?.headers.authorization).toBeUndefined();
    expect(gateway.upstream.requests[1]?.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('relays generate, embed and version', async () => {
    const ollama = client(gateway);
    const embedded = await ollama.embed({ model: 'nomic-embed-text', input: ['a', 'bb'] });
    expect(embedded.embeddings).toEqual([
      [0, 1, 0.5],
      [1, 2, 0.5],
    ]);
    const version = await fetch(`${gateway.url}/ollama/api/version`, {
      headers: { authorization: `Bearer ${CLIENT_KEY}` },
    });
    expect(await version.json()).toEqual({ version: '0.12.0' });
  });

  it('needs the key, like every other route', async () => {
    const error = await rejectionOf(client(gateway, 'wrong-key-123').list());
    // Ollama's clients read `{"error": "…"}`: the native routes answer in that shape.
    expect(error).toMatchObject({ status_code: 401, error: 'Invalid or missing API key.' });
    const bare = await fetch(`${gateway.url}/ollama/api/tags`);
    expect(bare.status).toBe(401);
    expect(gateway.upstream.requests).toHaveLength(0);
  });

  it('refuses model management unless OLLAMA_ALLOW_MANAGEMENT is on', async () => {
    for (const [method, path] of [
      ['POST', '/ollama/api/pull'],
      ['DELETE', '/ollama/api/delete'],
      ['POST', '/ollama/api/create'],
      ['POST', '/ollama/api/copy'],
      ['POST', '/ollama/api/push'],
    ] as const) {
      const response = await fetch(`${gateway.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${CLIENT_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'llama3.2' }),
      });
      expect(response.status, path).toBe(403);
      expect(await response.json()).toEqual({
        error: `Model management (${path.slice('/ollama'.length)}) is disabled on this gateway (OLLAMA_ALLOW_MANAGEMENT).`,
      });
    }
    expect(gateway.upstream.requests).toHaveLength(0);
    const allowed = await fetch(`${managed.url}/ollama/api/pull`, {
      method: 'POST',
      headers: { authorization: `Bearer ${CLIENT_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'llama3.2' }),
    });
    // The fake upstream has no /api/pull: its own 404 is relayed as it is.
    expect(allowed.status).toBe(404);
    expect(managed.upstream.requests.map((request) => request.path)).toEqual(['/api/pull']);
  });

  it('answers a blob path that names no digest with 400, never the upstream failure it caused', async () => {
    // Relayed decoded, `a b` made undici refuse the path: the client got a 502.
    const response = await fetch(`${managed.url}/ollama/api/blobs/a%20b`, {
      method: 'POST',
      headers: { authorization: `Bearer ${CLIENT_KEY}` },
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      error: 'A blob is named by its digest: sha256: (or sha256-) and 64 hexadecimal digits.',
    });
    expect(managed.upstream.requests).toHaveLength(0);
  });

  it('answers unknown native endpoints with 404 without calling the upstream', async () => {
    const response = await fetch(`${gateway.url}/ollama/api/secret-admin`, {
      headers: { authorization: `Bearer ${CLIENT_KEY}` },
    });
    expect(response.status).toBe(404);
    expect(gateway.upstream.requests).toHaveLength(0);
  });

  it('aborts the upstream when the native client goes away mid-stream', async () => {
    gateway.upstream.enqueue({
      headers: { 'content-type': 'application/x-ndjson' },
      chunks: [
        '{"model":"m","created_at":"2025-01-01T00:00:00Z","message":{"role":"assistant","content":"a"},"done":false}\n',
      ],
      end: 'stall',
    });
    const controller = new AbortController();
    const response = await fetch(`${gateway.url}/ollama/api/chat`, {
      method: 'POST',
      signal: controller.signal,
      headers: { authorization: `Bearer ${CLIENT_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hi' }] }),
    });
    const reader = response.body?.getReader();
    await reader?.read();
    controller.abort();
    const aborted = await gateway.upstream.waitForAbort(0, 1_000);
    expect(aborted.aborted).toBe(true);
  });
});
