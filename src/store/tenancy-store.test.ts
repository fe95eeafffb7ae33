/**
 * One conformance suite for the tenancy store, run on a real SQLite file and on the real
 * PostgreSQL: both dialects must give the same answers. It is one long file because it is one
 * suite; splitting it would need a shared non-test module (built into dist) to hold it.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Sqlite from 'better-sqlite3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createTemporaryDatabase, postgresUrlOrSkip } from '../../test/helpers/real-services.js';
import { unusedPort } from '../../test/helpers/unused-port.js';
import {
  type LedgerRow,
  type Limits,
  type NewKey,
  openTenancyStore,
  type StoreDialect,
  type TenancyStore,
} from './tenancy-store.js';

/** A database of a suite's own: `url` opens it (as often as a test likes); `remove` deletes it. */
interface TestDatabase {
  readonly url: string;
  remove(): Promise<void>;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Team and key times; the ledger's are in 2031 (T0). */
const NOW = 1_800_000_000_000;
const ALL_LIMITS: Limits = {
  models: ['gpt-4o', 'llama3.1:8b'],
  rpmLimit: 60,
  tpmLimit: 100_000,
  maxConcurrent: 4,
  budgetUsd: 12.75,
  budgetTokens: 5_000_000_000,
  budgetPeriod: 'month',
};

let keyCount = 0;
function newKey(fields: Partial<NewKey> = {}): NewKey {
  keyCount += 1;
  return {
    name: `key ${keyCount}`,
    keyHash: `${'0'.repeat(56)}${String(keyCount).padStart(8, '0')}`,
    keyPrefix: `gw-${keyCount}`,
    ...fields,
  };
}

function ledgerRow(fields: Partial<LedgerRow> & Pick<LedgerRow, 'id' | 'createdAt'>): LedgerRow {
  return {
    requestId: `request-${fields.id}`,
    keyId: null,
    teamId: null,
    model: null,
    servedModel: null,
    provider: null,
    deployment: null,
    route: '/v1/chat/completions',
    stream: false,
    status: 200,
    inputTokens: 0,
    outputTokens: 0,
    costUsd: 0,
    latencyMs: 10,
    ttftMs: null,
    errorCode: null,
    attempts: null,
    tried: null,
    ...fields,
  };
}

function recordingLogger() {
  const infos: object[] = [];
  const warnings: object[] = [];
  return {
    infos,
    warnings,
    info: (object: object) => infos.push(object),
    warn: (object: object) => warnings.push(object),
  };
}

/** Runs SQL on a test database over a connection of its own (to stage an older schema). */
async function runSql(dialect: StoreDialect, url: string, statements: readonly string[]) {
  if (dialect === 'sqlite') {
    const database = new Sqlite(url.slice('sqlite:'.length));
    try {
      for (const statement of statements) database.exec(statement);
    } finally {
      database.close();
    }
    return;
  }
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    for (const statement of statements) await client.query(statement);
  } finally {
    await client.end();
  }
}

