/**
 * The admin API (`/admin/v1`) through `buildApp` and `inject()`, on a real store: the same suite
 * on an SQLite file and on PostgreSQL. Keys made here are then used on the inference routes, so
 * revocations, limit changes and the ledger are seen end to end. One long file because it is one
 * suite run twice; the gateway it runs on is in `test/helpers/tenancy-fixture.ts`.
 */
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CreatedKeyJson, KeyJson, RequestJson, TeamJson } from '../../src/admin/admin-json.js';
import { buildApp } from '../../src/app.js';
import { expectEnvelope } from '../helpers/app-fixture.js';
import { createFakeProvider } from '../helpers/fake-provider.js';
import {
  ADMIN_KEY,
  STATIC_KEY,
  startTenancyApp,
  storeBackends,
  type TenancyApp,
  type TestDatabase,
} from '../helpers/tenancy-fixture.js';

const admin = { authorization: `Bearer ${ADMIN_KEY}` };
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const SECRET = /^gw-[0-9A-Za-z]{43}$/;
const TEAM_FIELDS = [
  'id',
  'name',
  'models',
  'rpm_limit',
  'tpm_limit',
  'max_concurrent',
  'budget_usd',
  'budget_tokens',
  'budget_period',
  'created_at',
  'updated_at',
];
const KEY_FIELDS = [
  ...TEAM_FIELDS,
  'team_id',
  'key_prefix',
  'expires_at',
  'revoked_at',
  'metadata',
].sort();

type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';

/** Every route of the admin API, with an id that exists nowhere. */
const ROUTES: readonly (readonly [Method, string])[] = [
  ['POST', '/admin/v1/teams'],
  ['GET', '/admin/v1/teams'],
  ['GET', '/admin/v1/teams/team_x'],
  ['PATCH', '/admin/v1/teams/team_x'],
  ['DELETE', '/admin/v1/teams/team_x'],
  ['POST', '/admin/v1/keys'],
  ['GET', '/admin/v1/keys'],
  ['GET', '/admin/v1/keys/key_x'],
  ['PATCH', '/admin/v1/keys/key_x'],
  ['DELETE', '/admin/v1/keys/key_x'],
  ['GET', '/admin/v1/usage?group_by=key'],
  ['GET', '/admin/v1/requests'],
];

function sleep(milliseconds: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, milliseconds));
}

/** Asks again (the ledger writes in batches every ~200 ms) until `done`, for at most 5 s. */
async function eventually<Value>(
  read: () => Promise<Value>,
  done: (value: Value) => boolean,
): Promise<Value> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > deadline) return value;
    await sleep(50);
  }
}

/** Checks a 400 `invalid_parameter` naming `param`. */
function expectInvalid(response: LightMyRequestResponse, param: string | null): void {
  expect(response.statusCode, response.body).toBe(400);
  expect(expectEnvelope(response.body, 'invalid_request_error', 'invalid_parameter').param).toBe(
    param,
  );
}

