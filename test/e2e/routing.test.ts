/**
 * Model routing over loopback against several fake upstreams: public names and aliases, weights,
 * fallbacks when a deployment is dead or failing, no retry once the client got a byte, retry-after,
 * and cooldown with recovery.
 */
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import type {
  CooldownPolicy,
  GatewayConfig,
  ModelConfig,
  ProviderConfig,
  RetryPolicy,
} from '../../src/config/gateway-config.js';
import { createProviders, type ProviderRegistry } from '../../src/providers/registry.js';
import { type FakeUpstream, startFakeUpstream } from '../helpers/fake-upstream.js';
import {
  DEFAULT_REPLY,
  openAiSseEvents,
  sseEvent,
  sseResponse,
} from '../helpers/fake-upstream-wire.js';
import { captureLogs, type LogCapture } from '../helpers/log-capture.js';
import { rejectionOf } from '../helpers/openai-sdk-helpers.js';
import { chatBody, postChat, readSseEvents } from '../helpers/sse-client.js';
import { unusedPort } from '../helpers/unused-port.js';

const KEY = 'routing-key-0123456789';
const timeouts = { connectTimeoutMs: 1_000, firstByteTimeoutMs: 3_000, idleTimeoutMs: 3_000 };
const retry: RetryPolicy = {
  maxAttempts: 2,
  initialBackoffMs: 10,
  maxBackoffMs: 20,
  maxRetryAfterMs: 2_000,
  budgetMs: 5_000,
};
const cooldown: CooldownPolicy = { failureThreshold: 2, cooldownMs: 400 };

interface Setup {
  readonly a: FakeUpstream;
  readonly b: FakeUpstream;
  readonly url: string;
  readonly client: OpenAI;
  readonly logs: LogCapture;
  readonly close: () => Promise<void>;
}

let setup: Setup | undefined;
afterEach(async () => {
  await setup?.close();
  setup = undefined;
});

function provider(name: string, upstream: FakeUpstream | string): ProviderConfig {
  const baseUrl = typeof upstream === 'string' ? upstream : `${upstream.url}/v1`;
  return { name, kind: 'openai-compatible', baseUrl, headers: {}, timeouts };
}

