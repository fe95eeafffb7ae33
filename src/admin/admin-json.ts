/**
 * The admin API's output: the store's records as the snake_case JSON of the contract, times as
 * ISO 8601. Each field is picked by name, so a new record field (or the key's hash) never reaches
 * a client unless it is added here.
 */
import type { DeploymentSnapshot, DeploymentState } from '../routing/deployment-pool.js';
import type {
  BudgetPeriod,
  KeyRecord,
  LedgerRow,
  Limits,
  TeamRecord,
  UsageGroup,
} from '../store/tenancy-store.js';

/** The limits a team and a key share; null = unset. */
export interface LimitsJson {
  readonly models: readonly string[] | null;
  readonly rpm_limit: number | null;
  readonly tpm_limit: number | null;
  readonly max_concurrent: number | null;
  readonly budget_usd: number | null;
  readonly budget_tokens: number | null;
  readonly budget_period: BudgetPeriod | null;
}

/** A team, as `/admin/v1/teams` answers. */
export interface TeamJson extends LimitsJson {
  readonly id: string;
  readonly name: string;
  readonly created_at: string;
  readonly updated_at: string;
}

/** A key, as `/admin/v1/keys` answers: never its secret, never its hash. */
export interface KeyJson extends LimitsJson {
  readonly id: string;
  readonly name: string;
  readonly team_id: string | null;
  /** The secret's first characters (`gw-` and 8 more), to tell keys apart. */
  readonly key_prefix: string;
  readonly expires_at: string | null;
  readonly revoked_at: string | null;
  readonly metadata: Readonly<Record<string, unknown>> | null;
  readonly created_at: string;
  readonly updated_at: string;
}

/** `POST /admin/v1/keys` only: the key with its secret, which is never shown again. */
export interface CreatedKeyJson extends KeyJson {
  readonly key: string;
}

/** One group of `GET /admin/v1/usage`. */
export interface UsageGroupJson {
  /** Key id, team id, model asked for or `YYYY-MM-DD`; null for rows without one. */
  readonly group: string | null;
  readonly requests: number;
  readonly input_tokens: number;
  readonly output_tokens: number;
  readonly cost_usd: number;
  /** Requests answered with a status of 400 or more. */
  readonly errors: number;
}

/** One row of `GET /admin/v1/requests`. */
export interface RequestJson {
  /** The ledger row's own id: the exact cursor for `before`. */
  readonly id: string;
  readonly request_id: string;
  readonly created_at: string;
  readonly key_id: string | null;
  readonly team_id: string | null;
  readonly model: string | null;
  readonly served_model: string | null;
  readonly provider: string | null;
  readonly deployment: string | null;
  readonly route: string;
  readonly stream: boolean;
  readonly status: number;
  readonly input_tokens: number;
  readonly output_tokens: number;
  readonly cost_usd: number;
  readonly latency_ms: number;
  readonly ttft_ms: number | null;
  readonly error_code: string | null;
  /** Upstream attempts made (retries and fallbacks included); null when none was. */
  readonly attempts: number | null;
  /** The deployments that failed, and how: `a/x (upstream_timeout ×2), b/y (upstream_error)`. */
  readonly tried: string | null;
}

function isoTime(time: number): string;
function isoTime(time: number | null): string | null;
function isoTime(time: number | null): string | null {
  return time === null ? null : new Date(time).toISOString();
}

function limitsJson(limits: Limits): LimitsJson {
  return {
    models: limits.models,
    rpm_limit: limits.rpmLimit,
    tpm_limit: limits.tpmLimit,
    max_concurrent: limits.maxConcurrent,
    budget_usd: limits.budgetUsd,
    budget_tokens: limits.budgetTokens,
    budget_period: limits.budgetPeriod,
  };
}

/** A team record as JSON. */
export function teamJson(team: TeamRecord): TeamJson {
  return {
    id: team.id,
    name: team.name,
    ...limitsJson(team),
    created_at: isoTime(team.createdAt),
    updated_at: isoTime(team.updatedAt),
  };
}

/** A key record as JSON (without its hash). */
export function keyJson(key: KeyRecord): KeyJson {
  return {
    id: key.id,
    name: key.name,
    team_id: key.teamId,
    key_prefix: key.keyPrefix,
    ...limitsJson(key),
    expires_at: isoTime(key.expiresAt),
    revoked_at: isoTime(key.revokedAt),
    metadata: key.metadata,
    created_at: isoTime(key.createdAt),
    updated_at: isoTime(key.updatedAt),
  };
}

/** A usage group as JSON. */
export function usageGroupJson(group: UsageGroup): UsageGroupJson {
  return {
    group: group.group,
    requests: group.requests,
    input_tokens: group.inputTokens,
    output_tokens: group.outputTokens,
    cost_usd: group.costUsd,
    errors: group.errors,
  };
}

