/**
 * The console's side of the gateway through `inject()`, on a real store (SQLite, and PostgreSQL
 * when it answers): the built page at `/ui/` (cache and CSP headers), login with the admin key to
 * a session cookie that the admin API takes, CSRF on changes, logout; and the admin API's console
 * routes (`stats`, `limits`, `providers`).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type {
  CreatedKeyJson,
  LimitStateJson,
  ProviderJson,
  StatsJson,
} from '../../src/admin/admin-json.js';
import { buildApp } from '../../src/app.js';
import { DEFAULT_COOLDOWN_POLICY, DEFAULT_RETRY_POLICY } from '../../src/config/gateway-config.js';
import type { LedgerRow } from '../../src/store/tenancy-store.js';
import { type RunningTenancy, startTenancy } from '../../src/tenancy/start-tenancy.js';
import { expectEnvelope } from '../helpers/app-fixture.js';
import { createFakeProvider } from '../helpers/fake-provider.js';
import {
  ADMIN_KEY,
  M1_PRICE,
  storeBackends,
  type TestDatabase,
} from '../helpers/tenancy-fixture.js';

const admin = { authorization: `Bearer ${ADMIN_KEY}` };
const BIG_SCRIPT = `console.log(${JSON.stringify('x'.repeat(4_000))});`;

/** A stand-in for the built console: an index page and one hashed asset. */
function fakeConsoleBuild(): string {
  const folder = mkdtempSync(join(tmpdir(), 'aigw-ui-'));
  mkdirSync(join(folder, 'assets'));
  writeFileSync(
    join(folder, 'index.html'),
    '<!doctype html><script type="module" src="./assets/index-AbC123.js"></script>',
  );
  writeFileSync(join(folder, 'assets', 'index-AbC123.js'), BIG_SCRIPT);
  writeFileSync(join(folder, 'assets', 'index-AbC123.js.map'), '{}');
  return folder;
}

function ledgerRow(id: string, createdAt: number, fields: Partial<LedgerRow> = {}): LedgerRow {
  return {
    id,
    requestId: `request-${id}`,
    createdAt,
    keyId: 'key_stats',
    teamId: null,
    model: 'm1',
    servedModel: 'm1',
    provider: 'ollama',
    deployment: 'ollama/m1',
    route: '/v1/chat/completions',
    stream: false,
    status: 200,
    inputTokens: 10,
    outputTokens: 5,
    costUsd: 0.5,
    latencyMs: 100,
    ttftMs: null,
    errorCode: null,
    ...fields,
  };
}

/** The cookie's `name=value` from a Set-Cookie header, and its attributes. */
function cookieOf(response: LightMyRequestResponse): { pair: string; attributes: string } {
  const header = String(response.headers['set-cookie']);
  const [pair = '', ...attributes] = header.split('; ');
  return { pair, attributes: attributes.join('; ') };
}