function describeTenancyStore(
  dialect: StoreDialect,
  createDatabase: () => Promise<TestDatabase>,
): void {
  let database: TestDatabase;
  let store: TenancyStore;

  beforeAll(async () => {
    database = await createDatabase();
    store = await openTenancyStore(database.url);
  });

  afterAll(async () => {
    await store?.close();
    await database?.remove();
  });

  it('opens as its dialect and answers a ping', async () => {
    expect(store.dialect).toBe(dialect);
    await expect(store.ping()).resolves.toBeUndefined();
  });

  describe('teams', () => {
    it('creates a team with random ids and unset limits, and reads it back', async () => {
      const team = await store.createTeam({ name: 'Research' }, NOW);
      expect(team).toEqual({
        id: expect.stringMatching(/^team_[0-9A-Za-z]{20}$/),
        name: 'Research',
        models: null,
        rpmLimit: null,
        tpmLimit: null,
        maxConcurrent: null,
        budgetUsd: null,
        budgetTokens: null,
        budgetPeriod: null,
        createdAt: NOW,
        updatedAt: NOW,
      });
      expect(await store.getTeam(team.id)).toEqual(team);
      const other = await store.createTeam({ name: 'Research' }, NOW);
      expect(other.id).not.toBe(team.id);
      expect(await store.getTeam('team_unknown')).toBeUndefined();
    });

    it('keeps every limit as given (big integers, fractions, the model list)', async () => {
      const team = await store.createTeam({ name: 'Limited', ...ALL_LIMITS }, NOW);
      expect(team).toMatchObject(ALL_LIMITS);
      expect(await store.getTeam(team.id)).toEqual(team);
    });

    it('lists teams oldest first, whatever order they were written in', async () => {
      const late = await store.createTeam({ name: 'late' }, NOW + 20);
      const early = await store.createTeam({ name: 'early' }, NOW + 10);
      const ids = (await store.listTeams()).map((team) => team.id);
      expect(ids).toContain(late.id);
      expect(ids.indexOf(early.id)).toBeLessThan(ids.indexOf(late.id));
    });

    it('patches: null clears a limit, an absent field keeps its value', async () => {
      const team = await store.createTeam({ name: 'Patch', ...ALL_LIMITS }, NOW);
      const patched = await store.updateTeam(team.id, { rpmLimit: null, tpmLimit: 30 }, NOW + 1);
      expect(patched).toEqual({ ...team, rpmLimit: null, tpmLimit: 30, updatedAt: NOW + 1 });
      expect(await store.getTeam(team.id)).toEqual(patched);
      const renamed = await store.updateTeam(
        team.id,
        { name: 'Renamed', models: null, rpmLimit: 7 },
        NOW + 2,
      );
      expect(renamed).toEqual({
        ...team,
        name: 'Renamed',
        models: null,
        rpmLimit: 7,
        tpmLimit: 30,
        updatedAt: NOW + 2,
      });
      expect(await store.updateTeam(team.id, {}, NOW + 3)).toEqual({
        ...renamed,
        updatedAt: NOW + 3,
      });
      expect(await store.updateTeam('team_unknown', { name: 'x' }, NOW)).toBeUndefined();
    });

    it('deletes a team: hidden everywhere, its keys revoked, other keys untouched', async () => {
      const team = await store.createTeam({ name: 'Doomed' }, NOW);
      const bystander = await store.createTeam({ name: 'Bystander' }, NOW);
      const live = await store.createKey(newKey({ teamId: team.id }), NOW);
      const revokedBefore = await store.createKey(newKey({ teamId: team.id }), NOW);
      await store.revokeKey(revokedBefore.id, NOW + 1);
      const elsewhere = await store.createKey(newKey({ teamId: bystander.id }), NOW);

      expect(await store.deleteTeam(team.id, NOW + 5)).toBe(true);

      expect(await store.getTeam(team.id)).toBeUndefined();
      expect((await store.listTeams()).map((listed) => listed.id)).not.toContain(team.id);
      expect(await store.updateTeam(team.id, { name: 'back' }, NOW + 6)).toBeUndefined();
      expect(await store.getKey(live.id)).toMatchObject({ revokedAt: NOW + 5, updatedAt: NOW + 5 });
      expect(await store.getKey(revokedBefore.id)).toMatchObject({ revokedAt: NOW + 1 });
      expect(await store.getKey(elsewhere.id)).toEqual(elsewhere);
      expect(await store.findKeyByHash(live.keyHash)).toEqual({
        key: expect.objectContaining({ id: live.id, teamId: team.id, revokedAt: NOW + 5 }),
        team: undefined,
      });
      expect(await store.deleteTeam(team.id, NOW + 7)).toBe(false);
      expect(await store.deleteTeam('team_unknown', NOW)).toBe(false);
    });
  });

  describe('keys', () => {
    it('creates a key with its team, limits and metadata, and reads it back', async () => {
      const team = await store.createTeam({ name: 'Keys' }, NOW);
      const fields = newKey({
        teamId: team.id,
        models: ['gpt-4o'],
        rpmLimit: 5,
        budgetTokens: 1_000,
        budgetPeriod: 'day',
        expiresAt: NOW + DAY,
        metadata: { owner: 'ana', tags: ['ci'], nested: { level: 2 } },
      });
      const key = await store.createKey(fields, NOW);
      expect(key).toEqual({
        id: expect.stringMatching(/^key_[0-9A-Za-z]{20}$/),
        name: fields.name,
        teamId: team.id,
        keyHash: fields.keyHash,
        keyPrefix: fields.keyPrefix,
        models: ['gpt-4o'],
        rpmLimit: 5,
        tpmLimit: null,
        maxConcurrent: null,
        budgetUsd: null,
        budgetTokens: 1_000,
        budgetPeriod: 'day',
        expiresAt: NOW + DAY,
        revokedAt: null,
        metadata: { owner: 'ana', tags: ['ci'], nested: { level: 2 } },
        createdAt: NOW,
        updatedAt: NOW,
      });
      expect(await store.getKey(key.id)).toEqual(key);
      expect(await store.getKey('key_unknown')).toBeUndefined();
    });

    it('creates a key without a team, expiry or metadata', async () => {
      const key = await store.createKey(newKey(), NOW);
      expect(key).toMatchObject({ teamId: null, expiresAt: null, metadata: null, models: null });
      expect(await store.getKey(key.id)).toEqual(key);
    });

    it('refuses a second key with the same hash, and a key of an unknown team', async () => {
      const key = await store.createKey(newKey(), NOW);
      await expect(store.createKey(newKey({ keyHash: key.keyHash }), NOW)).rejects.toThrow(
        /unique/i,
      );
      await expect(store.createKey(newKey({ teamId: 'team_unknown' }), NOW)).rejects.toThrow(
        /foreign key/i,
      );
    });

    it('lists all keys, or one team’s, oldest first', async () => {
      const team = await store.createTeam({ name: 'Listed' }, NOW);
      const second = await store.createKey(newKey({ teamId: team.id }), NOW + 2);
      const first = await store.createKey(newKey({ teamId: team.id }), NOW + 1);
      const loose = await store.createKey(newKey(), NOW);
      expect(await store.listKeys({ teamId: team.id })).toEqual([first, second]);
      const all = (await store.listKeys()).map((key) => key.id);
      expect(all).toEqual(expect.arrayContaining([first.id, second.id, loose.id]));
    });

    it('patches: null clears, an absent field keeps its value', async () => {
      const team = await store.createTeam({ name: 'Owner' }, NOW);
      const key = await store.createKey(
        newKey({ teamId: team.id, ...ALL_LIMITS, expiresAt: NOW + DAY, metadata: { a: 1 } }),
        NOW,
      );
      const limited = await store.updateKey(key.id, { maxConcurrent: 3 }, NOW + 1);
      expect(limited).toEqual({ ...key, maxConcurrent: 3, updatedAt: NOW + 1 });
      const patched = await store.updateKey(key.id, { teamId: null, metadata: { b: 2 } }, NOW + 2);
      expect(patched).toEqual({ ...limited, teamId: null, metadata: { b: 2 }, updatedAt: NOW + 2 });
      const cleared = await store.updateKey(
        key.id,
        { metadata: null, expiresAt: null, tpmLimit: null, name: 'renamed' },
        NOW + 3,
      );
      expect(cleared).toEqual({
        ...patched,
        name: 'renamed',
        metadata: null,
        expiresAt: null,
        tpmLimit: null,
        updatedAt: NOW + 3,
      });
      expect(await store.getKey(key.id)).toEqual(cleared);
      expect(await store.updateKey('key_unknown', { name: 'x' }, NOW)).toBeUndefined();
    });

    it('revokes once: a second revoke keeps the first time', async () => {
      const key = await store.createKey(newKey(), NOW);
      expect(await store.revokeKey(key.id, NOW + 1)).toBe(true);
      expect(await store.revokeKey(key.id, NOW + 2)).toBe(true);
      expect(await store.getKey(key.id)).toEqual({
        ...key,
        revokedAt: NOW + 1,
        updatedAt: NOW + 1,
      });
      expect(await store.revokeKey('key_unknown', NOW)).toBe(false);
    });

    it('finds a key by hash with its team, without one, and revoked or expired', async () => {
      const team = await store.createTeam({ name: 'Finder', rpmLimit: 9 }, NOW);
      const teamKey = await store.createKey(newKey({ teamId: team.id }), NOW);
      const loose = await store.createKey(newKey({ expiresAt: NOW - 1 }), NOW);
      await store.revokeKey(teamKey.id, NOW + 1);
      expect(await store.findKeyByHash(teamKey.keyHash)).toEqual({
        key: { ...teamKey, revokedAt: NOW + 1, updatedAt: NOW + 1 },
        team,
      });
      expect(await store.findKeyByHash(loose.keyHash)).toEqual({ key: loose, team: undefined });
      expect(await store.findKeyByHash('f'.repeat(64))).toBeUndefined();
    });
  });

  it('reports the keys and teams changed at or after a time', async () => {
    const since = NOW + 10 * DAY;
    const quiet = await store.createTeam({ name: 'quiet' }, since - 1);
    const touched = await store.createTeam({ name: 'touched' }, since - 1);
    const deleted = await store.createTeam({ name: 'deleted' }, since - 1);
    const newTeam = await store.createTeam({ name: 'new' }, since);
    const quietKey = await store.createKey(newKey(), since - 1);
    const revokedKey = await store.createKey(newKey({ teamId: deleted.id }), since - 1);
    const newKeyRecord = await store.createKey(newKey(), since);
    await store.updateTeam(touched.id, { rpmLimit: 1 }, since + 1);
    await store.deleteTeam(deleted.id, since + 2);

    const changed = await store.changedSince(since);
    expect(changed.teamIds).toEqual(expect.arrayContaining([touched.id, deleted.id, newTeam.id]));
    expect(changed.teamIds).not.toContain(quiet.id);
    expect(changed.keyIds).toEqual(expect.arrayContaining([revokedKey.id, newKeyRecord.id]));
    expect(changed.keyIds).not.toContain(quietKey.id);
    expect(await store.changedSince(since + 100 * DAY)).toEqual({ keyIds: [], teamIds: [] });
  });

  describe('ledger', () => {
    const T0 = Date.UTC(2031, 0, 1);
    // Newest first: r6, r5, r4 and r3 (same time: id order), r2, r1, r0.
    const rows: readonly LedgerRow[] = [
      ledgerRow({ id: 'row-0', createdAt: T0 - 1, keyId: 'kA', costUsd: 100, inputTokens: 1 }),
      ledgerRow({
        id: 'row-1',
        requestId: 'req-1',
        createdAt: T0 + HOUR,
        keyId: 'kA',
        teamId: 'tX',
        model: 'gpt-a',
        servedModel: 'gpt-a-2031',
        provider: 'openai',
        deployment: 'openai/gpt-a-2031',
        stream: true,
        inputTokens: 10,
        outputTokens: 20,
        costUsd: 0.5,
        latencyMs: 900,
        ttftMs: 120,
      }),
      ledgerRow({
        id: 'row-2',
        requestId: 'req-2',
        createdAt: T0 + DAY - 1,
        keyId: 'kA',
        teamId: 'tX',
        model: 'gpt-b',
        status: 500,
        inputTokens: 5,
        errorCode: 'upstream_error',
      }),
      ledgerRow({
        id: 'row-3',
        requestId: 'req-3',
        createdAt: T0 + DAY + HOUR,
        keyId: 'kB',
        teamId: 'tX',
        model: 'gpt-a',
        inputTokens: 100,
        outputTokens: 50,
        costUsd: 2.25,
      }),
      // The client sent row-3's request id again.
      ledgerRow({
        id: 'row-4',
        requestId: 'req-3',
        createdAt: T0 + DAY + HOUR,
        keyId: 'kC',
        status: 400,
        errorCode: 'validation_error',
      }),
      ledgerRow({
        id: 'row-5',
        requestId: 'req-5',
        createdAt: T0 + 2 * DAY,
        keyId: 'kB',
        teamId: 'tX',
        model: 'gpt-b',
        inputTokens: 7,
        outputTokens: 3,
        costUsd: 1,
      }),
      ledgerRow({
        id: 'row-6',
        createdAt: T0 + 2 * DAY + HOUR,
        model: 'gpt-a',
        inputTokens: 1,
        outputTokens: 1,
      }),
    ];
    const byId = (...ids: number[]) => ids.map((id) => rows[id]);
    const window = { from: T0, to: T0 + 3 * DAY };
    let ledgerDatabase: TestDatabase;
    let ledger: TenancyStore;

    // A database of its own: no other test's rows in the totals and pages.
    beforeAll(async () => {
      ledgerDatabase = await createDatabase();
      ledger = await openTenancyStore(ledgerDatabase.url);
      await ledger.appendLedger(rows.slice(0, 4));
      await ledger.appendLedger(rows.slice(2));
    });

    afterAll(async () => {
      await ledger?.close();
      await ledgerDatabase?.remove();
    });

    it('keeps each row once, as written, across retried and overlapping batches', async () => {
      await ledger.appendLedger([{ ...(rows[1] as LedgerRow), costUsd: 99 }, rows[1] as LedgerRow]);
      await ledger.appendLedger([]);
      const page = await ledger.requests({ limit: 100 });
      expect(page).toEqual({ rows: byId(6, 5, 4, 3, 2, 1, 0), hasMore: false });
    });

    it('sums usage by key: cost first, then key, the null key after its equals', async () => {
      expect(await ledger.usage({ groupBy: 'key', ...window })).toEqual([
        { group: 'kB', requests: 2, inputTokens: 107, outputTokens: 53, costUsd: 3.25, errors: 0 },
        { group: 'kA', requests: 2, inputTokens: 15, outputTokens: 20, costUsd: 0.5, errors: 1 },
        { group: 'kC', requests: 1, inputTokens: 0, outputTokens: 0, costUsd: 0, errors: 1 },
        { group: null, requests: 1, inputTokens: 1, outputTokens: 1, costUsd: 0, errors: 0 },
      ]);
      expect(await ledger.usage({ groupBy: 'key', keyId: 'kA' })).toEqual([
        { group: 'kA', requests: 3, inputTokens: 16, outputTokens: 20, costUsd: 100.5, errors: 1 },
      ]);
    });

    it('sums usage by team and by model', async () => {
      expect(await ledger.usage({ groupBy: 'team', ...window })).toEqual([
        { group: 'tX', requests: 4, inputTokens: 122, outputTokens: 73, costUsd: 3.75, errors: 1 },
        { group: null, requests: 2, inputTokens: 1, outputTokens: 1, costUsd: 0, errors: 1 },
      ]);
      expect(await ledger.usage({ groupBy: 'model', ...window })).toEqual([
        {
          group: 'gpt-a',
          requests: 3,
          inputTokens: 111,
          outputTokens: 71,
          costUsd: 2.75,
          errors: 0,
        },
        { group: 'gpt-b', requests: 2, inputTokens: 12, outputTokens: 3, costUsd: 1, errors: 1 },
        { group: null, requests: 1, inputTokens: 0, outputTokens: 0, costUsd: 0, errors: 1 },
      ]);
      expect(await ledger.usage({ groupBy: 'model', teamId: 'tX', ...window })).toEqual([
        {
          group: 'gpt-a',
          requests: 2,
          inputTokens: 110,
          outputTokens: 70,
          costUsd: 2.75,
          errors: 0,
        },
        { group: 'gpt-b', requests: 2, inputTokens: 12, outputTokens: 3, costUsd: 1, errors: 1 },
      ]);
    });

    it('sums usage by UTC day, `from` inclusive and `to` exclusive', async () => {
      expect(await ledger.usage({ groupBy: 'day', from: T0 + HOUR, to: T0 + 2 * DAY })).toEqual([
        {
          group: '2031-01-01',
          requests: 2,
          inputTokens: 15,
          outputTokens: 20,
          costUsd: 0.5,
          errors: 1,
        },
        {
          group: '2031-01-02',
          requests: 2,
          inputTokens: 100,
          outputTokens: 50,
          costUsd: 2.25,
          errors: 1,
        },
      ]);
      expect(await ledger.usage({ groupBy: 'day', keyId: 'kB' })).toEqual([
        {
          group: '2031-01-02',
          requests: 1,
          inputTokens: 100,
          outputTokens: 50,
          costUsd: 2.25,
          errors: 0,
        },
        {
          group: '2031-01-03',
          requests: 1,
          inputTokens: 7,
          outputTokens: 3,
          costUsd: 1,
          errors: 0,
        },
      ]);
      expect(await ledger.usage({ groupBy: 'day', from: T0 + 10 * DAY })).toEqual([]);
    });

    it('pages newest first by row id and says whether more exist', async () => {
      const first = await ledger.requests({ limit: 3 });
      expect(first).toEqual({ rows: byId(6, 5, 4), hasMore: true });
      const second = await ledger.requests({ limit: 3, before: 'row-4' });
      expect(second).toEqual({ rows: byId(3, 2, 1), hasMore: true });
      expect(await ledger.requests({ limit: 3, before: 'row-1' })).toEqual({
        rows: byId(0),
        hasMore: false,
      });
      expect(await ledger.requests({ limit: 6 })).toMatchObject({ hasMore: true });
      expect(await ledger.requests({ limit: 7 })).toMatchObject({ hasMore: false });
    });

    it('leaves out rows older than `from`, and pages within the rest', async () => {
      expect(await ledger.requests({ limit: 10, from: T0 + DAY })).toEqual({
        rows: byId(6, 5, 4, 3),
        hasMore: false,
      });
      expect(await ledger.requests({ limit: 2, from: T0 + DAY, before: 'row-5' })).toEqual({
        rows: byId(4, 3),
        hasMore: false,
      });
    });

    it('pages from a request id (a repeated one: after its oldest row)', async () => {
      expect(await ledger.requests({ limit: 2, before: 'req-5' })).toEqual({
        rows: byId(4, 3),
        hasMore: true,
      });
      expect(await ledger.requests({ limit: 5, before: 'req-3' })).toEqual({
        rows: byId(2, 1, 0),
        hasMore: false,
      });
      expect(await ledger.requests({ limit: 5, before: 'no-such-request' })).toEqual({
        rows: [],
        hasMore: false,
      });
    });

    it('pages from a timestamp, decimal or ISO, exclusive', async () => {
      expect(await ledger.requests({ limit: 2, before: String(T0 + DAY + HOUR) })).toEqual({
        rows: byId(2, 1),
        hasMore: true,
      });
      expect(
        await ledger.requests({ limit: 10, before: new Date(T0 + 2 * DAY).toISOString() }),
      ).toEqual({ rows: byId(4, 3, 2, 1, 0), hasMore: false });
      expect(await ledger.requests({ limit: 10, before: '2031-01-01' })).toEqual({
        rows: byId(0),
        hasMore: false,
      });
      expect(await ledger.requests({ limit: 10, before: '2031-13-45' })).toEqual({
        rows: [],
        hasMore: false,
      });
    });

    it('filters pages by key, team, model and status', async () => {
      expect(await ledger.requests({ limit: 10, keyId: 'kA' })).toEqual({
        rows: byId(2, 1, 0),
        hasMore: false,
      });
      expect(await ledger.requests({ limit: 2, teamId: 'tX' })).toEqual({
        rows: byId(5, 3),
        hasMore: true,
      });
      expect(await ledger.requests({ limit: 10, teamId: 'tX', before: 'row-3' })).toEqual({
        rows: byId(2, 1),
        hasMore: false,
      });
      expect(await ledger.requests({ limit: 10, model: 'gpt-a' })).toEqual({
        rows: byId(6, 3, 1),
        hasMore: false,
      });
      expect(await ledger.requests({ limit: 10, status: 400 })).toEqual({
        rows: byId(4),
        hasMore: false,
      });
      expect(await ledger.requests({ limit: 10, status: 500, keyId: 'kB' })).toEqual({
        rows: [],
        hasMore: false,
      });
    });

    it('says what a key or a team spent since a time, or ever', async () => {
      expect(await ledger.spent({ keyId: 'kA' }, null)).toEqual({ costUsd: 100.5, tokens: 36 });
      expect(await ledger.spent({ keyId: 'kA' }, T0)).toEqual({ costUsd: 0.5, tokens: 35 });
      expect(await ledger.spent({ keyId: 'kB' }, T0 + 2 * DAY)).toEqual({ costUsd: 1, tokens: 10 });
      expect(await ledger.spent({ teamId: 'tX' }, T0 + DAY)).toEqual({
        costUsd: 3.25,
        tokens: 160,
      });
      expect(await ledger.spent({ teamId: 'tX' }, null)).toEqual({ costUsd: 3.75, tokens: 195 });
      expect(await ledger.spent({ keyId: 'unknown' }, null)).toEqual({ costUsd: 0, tokens: 0 });
    });
  });

  it('appends a batch larger than one INSERT, once, even when retried', async () => {
    const batch = Array.from({ length: 1_201 }, (_, index) =>
      ledgerRow({
        id: `bulk-${index}`,
        createdAt: NOW + index,
        keyId: 'bulk-key',
        inputTokens: 1,
        costUsd: 0.25,
      }),
    );
    await store.appendLedger(batch);
    await store.appendLedger(batch.slice(1_000));
    expect(await store.spent({ keyId: 'bulk-key' }, null)).toEqual({
      costUsd: 300.25,
      tokens: 1_201,
    });
  });

  it('orders groups of equal cost byte by byte, whatever the server locale', async () => {
    const from = Date.UTC(2040, 0, 1);
    await store.appendLedger(
      ['alpha', 'beta', 'Beta'].map((model) =>
        ledgerRow({ id: `locale-${model}`, createdAt: from, model }),
      ),
    );
    const groups = await store.usage({ groupBy: 'model', from, to: from + 1 });
    expect(groups.map((group) => group.group)).toEqual(['Beta', 'alpha', 'beta']);
  });

  it('brings a database made before a migration up to date, keeping its rows', async () => {
    const own = await createDatabase();
    try {
      const first = await openTenancyStore(own.url);
      await first.appendLedger([ledgerRow({ id: 'old', createdAt: NOW, keyId: 'kOld' })]);
      await first.close();
      // As the first release left it: no attempts or tried, 0002 not applied.
      await runSql(dialect, own.url, [
        'alter table usage_ledger drop column attempts',
        'alter table usage_ledger drop column tried',
        "delete from kysely_migration where name = '0002_ledger_attempts'",
      ]);
      const log = recordingLogger();
      const upgraded = await openTenancyStore(own.url, { logger: log });
      try {
        expect(log.infos).toEqual([{ migration: '0002_ledger_attempts', dialect }]);
        expect((await upgraded.requests({ limit: 5 })).rows).toEqual([
          ledgerRow({ id: 'old', createdAt: NOW, keyId: 'kOld' }),
        ]);
        await upgraded.appendLedger([
          ledgerRow({ id: 'new', createdAt: NOW + 1, attempts: 2, tried: 'a/m (upstream_error)' }),
        ]);
        expect((await upgraded.requests({ limit: 1 })).rows[0]).toMatchObject({
          attempts: 2,
          tried: 'a/m (upstream_error)',
        });
      } finally {
        await upgraded.close();
      }
    } finally {
      await own.remove();
    }
  });

  it('keeps its data when closed and opened again (migrations run once)', async () => {
    const own = await createDatabase();
    try {
      const log = recordingLogger();
      const first = await openTenancyStore(own.url, { logger: log });
      expect(log.infos).toEqual([
        { migration: '0001_initial', dialect },
        { migration: '0002_ledger_attempts', dialect },
      ]);
      const team = await first.createTeam({ name: 'Persistent', budgetUsd: 1.5 }, NOW);
      const key = await first.createKey(newKey({ teamId: team.id }), NOW);
      await first.appendLedger([ledgerRow({ id: 'kept', createdAt: NOW, keyId: key.id })]);
      await first.close();
      await first.close();
      await expect(first.ping()).rejects.toThrow();

      const reopened = await openTenancyStore(own.url, { logger: log });
      try {
        expect(log.infos).toHaveLength(2);
        expect(await reopened.getTeam(team.id)).toEqual(team);
        expect(await reopened.findKeyByHash(key.keyHash)).toEqual({ key, team });
        expect((await reopened.requests({ limit: 10 })).rows.map((row) => row.id)).toEqual([
          'kept',
        ]);
        await reopened.createKey(newKey(), NOW + 1);
      } finally {
        await reopened.close();
      }
    } finally {
      await own.remove();
    }
  });
}

