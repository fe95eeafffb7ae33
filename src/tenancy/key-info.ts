import { budgetCounters } from './admission.js';
import { periodWindow } from './budget-period.js';
import type { Tenant } from './key-directory.js';
import type { LimitCounters, LimitProbe, LimitState } from './limit-counters.js';

/** `GET /v1/key`: what a virtual key may do and what it has left, as its owner sees it. */
export interface KeyInfo {
  readonly id: string;
  readonly name: string;
  readonly team_id: string | null;
  readonly models: readonly string[] | null;
  readonly limits: {
    readonly rpm_limit: number | null;
    readonly tpm_limit: number | null;
    readonly max_concurrent: number | null;
  };
  readonly budget: {
    readonly period: string | null;
    readonly limit_usd: number | null;
    readonly limit_tokens: number | null;
    readonly spent_usd: number | null;
    readonly spent_tokens: number | null;
    readonly remaining_usd: number | null;
    readonly remaining_tokens: number | null;
    /** ISO 8601; null for a total budget or none. */
    readonly resets_at: string | null;
  };
  readonly expires_at: string | null;
}

/**
 * The key's own limits and budget (its team's are the admin's business): spend settled so far
 * this period; what is left also leaves out what requests in flight have reserved.
 */
export async function keyInfo(
  counters: LimitCounters,
  tenant: Tenant,
  now: number,
): Promise<KeyInfo> {
  const { key } = tenant;
  const budgets = budgetCounters(`k:${key.id}`, key, tenant.keySpend, now);
  const probes: LimitProbe[] = [];
  for (const counter of [budgets.usd, budgets.tokens]) {
    if (counter !== undefined) probes.push({ kind: 'budget', ...counter });
  }
  const states = probes.length === 0 ? [] : await counters.peek(probes, now);
  const stateOf = (counterKey: string | undefined): LimitState | undefined =>
    states.find((state) => state.key === counterKey);
  const usd = stateOf(budgets.usd?.key);
  const tokens = stateOf(budgets.tokens?.key);
  const hasBudget = key.budgetUsd !== null || key.budgetTokens !== null;
  const period = hasBudget ? (key.budgetPeriod ?? 'total') : null;
  const end = period === null ? null : periodWindow(period, now).end;
  return {
    id: key.id,
    name: key.name,
    team_id: key.teamId,
    models: key.models,
    limits: { rpm_limit: key.rpmLimit, tpm_limit: key.tpmLimit, max_concurrent: key.maxConcurrent },
    budget: {
      period,
      limit_usd: key.budgetUsd,
      limit_tokens: key.budgetTokens,
      spent_usd: usd?.kind === 'budget' ? usd.spent / 1e9 : null,
      spent_tokens: tokens?.kind === 'budget' ? tokens.spent : null,
      remaining_usd: usd?.kind === 'budget' ? usd.remaining / 1e9 : null,
      remaining_tokens: tokens?.kind === 'budget' ? tokens.remaining : null,
      resets_at: end === null ? null : new Date(end).toISOString(),
    },
    expires_at: key.expiresAt === null ? null : new Date(key.expiresAt).toISOString(),
  };
}
