/** Embeddings: routed and pinned, and their schema. */
import { describe, expect, it } from 'vitest';
import { buildApp } from '../../../src/app.js';
import { DEFAULT_RETRY_POLICY } from '../../../src/config/gateway-config.js';
import type { ChatProvider } from '../../../src/providers/provider.js';
import { appWith, auth, expectEnvelope, KEY } from '../../helpers/app-fixture.js';
import { createFakeProvider } from '../../helpers/fake-provider.js';
import { captureLogs } from '../../helpers/log-capture.js';

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

describe('a provider without embeddings (a chat-only vendor)', () => {
  async function setup() {
    const { embeddings: _none, ...chatOnly } = createFakeProvider('chat');
    const full = createFakeProvider('full');
    const logs = captureLogs();
    const app = await buildApp({
      logger: logs.logger,
      providers: new Map<string, ChatProvider>([
        ['chat', chatOnly],
        ['full', full],
      ]),
      apiKeys: [KEY],
      routing: {
        models: [
          {
            name: 'e',
            aliases: [],
            fallbacks: [],
            deployments: [
              { provider: 'chat', model: 'x', weight: 1 },
              { provider: 'full', model: 'y', weight: 0 },
            ],
          },
        ],
        retry: DEFAULT_RETRY_POLICY,
        cooldown: { failureThreshold: 1, cooldownMs: 60_000 },
      },
    });
    const post = (url: string, model: string) =>
      app.inject({ method: 'POST', url, headers: auth, payload: { model, input: 'hi' } });
    return { app, full, post, logs };
  }

  it('answers 404 embeddings_not_supported on its pinned route and for provider/model', async () => {
    const { full, post } = await setup();
    for (const [url, model] of [
      ['/chat/v1/embeddings', 'x'],
      ['/v1/embeddings', 'chat/x'],
    ] as const) {
      const response = await post(url, model);
      expect(response.statusCode).toBe(404);
      const error = expectEnvelope(response.body, 'not_found_error', 'embeddings_not_supported');
      expect(error.param).toBe('model');
      expect(error.message).toContain("'chat'");
    }
    expect(full.calls).toHaveLength(0);
  });

  it('lets a routed model move on to a deployment that has them, and cools nothing down', async () => {
    const { full, post, logs } = await setup();
    for (let round = 0; round < 3; round++) {
      const response = await post('/v1/embeddings', 'e');
      expect(response.statusCode).toBe(200);
      expect(response.headers['x-aigw-deployment']).toBe('full/y');
    }
    expect(full.calls.map((call) => call.request?.model)).toEqual(['y', 'y', 'y']);
    // A cooled-down chat/x (threshold 1) would leave the plan: every request still tried it first.
    const access = logs.entries().filter((entry) => entry.msg === 'request completed');
    expect(access.map((entry) => entry.attempts)).toEqual([2, 2, 2]);
  });
});
