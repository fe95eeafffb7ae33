import { describe, expect, it } from 'vitest';
import { GatewayError } from '../errors/gateway-error.js';
import type { Limits } from '../store/tenancy-store.js';
import {
  DEFAULT_PAGE_LIMIT,
  parseKeyListQuery,
  parseKeyPatch,
  parseNewKey,
  parseNewTeam,
  parseRequestQuery,
  parseTeamPatch,
  parseUsageQuery,
  withBudgetPeriod,
} from './admin-input.js';

const NOW = Date.UTC(2030, 0, 1);

/** The 400 `parse` throws, as `{ status, code, param }`. */
function refusal(parse: () => unknown) {
  try {
    parse();
  } catch (error) {
    if (!(error instanceof GatewayError)) throw error;
    return { status: error.status, code: error.code, param: error.param };
  }
  throw new Error('accepted');
}

function invalid(param: string | null) {
  return { status: 400, code: 'invalid_parameter', param };
}

const NO_LIMITS: Limits = {
  models: null,
  rpmLimit: null,
  tpmLimit: null,
  maxConcurrent: null,
  budgetUsd: null,
  budgetTokens: null,
  budgetPeriod: null,
};

describe('team and key bodies', () => {
  it('reads every field into the store names', () => {
    expect(
      parseNewKey(
        {
          name: 'ci',
          team_id: 'team_1',
          models: ['m1', 'ollama/llama3'],
          rpm_limit: 60,
          tpm_limit: 1_000,
          max_concurrent: 2,
          budget_usd: 0,
          budget_tokens: 9_007_199_254_740_991,
          budget_period: 'month',
          expires_at: '2030-01-02T00:00:00Z',
          metadata: { owner: 'ci', nested: [1] },
        },
        NOW,
      ),
    ).toEqual({
      name: 'ci',
      teamId: 'team_1',
      models: ['m1', 'ollama/llama3'],
      rpmLimit: 60,
      tpmLimit: 1_000,
      maxConcurrent: 2,
      budgetUsd: 0,
      budgetTokens: 9_007_199_254_740_991,
      budgetPeriod: 'month',
      expiresAt: Date.UTC(2030, 0, 2),
      metadata: { owner: 'ci', nested: [1] },
    });
  });

  it('keeps an explicit null (it clears) apart from an absent field (left as it is)', () => {
    expect(parseTeamPatch({ rpm_limit: null, models: null })).toEqual({
      rpmLimit: null,
      models: null,
    });
    expect(parseKeyPatch({ team_id: null, expires_at: null, metadata: null }, NOW)).toEqual({
      teamId: null,
      expiresAt: null,
      metadata: null,
    });
    expect(parseKeyPatch({}, NOW)).toEqual({});
  });

  it.each([
    ['an array', []],
    ['null', null],
    ['a string', 'team'],
    ['absent', undefined],
  ])('refuses a body that is %s, naming no field', (_what, body) => {
    expect(refusal(() => parseNewTeam(body))).toEqual(invalid(null));
    expect(refusal(() => parseKeyPatch(body, NOW))).toEqual(invalid(null));
  });

  it('requires a name to create', () => {
    expect(refusal(() => parseNewTeam({ rpm_limit: 1 }))).toEqual(invalid('name'));
    expect(refusal(() => parseNewKey({}, NOW))).toEqual(invalid('name'));
  });

  it.each([
    [{ name: 'x', colour: 'red' }, 'colour'],
    [{ name: 'x', constructor: 1 }, 'constructor'],
    [{ name: 'x', toString: 1 }, 'toString'],
    [{ name: 'x', expires_at: null }, 'expires_at'],
    [{ name: '' }, 'name'],
    [{ name: '   ' }, 'name'],
    [{ name: 'x'.repeat(201) }, 'name'],
    [{ name: null }, 'name'],
    [{ name: 7 }, 'name'],
    [{ name: 'x', models: 'm1' }, 'models'],
    [{ name: 'x', models: ['m1', ''] }, 'models[1]'],
    [{ name: 'x', models: [3] }, 'models[0]'],
    [{ name: 'x', models: ['m'.repeat(257)] }, 'models[0]'],
    [{ name: 'x', models: Array.from({ length: 1001 }, () => 'm') }, 'models'],
    [{ name: 'x', rpm_limit: 0 }, 'rpm_limit'],
    [{ name: 'x', rpm_limit: -1 }, 'rpm_limit'],
    [{ name: 'x', tpm_limit: 1.5 }, 'tpm_limit'],
    [{ name: 'x', max_concurrent: '2' }, 'max_concurrent'],
    [{ name: 'x', budget_tokens: 2 ** 53 }, 'budget_tokens'],
    [{ name: 'x', budget_usd: -0.01 }, 'budget_usd'],
    [{ name: 'x', budget_usd: '5' }, 'budget_usd'],
    [{ name: 'x', budget_period: 'week' }, 'budget_period'],
    [{ name: 'x', budget_period: 'Day' }, 'budget_period'],
  ])('refuses the team %j naming %s', (body, param) => {
    expect(refusal(() => parseNewTeam(body))).toEqual(invalid(param));
  });

  it.each([
    [{ name: 'x', team_id: 5 }, 'team_id'],
    [{ name: 'x', team_id: '' }, 'team_id'],
    [{ name: 'x', expires_at: '2029-12-31T23:59:59Z' }, 'expires_at'],
    [{ name: 'x', expires_at: new Date(NOW).toISOString() }, 'expires_at'],
    [{ name: 'x', expires_at: 'next week' }, 'expires_at'],
    [{ name: 'x', expires_at: NOW + 1_000 }, 'expires_at'],
    [{ name: 'x', metadata: [] }, 'metadata'],
    [{ name: 'x', metadata: 'owner' }, 'metadata'],
    [{ name: 'x', metadata: { blob: 'x'.repeat(16 * 1024) } }, 'metadata'],
  ])('refuses the key %j naming %s', (body, param) => {
    expect(refusal(() => parseNewKey(body, NOW))).toEqual(invalid(param));
  });

  it('takes metadata up to 16 KB of JSON', () => {
    const metadata = { blob: 'x'.repeat(16 * 1024 - '{"blob":""}'.length) };
    expect(parseNewKey({ name: 'x', metadata }, NOW).metadata).toEqual(metadata);
  });

  it('refuses a null name in a patch, and unknown fields there too', () => {
    expect(refusal(() => parseTeamPatch({ name: null }))).toEqual(invalid('name'));
    expect(refusal(() => parseKeyPatch({ key: 'gw-x' }, NOW))).toEqual(invalid('key'));
    expect(refusal(() => parseTeamPatch({ team_id: 'team_1' }))).toEqual(invalid('team_id'));
  });
});

