import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type NewKey, openTenancyStore, type TenancyStore } from '../store/tenancy-store.js';
import { createKeyDirectory, type KeyDirectory } from './key-directory.js';
import { generateKeySecret, hashKeySecret, keyPrefixOf } from './key-secret.js';

const logger = { debug() {}, info() {}, warn() {}, error() {} };

describe('the key directory, on a real SQLite file', () => {
  let folder: string;
  let store: TenancyStore;
  let directory: KeyDirectory | undefined;
  let now = Date.parse('2026-12-07T12:00:00Z');

  beforeEach(async () => {
    folder = mkdtempSync(join(tmpdir(), 'aigw-directory-'));
    store = await openTenancyStore(`sqlite:${join(folder, 'keys.db')}`);
  });
  afterEach(async () => {
    directory?.close();
    await store.close().catch(() => undefined);
    rmSync(folder, { recursive: true, force: true });
  });

  const newKey = async (fields: Partial<NewKey> = {}) => {
    const secret = generateKeySecret();
    const record = await store.createKey(
      { name: 'k', ...fields, keyHash: hashKeySecret(secret), keyPrefix: keyPrefixOf(secret) },
      now,
    );
    return { secret, record };
  };

  const open = (options: { pollIntervalMs?: number; unknownTtlMs?: number } = {}) => {
    directory = createKeyDirectory({
      store,
      logger,
      now: () => now,
      pollIntervalMs: options.pollIntervalMs ?? 0,
      ...(options.unknownTtlMs === undefined ? {} : { unknownTtlMs: options.unknownTtlMs }),
    });
    return directory;
  };

  it('looks a key up once, then answers from memory without a promise', async () => {
    const { secret, record } = await newKey();
    const keys = open();
    const first = keys.find(secret);
    expect(first).toBeInstanceOf(Promise);
    expect((await first)?.key.id).toBe(record.id);
    const second = keys.find(secret);
    expect(second).not.toBeInstanceOf(Promise);
    expect((second as Awaited<typeof first>)?.key.id).toBe(record.id);
  });

  it('shares one lookup among concurrent requests with the same new key', async () => {
    const { secret } = await newKey();
    const keys = open();
    const [a, b] = [keys.find(secret), keys.find(secret)];
    expect(a).toBe(b);
  });

  it('remembers an unknown key as unknown for a moment only', async () => {
    const keys = open({ unknownTtlMs: 1_000 });
    const secret = generateKeySecret();
    expect(await keys.find(secret)).toBeUndefined();
    expect(keys.find(secret)).toBeUndefined();
    now += 1_001;
    expect(keys.find(secret)).toBeInstanceOf(Promise);
  });

  it('loads a key’s and its team’s spend for the current budget period', async () => {
    const team = await store.createTeam({ name: 't', budgetUsd: 10, budgetPeriod: 'month' }, now);
    const { secret, record } = await newKey({
      teamId: team.id,
      budgetTokens: 100,
      budgetPeriod: 'day',
    });
    const row = {
      requestId: 'r',
      keyId: record.id,
      teamId: team.id,
      model: 'm',
      servedModel: 'm',
      provider: 'p',
      deployment: 'p/m',
      route: '/v1/chat/completions',
      stream: false,
      status: 200,
      inputTokens: 10,
      outputTokens: 5,
      costUsd: 0.25,
      latencyMs: 1,
      ttftMs: null,
      errorCode: null,
    };
    await store.appendLedger([
      { ...row, id: 'today', createdAt: now - 1_000 },
      { ...row, id: 'yesterday', createdAt: now - 86_400_000 },
    ]);
    const tenant = await open().find(secret);
    expect(tenant?.keySpend).toEqual({ periodId: '2026-12-07', costNano: 250_000_000, tokens: 15 });
    expect(tenant?.teamSpend).toEqual({ periodId: '2026-12', costNano: 500_000_000, tokens: 30 });
  });

  it('loads the spend of a budget without a period as a total one', async () => {
    const { secret, record } = await newKey({ budgetTokens: 100 });
    await store.appendLedger([
      {
        id: 'old',
        requestId: 'r',
        createdAt: now - 400 * 86_400_000,
        keyId: record.id,
        teamId: null,
        model: 'm',
        servedModel: 'm',
        provider: 'p',
        deployment: 'p/m',
        route: '/v1/chat/completions',
        stream: false,
        status: 200,
        inputTokens: 3,
        outputTokens: 4,
        costUsd: 0,
        latencyMs: 1,
        ttftMs: null,
        errorCode: null,
      },
    ]);
    expect((await open().find(secret))?.keySpend).toEqual({
      periodId: 'total',
      costNano: 0,
      tokens: 7,
    });
  });

  it('turns a database that cannot answer into 503 for a new key, and keeps known keys', async () => {
    const known = await newKey();
    const keys = open();
    await keys.find(known.secret);
    await store.close();
    expect(keys.find(known.secret)).toMatchObject({ key: { id: known.record.id } });
    await expect(keys.find(generateKeySecret())).rejects.toMatchObject({
      status: 503,
      code: 'store_unavailable',
    });
  });

  it('reloads changed keys and every key of a changed team', async () => {
    const team = await store.createTeam({ name: 't' }, now);
    const { secret, record } = await newKey({ teamId: team.id });
    const keys = open();
    await keys.find(secret);
    await store.revokeKey(record.id, now);
    await store.updateTeam(team.id, { rpmLimit: 5 }, now);
    expect(keys.find(secret)).toMatchObject({ key: { revokedAt: null } });
    await keys.reload({ keyIds: [], teamIds: [team.id] });
    expect(keys.find(secret)).toMatchObject({ key: { revokedAt: now }, team: { rpmLimit: 5 } });
  });

  it('hears of changes made elsewhere by polling the store', async () => {
    const { secret, record } = await newKey();
    const keys = open({ pollIntervalMs: 20 });
    await keys.find(secret);
    now += 1;
    await store.updateKey(record.id, { rpmLimit: 7 }, now);
    const deadline = Date.now() + 2_000;
    while ((keys.find(secret) as { key: { rpmLimit: number | null } }).key.rpmLimit !== 7) {
      if (Date.now() > deadline) throw new Error('the change never arrived');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  });
});
