/**
 * The pinned routes (`/ollama/v1/...`, `/cerebras/v1/...`) retry like routed models, on their own
 * provider only: 429, 502, 503, 504 and connections never made are tried again before the first
 * byte, within the budget and `retry-after`; nothing else is. Each case runs on both providers
 * (Ollama's NDJSON, Cerebras' SSE), streaming and not, over loopback, with the fake upstream
 * counting the attempts. The policy's backoff is short and its budget 3 s to keep the file fast.
 */
import type { AddressInfo } from 'node:net';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import type {
  GatewayConfig,
  ProviderConfig,
  RetryPolicy,
} from '../../src/config/gateway-config.js';
import { createProviders } from '../../src/providers/registry.js';
import {
  type FakeResponse,
  type FakeUpstream,
  type RecordedRequest,
  startFakeUpstream,
} from '../helpers/fake-upstream.js';
import { defaultFakeResponse } from '../helpers/fake-upstream-defaults.js';
import { partialStream, streamedAs, type WireProvider } from '../helpers/fake-upstream-wire.js';
import { captureLogs, type LogCapture } from '../helpers/log-capture.js';
import { chatBody, eventPayloads, postChat, readSseEvents } from '../helpers/sse-client.js';
import { unusedPort } from '../helpers/unused-port.js';

const KEY = 'pinned-retries-key-0123456789';
const RETRY: RetryPolicy = {
  maxAttempts: 2,
  initialBackoffMs: 50,
  maxBackoffMs: 100,
  // Above the budget, so a wait can be honoured by the cap and still not fit the budget.
  maxRetryAfterMs: 10_000,
  budgetMs: 3_000,
};
const IDLE_MS = 300;
/** A 429 or 503 that asks for longer than this is answered at once: well under any wait asked. */
const PROMPT_MS = 1_000;

type Provider = WireProvider;
const PROVIDERS: readonly Provider[] = ['ollama', 'cerebras'];
/** The model each route is called with, as sent upstream and named in the error. */
const MODELS: Readonly<Record<Provider, string>> = {
  ollama: 'llama3.2',
  cerebras: 'llama-3.3-70b',
};

interface Gateway {
  readonly url: string;
  readonly upstream: FakeUpstream;
  readonly logs: LogCapture;
  close(): Promise<void>;
}

