import { ERROR_CODES } from '../errors/error-codes.js';
import {
  ForbiddenError,
  type GatewayError,
  InsufficientQuotaError,
  RateLimitExceededError,
} from '../errors/gateway-error.js';
import type { KeyRecord, TeamRecord } from '../store/tenancy-store.js';
import { periodWindow } from './budget-period.js';
import type { RecordedSpend, Tenant } from './key-directory.js';
import { toNanoUsd } from './key-directory.js';
import type {
  AdmitResult,
  BucketState,
  CheckOutcome,
  LimitCheck,
  LimitCounters,
  Settlement,
} from './limit-counters.js';
import { costNano, type PriceTable } from './price-table.js';

/** What a request asks for, as far as limits and budgets care. */
export interface AdmissionRequest {
  readonly requestId: string;
  /** The model as the client named it. */
  readonly model: string;
  /** The provider of a `/{provider}/...` route; undefined on `/v1/...`. */
  readonly pinnedProvider: string | undefined;
  /** Estimated prompt tokens. */
  readonly inputTokens: number;
  /** The most output tokens it may produce (the client's maximum, or the configured cap). */
  readonly outputTokens: number;
}

/** The rate limits a client is told about in OpenAI's `x-ratelimit-*` headers. */
export interface RateLimitView {
  readonly requests: BucketState | undefined;
  readonly tokens: BucketState | undefined;
}

/** An admitted request: what to settle when it ends. */
export interface AdmissionTicket {
  readonly checks: readonly LimitCheck[];
  /** The prompt's estimate (what a stream cut short is billed for). */
  readonly inputTokens: number;
  readonly rates: RateLimitView;
}

/** An admission's answer: go on with a ticket, or the error (and the rates) the client gets. */
export type AdmissionOutcome =
  | { readonly ok: true; readonly ticket: AdmissionTicket }
  | { readonly ok: false; readonly error: GatewayError; readonly rates: RateLimitView };

const NO_RATES: RateLimitView = { requests: undefined, tokens: undefined };

/** Whom the budget and rate counters of one scope (a key, or its team) belong to. */
interface Scope {
  readonly prefix: string;
  readonly limits: KeyRecord | TeamRecord;
  readonly recorded: RecordedSpend | undefined;
  readonly label: string;
}

export interface AdmissionOptions {
  readonly counters: LimitCounters;
  readonly prices: PriceTable;
  /** The deployments (`provider/model`) that may serve `model` on this route. */
  readonly deploymentsOf: (model: string, pinnedProvider: string | undefined) => readonly string[];
}

/** Counters of a budget period outlive it a little (a late settle still finds them). */
const BUDGET_TTL_MS = { day: 3 * 86_400_000, month: 40 * 86_400_000, total: null } as const;

/** Most time a request may hold a concurrency slot: a crashed instance's slots come back. */
const LEASE_TTL_MS = 15 * 60_000;

/**
 * Decides whether a virtual key's request may go on: the allowlists, then every limit of the key
 * and of its team in one all-or-nothing admission of the counters (rate buckets, the concurrency
 * slot, the budgets reserved at the request's worst case). A refusal carries the 403 or 429 the
 * client gets.
 */
export async function admit(
  options: AdmissionOptions,
  tenant: Tenant,
  request: AdmissionRequest,
  now: number,
): Promise<AdmissionOutcome> {
  const { key, team } = tenant;
  for (const limits of team === undefined ? [key] : [key, team]) {
    if (!modelAllowed(limits.models, request.model, request.pinnedProvider)) {
      const error = new ForbiddenError(
        `The model '${request.model.slice(0, 256)}' is not allowed for this ${limits === key ? 'key' : "key's team"}.`,
        ERROR_CODES.MODEL_NOT_ALLOWED.code,
      );
      return { ok: false, error, rates: NO_RATES };
    }
  }
  const deployments = options.deploymentsOf(request.model, request.pinnedProvider);
  const worstPrice = options.prices.worstCase(deployments);
  const estimateTokens = request.inputTokens + request.outputTokens;
  const worstCost = costNano(worstPrice, request.inputTokens, request.outputTokens);
  const scopes: Scope[] = [
    { prefix: `k:${key.id}`, limits: key, recorded: tenant.keySpend, label: 'key' },
  ];
  if (team !== undefined) {
    scopes.push({
      prefix: `t:${team.id}`,
      limits: team,
      recorded: tenant.teamSpend,
      label: 'team',
    });
  }
  const checks: LimitCheck[] = [];
  for (const scope of scopes) {
    addChecks(checks, scope, request.requestId, estimateTokens, worstCost, now);
  }
  const result = await options.counters.admit(checks, now);
  const rates = rateView(checks, result.outcomes);
  if (!result.ok) return { ok: false, error: refusal(checks, result, scopes), rates };
  return {
    ok: true,
    ticket: { checks, inputTokens: request.inputTokens, rates },
  };
}