describe('tenancy store on SQLite', () => {
  const folders: string[] = [];
  afterAll(() => {
    for (const folder of folders) rmSync(folder, { recursive: true, force: true });
  });

  describeTenancyStore('sqlite', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'aigw-store-'));
    folders.push(folder);
    // A folder that does not exist yet: opening makes it.
    return { url: `sqlite:${join(folder, 'data', 'gateway.db')}`, remove: async () => undefined };
  });

  it('writes ahead (WAL) and makes the folder', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'aigw-store-'));
    folders.push(folder);
    const path = join(folder, 'a', 'b', 'gateway.db');
    const store = await openTenancyStore(`sqlite:${path}`);
    try {
      await store.createTeam({ name: 'wal' }, NOW);
      expect(existsSync(`${path}-wal`)).toBe(true);
    } finally {
      await store.close();
    }
  });

  it('rejects a file that is not a database, and leaves it as it was', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'aigw-store-'));
    folders.push(folder);
    const path = join(folder, 'notes.txt');
    writeFileSync(path, 'not a database, but long enough to have a header of its own\n'.repeat(4));
    await expect(openTenancyStore(`sqlite:${path}`)).rejects.toThrow('file is not a database');
    expect(readFileSync(path, 'utf8')).toMatch(/^not a database/);
  });

  it('opens in memory', async () => {
    const store = await openTenancyStore('sqlite::memory:');
    try {
      const team = await store.createTeam({ name: 'memory' }, NOW);
      expect(await store.listTeams()).toEqual([team]);
    } finally {
      await store.close();
    }
  });
});