describe('withBudgetPeriod', () => {
  it('makes a budget without a period a total one', () => {
    expect(withBudgetPeriod({ budgetUsd: 5 })).toEqual({ budgetUsd: 5, budgetPeriod: 'total' });
    expect(withBudgetPeriod({ budgetTokens: 5, budgetPeriod: null })).toEqual({
      budgetTokens: 5,
      budgetPeriod: 'total',
    });
    expect(withBudgetPeriod({ budgetUsd: 5, budgetPeriod: 'day' })).toEqual({
      budgetUsd: 5,
      budgetPeriod: 'day',
    });
    expect(withBudgetPeriod({ rpmLimit: 5 })).toEqual({ rpmLimit: 5 });
  });

  it('looks at the record a patch applies to', () => {
    const monthly: Limits = { ...NO_LIMITS, budgetUsd: 5, budgetPeriod: 'month' };
    expect(withBudgetPeriod({ budgetUsd: 9 }, monthly)).toEqual({ budgetUsd: 9 });
    expect(withBudgetPeriod({ budgetPeriod: null }, monthly)).toEqual({ budgetPeriod: 'total' });
    expect(withBudgetPeriod({ budgetTokens: 9 }, NO_LIMITS)).toEqual({
      budgetTokens: 9,
      budgetPeriod: 'total',
    });
    expect(withBudgetPeriod({ budgetUsd: null }, monthly)).toEqual({ budgetUsd: null });
  });
});

describe('query strings', () => {
  it('reads the usage query', () => {
    expect(
      parseUsageQuery({
        group_by: 'day',
        from: '2030-01-01',
        to: '2030-02-01T00:00:00+01:00',
        key_id: 'key_1',
        team_id: 'team_1',
      }),
    ).toEqual({
      groupBy: 'day',
      from: Date.UTC(2030, 0, 1),
      to: Date.UTC(2030, 0, 31, 23),
      keyId: 'key_1',
      teamId: 'team_1',
    });
    expect(parseUsageQuery({ group_by: 'model', from: '', to: '' })).toEqual({
      groupBy: 'model',
    });
  });

  it('reads the requests query, with a default limit', () => {
    expect(parseRequestQuery({})).toEqual({ limit: DEFAULT_PAGE_LIMIT });
    expect(
      parseRequestQuery({
        key_id: 'key_1',
        team_id: 'team_1',
        model: 'm1',
        status: '429',
        limit: '1000',
        before: 'abc',
      }),
    ).toEqual({
      keyId: 'key_1',
      teamId: 'team_1',
      model: 'm1',
      status: 429,
      limit: 1000,
      before: 'abc',
    });
    expect(parseKeyListQuery({ team_id: 'team_1' })).toEqual({ teamId: 'team_1' });
    expect(parseKeyListQuery(undefined)).toEqual({});
  });

  it.each([
    [{}, 'group_by'],
    [{ group_by: 'week' }, 'group_by'],
    [{ group_by: ['key', 'team'] }, 'group_by'],
    [{ group_by: 'key', from: 'yesterday' }, 'from'],
    [{ group_by: 'key', to: '2030-01-01T00:00:00' }, 'to'],
    [{ group_by: 'key', from: '2030-01-02', to: '2030-01-01' }, 'to'],
    [{ group_by: 'key', model: 'm1' }, 'model'],
    [{ group_by: 'key', key_id: 'k'.repeat(257) }, 'key_id'],
  ])('refuses the usage query %j naming %s', (query, param) => {
    expect(refusal(() => parseUsageQuery(query))).toEqual(invalid(param));
  });

  it.each([
    [{ limit: '0' }, 'limit'],
    [{ limit: '1001' }, 'limit'],
    [{ limit: '10.5' }, 'limit'],
    [{ limit: '-1' }, 'limit'],
    [{ limit: 'ten' }, 'limit'],
    [{ status: '2OO' }, 'status'],
    [{ status: '99' }, 'status'],
    [{ status: '600' }, 'status'],
    [{ status: '99999999999' }, 'status'],
    [{ group_by: 'key' }, 'group_by'],
    [{ model: ['a', 'b'] }, 'model'],
  ])('refuses the requests query %j naming %s', (query, param) => {
    expect(refusal(() => parseRequestQuery(query))).toEqual(invalid(param));
  });
});
