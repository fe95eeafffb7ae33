import { describe, expect, it } from 'vitest';
import type { KeyRecord, TeamRecord } from '../store/tenancy-store.js';
import { type AdmissionRequest, admit, settlements } from './admission.js';
import type { Tenant } from './key-directory.js';
import { createMemoryLimitCounters } from './memory-limit-counters.js';
import { createPriceTable } from './price-table.js';

const NOW = Date.parse('2026-12-07T12:00:00Z');

const NO_LIMITS = {
  models: null,
  rpmLimit: null,
  tpmLimit: null,
  maxConcurrent: null,
  budgetUsd: null,
  budgetTokens: null,
  budgetPeriod: null,
} as const;

function key(fields: Partial<KeyRecord> = {}): KeyRecord {
  return {
    id: 'key_a',
    name: 'a',
    teamId: null,
    keyHash: 'h',
    keyPrefix: 'gw-a',
    expiresAt: null,
    revokedAt: null,
    metadata: null,
    createdAt: 0,
    updatedAt: 0,
    ...NO_LIMITS,
    ...fields,
  };
}

function team(fields: Partial<TeamRecord> = {}): TeamRecord {
  return { id: 'team_t', name: 't', createdAt: 0, updatedAt: 0, ...NO_LIMITS, ...fields };
}

function tenant(keyFields: Partial<KeyRecord>, teamFields?: Partial<TeamRecord>): Tenant {
  const teamRecord = teamFields === undefined ? undefined : team(teamFields);
  return {
    key: key({ ...keyFields, teamId: teamRecord?.id ?? null }),
    team: teamRecord,
    keySpend: undefined,
    teamSpend: undefined,
  };
}

function setup() {
  const counters = createMemoryLimitCounters();
  const options = {
    counters,
    prices: createPriceTable(
      new Map([['cerebras/llama-3.3-70b', { inputPerMillion: 1_000, outputPerMillion: 2_000 }]]),
    ),
    deploymentsOf: (model: string, pinned: string | undefined) => [
      `${pinned ?? 'cerebras'}/${model}`,
    ],
  };
  let id = 0;
  const request = (fields: Partial<AdmissionRequest> = {}): AdmissionRequest => ({
    requestId: `req-${id++}`,
    model: 'llama-3.3-70b',
    pinnedProvider: undefined,
    inputTokens: 100,
    outputTokens: 100,
    ...fields,
  });
  return { counters, options, request };
}