for (const backend of storeBackends()) {
  describe.skipIf(backend.skip)(`the console's server side on ${backend.name}`, () => {
    let database: TestDatabase;
    let running: RunningTenancy;
    let app: FastifyInstance;
    let consoleRoot: string;

    beforeAll(async () => {
      database = await backend.create();
      consoleRoot = fakeConsoleBuild();
      const config = {
        providers: [],
        models: [
          {
            name: 'm1',
            aliases: [],
            deployments: [{ provider: 'ollama', model: 'm1', weight: 1, maxConcurrent: 4 }],
            fallbacks: [],
          },
        ],
        prices: new Map([['ollama/m1', M1_PRICE]]),
        defaultProvider: 'ollama',
        retry: DEFAULT_RETRY_POLICY,
        cooldown: DEFAULT_COOLDOWN_POLICY,
      };
      running = await startTenancy(
        { databaseUrl: database.url, reserveMaxTokens: 4096, adminApiKey: ADMIN_KEY },
        config,
        { logger: pino({ level: 'silent' }), pollIntervalMs: 0 },
      );
      app = await buildApp({
        providers: new Map([['ollama', createFakeProvider('ollama')]]),
        tenancy: running.tenancy,
        routing: { models: config.models, retry: config.retry, cooldown: config.cooldown },
        admin: { apiKey: ADMIN_KEY, store: running.store, consoleRoot },
      });
    });
    afterAll(async () => {
      await app?.close();
      await running?.close(2_000);
      await database?.remove();
      rmSync(consoleRoot, { recursive: true, force: true });
    });

    const login = async () => {
      const response = await app.inject({
        method: 'POST',
        url: '/ui/api/session',
        payload: { key: ADMIN_KEY },
      });
      expect(response.statusCode, response.body).toBe(200);
      const { csrf_token: csrfToken } = response.json<{ csrf_token: string }>();
      return { cookie: cookieOf(response), csrfToken };
    };

    describe('the page', () => {
      it('serves index.html at /ui/ with no-cache and the console CSP; /ui redirects there', async () => {
        const page = await app.inject({ url: '/ui/' });
        expect(page.statusCode).toBe(200);
        expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
        expect(page.headers['cache-control']).toBe('no-cache');
        const csp = String(page.headers['content-security-policy']);
        expect(csp).toContain("default-src 'self'");
        expect(csp).toContain("script-src 'self';");
        expect(csp).not.toContain('unsafe-inline');
        expect(csp).toContain("frame-ancestors 'none'");
        expect(page.headers['x-frame-options']).toBe('DENY');
        expect(page.body).toContain('index-AbC123.js');
        const bare = await app.inject({ url: '/ui' });
        expect(bare.statusCode).toBe(308);
        expect(bare.headers.location).toBe('/ui/');
      });

      it('serves hashed assets for a year, gzipped when asked, with a working ETag', async () => {
        const url = '/ui/assets/index-AbC123.js';
        const plain = await app.inject({ url });
        expect(plain.statusCode).toBe(200);
        expect(plain.headers['cache-control']).toBe('public, max-age=31536000, immutable');
        expect(plain.headers['content-type']).toBe('text/javascript; charset=utf-8');
        expect(plain.body).toBe(BIG_SCRIPT);
        const gzipped = await app.inject({ url, headers: { 'accept-encoding': 'gzip, br' } });
        expect(gzipped.headers['content-encoding']).toBe('gzip');
        expect(gunzipSync(gzipped.rawPayload).toString()).toBe(BIG_SCRIPT);
        const etag = String(plain.headers.etag);
        const again = await app.inject({ url, headers: { 'if-none-match': etag } });
        expect(again.statusCode).toBe(304);
        expect(again.body).toBe('');
      });

      it('is a 404 for files not built (source maps, traversal) and when not built at all', async () => {
        for (const url of [
          '/ui/assets/index-AbC123.js.map',
          '/ui/nothing.js',
          '/ui/assets/..%2f..%2fpackage.json',
        ]) {
          const response = await app.inject({ url });
          expect(response.statusCode, url).toBe(404);
        }
        // Normalised by the client to /package.json: outside the console, refused like any route.
        for (const url of ['/ui/../package.json', '/ui/%2e%2e/%2e%2e/package.json']) {
          expect((await app.inject({ url })).statusCode, url).toBe(401);
        }
        const unbuilt = await buildApp({
          providers: new Map([['ollama', createFakeProvider('ollama')]]),
          tenancy: running.tenancy,
          admin: { apiKey: ADMIN_KEY, store: running.store, consoleRoot: join(consoleRoot, 'x') },
        });
        const response = await unbuilt.inject({ url: '/ui/' });
        expect(response.statusCode).toBe(404);
        expect(expectEnvelope(response.body, 'not_found_error', 'route_not_found').message).toMatch(
          /npm run build/,
        );
        await unbuilt.close();
      });

      it('is a 404 without the admin API', async () => {
        const plain = await buildApp({
          providers: new Map([['ollama', createFakeProvider('ollama')]]),
          apiKeys: ['client-key-0123456789'],
        });
        const response = await plain.inject({
          url: '/ui/',
          headers: { authorization: 'Bearer client-key-0123456789' },
        });
        expect(response.statusCode).toBe(404);
        await plain.close();
      });
    });

    describe('sessions', () => {
      it('logs in with the admin key to an HttpOnly, SameSite=Strict cookie', async () => {
        const { cookie, csrfToken } = await login();
        expect(cookie.pair).toMatch(/^aigw_console=v1\./);
        expect(cookie.pair).not.toContain(ADMIN_KEY);
        expect(cookie.attributes).toBe('Max-Age=1800; Path=/; HttpOnly; SameSite=Strict');
        expect(csrfToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
        const https = await app.inject({
          method: 'POST',
          url: '/ui/api/session',
          headers: { 'x-forwarded-proto': 'https' },
          payload: { key: ADMIN_KEY },
        });
        expect(cookieOf(https).attributes).toMatch(/; Secure$/);
        const again = await app.inject({
          url: '/ui/api/session',
          headers: { cookie: cookie.pair },
        });
        expect(again.json()).toMatchObject({ csrf_token: csrfToken });
      });

      it('refuses a wrong or missing key', async () => {
        for (const [payload, status] of [
          [{ key: `${ADMIN_KEY}x` }, 401],
          [{ key: 'client-key' }, 401],
          [{}, 400],
          [{ key: 42 }, 400],
        ] as const) {
          const response = await app.inject({ method: 'POST', url: '/ui/api/session', payload });
          expect(response.statusCode, JSON.stringify(payload)).toBe(status);
          expect(response.headers['set-cookie']).toBeUndefined();
        }
      });

      it('lets the cookie read the admin API, and change it only with the CSRF token', async () => {
        const { cookie, csrfToken } = await login();
        const read = await app.inject({ url: '/admin/v1/teams', headers: { cookie: cookie.pair } });
        expect(read.statusCode).toBe(200);
        const post = (headers: Record<string, string>) =>
          app.inject({ method: 'POST', url: '/admin/v1/teams', headers, payload: { name: 't' } });
        const without = await post({ cookie: cookie.pair });
        expect(without.statusCode).toBe(403);
        expectEnvelope(without.body, 'permission_error', 'csrf_token_invalid');
        const wrong = await post({ cookie: cookie.pair, 'x-csrf-token': `${csrfToken}x` });
        expect(wrong.statusCode).toBe(403);
        const other = await login();
        expect(
          (await post({ cookie: cookie.pair, 'x-csrf-token': other.csrfToken })).statusCode,
        ).toBe(403);
        expect((await post({ cookie: cookie.pair, 'x-csrf-token': csrfToken })).statusCode).toBe(
          201,
        );
        // A Bearer request needs no token; a bad Bearer is not rescued by a good cookie.
        expect((await post(admin)).statusCode).toBe(201);
        expect(
          (
            await post({
              cookie: cookie.pair,
              authorization: 'Bearer wrong',
              'x-csrf-token': csrfToken,
            })
          ).statusCode,
        ).toBe(401);
      });

      it('refuses forged, tampered and logged-out cookies', async () => {
        const { cookie, csrfToken } = await login();
        const [name, value = ''] = cookie.pair.split('=');
        const parts = value.split('.');
        const tampered = [parts[0], parts[1], parts[2], String(Number(parts[3]) + 1e9), parts[4]];
        for (const forged of [`${name}=x`, `${name}=${tampered.join('.')}`, `${name}=${value}A`]) {
          const response = await app.inject({
            url: '/admin/v1/teams',
            headers: { cookie: forged },
          });
          expect(response.statusCode, forged).toBe(401);
        }
        expect(
          (
            await app.inject({
              method: 'DELETE',
              url: '/ui/api/session',
              headers: { cookie: cookie.pair },
            })
          ).statusCode,
        ).toBe(403);
        const logout = await app.inject({
          method: 'DELETE',
          url: '/ui/api/session',
          headers: { cookie: cookie.pair, 'x-csrf-token': csrfToken },
        });
        expect(logout.statusCode).toBe(204);
        expect(cookieOf(logout).pair).toBe('aigw_console=');
        expect(cookieOf(logout).attributes).toContain('Max-Age=0');
        for (const url of ['/admin/v1/teams', '/ui/api/session']) {
          const after = await app.inject({ url, headers: { cookie: cookie.pair } });
          expect(after.statusCode, url).toBe(401);
        }
      });
    });

    describe('the admin API for the console', () => {
      const call = async <Body>(url: string): Promise<Body> => {
        const response = await app.inject({ url, headers: admin });
        expect(response.statusCode, response.body).toBe(200);
        return response.json<Body>();
      };

      it('sums the ledger into time buckets and reads latency percentiles by group', async () => {
        const base = Date.UTC(2031, 0, 5, 10, 0, 0);
        const minute = 60_000;
        await running.store.appendLedger([
          ledgerRow('s1', base + 10_000, { latencyMs: 100, ttftMs: 20, stream: true }),
          ledgerRow('s2', base + 20_000, { latencyMs: 300, ttftMs: 40, stream: true }),
          ledgerRow('s3', base + minute + 5_000, { latencyMs: 200 }),
          ledgerRow('s4', base + 2 * minute, {
            status: 429,
            latencyMs: 1,
            costUsd: 0,
            inputTokens: 0,
            outputTokens: 0,
            errorCode: 'rate_limit_exceeded',
          }),
          ledgerRow('s5', base + 3 * minute, {
            model: 'm2',
            provider: 'cerebras',
            deployment: 'cerebras/m2',
            latencyMs: 900,
          }),
          // Outside the range.
          ledgerRow('s6', base + 10 * minute),
        ]);
        const range = `from=${new Date(base).toISOString()}&to=${new Date(base + 4 * minute).toISOString()}`;
        const stats = await call<StatsJson>(`/admin/v1/stats?${range}&key_id=key_stats`);
        expect(stats.bucket).toBe('minute');
        expect(
          stats.series.map((bucket) => [
            bucket.start.slice(11, 16),
            bucket.requests,
            bucket.errors,
          ]),
        ).toEqual([
          ['10:00', 2, 0],
          ['10:01', 1, 0],
          ['10:02', 1, 1],
          ['10:03', 1, 0],
        ]);
        expect(stats.totals).toEqual({
          requests: 5,
          input_tokens: 40,
          output_tokens: 20,
          cost_usd: 2,
          errors: 1,
        });
        expect(stats.latency.sampled_requests).toBe(5);
        expect(stats.latency.complete).toBe(true);
        expect(stats.latency.by_model).toEqual([
          {
            group: 'm1',
            requests: 4,
            errors: 1,
            latency_p50_ms: 200,
            latency_p95_ms: 300,
            ttft_p50_ms: 20,
            ttft_p95_ms: 40,
          },
          {
            group: 'm2',
            requests: 1,
            errors: 0,
            latency_p50_ms: 900,
            latency_p95_ms: 900,
            ttft_p50_ms: null,
            ttft_p95_ms: null,
          },
        ]);
        expect(stats.latency.by_provider.map((group) => group.group)).toEqual([
          'ollama',
          'cerebras',
        ]);
        expect(stats.latency.by_deployment.map((group) => group.group)).toEqual([
          'ollama/m1',
          'cerebras/m2',
        ]);

        const hours = await call<StatsJson>(
          `/admin/v1/stats?from=${new Date(base - 3_600_000).toISOString()}&to=${new Date(base + 3_600_000).toISOString()}&key_id=key_stats`,
        );
        expect(hours.bucket).toBe('hour');
        // An hour that does not start on a minute touches 61 minute buckets: still allowed.
        const unaligned = await call<StatsJson>(
          '/admin/v1/stats?from=2031-01-05T09:59:30Z&to=2031-01-05T10:59:30Z&key_id=key_stats',
        );
        expect(unaligned.bucket).toBe('minute');
        expect(unaligned.series).toHaveLength(61);
        expect(unaligned.series[0]?.start).toBe('2031-01-05T09:59:00.000Z');
        expect(unaligned.totals.requests).toBe(6);
        const byHour = await call<StatsJson>(
          `/admin/v1/stats?bucket=hour&from=2031-01-05T09:30:00Z&to=2031-01-05T11:00:00Z&key_id=key_stats`,
        );
        expect(byHour.series.map((bucket) => [bucket.start, bucket.requests])).toEqual([
          ['2031-01-05T09:00:00.000Z', 0],
          ['2031-01-05T10:00:00.000Z', 6],
        ]);
        const byDay = await call<StatsJson>(
          '/admin/v1/stats?from=2031-01-04&to=2031-01-07&key_id=key_stats',
        );
        expect(byDay.bucket).toBe('day');
        expect(byDay.series.map((bucket) => bucket.requests)).toEqual([0, 6, 0]);
        expect(byDay.totals.cost_usd).toBeCloseTo(2.5, 9);
      });

      it('checks the stats query, naming the field', async () => {
        for (const [query, param] of [
          ['bucket=week', 'bucket'],
          ['from=2031-01-02&to=2031-01-01', 'to'],
          ['from=2031-01-01&to=2031-01-01', 'to'],
          ['bucket=minute&from=2031-01-01&to=2031-01-02', 'bucket'],
          ['bucket=hour&from=2031-01-01&to=2031-01-05', 'bucket'],
          ['from=yesterday', 'from'],
          ['group_by=key', 'group_by'],
        ] as const) {
          const response = await app.inject({ url: `/admin/v1/stats?${query}`, headers: admin });
          expect(response.statusCode, query).toBe(400);
          expect(
            expectEnvelope(response.body, 'invalid_request_error', 'invalid_parameter').param,
          ).toBe(param);
        }
      });

      it('shows each key and team against its limits, after use', async () => {
        const team = await app.inject({
          method: 'POST',
          url: '/admin/v1/teams',
          headers: admin,
          payload: { name: 'limited', budget_usd: 1, budget_period: 'day' },
        });
        const teamId = team.json<{ id: string }>().id;
        const created = await app.inject({
          method: 'POST',
          url: '/admin/v1/keys',
          headers: admin,
          payload: {
            name: 'limited',
            team_id: teamId,
            rpm_limit: 5,
            max_concurrent: 2,
            budget_tokens: 1000,
          },
        });
        const key = created.json<CreatedKeyJson>();
        for (let index = 0; index < 2; index += 1) {
          const chat = await app.inject({
            method: 'POST',
            url: '/v1/chat/completions',
            headers: { authorization: `Bearer ${key.key}` },
            payload: { model: 'm1', messages: [{ role: 'user', content: 'hi' }], max_tokens: 10 },
          });
          expect(chat.statusCode, chat.body).toBe(200);
        }
        const { data } = await call<{ data: LimitStateJson[] }>(
          `/admin/v1/limits?team_id=${teamId}`,
        );
        const keyState = data.find((state) => state.id === key.id);
        expect(keyState).toMatchObject({
          scope: 'key',
          rpm: { limit: 5, remaining: 3 },
          tpm: null,
          concurrent: { limit: 2, active: 0 },
          budget_usd: null,
          budget_tokens: {
            period: 'total',
            limit: 1000,
            spent: 10,
            reserved: 0,
            remaining: 990,
            resets_at: null,
          },
        });
        const teamState = data.find((state) => state.id === teamId);
        expect(teamState?.scope).toBe('team');
        expect(teamState?.budget_usd?.period).toBe('day');
        expect(teamState?.budget_usd?.spent).toBeCloseTo(0.014, 9);
        expect(teamState?.budget_usd?.resets_at).toMatch(/T00:00:00\.000Z$/);
        expect(data.every((state) => state.id === key.id || state.id === teamId)).toBe(true);
      });

      it('lists providers with their deployments as this process sees them', async () => {
        const { data } = await call<{ data: ProviderJson[] }>('/admin/v1/providers');
        expect(data).toEqual([
          {
            id: 'ollama',
            deployments: [
              {
                id: 'ollama/m1',
                model: 'm1',
                public_models: ['m1'],
                weight: 1,
                max_concurrent: 4,
                state: 'healthy',
                in_flight: 0,
                at_capacity: false,
                consecutive_failures: 0,
                cooling_until: null,
              },
            ],
          },
        ]);
      });

      it.each(['/admin/v1/stats', '/admin/v1/limits', '/admin/v1/providers'])(
        '%s wants the admin key or a session',
        async (url) => {
          const response = await app.inject({ url });
          expect(response.statusCode).toBe(401);
        },
      );
    });
  });
}
