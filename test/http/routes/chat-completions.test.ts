/** Chat completions: routed and pinned, JSON and SSE, and how a stream starts and ends. */
import { describe, expect, it, vi } from 'vitest';
import { buildApp } from '../../../src/app.js';
import {
  DEFAULT_COOLDOWN_POLICY,
  DEFAULT_RETRY_POLICY,
} from '../../../src/config/gateway-config.js';
import { UpstreamError, UpstreamTimeoutError } from '../../../src/errors/gateway-error.js';
import { appWith, auth, chatBody, expectEnvelope, KEY } from '../../helpers/app-fixture.js';
import { chunks, completion, createFakeProvider, streamOf } from '../../helpers/fake-provider.js';

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

describe('a deployment at its concurrency cap', () => {
  it('answers 429 deployments_busy naming the deployment, pinned or routed', async () => {
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const ollama = createFakeProvider('ollama', {
      chat: async (request) => {
        await held;
        return completion(request.model);
      },
    });
    const app = await buildApp({
      providers: new Map([['ollama', ollama]]),
      apiKeys: [KEY],
      routing: {
        models: [
          {
            name: 'm',
            aliases: [],
            fallbacks: [],
            deployments: [{ provider: 'ollama', model: 'llama3', weight: 1, maxConcurrent: 1 }],
          },
        ],
        retry: DEFAULT_RETRY_POLICY,
        cooldown: DEFAULT_COOLDOWN_POLICY,
      },
    });
    const pinned = { method: 'POST', url: '/ollama/v1/chat/completions', headers: auth } as const;
    const first = app.inject({ ...pinned, payload: { ...chatBody, model: 'llama3' } });
    await vi.waitFor(() => expect(ollama.calls).toHaveLength(1));
    for (const request of [
      { ...pinned, payload: { ...chatBody, model: 'llama3' } },
      { ...pinned, url: '/v1/chat/completions', payload: { ...chatBody, model: 'm' } },
    ]) {
      const busy = await app.inject(request);
      expect(busy.statusCode, request.url).toBe(429);
      expect(busy.headers['retry-after']).toBe('1');
      const error = expectEnvelope(busy.body, 'rate_limit_error', 'deployments_busy');
      expect(error.message).toBe(
        'The deployment ollama/llama3 is at its concurrency limit; retry shortly.',
      );
    }
    release();
    expect((await first).statusCode).toBe(200);
  });
});