function addChecks(
  checks: LimitCheck[],
  { prefix, limits, recorded }: Scope,
  requestId: string,
  tokens: number,
  cost: number,
  now: number,
): void {
  if (limits.rpmLimit !== null) {
    checks.push({ kind: 'bucket', key: `${prefix}:rpm`, limit: limits.rpmLimit, cost: 1 });
  }
  if (limits.tpmLimit !== null) {
    checks.push({ kind: 'bucket', key: `${prefix}:tpm`, limit: limits.tpmLimit, cost: tokens });
  }
  if (limits.maxConcurrent !== null) {
    checks.push({
      kind: 'concurrency',
      key: `${prefix}:concurrent`,
      max: limits.maxConcurrent,
      leaseId: requestId,
      ttlMs: LEASE_TTL_MS,
    });
  }
  const budgets = budgetCounters(prefix, limits, recorded, now);
  const ttlMs = BUDGET_TTL_MS[limits.budgetPeriod ?? 'total'];
  if (budgets.usd !== undefined) {
    checks.push({ kind: 'budget', ...budgets.usd, amount: cost, ttlMs });
  }
  if (budgets.tokens !== undefined) {
    checks.push({ kind: 'budget', ...budgets.tokens, amount: tokens, ttlMs });
  }
}

/** One budget counter: its key for the current period, its limit and its starting spend. */
export interface BudgetCounter {
  readonly key: string;
  readonly limit: number;
  readonly seed: number;
}

/**
 * The budget counters of a scope (`k:<key id>` or `t:<team id>`) for the period `now` falls in,
 * USD in nano-dollars; seeded with the spend the database had for that same period when the key
 * was loaded (a period that began since then starts at 0).
 */
export function budgetCounters(
  prefix: string,
  limits: KeyRecord | TeamRecord,
  recorded: RecordedSpend | undefined,
  now: number,
): { usd: BudgetCounter | undefined; tokens: BudgetCounter | undefined } {
  const window = periodWindow(limits.budgetPeriod ?? 'total', now);
  const seedFrom = recorded?.periodId === window.id ? recorded : undefined;
  return {
    usd:
      limits.budgetUsd === null
        ? undefined
        : {
            key: `${prefix}:usd:${window.id}`,
            limit: toNanoUsd(limits.budgetUsd),
            seed: seedFrom?.costNano ?? 0,
          },
    tokens:
      limits.budgetTokens === null
        ? undefined
        : {
            key: `${prefix}:tokens:${window.id}`,
            limit: limits.budgetTokens,
            seed: seedFrom?.tokens ?? 0,
          },
  };
}

/**
 * Allowed when there is no allowlist, or it names the model as sent (a public name, an alias,
 * `provider/model`), or, on a pinned route, as `provider/model`.
 */
function modelAllowed(
  models: readonly string[] | null,
  model: string,
  pinnedProvider: string | undefined,
): boolean {
  if (models === null) return true;
  return (
    models.includes(model) ||
    (pinnedProvider !== undefined && models.includes(`${pinnedProvider}/${model}`))
  );
}

/** Of the key's and the team's buckets of each kind, the one with the least left. */
function rateView(checks: readonly LimitCheck[], outcomes: readonly CheckOutcome[]): RateLimitView {
  let requests: BucketState | undefined;
  let tokens: BucketState | undefined;
  for (let index = 0; index < checks.length; index++) {
    const outcome = outcomes[index];
    if (outcome?.kind !== 'bucket') continue;
    if (outcome.key.endsWith(':rpm')) {
      if (requests === undefined || outcome.remaining < requests.remaining) requests = outcome;
    } else if (tokens === undefined || outcome.remaining < tokens.remaining) {
      tokens = outcome;
    }
  }
  return { requests, tokens };
}

/** The error for a refused admission, named after the first check that refused it. */
function refusal(
  checks: readonly LimitCheck[],
  result: Extract<AdmitResult, { ok: false }>,
  scopes: readonly Scope[],
): GatewayError {
  const check = checks[result.failed] as LimitCheck;
  const whose = scopes.find((scope) => check.key.startsWith(`${scope.prefix}:`))?.label ?? 'key';
  const wait = result.retryAfterMs ?? 60_000;
  if (check.kind === 'budget') {
    const unit = check.key.includes(':usd:') ? 'USD' : 'token';
    return new InsufficientQuotaError(`The ${whose}'s ${unit} budget for this period is spent.`);
  }
  if (check.kind === 'concurrency') {
    return new RateLimitExceededError(
      `The ${whose} has ${check.max} requests in flight, its limit; retry when one ends.`,
      'requests',
      1_000,
    );
  }
  if (check.key.endsWith(':rpm')) {
    return new RateLimitExceededError(
      `Rate limit reached for the ${whose}: ${check.limit} requests per minute.`,
      'requests',
      wait,
    );
  }
  return new RateLimitExceededError(
    check.cost > check.limit
      ? `This request needs about ${check.cost} tokens, more than the ${whose}'s limit of ${check.limit} tokens per minute; lower max_tokens or the prompt.`
      : `Rate limit reached for the ${whose}: ${check.limit} tokens per minute.`,
    'tokens',
    wait,
  );
}

/** What a finished request settles: real tokens and cost for its estimate and reservations. */
export function settlements(
  ticket: AdmissionTicket,
  actualTokens: number,
  actualCostNano: number,
): Settlement[] {
  const result: Settlement[] = [];
  for (const check of ticket.checks) {
    if (check.kind === 'bucket') {
      if (check.key.endsWith(':tpm')) {
        result.push({
          kind: 'bucket',
          key: check.key,
          limit: check.limit,
          delta: actualTokens - check.cost,
        });
      }
    } else if (check.kind === 'concurrency') {
      result.push({ kind: 'concurrency', key: check.key, leaseId: check.leaseId });
    } else {
      const isUsd = check.key.includes(':usd:');
      result.push({
        kind: 'budget',
        key: check.key,
        reserved: check.amount,
        actual: isUsd ? actualCostNano : actualTokens,
      });
    }
  }
  return result;
}
