/**
 * `GET /admin/v1/limits`: each live key's and each team's limits against the counters admission
 * uses, read without taking anything (`LimitCounters.peek`). A budget counter that no request has
 * touched yet reads as what the ledger recorded for the period, as admission would seed it.
 */
import type { BudgetPeriod, KeyRecord, TeamRecord, TenancyStore } from '../store/tenancy-store.js';
import { budgetCounters } from '../tenancy/admission.js';
import { periodWindow } from '../tenancy/budget-period.js';
import { type RecordedSpend, toNanoUsd } from '../tenancy/key-directory.js';
import type { LimitCounters, LimitProbe, LimitState } from '../tenancy/limit-counters.js';
import type { BudgetStateJson, LimitStateJson, RateStateJson } from './admin-json.js';

interface Scope {
  readonly scope: 'key' | 'team';
  readonly limits: KeyRecord | TeamRecord;
  /** The counters' prefix, as admission names them. */
  readonly prefix: string;
}

/** The limit states of the keys not revoked and of the teams (of one team only, if named). */
export async function limitStates(
  store: Pick<TenancyStore, 'listKeys' | 'listTeams' | 'usage'>,
  counters: Pick<LimitCounters, 'peek'>,
  filter: { readonly teamId?: string },
  now: number,
): Promise<LimitStateJson[]> {
  const [keys, teams] = await Promise.all([store.listKeys(filter), store.listTeams()]);
  const scopes: Scope[] = [
    ...keys
      .filter((key) => key.revokedAt === null)
      .map((key) => ({ scope: 'key' as const, limits: key, prefix: `k:${key.id}` })),
    ...teams
      .filter((team) => filter.teamId === undefined || team.id === filter.teamId)
      .map((team) => ({ scope: 'team' as const, limits: team, prefix: `t:${team.id}` })),
  ];
  const recorded = await recordedSpend(store, scopes, now);
  const probes: LimitProbe[] = [];
  for (const { limits, prefix } of scopes) {
    if (limits.rpmLimit !== null) {
      probes.push({ kind: 'bucket', key: `${prefix}:rpm`, limit: limits.rpmLimit });
    }
    if (limits.tpmLimit !== null) {
      probes.push({ kind: 'bucket', key: `${prefix}:tpm`, limit: limits.tpmLimit });
    }
    if (limits.maxConcurrent !== null) {
      probes.push({ kind: 'concurrency', key: `${prefix}:concurrent`, max: limits.maxConcurrent });
    }
    const budgets = budgetCounters(prefix, limits, recorded.get(prefix), now);
    for (const counter of [budgets.usd, budgets.tokens]) {
      if (counter !== undefined) probes.push({ kind: 'budget', ...counter });
    }
  }
  const states = new Map<string, LimitState>();
  for (const state of probes.length === 0 ? [] : await counters.peek(probes, now)) {
    states.set(state.key, state);
  }
  return scopes.map(({ scope, limits, prefix }) => {
    const budgets = budgetCounters(prefix, limits, recorded.get(prefix), now);
    const period: BudgetPeriod = limits.budgetPeriod ?? 'total';
    const resetsAt = periodWindow(period, now).end;
    const budget = (key: string | undefined, scale: number) =>
      budgetJson(key === undefined ? undefined : states.get(key), period, resetsAt, scale);
    const concurrent = states.get(`${prefix}:concurrent`);
    return {
      scope,
      id: limits.id,
      rpm: rateJson(states.get(`${prefix}:rpm`)),
      tpm: rateJson(states.get(`${prefix}:tpm`)),
      concurrent:
        concurrent?.kind === 'concurrency'
          ? { limit: concurrent.limit, active: concurrent.active }
          : null,
      budget_usd: budget(budgets.usd?.key, 1e9),
      budget_tokens: budget(budgets.tokens?.key, 1),
    };
  });
}

/**
 * What the ledger holds as spent this period by each scope with a budget: one usage sum per kind
 * of scope and period start (at most six), not one per key.
 */
async function recordedSpend(
  store: Pick<TenancyStore, 'usage'>,
  scopes: readonly Scope[],
  now: number,
): Promise<Map<string, RecordedSpend>> {
  const sums = new Map<string, ReturnType<TenancyStore['usage']>>();
  const recorded = new Map<string, RecordedSpend>();
  await Promise.all(
    scopes.map(async ({ scope, limits, prefix }) => {
      if (limits.budgetUsd === null && limits.budgetTokens === null) return;
      const window = periodWindow(limits.budgetPeriod ?? 'total', now);
      const sumKey = `${scope}:${window.id}`;
      let sum = sums.get(sumKey);
      if (sum === undefined) {
        sum = store.usage({
          groupBy: scope,
          ...(window.start === null ? {} : { from: window.start }),
        });
        sums.set(sumKey, sum);
      }
      const group = (await sum).find((candidate) => candidate.group === limits.id);
      recorded.set(prefix, {
        periodId: window.id,
        costNano: toNanoUsd(group?.costUsd ?? 0),
        tokens: (group?.inputTokens ?? 0) + (group?.outputTokens ?? 0),
      });
    }),
  );
  return recorded;
}

function rateJson(state: LimitState | undefined): RateStateJson | null {
  if (state?.kind !== 'bucket') return null;
  return { limit: state.limit, remaining: state.remaining, resets_in_ms: state.resetMs };
}

function budgetJson(
  state: LimitState | undefined,
  period: BudgetPeriod,
  resetsAt: number | null,
  scale: number,
): BudgetStateJson | null {
  if (state?.kind !== 'budget') return null;
  return {
    period,
    limit: state.limit / scale,
    spent: state.spent / scale,
    reserved: state.reserved / scale,
    remaining: state.remaining / scale,
    resets_at: resetsAt === null ? null : new Date(resetsAt).toISOString(),
  };
}
