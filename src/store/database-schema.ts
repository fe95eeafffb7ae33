/**
 * The tables of the tenancy store as Kysely sees them, column for column as `migrations.ts` makes
 * them. Times are epoch milliseconds (`bigint` in PostgreSQL, parsed to numbers at the pool);
 * lists and objects are JSON text; booleans are 0/1 integers, so both dialects read back the same
 * JavaScript values.
 */
import type { BudgetPeriod } from './tenancy-store.js';

/** The limit columns teams and keys share (`Limits` in the store's interface). */
export interface LimitColumns {
  /** JSON array of model names; null = any model. */
  models: string | null;
  rpm_limit: number | null;
  tpm_limit: number | null;
  max_concurrent: number | null;
  budget_usd: number | null;
  budget_tokens: number | null;
  budget_period: BudgetPeriod | null;
}

/** `teams`: a deleted team keeps its row (`deleted_at`), so its ledger rows still name it. */
export interface TeamsTable extends LimitColumns {
  id: string;
  name: string;
  created_at: number;
  updated_at: number;
  deleted_at: number | null;
}

/** `api_keys`: never deleted, only revoked. */
export interface ApiKeysTable extends LimitColumns {
  id: string;
  name: string;
  team_id: string | null;
  key_hash: string;
  key_prefix: string;
  expires_at: number | null;
  revoked_at: number | null;
  /** JSON object, or null. */
  metadata: string | null;
  created_at: number;
  updated_at: number;
}

/** `usage_ledger`: one row per request. */
export interface UsageLedgerTable {
  id: string;
  request_id: string;
  created_at: number;
  /** `created_at` as a UTC `YYYY-MM-DD`, made at insert: days group without date functions. */
  day: string;
  key_id: string | null;
  team_id: string | null;
  model: string | null;
  served_model: string | null;
  provider: string | null;
  deployment: string | null;
  route: string;
  /** 0 or 1. */
  stream: number;
  status: number;
  input_tokens: number;
  output_tokens: number;
  cost_usd: number;
  latency_ms: number;
  ttft_ms: number | null;
  error_code: string | null;
  /** Since migration 0002. */
  attempts: number | null;
  tried: string | null;
}

/** The database as the store's queries see it. */
export interface TenancyDatabase {
  teams: TeamsTable;
  api_keys: ApiKeysTable;
  usage_ledger: UsageLedgerTable;
}