for (const backend of storeBackends()) {
  describe.skipIf(backend.skip)(`the admin API on ${backend.name}`, () => {
    let database: TestDatabase;
    let gateway: TenancyApp;

    const call = (method: Method, url: string, payload?: object) =>
      gateway.app.inject({
        method,
        url,
        headers: admin,
        ...(payload === undefined ? {} : { payload }),
      });
    const createTeam = async (body: object): Promise<TeamJson> => {
      const response = await call('POST', '/admin/v1/teams', body);
      expect(response.statusCode, response.body).toBe(201);
      return response.json<TeamJson>();
    };
    const createKey = async (body: object): Promise<CreatedKeyJson> => {
      const response = await call('POST', '/admin/v1/keys', body);
      expect(response.statusCode, response.body).toBe(201);
      return response.json<CreatedKeyJson>();
    };
    const asClient = (secret: string, method: 'GET' | 'POST', url: string, payload?: object) =>
      gateway.app.inject({
        method,
        url,
        headers: { authorization: `Bearer ${secret}` },
        ...(payload === undefined ? {} : { payload }),
      });
    const chat = (secret: string, model = 'm1') =>
      asClient(secret, 'POST', '/v1/chat/completions', {
        model,
        messages: [{ role: 'user', content: 'hi' }],
      });

    beforeAll(async () => {
      database = await backend.create();
      gateway = await startTenancyApp(database.url);
    });
    afterAll(async () => {
      await gateway?.close();
      await database?.remove();
    });

    describe('authentication', () => {
      it.each(ROUTES)('%s %s wants the admin key: 401 without it', async (method, url) => {
        const response = await gateway.app.inject({ method, url });
        expect(response.statusCode).toBe(401);
        expect(response.headers['www-authenticate']).toBe('Bearer');
        expectEnvelope(response.body, 'authentication_error', 'invalid_api_key');
      });

      it('takes only the admin key, as a Bearer token', async () => {
        const key = await createKey({ name: 'a client' });
        for (const headers of [
          { authorization: `Bearer ${ADMIN_KEY}x` },
          { authorization: `Bearer ${ADMIN_KEY.slice(0, -1)}` },
          { authorization: `Basic ${ADMIN_KEY}` },
          { authorization: ADMIN_KEY },
          { 'x-api-key': ADMIN_KEY },
          { authorization: `Bearer ${STATIC_KEY}` },
          { authorization: `Bearer ${key.key}` },
          { 'x-api-key': key.key },
        ]) {
          const response = await gateway.app.inject({ url: '/admin/v1/teams', headers });
          expect(response.statusCode, JSON.stringify(headers)).toBe(401);
          expectEnvelope(response.body, 'authentication_error', 'invalid_api_key');
        }
        const lowerCase = { authorization: `bearer ${ADMIN_KEY}` };
        expect(
          (await gateway.app.inject({ url: '/admin/v1/teams', headers: lowerCase })).statusCode,
        ).toBe(200);
      });

      it('is a 404 without an admin key configured, with tenancy or without', async () => {
        const providers = new Map([['ollama', createFakeProvider('ollama')]]);
        for (const app of [
          await buildApp({ providers, apiKeys: [STATIC_KEY], tenancy: gateway.running.tenancy }),
          await buildApp({ providers, apiKeys: [STATIC_KEY] }),
        ]) {
          for (const headers of [admin, {}]) {
            const response = await app.inject({ url: '/admin/v1/teams', headers });
            expect(response.statusCode).toBe(404);
            expectEnvelope(response.body, 'not_found_error', 'route_not_found');
          }
          await app.close();
        }
      });
    });

    describe('teams', () => {
      it('creates, reads, lists, changes and deletes a team', async () => {
        const team = await createTeam({
          name: 'research',
          models: ['m1'],
          rpm_limit: 100,
          tpm_limit: 50_000,
          max_concurrent: 4,
          budget_usd: 25.5,
          budget_tokens: 1_000_000,
          budget_period: 'month',
        });
        expect(Object.keys(team).sort()).toEqual([...TEAM_FIELDS].sort());
        expect(team).toMatchObject({
          name: 'research',
          models: ['m1'],
          rpm_limit: 100,
          tpm_limit: 50_000,
          max_concurrent: 4,
          budget_usd: 25.5,
          budget_tokens: 1_000_000,
          budget_period: 'month',
        });
        expect(team.id).toMatch(/^team_[0-9A-Za-z]{20}$/);
        expect(team.created_at).toMatch(ISO);
        expect(team.updated_at).toBe(team.created_at);

        expect((await call('GET', `/admin/v1/teams/${team.id}`)).json()).toEqual(team);
        const list = (await call('GET', '/admin/v1/teams')).json<{ data: TeamJson[] }>();
        expect(list.data).toContainEqual(team);

        await sleep(2);
        const patched = await call('PATCH', `/admin/v1/teams/${team.id}`, {
          name: 'research 2',
          rpm_limit: null,
          models: null,
          budget_usd: 30,
        });
        expect(patched.statusCode, patched.body).toBe(200);
        expect(patched.json()).toEqual({
          ...team,
          name: 'research 2',
          rpm_limit: null,
          models: null,
          budget_usd: 30,
          updated_at: expect.stringMatching(ISO),
        });
        expect(patched.json<TeamJson>().updated_at > team.updated_at).toBe(true);
        expect((await call('GET', `/admin/v1/teams/${team.id}`)).json()).toEqual(patched.json());

        const deleted = await call('DELETE', `/admin/v1/teams/${team.id}`);
        expect(deleted.statusCode).toBe(204);
        expect(deleted.body).toBe('');
        for (const [method, payload] of [['GET'], ['PATCH', {}], ['DELETE']] as const) {
          const gone = await call(method, `/admin/v1/teams/${team.id}`, payload);
          expect(gone.statusCode).toBe(404);
          expectEnvelope(gone.body, 'not_found_error', 'resource_not_found');
        }
        const after = (await call('GET', '/admin/v1/teams')).json<{ data: TeamJson[] }>();
        expect(after.data.map((each) => each.id)).not.toContain(team.id);
      });

      it('makes a budget without a period a total one, on create and on change', async () => {
        const team = await createTeam({ name: 'budgeted', budget_tokens: 500 });
        expect(team.budget_period).toBe('total');
        const plain = await createTeam({ name: 'plain' });
        expect(plain).toMatchObject({ budget_usd: null, budget_period: null, models: null });
        const patched = await call('PATCH', `/admin/v1/teams/${plain.id}`, { budget_usd: 1 });
        expect(patched.json()).toMatchObject({ budget_usd: 1, budget_period: 'total' });
        const daily = await call('PATCH', `/admin/v1/teams/${plain.id}`, { budget_period: 'day' });
        expect(daily.json()).toMatchObject({ budget_usd: 1, budget_period: 'day' });
        const cleared = await call('PATCH', `/admin/v1/teams/${plain.id}`, { budget_period: null });
        expect(cleared.json()).toMatchObject({ budget_usd: 1, budget_period: 'total' });
      });
    });

    describe('keys', () => {
      it('shows the secret once, at creation, and never the hash', async () => {
        const team = await createTeam({ name: 'keys team' });
        const created = await call('POST', '/admin/v1/keys', {
          name: 'ci',
          team_id: team.id,
          rpm_limit: 10,
          expires_at: '2099-01-01T00:00:00Z',
          metadata: { owner: 'ci', tags: ['a'] },
        });
        expect(created.statusCode).toBe(201);
        expect(created.headers['cache-control']).toBe('no-store');
        const key = created.json<CreatedKeyJson>();
        expect(Object.keys(key).sort()).toEqual([...KEY_FIELDS, 'key'].sort());
        expect(key.key).toMatch(SECRET);
        expect(key.id).toMatch(/^key_[0-9A-Za-z]{20}$/);
        expect(key).toMatchObject({
          name: 'ci',
          team_id: team.id,
          key_prefix: key.key.slice(0, 11),
          rpm_limit: 10,
          expires_at: '2099-01-01T00:00:00.000Z',
          revoked_at: null,
          metadata: { owner: 'ci', tags: ['a'] },
        });
        const { key: secret, ...shown } = key;
        const read = await call('GET', `/admin/v1/keys/${key.id}`);
        expect(read.json()).toEqual(shown);
        const listed = await call('GET', `/admin/v1/keys?team_id=${team.id}`);
        expect(listed.json()).toEqual({ data: [shown] });
        const all = await call('GET', '/admin/v1/keys');
        expect(all.json<{ data: KeyJson[] }>().data).toContainEqual(shown);
        for (const response of [read, listed, all]) {
          expect(response.body).not.toContain(secret);
          expect(response.body).not.toMatch(/hash|"key"/);
        }
        const other = await call('GET', '/admin/v1/keys?team_id=team_none');
        expect(other.json()).toEqual({ data: [] });
      });

      it('makes a key that works at once on /v1/key and on chat completions', async () => {
        const key = await createKey({ name: 'works', tpm_limit: 100_000, budget_usd: 50 });
        expect(key.budget_period).toBe('total');
        const info = await asClient(key.key, 'GET', '/v1/key');
        expect(info.statusCode, info.body).toBe(200);
        expect(info.json()).toMatchObject({
          id: key.id,
          name: 'works',
          limits: { rpm_limit: null, tpm_limit: 100_000, max_concurrent: null },
          budget: { period: 'total', limit_usd: 50 },
        });
        const before = gateway.ollama.calls.length;
        const completion = await chat(key.key);
        expect(completion.statusCode, completion.body).toBe(200);
        expect(gateway.ollama.calls.length).toBe(before + 1);
      });

      it('changes a limit, which GET /v1/key shows at once', async () => {
        const key = await createKey({ name: 'limited', rpm_limit: 5 });
        expect((await asClient(key.key, 'GET', '/v1/key')).json()).toMatchObject({
          limits: { rpm_limit: 5 },
        });
        const patched = await call('PATCH', `/admin/v1/keys/${key.id}`, {
          rpm_limit: 7,
          name: 'limited 2',
          metadata: null,
        });
        expect(patched.statusCode, patched.body).toBe(200);
        expect(patched.json()).toMatchObject({ name: 'limited 2', rpm_limit: 7, metadata: null });
        expect(patched.body).not.toContain(key.key);
        expect((await asClient(key.key, 'GET', '/v1/key')).json()).toMatchObject({
          name: 'limited 2',
          limits: { rpm_limit: 7 },
        });
      });

      it('moves a key to a team and out of it', async () => {
        const team = await createTeam({ name: 'movers' });
        const key = await createKey({ name: 'mover' });
        const moved = await call('PATCH', `/admin/v1/keys/${key.id}`, { team_id: team.id });
        expect(moved.json()).toMatchObject({ team_id: team.id });
        expect((await asClient(key.key, 'GET', '/v1/key')).json()).toMatchObject({
          team_id: team.id,
        });
        const out = await call('PATCH', `/admin/v1/keys/${key.id}`, { team_id: null });
        expect(out.json()).toMatchObject({ team_id: null });
      });

      it('revokes a key at once; revoking again is no error', async () => {
        const key = await createKey({ name: 'doomed' });
        expect((await chat(key.key)).statusCode).toBe(200);
        const revoked = await call('DELETE', `/admin/v1/keys/${key.id}`);
        expect(revoked.statusCode).toBe(204);
        expect(revoked.body).toBe('');
        for (const response of [await chat(key.key), await asClient(key.key, 'GET', '/v1/key')]) {
          expect(response.statusCode).toBe(401);
          expectEnvelope(response.body, 'authentication_error', 'invalid_api_key');
        }
        const read = (await call('GET', `/admin/v1/keys/${key.id}`)).json<KeyJson>();
        expect(read.revoked_at).toMatch(ISO);
        expect((await call('DELETE', `/admin/v1/keys/${key.id}`)).statusCode).toBe(204);
        expect((await call('GET', `/admin/v1/keys/${key.id}`)).json()).toEqual(read);
      });

      it("revokes a team's keys when the team is deleted", async () => {
        const team = await createTeam({ name: 'short-lived' });
        const first = await createKey({ name: 'one', team_id: team.id });
        const second = await createKey({ name: 'two', team_id: team.id });
        const outsider = await createKey({ name: 'outsider' });
        for (const key of [first, second, outsider]) {
          expect((await chat(key.key)).statusCode).toBe(200);
        }
        expect((await call('DELETE', `/admin/v1/teams/${team.id}`)).statusCode).toBe(204);
        for (const key of [first, second]) {
          expect((await chat(key.key)).statusCode).toBe(401);
          const read = (await call('GET', `/admin/v1/keys/${key.id}`)).json<KeyJson>();
          expect(read.revoked_at).toMatch(ISO);
        }
        expect((await chat(outsider.key)).statusCode).toBe(200);
      });

      it('answers 404 for an unknown key id', async () => {
        for (const [method, payload] of [['GET'], ['PATCH', {}], ['DELETE']] as const) {
          const response = await call(method, '/admin/v1/keys/key_00000000000000000000', payload);
          expect(response.statusCode).toBe(404);
          expectEnvelope(response.body, 'not_found_error', 'resource_not_found');
        }
      });
    });

    describe('bad input: 400 invalid_parameter naming the field', () => {
      let teamId: string;
      let keyId: string;
      let deletedTeamId: string;
      beforeAll(async () => {
        teamId = (await createTeam({ name: 'valid' })).id;
        keyId = (await createKey({ name: 'valid' })).id;
        deletedTeamId = (await createTeam({ name: 'deleted' })).id;
        await call('DELETE', `/admin/v1/teams/${deletedTeamId}`);
      });

      /** Bodies refused on create and on change, teams and keys alike. */
      const LIMIT_CASES: readonly (readonly [object, string])[] = [
        [{ colour: 'red' }, 'colour'],
        [{ name: '' }, 'name'],
        [{ name: 'x'.repeat(201) }, 'name'],
        [{ name: null }, 'name'],
        [{ models: 'm1' }, 'models'],
        [{ models: ['m1', ''] }, 'models[1]'],
        [{ models: ['m'.repeat(257)] }, 'models[0]'],
        [{ models: Array.from({ length: 1001 }, (_, index) => `m${index}`) }, 'models'],
        [{ rpm_limit: 0 }, 'rpm_limit'],
        [{ rpm_limit: -5 }, 'rpm_limit'],
        [{ tpm_limit: 2.5 }, 'tpm_limit'],
        [{ max_concurrent: '3' }, 'max_concurrent'],
        [{ budget_tokens: -1 }, 'budget_tokens'],
        [{ budget_usd: -1 }, 'budget_usd'],
        [{ budget_usd: '10' }, 'budget_usd'],
        [{ budget_period: 'week' }, 'budget_period'],
      ];
      const KEY_CASES: readonly (readonly [object, string])[] = [
        [{ team_id: 'team_00000000000000000000' }, 'team_id'],
        [{ team_id: 42 }, 'team_id'],
        [{ expires_at: '2001-01-01T00:00:00Z' }, 'expires_at'],
        [{ expires_at: 'soon' }, 'expires_at'],
        [{ expires_at: '2099-01-01T00:00:00' }, 'expires_at'],
        [{ metadata: ['a'] }, 'metadata'],
        [{ metadata: { blob: 'x'.repeat(17 * 1024) } }, 'metadata'],
        [{ key: 'gw-mine' }, 'key'],
        [{ key_hash: 'abc' }, 'key_hash'],
      ];

      it.each(LIMIT_CASES)('team %j → %s', async (body, param) => {
        expectInvalid(await call('POST', '/admin/v1/teams', { name: 'n', ...body }), param);
        expectInvalid(await call('PATCH', `/admin/v1/teams/${teamId}`, body), param);
      });

      it.each([...LIMIT_CASES, ...KEY_CASES])('key %j → %s', async (body, param) => {
        expectInvalid(await call('POST', '/admin/v1/keys', { name: 'n', ...body }), param);
        expectInvalid(await call('PATCH', `/admin/v1/keys/${keyId}`, body), param);
      });

      it('wants a team that is not deleted', async () => {
        const body = { team_id: deletedTeamId };
        expectInvalid(await call('POST', '/admin/v1/keys', { name: 'n', ...body }), 'team_id');
        expectInvalid(await call('PATCH', `/admin/v1/keys/${keyId}`, body), 'team_id');
      });

      it('wants a name to create', async () => {
        expectInvalid(await call('POST', '/admin/v1/teams', { rpm_limit: 1 }), 'name');
        expectInvalid(await call('POST', '/admin/v1/keys', {}), 'name');
      });

      it('wants a JSON object as the body', async () => {
        for (const url of ['/admin/v1/teams', '/admin/v1/keys']) {
          for (const payload of ['[]', '"name"', 'null', '7']) {
            const response = await gateway.app.inject({
              method: 'POST',
              url,
              headers: { ...admin, 'content-type': 'application/json' },
              payload,
            });
            expectInvalid(response, null);
          }
          expectInvalid(await call('POST', url), null);
        }
        expectInvalid(await call('PATCH', `/admin/v1/teams/${teamId}`), null);
        const notJson = await gateway.app.inject({
          method: 'POST',
          url: '/admin/v1/teams',
          headers: { ...admin, 'content-type': 'application/json' },
          payload: '{"name":',
        });
        expect(notJson.statusCode).toBe(400);
        expectEnvelope(notJson.body, 'invalid_request_error', 'invalid_json');
      });

      it.each([
        ['/admin/v1/usage', 'group_by'],
        ['/admin/v1/usage?group_by=week', 'group_by'],
        ['/admin/v1/usage?group_by=key&group_by=team', 'group_by'],
        ['/admin/v1/usage?group_by=key&from=yesterday', 'from'],
        ['/admin/v1/usage?group_by=key&to=2030-01-01T00:00:00', 'to'],
        ['/admin/v1/usage?group_by=key&from=2030-01-02&to=2030-01-01', 'to'],
        ['/admin/v1/usage?group_by=key&limit=5', 'limit'],
        ['/admin/v1/requests?limit=0', 'limit'],
        ['/admin/v1/requests?limit=1001', 'limit'],
        ['/admin/v1/requests?limit=ten', 'limit'],
        ['/admin/v1/requests?status=abc', 'status'],
        ['/admin/v1/requests?status=1000', 'status'],
        ['/admin/v1/requests?from=last-week', 'from'],
        ['/admin/v1/requests?page=2', 'page'],
        ['/admin/v1/keys?team=x', 'team'],
      ])('query %s → %s', async (url, param) => {
        expectInvalid(await call('GET', url), param);
      });
    });

    describe('usage and requests', () => {
      let team: TeamJson;
      let key: CreatedKeyJson;
      let rows: RequestJson[];

      const requests = async (query: string) => {
        const response = await call('GET', `/admin/v1/requests?${query}`);
        expect(response.statusCode, response.body).toBe(200);
        return response.json<{ data: RequestJson[]; has_more: boolean }>();
      };

      beforeAll(async () => {
        team = await createTeam({ name: 'ledger team' });
        key = await createKey({ name: 'ledger key', team_id: team.id, models: ['m1'] });
        // A few milliseconds apart, so that each row has a time of its own to page by.
        expect((await chat(key.key)).statusCode).toBe(200);
        await sleep(5);
        expect((await chat(key.key)).statusCode).toBe(200);
        await sleep(5);
        expect((await chat(key.key, 'm2')).statusCode).toBe(403);
        const page = await eventually(
          () => requests(`key_id=${key.id}`),
          (value) => value.data.length === 3,
        );
        rows = page.data;
      });

      it('lists the key’s requests, newest first, in the contract’s shape', async () => {
        expect(rows).toHaveLength(3);
        const [refused, ...served] = rows;
        expect(refused).toMatchObject({
          key_id: key.id,
          team_id: team.id,
          route: '/v1/chat/completions',
          stream: false,
          status: 403,
          input_tokens: 0,
          output_tokens: 0,
          cost_usd: 0,
          error_code: 'model_not_allowed',
        });
        for (const row of served) {
          expect(Object.keys(row).sort()).toEqual(
            [
              'id',
              'request_id',
              'created_at',
              'key_id',
              'team_id',
              'model',
              'served_model',
              'provider',
              'deployment',
              'route',
              'stream',
              'status',
              'input_tokens',
              'output_tokens',
              'cost_usd',
              'latency_ms',
              'ttft_ms',
              'error_code',
              'attempts',
              'tried',
            ].sort(),
          );
          expect(row).toMatchObject({
            model: 'm1',
            served_model: 'm1',
            provider: 'ollama',
            deployment: 'ollama/m1',
            status: 200,
            input_tokens: 3,
            output_tokens: 2,
            error_code: null,
            attempts: 1,
            tried: null,
          });
          expect(row.cost_usd).toBeCloseTo(0.007, 12);
          expect(row.created_at).toMatch(ISO);
          expect(typeof row.latency_ms).toBe('number');
        }
        const times = rows.map((row) => row.created_at);
        expect([...times].sort().reverse()).toEqual(times);
        expect(new Set(rows.map((row) => row.request_id)).size).toBe(3);
      });

      it('filters by team, model and status', async () => {
        expect((await requests(`team_id=${team.id}`)).data).toEqual(rows);
        expect((await requests(`key_id=${key.id}&model=m1`)).data).toEqual(rows.slice(1));
        expect((await requests(`key_id=${key.id}&status=200`)).data).toEqual(rows.slice(1));
        expect((await requests(`key_id=${key.id}&status=403`)).data).toEqual(rows.slice(0, 1));
        expect((await requests('key_id=key_none')).data).toEqual([]);
      });

      it('pages with before and has_more', async () => {
        const first = await requests(`key_id=${key.id}&limit=2`);
        expect(first).toEqual({ data: rows.slice(0, 2), has_more: true });
        const cursor = first.data[1]?.id ?? '';
        const second = await requests(`key_id=${key.id}&limit=2&before=${cursor}`);
        expect(second).toEqual({ data: rows.slice(2), has_more: false });
        const byRequestId = await requests(
          `key_id=${key.id}&limit=2&before=${first.data[1]?.request_id}`,
        );
        expect(byRequestId.data).toEqual(rows.slice(2));
        const newest = rows[0]?.created_at ?? '';
        const byTime = await requests(`key_id=${key.id}&before=${encodeURIComponent(newest)}`);
        expect(byTime).toEqual({ data: rows.slice(1), has_more: false });
        expect(await requests(`key_id=${key.id}&before=nothing-like-this`)).toEqual({
          data: [],
          has_more: false,
        });
      });

      it('sums usage by key, team, model and day', async () => {
        const usage = async (query: string) => {
          const response = await call('GET', `/admin/v1/usage?${query}`);
          expect(response.statusCode, response.body).toBe(200);
          return response.json<{ data: Record<string, unknown>[] }>().data;
        };
        const totals = { requests: 3, input_tokens: 6, output_tokens: 4, errors: 1 };
        const byKey = await usage(`group_by=key&key_id=${key.id}`);
        expect(byKey).toEqual([{ group: key.id, ...totals, cost_usd: expect.closeTo(0.014, 12) }]);
        expect(await usage(`group_by=team&team_id=${team.id}`)).toEqual([
          { group: team.id, ...totals, cost_usd: expect.closeTo(0.014, 12) },
        ]);
        const byModel = await usage(`group_by=model&key_id=${key.id}`);
        expect(byModel).toContainEqual({
          group: 'm1',
          requests: 2,
          input_tokens: 6,
          output_tokens: 4,
          cost_usd: expect.closeTo(0.014, 12),
          errors: 0,
        });
        expect(byModel.reduce((sum, group) => sum + Number(group.requests), 0)).toBe(3);
        const day = rows[0]?.created_at.slice(0, 10);
        expect(await usage(`group_by=day&key_id=${key.id}`)).toEqual([
          { group: day, ...totals, cost_usd: expect.closeTo(0.014, 12) },
        ]);
        expect(await usage(`group_by=key&key_id=${key.id}&from=2099-01-01`)).toEqual([]);
        expect(await usage(`group_by=key&key_id=${key.id}&to=2000-01-01`)).toEqual([]);
        const window = `from=${day}&to=2099-01-01T00:00:00Z`;
        expect(await usage(`group_by=key&key_id=${key.id}&${window}`)).toHaveLength(1);
      });
    });

    describe('with the database gone', () => {
      let broken: TenancyApp;
      let brokenDatabase: TestDatabase;
      beforeAll(async () => {
        brokenDatabase = await backend.create();
        broken = await startTenancyApp(brokenDatabase.url);
        await broken.running.store.close();
      });
      afterAll(async () => {
        await broken?.close();
        await brokenDatabase?.remove();
      });

      it.each(ROUTES)('%s %s answers 503 store_unavailable', async (method, url) => {
        const response = await broken.app.inject({
          method,
          url,
          headers: admin,
          ...(method === 'POST' || method === 'PATCH' ? { payload: { name: 'n' } } : {}),
        });
        expect(response.statusCode, response.body).toBe(503);
        expect(response.headers['retry-after']).toBe('1');
        expectEnvelope(response.body, 'api_error', 'store_unavailable');
      });

      it('still answers bad input with a 400, not a 503', async () => {
        const response = await broken.app.inject({
          method: 'POST',
          url: '/admin/v1/teams',
          headers: admin,
          payload: { name: '' },
        });
        expectInvalid(response, 'name');
      });
    });
  });
}