/** A ledger row as JSON. */
export function requestJson(row: LedgerRow): RequestJson {
  return {
    id: row.id,
    request_id: row.requestId,
    created_at: isoTime(row.createdAt),
    key_id: row.keyId,
    team_id: row.teamId,
    model: row.model,
    served_model: row.servedModel,
    provider: row.provider,
    deployment: row.deployment,
    route: row.route,
    stream: row.stream,
    status: row.status,
    input_tokens: row.inputTokens,
    output_tokens: row.outputTokens,
    cost_usd: row.costUsd,
    latency_ms: row.latencyMs,
    ttft_ms: row.ttftMs,
    error_code: row.errorCode,
    attempts: row.attempts ?? null,
    tried: row.tried ?? null,
  };
}

/** The totals of `GET /admin/v1/stats`: sums over the range (or a bucket of it). */
export interface StatsTotalsJson {
  readonly requests: number;
  readonly input_tokens: number;
  readonly output_tokens: number;
  readonly cost_usd: number;
  /** Requests answered with a status of 400 or more. */
  readonly errors: number;
}

/** One time bucket of `GET /admin/v1/stats`. */
export interface StatsBucketJson extends StatsTotalsJson {
  /** The bucket's first instant (ISO 8601, UTC); it lasts one `bucket`. */
  readonly start: string;
}

/**
 * Latency of one model, provider or deployment in `GET /admin/v1/stats`. Percentiles are over the
 * requests answered (status below 400); time to first token over those streamed. Null: none.
 */
export interface LatencyGroupJson {
  readonly group: string | null;
  readonly requests: number;
  readonly errors: number;
  readonly latency_p50_ms: number | null;
  readonly latency_p95_ms: number | null;
  readonly ttft_p50_ms: number | null;
  readonly ttft_p95_ms: number | null;
}

/** `GET /admin/v1/stats`. */
export interface StatsJson {
  readonly from: string;
  readonly to: string;
  readonly bucket: StatsBucket;
  /** Every bucket of the range, oldest first, empty ones included. */
  readonly series: readonly StatsBucketJson[];
  readonly totals: StatsTotalsJson;
  readonly latency: {
    /** The ledger rows read for the percentiles: the newest of the range, at most 10,000. */
    readonly sampled_requests: number;
    /** Whether those were all the rows of the range. */
    readonly complete: boolean;
    readonly by_model: readonly LatencyGroupJson[];
    readonly by_provider: readonly LatencyGroupJson[];
    readonly by_deployment: readonly LatencyGroupJson[];
  };
}

/** The time buckets `GET /admin/v1/stats` sums into. */
export type StatsBucket = 'minute' | 'hour' | 'day';

/** A rate limit's bucket as it stands: whole units left, ms until it is full again. */
export interface RateStateJson {
  readonly limit: number;
  readonly remaining: number;
  readonly resets_in_ms: number;
}

/** A budget as it stands this period (USD or tokens, as its name says). */
export interface BudgetStateJson {
  readonly period: BudgetPeriod;
  readonly limit: number;
  /** Settled spend this period. */
  readonly spent: number;
  /** Held by requests in flight. */
  readonly reserved: number;
  readonly remaining: number;
  /** ISO 8601; null for a total budget. */
  readonly resets_at: string | null;
}

/** One key's or team's limits against their counters, in `GET /admin/v1/limits`; null: unset. */
export interface LimitStateJson {
  readonly scope: 'key' | 'team';
  readonly id: string;
  readonly rpm: RateStateJson | null;
  readonly tpm: RateStateJson | null;
  readonly concurrent: { readonly limit: number; readonly active: number } | null;
  readonly budget_usd: BudgetStateJson | null;
  readonly budget_tokens: BudgetStateJson | null;
}

/** A deployment in `GET /admin/v1/providers`, as this process sees it. */
export interface DeploymentJson {
  /** `provider/model`. */
  readonly id: string;
  readonly model: string;
  readonly public_models: readonly string[];
  readonly weight: number;
  readonly max_concurrent: number | null;
  /** `healthy`, `cooling` (skipped after failures) or `probing` (one request tries it again). */
  readonly state: DeploymentState;
  readonly in_flight: number;
  readonly at_capacity: boolean;
  readonly consecutive_failures: number;
  /** When a cooling deployment may be tried again; null while healthy. */
  readonly cooling_until: string | null;
}

/** A provider in `GET /admin/v1/providers`: its routed deployments (none when it is only pinned). */
export interface ProviderJson {
  readonly id: string;
  readonly deployments: readonly DeploymentJson[];
}

/** A deployment snapshot as JSON. */
export function deploymentJson(deployment: DeploymentSnapshot): DeploymentJson {
  return {
    id: deployment.key,
    model: deployment.model,
    public_models: deployment.publicModels,
    weight: deployment.weight,
    max_concurrent: deployment.maxConcurrent ?? null,
    state: deployment.state,
    in_flight: deployment.inFlight,
    at_capacity:
      deployment.maxConcurrent !== undefined && deployment.inFlight >= deployment.maxConcurrent,
    consecutive_failures: deployment.consecutiveFailures,
    cooling_until: deployment.coolingUntil === undefined ? null : isoTime(deployment.coolingUntil),
  };
}
