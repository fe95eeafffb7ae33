/**
 * The first run of a cloud-only user: only CEREBRAS_API_KEY is set (no OLLAMA_HOST, no
 * DEFAULT_PROVIDER), so the plain `/v1` routes and /readyz follow Cerebras, not an Ollama that
 * does not run.
 */
import { describe, expect, it } from 'vitest';
import { CLIENT_KEY, useGateway } from '../helpers/gateway-harness.js';

// Blank is unset: Ollama keeps its default address, where nothing answers in these tests.
const gateway = useGateway({ OLLAMA_HOST: '' });

describe('with only a Cerebras key', () => {
  it('serves plain /v1 chat from Cerebras', async () => {
    const completion = await gateway.client().chat.completions.create({
      model: 'llama-3.3-70b',
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(completion.choices[0]?.message.content).toBe('Hello from the fake upstream!');
    expect(gateway.upstream.requests.map((request) => request.path)).toEqual([
      '/v1/chat/completions',
    ]);
  });

  it('is ready whether or not an Ollama answers', async () => {
    const response = await fetch(`${gateway.url}/readyz`, {
      headers: { authorization: `Bearer ${CLIENT_KEY}` },
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      status: 'ready',
      providers: { cerebras: 'ok' },
    });
  });
});