/** A gateway with an `ollama` and a `cerebras` provider, both at `baseUrl` (the fake or nothing). */
async function startPinnedGateway(upstream: FakeUpstream, baseUrl: string): Promise<Gateway> {
  const timeouts = { connectTimeoutMs: 1_000, firstByteTimeoutMs: 3_000, idleTimeoutMs: IDLE_MS };
  const providers: ProviderConfig[] = [
    { name: 'ollama', kind: 'ollama', baseUrl, headers: {}, timeouts },
    {
      name: 'cerebras',
      kind: 'cerebras',
      baseUrl: `${baseUrl}/v1`,
      apiKey: 'csk-pinned-retries',
      headers: {},
      timeouts,
    },
  ];
  const cooldown = { failureThreshold: 3, cooldownMs: 30_000 };
  const config: GatewayConfig = {
    providers,
    models: [],
    prices: new Map(),
    defaultProvider: 'ollama',
    retry: RETRY,
    cooldown,
  };
  const registry = createProviders(config);
  const logs = captureLogs();
  const app = await buildApp({
    logger: logs.logger,
    providers: registry.providers,
    defaultProvider: 'ollama',
    apiKeys: [KEY],
    routing: { models: [], retry: RETRY, cooldown },
    random: () => 0.5,
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  return {
    url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`,
    upstream,
    logs,
    async close() {
      await app.close();
      await registry.close();
    },
  };
}

/** A failed answer in the provider's own error shape. */
function failure(
  provider: Provider,
  status: number,
  headers: Record<string, string> = {},
): FakeResponse {
  const body = provider === 'ollama' ? { error: 'busy' } : { error: { message: 'busy' } };
  return { status, headers, body };
}

const PARTIAL_JSON = '{"id":"chatcmpl-cut","object":"chat.completion","choices":[{"index":0,';

/** An HTTP date (whole seconds, as the format has them) at least `minimumMs` from now. */
function httpDate(minimumMs: number): string {
  return new Date(Math.ceil((Date.now() + minimumMs) / 1000) * 1000).toUTCString();
}

/** What the client must see. */
type Expected =
  | { readonly kind: 'ok' }
  | {
      readonly kind: 'envelope';
      readonly status: number;
      readonly code: string;
      readonly retryAfter?: string | RegExp;
      /** The error names the deployment tried and its outcomes: `(upstream_unavailable ×2)`. */
      readonly tried?: string;
    }
  | { readonly kind: 'event'; readonly code: string };

interface Case {
  readonly name: string;
  /** The scripted answers, in order; later attempts get the fake's default (a success). */
  readonly script: (provider: Provider, stream: boolean) => FakeResponse[];
  readonly expected: Expected;
  /** Upstream requests for one client request. */
  readonly attempts: number;
  /** The answer comes no sooner than this after the request (an honoured wait). */
  readonly waitsMs?: number;
  /** The answer comes at once (no wait for a retry-after that does not fit). */
  readonly prompt?: boolean;
  /** Only for this mode. */
  readonly stream?: boolean;
}

const ok: Expected = { kind: 'ok' };

const CASES: readonly Case[] = [
  {
    name: '429 then success: retried after the backoff',
    script: (provider) => [failure(provider, 429)],
    expected: ok,
    attempts: 2,
  },
  {
    name: '429 asking for longer than the budget: relayed at once',
    script: (provider) => [failure(provider, 429, { 'retry-after': '5' })],
    expected: { kind: 'envelope', status: 429, code: 'upstream_rate_limited', retryAfter: '5' },
    attempts: 1,
    prompt: true,
  },
  {
    name: 'retry-after as an HTTP date within the budget: honoured',
    script: (provider) => [failure(provider, 429, { 'retry-after': httpDate(500) })],
    expected: ok,
    attempts: 2,
    waitsMs: 500,
  },
  {
    name: 'retry-after as an HTTP date an hour away: relayed at once, in seconds',
    script: (provider) => [failure(provider, 429, { 'retry-after': httpDate(3_600_000) })],
    expected: {
      kind: 'envelope',
      status: 429,
      code: 'upstream_rate_limited',
      retryAfter: /^(3599|3600|3601)$/,
    },
    attempts: 1,
    prompt: true,
  },
  {
    name: 'retry-after-ms within the budget: honoured to the millisecond',
    script: (provider) => [failure(provider, 429, { 'retry-after-ms': '400' })],
    expected: ok,
    attempts: 2,
    waitsMs: 400,
  },
  {
    name: 'retry-after-ms beyond the budget: relayed at once in whole seconds',
    script: (provider) => [failure(provider, 429, { 'retry-after-ms': '4200' })],
    expected: { kind: 'envelope', status: 429, code: 'upstream_rate_limited', retryAfter: '5' },
    attempts: 1,
    prompt: true,
  },
  {
    name: '503 twice: 503 with the retry-after, naming the attempts',
    script: (provider) => [failure(provider, 503), failure(provider, 503, { 'retry-after': '2' })],
    expected: {
      kind: 'envelope',
      status: 503,
      code: 'upstream_unavailable',
      retryAfter: '2',
      tried: 'upstream_unavailable ×2',
    },
    attempts: 2,
    // The last attempt's retry-after is for the client: the gateway does not sit it out first.
    prompt: true,
  },
  {
    name: '502 then success: retried',
    script: (provider) => [failure(provider, 502)],
    expected: ok,
    attempts: 2,
  },
  {
    name: '504 then success: retried',
    script: (provider) => [failure(provider, 504)],
    expected: ok,
    attempts: 2,
  },
  {
    name: '400: not retried',
    script: (provider) => [failure(provider, 400)],
    expected: { kind: 'envelope', status: 400, code: 'upstream_bad_request' },
    attempts: 1,
  },
  {
    name: '500: not retried',
    script: (provider) => [failure(provider, 500)],
    expected: { kind: 'envelope', status: 502, code: 'upstream_error' },
    attempts: 1,
  },
  {
    name: 'idle timeout after the headers: not retried',
    script: (provider, stream) => [
      stream
        ? streamedAs(provider, [], { end: 'stall' })
        : {
            headers: { 'content-type': 'application/json' },
            chunks: [PARTIAL_JSON],
            end: 'stall',
          },
    ],
    expected: { kind: 'envelope', status: 504, code: 'upstream_timeout' },
    attempts: 1,
  },
  {
    name: 'body cut after the headers: not retried',
    script: () => [
      { headers: { 'content-type': 'application/json' }, chunks: [PARTIAL_JSON], end: 'close' },
    ],
    expected: { kind: 'envelope', status: 502, code: 'upstream_error' },
    attempts: 1,
    stream: false,
  },
  {
    name: 'failure after the first chunk: an in-stream error, not retried',
    script: (provider) => [streamedAs(provider, partialStream(provider), { end: 'close' })],
    expected: { kind: 'event', code: 'upstream_error' },
    attempts: 1,
    stream: true,
  },
];

const TABLE = PROVIDERS.flatMap((provider) =>
  [false, true].flatMap((stream) =>
    CASES.filter((entry) => entry.stream === undefined || entry.stream === stream).map((entry) => ({
      ...entry,
      provider,
      stream,
    })),
  ),
);

describe('pinned routes retry on their own provider', () => {
  let gateway: Gateway;
  /** Scripted answers by marker: concurrent tests each find their own, whatever the order. */
  const scripts = new Map<string, FakeResponse[]>();
  const respond = (request: RecordedRequest): FakeResponse => {
    const marker = [...scripts.keys()].find((key) => request.body.includes(`"${key}"`));
    const next = marker === undefined ? undefined : scripts.get(marker)?.shift();
    return next ?? defaultFakeResponse(request);
  };
  /** Scripts `marker`; one responder per request it may make, so no other test runs short. */
  const script = (marker: string, answers: FakeResponse[], requests: number): void => {
    scripts.set(marker, answers);
    gateway.upstream.enqueue(...Array.from({ length: requests + 1 }, () => respond));
  };
  const attemptsOf = (marker: string) =>
    gateway.upstream.requests.filter((request) => request.body.includes(`"${marker}"`)).length;

  beforeAll(async () => {
    const upstream = await startFakeUpstream();
    gateway = await startPinnedGateway(upstream, upstream.url);
  });
  afterAll(async () => {
    await gateway?.close();
    await gateway?.upstream.close();
  });

  // Concurrent: the waits and timeouts would add up one after another.
  it.concurrent.each(TABLE)('$provider (stream: $stream): $name', async (entry) => {
    const { provider, stream, expected } = entry;
    const marker = `pinned-${provider}-${stream}-${entry.name}`;
    script(marker, entry.script(provider, stream), entry.attempts);
    const started = performance.now();
    const response = await postChat(
      gateway.url,
      `/${provider}/v1/chat/completions`,
      chatBody(stream, marker, MODELS[provider]),
      { apiKey: KEY },
    );
    const elapsed = performance.now() - started;
    if (expected.kind === 'ok') {
      expect(response.status).toBe(200);
      expect(response.headers.get('x-aigw-deployment')).toBe(`${provider}/${MODELS[provider]}`);
      if (stream) expect((await readSseEvents(response)).at(-1)?.data).toBe('[DONE]');
      else expect(await response.json()).toMatchObject({ object: 'chat.completion' });
    } else if (expected.kind === 'envelope') {
      const body = (await response.json()) as { error: { code: string; message: string } };
      expect({ status: response.status, code: body.error.code }).toEqual({
        status: expected.status,
        code: expected.code,
      });
      const retryAfter = response.headers.get('retry-after');
      if (expected.retryAfter === undefined) expect(retryAfter).toBeNull();
      else expect(retryAfter).toMatch(expected.retryAfter);
      if (expected.tried !== undefined) {
        expect(body.error.message).toContain(
          `Tried: ${provider}/${MODELS[provider]} (${expected.tried}).`,
        );
      }
    } else {
      expect(response.status).toBe(200);
      const events = await readSseEvents(response);
      expect(events.map((event) => event.data)).not.toContain('[DONE]');
      expect(eventPayloads(events).at(-1)).toMatchObject({ error: { code: expected.code } });
    }
    expect(attemptsOf(marker)).toBe(entry.attempts);
    if (entry.waitsMs !== undefined) expect(elapsed).toBeGreaterThanOrEqual(entry.waitsMs - 20);
    if (entry.prompt === true) expect(elapsed).toBeLessThan(PROMPT_MS);
  });

  it.concurrent.each(PROVIDERS)('%s embeddings: 429 then success is retried', async (provider) => {
    const marker = `embed-ok-${provider}`;
    script(marker, [failure(provider, 429)], 2);
    const response = await postChat(
      gateway.url,
      `/${provider}/v1/embeddings`,
      { model: MODELS[provider], input: marker },
      { apiKey: KEY },
    );
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ object: 'list' });
    expect(attemptsOf(marker)).toBe(2);
  });

  it.concurrent.each(PROVIDERS)('%s embeddings: 503 twice is a 503', async (provider) => {
    const marker = `embed-503-${provider}`;
    const answers = [failure(provider, 503), failure(provider, 503, { 'retry-after': '1' })];
    script(marker, answers, 2);
    // The SDK as a client, its own retries off: it sees the 503 and the retry-after.
    const client = new OpenAI({
      apiKey: KEY,
      baseURL: `${gateway.url}/${provider}/v1`,
      maxRetries: 0,
      timeout: 5_000,
    });
    const error = await client.embeddings
      .create({ model: MODELS[provider], input: marker })
      .catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(OpenAI.InternalServerError);
    expect(error).toMatchObject({ status: 503, code: 'upstream_unavailable' });
    expect((error as InstanceType<typeof OpenAI.APIError>).headers?.get('retry-after')).toBe('1');
    expect(attemptsOf(marker)).toBe(2);
  });
});

describe('pinned routes retry a connection that was never made', () => {
  let gateway: Gateway;
  beforeAll(async () => {
    // Nothing listens on this port: every connection is refused, so the upstream never saw one.
    const unused = await startFakeUpstream();
    const port = await unusedPort();
    gateway = await startPinnedGateway(unused, `http://127.0.0.1:${port}`);
  });
  afterAll(async () => {
    await gateway?.close();
    await gateway?.upstream.close();
  });

  it.each(PROVIDERS.flatMap((provider) => [false, true].map((stream) => ({ provider, stream }))))(
    '$provider (stream: $stream): refused, retried, then 502 upstream_unreachable',
    async ({ provider, stream }) => {
      const response = await postChat(
        gateway.url,
        `/${provider}/v1/chat/completions`,
        chatBody(stream, 'refused', MODELS[provider]),
        { apiKey: KEY },
      );
      const body = (await response.json()) as { error: { code: string; message: string } };
      expect(response.status).toBe(502);
      expect(body.error.code).toBe('upstream_unreachable');
      expect(body.error.message).toBe(
        `The ${provider} upstream could not be reached. ` +
          `Tried: ${provider}/${MODELS[provider]} (upstream_unreachable ×2).`,
      );
      // The refused connections never reach a server to count them: the attempt log does.
      const requestId = response.headers.get('x-request-id');
      const failed = gateway.logs
        .entries()
        .filter((entry) => entry.requestId === requestId)
        .filter((entry) => entry.msg === 'upstream attempt failed');
      expect(failed.map((entry) => entry.outcome)).toEqual([
        'upstream_unreachable',
        'upstream_unreachable',
      ]);
    },
  );
});
