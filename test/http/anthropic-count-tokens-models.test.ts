/** `POST /v1/messages/count_tokens`, and `GET /v1/models` in Anthropic's format for its clients. */
import { describe, expect, it } from 'vitest';
import { appWith, auth, KEY } from '../helpers/app-fixture.js';

const headers = { 'x-api-key': KEY, 'anthropic-version': '2023-06-01' };
const messages = [{ role: 'user', content: 'hi' }];

describe('count_tokens', () => {
  it('estimates on the routed and the pinned routes, without max_tokens and without an upstream call', async () => {
    const { app, ollama, cerebras } = await appWith();
    for (const url of [
      '/v1/messages/count_tokens?beta=true',
      '/cerebras/v1/messages/count_tokens',
    ]) {
      const response = await app.inject({
        method: 'POST',
        url,
        headers,
        payload: { model: 'm1', messages, system: 'You are terse.' },
      });
      expect(response.statusCode).toBe(200);
      // 'You are terse.' and 'hi': 16 characters, 4 per token.
      expect(response.json()).toEqual({ input_tokens: 4 });
    }
    expect([...ollama.calls, ...cerebras.calls]).toHaveLength(0);
  });

  it('grows with the prompt', async () => {
    const { app } = await appWith();
    const count = async (content: string) =>
      (
        await app.inject({
          method: 'POST',
          url: '/v1/messages/count_tokens',
          headers,
          payload: { model: 'm1', messages: [{ role: 'user', content }] },
        })
      ).json().input_tokens as number;
    expect(await count('hello '.repeat(100))).toBeGreaterThan(await count('hello'));
  });

  it('refuses a request without messages with a 400 in Anthropic’s body', async () => {
    const { app } = await appWith();
    const response = await app.inject({
      method: 'POST',
      url: '/ollama/v1/messages/count_tokens',
      headers,
      payload: { model: 'm1' },
    });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({
      type: 'error',
      error: { type: 'invalid_request_error' },
    });
  });
});

describe('GET /v1/models', () => {
  it('answers in Anthropic’s list format when anthropic-version is sent, routed and pinned', async () => {
    const { app } = await appWith();
    const pinned = await app.inject({ method: 'GET', url: '/cerebras/v1/models', headers });
    expect(pinned.json()).toEqual({
      data: [
        {
          type: 'model',
          id: 'cerebras-model',
          display_name: 'cerebras-model',
          created_at: '1970-01-01T00:00:01.000Z',
        },
      ],
      has_more: false,
      first_id: 'cerebras-model',
      last_id: 'cerebras-model',
    });
    const routed = await app.inject({ method: 'GET', url: '/v1/models', headers });
    const ids = (routed.json().data as { id: string }[]).map((model) => model.id);
    expect(ids).toEqual(['ollama-model', 'ollama/ollama-model', 'cerebras/cerebras-model']);
    expect(routed.json()).toMatchObject({
      first_id: 'ollama-model',
      last_id: 'cerebras/cerebras-model',
    });
  });

  it('keeps the OpenAI format without it', async () => {
    const { app } = await appWith();
    const response = await app.inject({ method: 'GET', url: '/v1/models', headers: auth });
    expect(response.json()).toMatchObject({ object: 'list' });
  });
});
