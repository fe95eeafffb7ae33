/**
 * Rows ↔ records: the store's camelCase records and the tables' snake_case columns, JSON text and
 * 0/1 booleans. Knows no SQL.
 */
import { randomBytes } from 'node:crypto';
import type { Selectable } from 'kysely';
import type {
  ApiKeysTable,
  LimitColumns,
  TeamsTable,
  UsageLedgerTable,
} from './database-schema.js';
import type { KeyRecord, LedgerRow, Limits, TeamRecord } from './tenancy-store.js';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
/** 62 × 4: bytes from here up are dropped, or the first 8 characters would come up more often. */
const UNBIASED_BYTES = 248;
const ID_LENGTH = 20;

/** `length` characters from the crypto random source, each base62 character equally likely. */
export function randomBase62(length: number): string {
  let text = '';
  while (text.length < length) {
    for (const byte of randomBytes(length)) {
      if (byte < UNBIASED_BYTES && text.length < length)
        text += BASE62.charAt(byte % BASE62.length);
    }
  }
  return text;
}

/** `prefix` and 20 base62 characters (about 119 bits). */
export function randomId(prefix: string): string {
  return prefix + randomBase62(ID_LENGTH);
}

/**
 * The columns of the limits given; a limit left undefined stays undefined, which Kysely leaves out
 * of an insert (the column is null) and of an update (the column keeps its value).
 */
export function limitColumns(limits: Partial<Limits>) {
  return {
    models: jsonColumn(limits.models),
    rpm_limit: limits.rpmLimit,
    tpm_limit: limits.tpmLimit,
    max_concurrent: limits.maxConcurrent,
    budget_usd: limits.budgetUsd,
    budget_tokens: limits.budgetTokens,
    budget_period: limits.budgetPeriod,
  };
}

/** A value as JSON text; null and undefined stay as they are. */
export function jsonColumn(value: unknown): string | null | undefined {
  return value === undefined || value === null ? value : JSON.stringify(value);
}

/** A stored team as its record. */
export function teamRecord(row: Selectable<TeamsTable>): TeamRecord {
  return {
    id: row.id,
    name: row.name,
    ...limitsOf(row),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** A stored key as its record. */
export function keyRecord(row: Selectable<ApiKeysTable>): KeyRecord {
  return {
    id: row.id,
    name: row.name,
    teamId: row.team_id,
    keyHash: row.key_hash,
    keyPrefix: row.key_prefix,
    ...limitsOf(row),
    expiresAt: row.expires_at,
    revokedAt: row.revoked_at,
    metadata: row.metadata === null ? null : (JSON.parse(row.metadata) as Record<string, unknown>),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function limitsOf(row: Selectable<LimitColumns>): Limits {
  return {
    models: row.models === null ? null : (JSON.parse(row.models) as string[]),
    rpmLimit: row.rpm_limit,
    tpmLimit: row.tpm_limit,
    maxConcurrent: row.max_concurrent,
    budgetUsd: row.budget_usd,
    budgetTokens: row.budget_tokens,
    budgetPeriod: row.budget_period,
  };
}

/** A ledger row as its columns, with its UTC day. */
export function ledgerColumns(row: LedgerRow): UsageLedgerTable {
  return {
    id: row.id,
    request_id: row.requestId,
    created_at: row.createdAt,
    day: new Date(row.createdAt).toISOString().slice(0, 10),
    key_id: row.keyId,
    team_id: row.teamId,
    model: row.model,
    served_model: row.servedModel,
    provider: row.provider,
    deployment: row.deployment,
    route: row.route,
    stream: row.stream ? 1 : 0,
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

/** A stored ledger row as the caller wrote it. */
export function ledgerRow(row: Selectable<UsageLedgerTable>): LedgerRow {
  return {
    id: row.id,
    requestId: row.request_id,
    createdAt: row.created_at,
    keyId: row.key_id,
    teamId: row.team_id,
    model: row.model,
    servedModel: row.served_model,
    provider: row.provider,
    deployment: row.deployment,
    route: row.route,
    stream: row.stream === 1,
    status: row.status,
    inputTokens: row.input_tokens,
    outputTokens: row.output_tokens,
    costUsd: row.cost_usd,
    latencyMs: row.latency_ms,
    ttftMs: row.ttft_ms,
    errorCode: row.error_code,
    attempts: row.attempts,
    tried: row.tried,
  };
}
