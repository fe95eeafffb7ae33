/**
 * Teams and virtual keys end to end: real gateways over loopback, the OpenAI SDK as the client,
 * the fake upstream behind, and the store and counters of each set-up — embedded SQLite with
 * counters in memory, and PostgreSQL with Redis (then also two gateway instances sharing them).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type FakeUpstream, startFakeUpstream } from '../helpers/fake-upstream.js';
import { ndjsonResponse, ollamaNdjsonLines } from '../helpers/fake-upstream-wire.js';
import {
  createTemporaryDatabase,
  postgresUrlOrSkip,
  redisUrlOrSkip,
} from '../helpers/real-services.js';
import {
  createTestKey,
  createTestTeam,
  eventually,
  STATIC_KEY,
  startTenantGateway,
  type TenantGateway,
} from '../helpers/tenancy-harness.js';

interface Backend {
  readonly name: string;
  readonly skip: boolean;
  /** A fresh database (and Redis) for one suite, and how to remove it. */
  setUp(): Promise<{ databaseUrl: string; redisUrl?: string; tearDown(): Promise<void> }>;
}

const postgresUrl = postgresUrlOrSkip();
const redisUrl = redisUrlOrSkip();

const BACKENDS: Backend[] = [
  {
    name: 'SQLite, counters in memory',
    skip: false,
    async setUp() {
      const folder = mkdtempSync(join(tmpdir(), 'aigw-tenancy-'));
      return {
        databaseUrl: `sqlite:${join(folder, 'gateway.db')}`,
        tearDown: async () => rmSync(folder, { recursive: true, force: true }),
      };
    },
  },
  {
    name: 'PostgreSQL and Redis',
    skip: postgresUrl === null || redisUrl === null,
    async setUp() {
      const database = await createTemporaryDatabase(postgresUrl ?? '');
      return { databaseUrl: database.url, redisUrl: redisUrl ?? '', tearDown: database.drop };
    },
  },
];

const ask = { model: 'llama3.2', messages: [{ role: 'user' as const, content: 'hi' }] };

async function statusOf(promise: Promise<unknown>): Promise<number> {
  try {
    await promise;
    return 200;
  } catch (error) {
    if (error instanceof OpenAI.APIError) return error.status ?? 0;
    throw error;
  }
}