describe('admit', () => {
  it('lets a key without limits through, with nothing to settle but nothing counted', async () => {
    const { options, request } = setup();
    const outcome = await admit(options, tenant({}), request(), NOW);
    expect(outcome).toMatchObject({ ok: true, ticket: { checks: [], inputTokens: 100 } });
  });

  it('refuses a model off the key’s or the team’s allowlist with 403 model_not_allowed', async () => {
    const { options, request } = setup();
    const keyOnly = tenant({ models: ['llama-3.3-70b'] });
    expect((await admit(options, keyOnly, request(), NOW)).ok).toBe(true);
    const refused = await admit(options, keyOnly, request({ model: 'gpt-4' }), NOW);
    expect(refused.ok === false && refused.error).toMatchObject({
      status: 403,
      code: 'model_not_allowed',
    });
    const byTeam = tenant({}, { models: ['other'] });
    const teamRefused = await admit(options, byTeam, request(), NOW);
    expect(teamRefused.ok === false && teamRefused.error.message).toContain("key's team");
  });

  it('takes provider/model on a pinned route as allowed', async () => {
    const { options, request } = setup();
    const pinnedOnly = tenant({ models: ['ollama/llama3.2'] });
    const outcome = await admit(
      options,
      pinnedOnly,
      request({ model: 'llama3.2', pinnedProvider: 'ollama' }),
      NOW,
    );
    expect(outcome.ok).toBe(true);
  });

  it('holds requests per minute exactly, naming the limit and the wait', async () => {
    const { options, request } = setup();
    const limited = tenant({ rpmLimit: 3 });
    const results = await Promise.all(
      Array.from({ length: 10 }, () => admit(options, limited, request(), NOW)),
    );
    expect(results.filter((result) => result.ok)).toHaveLength(3);
    const refused = results.find((result) => !result.ok);
    expect(refused?.ok === false && refused.error).toMatchObject({
      status: 429,
      type: 'requests',
      code: 'rate_limit_exceeded',
      retryAfter: '20',
    });
    expect(refused?.rates.requests).toMatchObject({ limit: 3, remaining: 0 });
  });

  it('counts a team’s limit over all of its keys, and takes nothing from a key the team refused', async () => {
    const { counters, options, request } = setup();
    const first = tenant({ id: 'key_1', rpmLimit: 5 }, { rpmLimit: 2 });
    const second = { ...first, key: { ...first.key, id: 'key_2' } };
    expect((await admit(options, first, request(), NOW)).ok).toBe(true);
    expect((await admit(options, second, request(), NOW)).ok).toBe(true);
    const refused = await admit(options, first, request(), NOW);
    expect(refused.ok === false && refused.error.message).toContain('for the team');
    const [keyBucket] = await counters.peek(
      [{ kind: 'bucket', key: 'k:key_1:rpm', limit: 5 }],
      NOW,
    );
    expect(keyBucket).toMatchObject({ remaining: 4 });
  });

  it('reserves tokens per minute at the estimate and says when a request can never fit', async () => {
    const { options, request } = setup();
    const limited = tenant({ tpmLimit: 500 });
    expect((await admit(options, limited, request(), NOW)).ok).toBe(true);
    expect((await admit(options, limited, request(), NOW)).ok).toBe(true);
    const refused = await admit(options, limited, request(), NOW);
    expect(refused.ok === false && refused.error).toMatchObject({ type: 'tokens' });
    const huge = await admit(
      options,
      tenant({ tpmLimit: 500 }),
      request({ outputTokens: 4_096 }),
      NOW,
    );
    expect(huge.ok === false && huge.error.message).toContain('more than the key');
  });

  it('refuses at the concurrency limit until a request settles', async () => {
    const { counters, options, request } = setup();
    const limited = tenant({ maxConcurrent: 1 });
    const first = await admit(options, limited, request(), NOW);
    const second = await admit(options, limited, request(), NOW);
    expect(second.ok === false && second.error).toMatchObject({ status: 429, retryAfter: '1' });
    if (!first.ok) throw new Error('first refused');
    await counters.settle(settlements(first.ticket, 150, 0), NOW);
    expect((await admit(options, limited, request(), NOW)).ok).toBe(true);
  });

  it('reserves the worst case of a USD budget, settles the real cost, and refuses once it is spent', async () => {
    const { counters, options, request } = setup();
    // 100 input at $1000/M + 100 output at $2000/M = $0.30 worst case a request.
    const budgeted = tenant({ budgetUsd: 1, budgetPeriod: 'day' });
    const admitted = [];
    for (let index = 0; index < 3; index++) {
      const outcome = await admit(options, budgeted, request(), NOW);
      expect(outcome.ok).toBe(true);
      if (outcome.ok) admitted.push(outcome.ticket);
    }
    const fourth = await admit(options, budgeted, request(), NOW);
    expect(fourth.ok === false && fourth.error).toMatchObject({
      status: 429,
      type: 'insufficient_quota',
      code: 'insufficient_quota',
      final: true,
    });
    // Each really cost $0.10: settling frees room for more.
    for (const ticket of admitted) await counters.settle(settlements(ticket, 100, 1e8), NOW);
    expect((await admit(options, budgeted, request(), NOW)).ok).toBe(true);
  });

  it('seeds a budget with what the database recorded for the same period only', async () => {
    const { options, request } = setup();
    const recorded = { periodId: '2026-12-07', costNano: 0, tokens: 950 };
    const spentToday: Tenant = {
      ...tenant({ budgetTokens: 1_000, budgetPeriod: 'day' }),
      keySpend: recorded,
    };
    expect((await admit(options, spentToday, request(), NOW)).ok).toBe(false);
    const tomorrow = NOW + 86_400_000;
    expect((await admit(options, spentToday, request(), tomorrow)).ok).toBe(true);
  });

  it('settles token buckets by the difference and budgets by the real figures', () => {
    const ticket = {
      inputTokens: 100,
      rates: { requests: undefined, tokens: undefined },
      checks: [
        { kind: 'bucket', key: 'k:a:rpm', limit: 10, cost: 1 },
        { kind: 'bucket', key: 'k:a:tpm', limit: 1_000, cost: 300 },
        { kind: 'concurrency', key: 'k:a:concurrent', max: 2, leaseId: 'r' },
        { kind: 'budget', key: 'k:a:usd:total', limit: 9, amount: 7, seed: 0, ttlMs: null },
        { kind: 'budget', key: 'k:a:tokens:total', limit: 900, amount: 300, seed: 0, ttlMs: null },
      ],
    } as const;
    expect(settlements(ticket, 120, 5)).toEqual([
      { kind: 'bucket', key: 'k:a:tpm', limit: 1_000, delta: -180 },
      { kind: 'concurrency', key: 'k:a:concurrent', leaseId: 'r' },
      { kind: 'budget', key: 'k:a:usd:total', reserved: 7, actual: 5 },
      { kind: 'budget', key: 'k:a:tokens:total', reserved: 300, actual: 120 },
    ]);
  });
});
