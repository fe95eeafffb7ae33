import { describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { UpstreamTimeoutError } from '../../src/errors/gateway-error.js';
import { createGatewayMetrics } from '../../src/metrics/gateway-metrics.js';
import { createFakeProvider } from '../helpers/fake-provider.js';

const KEY = 'metrics-key-0123456789';
const auth = { authorization: `Bearer ${KEY}` };
const chatBody = { model: 'm1', messages: [{ role: 'user', content: 'hi' }] };

async function appWithMetrics() {
  const metrics = createGatewayMetrics({ collectDefaultMetrics: false });
  const ollama = createFakeProvider('ollama', {
    chat: async (request) => {
      if (request.model === 'slow-fail') throw new UpstreamTimeoutError('ollama', 'first_byte');
      return {
        id: 'c',
        object: 'chat.completion',
        created: 1,
        model: request.model,
        choices: [
          { index: 0, message: { role: 'assistant', content: 'x' }, finish_reason: 'stop' },
        ],
        usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 },
      };
    },
  });
  const app = await buildApp({ providers: new Map([['ollama', ollama]]), apiKeys: [KEY], metrics });
  return { app, metrics };
}

/** The value of the one sample line of `name` whose labels include every `labels` pair. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  const line = text
    .split('\n')
    .find(
      (candidate) =>
        candidate.startsWith(`${name}{`) &&
        Object.entries(labels).every(([key, value]) => candidate.includes(`${key}="${value}"`)),
    );
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe('metrics recorded by the app', () => {
  it('counts requests by route, provider, model and status, with tokens and durations', async () => {
    const { app, metrics } = await appWithMetrics();
    for (let index = 0; index < 2; index++) {
      await app.inject({
        method: 'POST',
        url: '/v1/chat/completions',
        headers: auth,
        payload: chatBody,
      });
    }
    await app.inject({
      method: 'POST',
      url: '/v1/chat/completions',
      headers: auth,
      payload: { ...chatBody, model: 'slow-fail' },
    });
    await app.inject({ method: 'GET', url: '/v1/models', headers: { authorization: 'Bearer no' } });
    const text = await metrics.render();
    const route = '/v1/chat/completions';
    expect(sample(text, 'aigw_requests_total', { route, model: 'm1', status: '200' })).toBe(2);
    expect(
      sample(text, 'aigw_requests_total', { route, status: '504', error_code: 'upstream_timeout' }),
    ).toBe(1);
    expect(sample(text, 'aigw_requests_total', { route: '/v1/models', status: '401' })).toBe(1);
    expect(sample(text, 'aigw_tokens_total', { model: 'm1', direction: 'prompt' })).toBe(6);
    expect(sample(text, 'aigw_tokens_total', { model: 'm1', direction: 'completion' })).toBe(4);
    expect(
      sample(text, 'aigw_upstream_errors_total', { provider: 'ollama', code: 'upstream_timeout' }),
    ).toBe(1);
    expect(sample(text, 'aigw_request_duration_seconds_count', { route })).toBe(3);
    expect(
      sample(text, 'aigw_upstream_attempts_total', { provider: 'ollama', outcome: 'ok' }),
    ).toBe(2);
    expect(text).toMatch(/^aigw_requests_in_flight 0$/m);
    expect(text).not.toContain(KEY);
  });

  it('times the first streamed chunk and returns the stream gauge to zero', async () => {
    const { app, metrics } = await appWithMetrics();
    const response = await app.inject({
      method: 'POST',
      url: '/v1/chat/completions',
      headers: auth,
      payload: { ...chatBody, stream: true },
    });
    expect(response.body).toContain('[DONE]');
    const text = await metrics.render();
    expect(sample(text, 'aigw_time_to_first_token_seconds_count', { model: 'm1' })).toBe(1);
    expect(sample(text, 'aigw_request_duration_seconds_count', { streamed: 'true' })).toBe(1);
    expect(text).toMatch(/^aigw_streams_in_flight 0$/m);
  });
});