describe.each(BACKENDS)('tenancy on $name', (backend) => {
  let upstream: FakeUpstream;
  let gateway: TenantGateway;
  let tearDown: () => Promise<void> = async () => undefined;
  let databaseUrl = '';
  let sharedRedis: string | undefined;

  beforeAll(async () => {
    if (backend.skip) return;
    upstream = await startFakeUpstream();
    const setUp = await backend.setUp();
    tearDown = setUp.tearDown;
    databaseUrl = setUp.databaseUrl;
    sharedRedis = setUp.redisUrl;
    gateway = await startTenantGateway({ upstream, databaseUrl, redisUrl: sharedRedis });
  });
  afterAll(async () => {
    if (backend.skip) return;
    await gateway.close();
    await upstream.close();
    await tearDown();
  });
  beforeEach(() => upstream?.reset());

  it.skipIf(backend.skip)('lets exactly rpm_limit of 50 parallel requests through', async () => {
    const { secret } = await createTestKey(gateway, { rpmLimit: 10 });
    const client = gateway.client(secret);
    const results = await Promise.allSettled(
      Array.from({ length: 50 }, () => client.chat.completions.create(ask)),
    );
    expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(10);
    const refused = results.find((result) => result.status === 'rejected');
    const error = (refused as PromiseRejectedResult).reason as InstanceType<
      typeof OpenAI.RateLimitError
    >;
    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    expect(error.type).toBe('requests');
    expect(error.code).toBe('rate_limit_exceeded');
    expect(Number(error.headers?.get('retry-after'))).toBeGreaterThan(0);
    expect(error.headers?.get('x-ratelimit-limit-requests')).toBe('10');
    expect(error.headers?.get('x-ratelimit-remaining-requests')).toBe('0');
    expect(error.headers?.get('x-ratelimit-reset-requests')).toMatch(/^(\d+m)?\d+s$/);
    // Only the admitted ones reached the upstream.
    expect(upstream.requests.length).toBe(10);
  });

  it.skipIf(backend.skip)(
    'sends OpenAI rate-limit headers on every response of a limited key',
    async () => {
      const { secret } = await createTestKey(gateway, { rpmLimit: 100, tpmLimit: 100_000 });
      const { response } = await gateway.client(secret).chat.completions.create(ask).withResponse();
      expect(response.headers.get('x-ratelimit-limit-requests')).toBe('100');
      expect(response.headers.get('x-ratelimit-remaining-requests')).toBe('99');
      expect(response.headers.get('x-ratelimit-limit-tokens')).toBe('100000');
      expect(Number(response.headers.get('x-ratelimit-remaining-tokens'))).toBeLessThan(100_000);
      // A static key has no limits, hence no such headers.
      const plain = await gateway.client(STATIC_KEY).chat.completions.create(ask).withResponse();
      expect(plain.response.headers.get('x-ratelimit-limit-requests')).toBeNull();
    },
  );

  it.skipIf(backend.skip)('holds a team limit over all of its keys together', async () => {
    const team = await createTestTeam(gateway, { rpmLimit: 6 });
    const keys = await Promise.all(
      [1, 2, 3].map(() => createTestKey(gateway, { teamId: team.id, rpmLimit: 5 })),
    );
    const results = await Promise.allSettled(
      keys.flatMap(({ secret }) =>
        Array.from({ length: 5 }, () => gateway.client(secret).chat.completions.create(ask)),
      ),
    );
    expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(6);
  });

  it.skipIf(backend.skip)('cannot be outrun on a token budget by parallel requests', async () => {
    // Each request reserves its prompt estimate + max_tokens 100; 1,000 tokens hold at most 9.
    const { secret, record } = await createTestKey(gateway, {
      budgetTokens: 1_000,
      budgetPeriod: 'day',
    });
    const client = gateway.client(secret);
    const results = await Promise.allSettled(
      Array.from({ length: 30 }, () => client.chat.completions.create({ ...ask, max_tokens: 100 })),
    );
    const served = results.filter((result) => result.status === 'fulfilled').length;
    expect(served).toBeGreaterThan(0);
    expect(served).toBeLessThanOrEqual(9);
    const refused = results.find((result) => result.status === 'rejected') as PromiseRejectedResult;
    expect(refused.reason).toBeInstanceOf(OpenAI.RateLimitError);
    expect(refused.reason.code).toBe('insufficient_quota');
    expect(refused.reason.type).toBe('insufficient_quota');
    expect(refused.reason.headers.get('x-should-retry')).toBe('false');
    // Settled on the real usage, the rows in the ledger add up to what the key says it spent.
    const info = await eventually(async () => {
      const response = await fetch(`${gateway.url}/v1/key`, {
        headers: { authorization: `Bearer ${secret}` },
      });
      const body = (await response.json()) as { budget: { spent_tokens: number } };
      return body.budget.spent_tokens > 0 ? body : undefined;
    });
    const spent = await eventually(async () => {
      const total = await gateway.running.store.spent({ keyId: record.id }, null);
      return total.tokens === info.budget.spent_tokens ? total : undefined;
    });
    expect(spent.tokens).toBeLessThanOrEqual(1_000);
  });

  it.skipIf(backend.skip)(
    'does not retry a spent budget from the SDK (x-should-retry: false)',
    async () => {
      const { secret } = await createTestKey(gateway, { budgetTokens: 1, budgetPeriod: 'total' });
      const status = await statusOf(
        gateway.client(secret, { maxRetries: 3 }).chat.completions.create(ask),
      );
      expect(status).toBe(429);
      expect(upstream.requests.length).toBe(0);
    },
  );

  it.skipIf(backend.skip)(
    'refuses a model off the allowlist with 403 model_not_allowed',
    async () => {
      const { secret } = await createTestKey(gateway, { models: ['llama3.2', 'cerebras/x'] });
      const client = gateway.client(secret);
      await expect(client.chat.completions.create(ask)).resolves.toBeDefined();
      await expect(
        client.chat.completions.create({ ...ask, model: 'qwen3' }),
      ).rejects.toMatchObject({ status: 403, code: 'model_not_allowed' });
      // On a pinned route, `provider/model` names it.
      await expect(
        gateway
          .client(secret, { prefix: 'cerebras' })
          .chat.completions.create({ ...ask, model: 'x' }),
      ).resolves.toBeDefined();
    },
  );

  it.skipIf(backend.skip)('answers 401 for an expired key and for an unknown gw- key', async () => {
    const { secret } = await createTestKey(gateway, { expiresAt: Date.now() - 1_000 });
    await expect(gateway.client(secret).chat.completions.create(ask)).rejects.toMatchObject({
      status: 401,
      code: 'invalid_api_key',
    });
    const unknown = `gw-${'x'.repeat(43)}`;
    await expect(gateway.client(unknown).chat.completions.create(ask)).rejects.toMatchObject({
      status: 401,
    });
  });

  it.skipIf(backend.skip)(
    'puts every request in the ledger, refused ones and static keys’ too',
    async () => {
      const { secret, record } = await createTestKey(gateway, { rpmLimit: 1 });
      const client = gateway.client(secret);
      await client.chat.completions.create(ask);
      await expect(client.chat.completions.create(ask)).rejects.toMatchObject({ status: 429 });
      const stream = await client.chat.completions.create({ ...ask, stream: true }).catch((e) => e);
      expect(stream).toBeInstanceOf(OpenAI.RateLimitError);
      const staticResponse = await gateway
        .client(STATIC_KEY)
        .chat.completions.create(ask)
        .withResponse();
      const rows = await eventually(async () => {
        const page = await gateway.running.store.requests({ keyId: record.id, limit: 10 });
        return page.rows.length === 3 ? page.rows : undefined;
      });
      expect(rows.map((row) => row.status)).toEqual([429, 429, 200]);
      expect(rows[0]).toMatchObject({
        errorCode: 'rate_limit_exceeded',
        inputTokens: 0,
        model: 'llama3.2',
      });
      const served = rows[2];
      expect(served).toMatchObject({
        keyId: record.id,
        teamId: null,
        model: 'llama3.2',
        servedModel: 'llama3.2',
        provider: 'ollama',
        deployment: 'ollama/llama3.2',
        route: '/v1/chat/completions',
        stream: false,
        errorCode: null,
      });
      expect(served?.inputTokens).toBeGreaterThan(0);
      expect(served?.outputTokens).toBeGreaterThan(0);
      const staticRow = await eventually(async () => {
        const page = await gateway.running.store.requests({ limit: 50 });
        return page.rows.find((row) => row.requestId === staticResponse.request_id);
      });
      expect(staticRow).toMatchObject({ keyId: null, status: 200 });
    },
  );

  it.skipIf(backend.skip)(
    'bills a stream from the upstream’s usage, whether or not the client asked for it',
    async () => {
      const { secret, record } = await createTestKey(gateway, {});
      const stream = await gateway.client(secret).chat.completions.create({ ...ask, stream: true });
      const chunks = [];
      for await (const chunk of stream) chunks.push(chunk);
      // The client did not ask for usage: none in its stream.
      expect(chunks.every((chunk) => chunk.usage == null)).toBe(true);
      const row = await eventually(async () => {
        const page = await gateway.running.store.requests({ keyId: record.id, limit: 1 });
        return page.rows[0];
      });
      expect(row).toMatchObject({ stream: true, status: 200 });
      expect(row.outputTokens).toBeGreaterThan(0);
      expect(row.ttftMs).not.toBeNull();
    },
  );

  it.skipIf(backend.skip)('bills a stream the client left for the chunks it was sent', async () => {
    const { secret, record } = await createTestKey(gateway, { tpmLimit: 100_000 });
    // Three chunks, then the upstream goes quiet until the client leaves.
    upstream.enqueue(
      ndjsonResponse(ollamaNdjsonLines(['a', 'b', 'c'], { done: false }), { end: 'stall' }),
    );
    const controller = new AbortController();
    const stream = await gateway
      .client(secret)
      .chat.completions.create({ ...ask, stream: true }, { signal: controller.signal });
    let received = 0;
    // The SDK ends the iteration quietly, or with an abort error, depending on timing.
    try {
      for await (const chunk of stream) {
        if (chunk.choices[0]?.delta.content) received++;
        if (received === 3) controller.abort();
      }
    } catch {
      // Aborted on purpose.
    }
    expect(received).toBe(3);
    const row = await eventually(async () => {
      const page = await gateway.running.store.requests({ keyId: record.id, limit: 1 });
      return page.rows[0];
    });
    expect(row).toMatchObject({ status: 499, stream: true, errorCode: 'client_closed_request' });
    expect(row.outputTokens).toBeGreaterThanOrEqual(3);
    expect(row.inputTokens).toBeGreaterThan(0);
  });

  it.skipIf(backend.skip)(
    'admits and bills Ollama’s native API relayed through /ollama/api/*',
    async () => {
      const { secret, record } = await createTestKey(gateway, { rpmLimit: 1 });
      const call = () =>
        fetch(`${gateway.url}/ollama/api/chat`, {
          method: 'POST',
          headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
          body: JSON.stringify({ model: 'llama3.2', messages: [{ role: 'user', content: 'hi' }] }),
        });
      const first = await call();
      expect(first.status).toBe(200);
      await first.text();
      const second = await call();
      expect(second.status).toBe(429);
      expect(await second.json()).toMatchObject({ error: expect.stringContaining('Rate limit') });
      const rows = await eventually(async () => {
        const page = await gateway.running.store.requests({ keyId: record.id, limit: 5 });
        return page.rows.length === 2 ? page.rows : undefined;
      });
      expect(rows[1]).toMatchObject({ route: '/ollama/api/*', status: 200, model: 'llama3.2' });
      expect(rows[1]?.inputTokens).toBeGreaterThan(0);
      expect(rows[1]?.outputTokens).toBeGreaterThan(0);
    },
  );

  it.skipIf(backend.skip)(
    'revokes a key everywhere within 2 s of a change in the store',
    async () => {
      const { secret, record } = await createTestKey(gateway, {});
      const client = gateway.client(secret);
      await client.chat.completions.create(ask);
      // Another instance (or its admin API) revokes it: this one hears of it by polling.
      await gateway.running.store.revokeKey(record.id, Date.now());
      const started = Date.now();
      await eventually(
        async () =>
          (await statusOf(client.chat.completions.create(ask))) === 401 ? true : undefined,
        2_000,
      );
      expect(Date.now() - started).toBeLessThan(2_000);
    },
  );

  it.skipIf(backend.skip)(
    'serves GET /v1/key to a virtual key and 404 to a static one',
    async () => {
      const team = await createTestTeam(gateway, {});
      const { secret, record } = await createTestKey(gateway, {
        teamId: team.id,
        models: ['llama3.2'],
        rpmLimit: 60,
        budgetUsd: 5,
        budgetPeriod: 'month',
      });
      const response = await fetch(`${gateway.url}/v1/key`, {
        headers: { 'x-api-key': secret },
      });
      expect(response.status).toBe(200);
      const body = await response.json();
      const now = new Date();
      expect(body).toEqual({
        id: record.id,
        name: 'test key',
        team_id: team.id,
        models: ['llama3.2'],
        limits: { rpm_limit: 60, tpm_limit: null, max_concurrent: null },
        budget: {
          period: 'month',
          limit_usd: 5,
          limit_tokens: null,
          spent_usd: 0,
          spent_tokens: null,
          remaining_usd: 5,
          remaining_tokens: null,
          resets_at: new Date(
            Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1),
          ).toISOString(),
        },
        expires_at: null,
      });
      const staticResponse = await fetch(`${gateway.url}/v1/key`, {
        headers: { authorization: `Bearer ${STATIC_KEY}` },
      });
      expect(staticResponse.status).toBe(404);
    },
  );

  it.skipIf(backend.skip)('records the attempts and the deployments that failed', async () => {
    const { secret, record } = await createTestKey(gateway, {});
    const client = gateway.client(secret, { prefix: 'cerebras' });
    const unavailable = { status: 503, body: { error: { message: 'busy', type: 'overloaded' } } };
    upstream.enqueue(unavailable);
    await client.chat.completions.create(ask);
    upstream.enqueue(unavailable, unavailable);
    await expect(client.chat.completions.create(ask)).rejects.toMatchObject({ status: 503 });
    const rows = await eventually(async () => {
      const page = await gateway.running.store.requests({ keyId: record.id, limit: 5 });
      return page.rows.length === 2 ? page.rows : undefined;
    });
    expect(rows[1]).toMatchObject({
      status: 200,
      attempts: 2,
      deployment: 'cerebras/llama3.2',
      tried: 'cerebras/llama3.2 (upstream_unavailable)',
    });
    expect(rows[0]).toMatchObject({
      status: 503,
      deployment: null,
      tried: 'cerebras/llama3.2 (upstream_unavailable ×2)',
    });
  });

  it.skipIf(backend.skip)(
    'admits and bills the Messages and Responses APIs like chat',
    async () => {
      const { secret, record } = await createTestKey(gateway, { rpmLimit: 2 });
      const post = (path: string, body: object) =>
        fetch(`${gateway.url}${path}`, {
          method: 'POST',
          headers: { 'x-api-key': secret, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
      const messages = await post('/v1/messages', { ...ask, max_tokens: 50 });
      expect(messages.status).toBe(200);
      expect(messages.headers.get('x-ratelimit-remaining-requests')).toBe('1');
      await messages.json();
      const responses = await post('/v1/responses', { model: 'llama3.2', input: 'hi' });
      expect(responses.status).toBe(200);
      await responses.json();
      const refused = await post('/v1/messages', { ...ask, max_tokens: 50 });
      expect(refused.status).toBe(429);
      // Anthropic's own error shape, which its SDK parses.
      expect(await refused.json()).toMatchObject({
        type: 'error',
        error: { type: 'rate_limit_error' },
      });
      const rows = await eventually(async () => {
        const page = await gateway.running.store.requests({ keyId: record.id, limit: 5 });
        return page.rows.length === 3 ? page.rows : undefined;
      });
      expect(rows.map((row) => [row.route, row.status])).toEqual([
        ['/v1/messages', 429],
        ['/v1/responses', 200],
        ['/v1/messages', 200],
      ]);
      expect(rows[2]?.outputTokens).toBeGreaterThan(0);
    },
  );

  it.skipIf(backend.skip)(
    'never writes a virtual key in a log line, an error body or /metrics',
    async () => {
      const { secret, record } = await createTestKey(gateway, {
        rpmLimit: 2,
        models: ['llama3.2'],
      });
      const client = gateway.client(secret);
      const bodies: string[] = [];
      const collect = async (promise: Promise<unknown>) => {
        try {
          await promise;
        } catch (error) {
          bodies.push(JSON.stringify(error), String(error));
        }
      };
      await collect(client.chat.completions.create(ask));
      await collect(client.chat.completions.create({ ...ask, model: 'qwen3' }));
      await collect(client.chat.completions.create(ask));
      await collect(client.chat.completions.create(ask));
      await gateway.running.store.revokeKey(record.id, Date.now());
      await gateway.running.tenancy.directory.reload({ keyIds: [record.id], teamIds: [] });
      await collect(client.chat.completions.create(ask));
      // A key one character off, never seen.
      await collect(gateway.client(`${secret.slice(0, -1)}x`).chat.completions.create(ask));
      expect(bodies.length).toBeGreaterThanOrEqual(4);
      const text = [...gateway.logs.lines, ...bodies, await gateway.metrics.render()].join('\n');
      expect(text).toContain(record.id);
      expect(text).not.toContain(secret);
      expect(text).not.toContain(secret.slice(3));
    },
  );

  it.skipIf(backend.skip)('keeps keys and usage across a restart', async () => {
    const { secret, record } = await createTestKey(gateway, {
      budgetTokens: 100_000,
      budgetPeriod: 'total',
    });
    await gateway.client(secret).chat.completions.create(ask);
    await gateway.close();
    gateway = await startTenantGateway({ upstream, databaseUrl, redisUrl: sharedRedis });
    const response = await fetch(`${gateway.url}/v1/key`, {
      headers: { authorization: `Bearer ${secret}` },
    });
    const body = (await response.json()) as { budget: { spent_tokens: number } };
    expect(body.budget.spent_tokens).toBeGreaterThan(0);
    const page = await gateway.running.store.requests({ keyId: record.id, limit: 5 });
    expect(page.rows).toHaveLength(1);
  });
});

describe.skipIf(postgresUrl === null || redisUrl === null)(
  'two gateway instances sharing one PostgreSQL and one Redis',
  () => {
    let upstream: FakeUpstream;
    let first: TenantGateway;
    let second: TenantGateway;
    let drop: () => Promise<void>;

    beforeAll(async () => {
      upstream = await startFakeUpstream();
      const database = await createTemporaryDatabase(postgresUrl ?? '');
      drop = database.drop;
      const options = { upstream, databaseUrl: database.url, redisUrl: redisUrl ?? '' };
      first = await startTenantGateway(options);
      second = await startTenantGateway(options);
    });
    afterAll(async () => {
      await first.close();
      await second.close();
      await upstream.close();
      await drop();
    });

    it('holds one rpm_limit exactly across both: 50 parallel requests, 10 served', async () => {
      const { secret } = await createTestKey(first, { rpmLimit: 10 });
      const results = await Promise.allSettled(
        Array.from({ length: 50 }, (_, index) =>
          (index % 2 === 0 ? first : second).client(secret).chat.completions.create(ask),
        ),
      );
      expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(10);
    });

    it('revokes on the other instance within 2 s', async () => {
      const { secret, record } = await createTestKey(first, {});
      await second.client(secret).chat.completions.create(ask);
      await first.running.store.revokeKey(record.id, Date.now());
      await first.running.tenancy.directory.reload({ keyIds: [record.id], teamIds: [] });
      await eventually(
        async () =>
          (await statusOf(second.client(secret).chat.completions.create(ask))) === 401
            ? true
            : undefined,
        2_000,
      );
    });
  },
);