/** Providers `a` and `b` (two fake upstreams) and whatever models the test declares. */
async function start(
  models: (a: string, b: string) => ModelConfig[],
  deadA = false,
): Promise<Setup> {
  const a = await startFakeUpstream();
  const b = await startFakeUpstream();
  const aUrl = deadA ? `http://127.0.0.1:${await unusedPort()}/v1` : `${a.url}/v1`;
  const config: GatewayConfig = {
    providers: [provider('a', aUrl), provider('b', b)],
    models: models('a', 'b'),
    prices: new Map(),
    defaultProvider: 'a',
    retry,
    cooldown,
  };
  const registry: ProviderRegistry = createProviders(config);
  const logs = captureLogs();
  const app: FastifyInstance = await buildApp({
    logger: logs.logger,
    providers: registry.providers,
    defaultProvider: 'a',
    apiKeys: [KEY],
    routing: { models: config.models, retry, cooldown },
    random: () => 0.5,
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  const client = new OpenAI({ apiKey: KEY, baseURL: `${url}/v1`, maxRetries: 0, timeout: 5_000 });
  setup = {
    a,
    b,
    url,
    client,
    logs,
    close: async () => {
      await app.close();
      await registry.close();
      await Promise.all([a.close(), b.close()]);
    },
  };
  return setup;
}

const model = (
  name: string,
  deployments: [string, string, number?][],
  extra: Partial<ModelConfig> = {},
): ModelConfig => ({
  name,
  aliases: [],
  fallbacks: [],
  deployments: deployments.map(([providerName, upstreamModel, weight]) => ({
    provider: providerName,
    model: upstreamModel,
    weight: weight ?? 1,
  })),
  ...extra,
});

async function chat(client: OpenAI, name: string) {
  const { data, response } = await client.chat.completions
    .create({ model: name, messages: [{ role: 'user', content: 'hi' }] })
    .withResponse();
  return { completion: data, deployment: response.headers.get('x-aigw-deployment') };
}

describe('routing by public model name', () => {
  it('serves a public name and its alias from the deployment, naming it in a header', async () => {
    const { a, client } = await start((p) => [
      model('fast', [[p, 'upstream-llama']], { aliases: ['quick'] }),
    ]);
    for (const name of ['fast', 'quick']) {
      const { completion, deployment } = await chat(client, name);
      expect(completion.choices[0]?.message.content).toBe(DEFAULT_REPLY);
      expect(deployment).toBe('a/upstream-llama');
    }
    expect(a.requests.map((request) => (request.json as { model: string }).model)).toEqual([
      'upstream-llama',
      'upstream-llama',
    ]);
    const listed = await client.models.list();
    expect(listed.data.slice(0, 2).map((entry) => entry.id)).toEqual(['fast', 'quick']);
  });

  it('balances by weight (3:1 over 8 requests)', async () => {
    const { a, b, client } = await start((pa, pb) => [
      model('m', [
        [pa, 'm-a', 3],
        [pb, 'm-b', 1],
      ]),
    ]);
    for (let index = 0; index < 8; index++) await chat(client, 'm');
    expect([a.requests.length, b.requests.length]).toEqual([6, 2]);
  });

  it('serves from the next deployment when the first cannot be reached', async () => {
    const { b, client } = await start(
      (pa, pb) => [
        model('m', [
          [pa, 'm-a', 10],
          [pb, 'm-b', 1],
        ]),
      ],
      true,
    );
    const { deployment } = await chat(client, 'm');
    expect(deployment).toBe('b/m-b');
    expect(b.requests).toHaveLength(1);
  });

  it('falls back to another model on a 5xx, without retrying the failed deployment', async () => {
    const { a, b, client, logs } = await start((pa, pb) => [
      model('primary', [[pa, 'p']], { fallbacks: ['backup'] }),
      model('backup', [[pb, 'q']]),
    ]);
    a.enqueue({ status: 500, body: { error: { message: 'boom' } } });
    const { deployment } = await chat(client, 'primary');
    expect(deployment).toBe('b/q');
    expect([a.requests.length, b.requests.length]).toEqual([1, 1]);
    // The failed attempt is logged on its own; the access line names who served, after how many.
    const entries = logs.entries();
    const failed = entries.find((entry) => entry.msg === 'upstream attempt failed');
    expect(failed).toMatchObject({ deployment: 'a/p', attempt: 1, outcome: 'upstream_error' });
    expect(typeof failed?.requestId).toBe('string');
    const access = entries.find((entry) => entry.msg === 'request completed');
    expect(access).toMatchObject({ deployment: 'b/q', attempts: 2, status: 200, model: 'primary' });
    expect(access?.requestId).toBe(failed?.requestId);
  });

  it('falls back when a stream fails before its first chunk', async () => {
    const { a, b, url } = await start((pa, pb) => [
      model('m', [
        [pa, 'm-a', 5],
        [pb, 'm-b', 1],
      ]),
    ]);
    a.enqueue(sseResponse([sseEvent({ error: { message: 'model failed to load' } })]));
    const response = await postChat(url, '/v1/chat/completions', chatBody(true, 'hi', 'm'), {
      apiKey: KEY,
    });
    expect(response.headers.get('x-aigw-deployment')).toBe('b/m-b');
    const events = await readSseEvents(response);
    expect(events.at(-1)?.data).toBe('[DONE]');
    expect([a.requests.length, b.requests.length]).toEqual([1, 1]);
  });

  it('never retries once the client got a byte: the stream ends with an error event', async () => {
    const { a, b, url } = await start((pa, pb) => [
      model('m', [
        [pa, 'm-a', 5],
        [pb, 'm-b', 1],
      ]),
    ]);
    const [first = ''] = openAiSseEvents(['Hel', 'lo']);
    a.enqueue({ ...sseResponse([first]), end: 'close' });
    const response = await postChat(url, '/v1/chat/completions', chatBody(true, 'hi', 'm'), {
      apiKey: KEY,
    });
    const events = await readSseEvents(response);
    expect(events.map((event) => event.data)).not.toContain('[DONE]');
    expect(JSON.parse(events.at(-1)?.data ?? '{}')).toMatchObject({
      error: { code: 'upstream_error' },
    });
    expect([a.requests.length, b.requests.length]).toEqual([1, 0]);
  });

  it("honours the upstream's retry-after before retrying the same deployment", async () => {
    const { a, client } = await start((pa) => [model('m', [[pa, 'm-a']])]);
    a.enqueue({
      status: 429,
      headers: { 'retry-after': '1' },
      body: { error: { message: 'slow down' } },
    });
    const started = performance.now();
    const { deployment } = await chat(client, 'm');
    expect(deployment).toBe('a/m-a');
    expect(performance.now() - started).toBeGreaterThan(900);
    expect(a.requests).toHaveLength(2);
  });

  it('cools a failing deployment down, then probes it and takes it back', async () => {
    const { a, b, client } = await start((pa, pb) => [
      model('m', [
        [pa, 'm-a', 100],
        [pb, 'm-b', 1],
      ]),
    ]);
    a.enqueue(
      { status: 500, body: { error: { message: 'x' } } },
      { status: 500, body: { error: { message: 'x' } } },
    );
    // Two failures (threshold 2), each served by b.
    expect((await chat(client, 'm')).deployment).toBe('b/m-b');
    expect((await chat(client, 'm')).deployment).toBe('b/m-b');
    expect(a.requests).toHaveLength(2);
    // Cooling: a is not even tried.
    expect((await chat(client, 'm')).deployment).toBe('b/m-b');
    expect([a.requests.length, b.requests.length]).toEqual([2, 3]);
    // After the cooldown a probe reaches a, which now answers, and takes traffic again.
    await new Promise((resolve) => setTimeout(resolve, 450));
    expect((await chat(client, 'm')).deployment).toBe('a/m-a');
    expect((await chat(client, 'm')).deployment).toBe('a/m-a');
  });

  it('does not cool down on a request error, and does not fall back on it', async () => {
    const { a, b, client } = await start((pa, pb) => [
      model('m', [
        [pa, 'm-a', 100],
        [pb, 'm-b', 1],
      ]),
    ]);
    for (let index = 0; index < 3; index++) {
      a.enqueue({ status: 400, body: { error: { message: 'bad temperature' } } });
      const error = await rejectionOf(
        client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'x' }] }),
      );
      expect(error).toMatchObject({ status: 400, code: 'upstream_bad_request' });
    }
    expect(b.requests).toHaveLength(0);
    expect((await chat(client, 'm')).deployment).toBe('a/m-a');
  });

  it('names each deployment tried and why when every attempt failed', async () => {
    const { b, url } = await start(
      (pa, pb) => [
        model('m', [
          [pa, 'm-a', 10],
          [pb, 'm-b', 1],
        ]),
      ],
      true,
    );
    // a refuses connections (retried, then left); b asks for longer than max_retry_after_ms.
    b.enqueue({ status: 429, headers: { 'retry-after': '30' }, body: { error: { message: 'x' } } });
    const response = await postChat(url, '/v1/chat/completions', chatBody(false, 'hi', 'm'), {
      apiKey: KEY,
    });
    expect(response.status).toBe(429);
    expect(response.headers.get('retry-after')).toBe('30');
    expect(await response.json()).toMatchObject({
      error: {
        type: 'rate_limit_error',
        code: 'upstream_rate_limited',
        message:
          'The b upstream is rate limiting requests; retry later. ' +
          'Tried: a/m-a (upstream_unreachable ×2), b/m-b (upstream_rate_limited).',
      },
    });
    expect(b.requests).toHaveLength(1);
  });
});