const postgresUrl = postgresUrlOrSkip();
describe.skipIf(postgresUrl === null)('tenancy store on PostgreSQL', () => {
  const createDatabase = async (): Promise<TestDatabase> => {
    const temporary = await createTemporaryDatabase(postgresUrl ?? '');
    return { url: temporary.url, remove: temporary.drop };
  };
  describeTenancyStore('postgres', createDatabase);

  it('logs and outlives the server dropping its connections', async () => {
    const database = await createDatabase();
    const log = recordingLogger();
    const store = await openTenancyStore(database.url, { logger: log });
    try {
      await store.ping();
      const admin = new pg.Client({ connectionString: database.url });
      await admin.connect();
      await admin.query(
        `select pg_terminate_backend(pid) from pg_stat_activity
          where datname = current_database() and pid <> pg_backend_pid()`,
      );
      await admin.end();
      // Unhandled, the idle connection's 'error' event would have ended the process.
      await vi.waitFor(() => expect(log.warnings).toHaveLength(1));
      await expect(store.ping()).resolves.toBeUndefined();
    } finally {
      await store.close();
      await database.remove();
    }
  });
});

describe('openTenancyStore', () => {
  it('refuses a URL of another kind, quoting only its scheme', async () => {
    const error = await openTenancyStore('mysql://admin:hunter2@db/gateway').catch(String);
    expect(error).toBe(
      'Error: Unsupported tenancy store URL scheme "mysql:": use sqlite:PATH, postgres://… or postgresql://…',
    );
    await expect(openTenancyStore('gateway.db')).rejects.toThrow(
      'Unsupported tenancy store URL (no scheme)',
    );
    await expect(openTenancyStore('sqlite:')).rejects.toThrow('names no file');
  });

  it('rejects when PostgreSQL does not answer, rather than waiting', async () => {
    const port = await unusedPort();
    await expect(openTenancyStore(`postgres://postgres@127.0.0.1:${port}/none`)).rejects.toThrow(
      /ECONNREFUSED/,
    );
  });
});
