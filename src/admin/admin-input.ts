/**
 * The admin API's input, checked by hand rather than by Fastify's schemas: those answer 422, and
 * the contract wants 400 `invalid_parameter` with `param` naming the field. Each parser turns a
 * body or a query string into the store's shapes, or throws the first problem it finds. Whether a
 * `team_id` names a team is the routes' business (it takes the store).
 */
import { ERROR_CODES } from '../errors/error-codes.js';
import { InvalidRequestError } from '../errors/gateway-error.js';
import type {
  BudgetPeriod,
  KeyPatch,
  Limits,
  NewKey,
  NewTeam,
  RequestQuery,
  TeamPatch,
  UsageGroupBy,
  UsageQuery,
} from '../store/tenancy-store.js';
import { parseIsoTimestamp } from './iso-timestamp.js';

const MAX_NAME_LENGTH = 200;
const MAX_MODEL_NAME_LENGTH = 256;
const MAX_MODELS = 1_000;
const MAX_METADATA_BYTES = 16 * 1024;
/** Longer ids, filters and cursors name nothing the store holds. */
const MAX_QUERY_VALUE_LENGTH = 256;
/** Rows of `GET /admin/v1/requests` when the client asks for no `limit`. */
export const DEFAULT_PAGE_LIMIT = 50;
const MAX_PAGE_LIMIT = 1_000;

/** A new key as the client describes it; the secret, its hash and prefix are made by the routes. */
export type NewKeyInput = Omit<NewKey, 'keyHash' | 'keyPrefix'>;

/** 400 `invalid_parameter`; `param` names the field (null: the body as a whole). */
export function invalidParameter(param: string | null, message: string): InvalidRequestError {
  return new InvalidRequestError(message, ERROR_CODES.INVALID_PARAMETER.code, param);
}

interface Field {
  /** The store's name for it. */
  readonly property: string;
  /** Whether an explicit null is taken (it clears the field). */
  readonly nullable: boolean;
  read(value: unknown, param: string, now: number): unknown;
}

const LIMIT_FIELDS: readonly (readonly [string, Field])[] = [
  ['models', { property: 'models', nullable: true, read: readModels }],
  ['rpm_limit', { property: 'rpmLimit', nullable: true, read: readPositiveInteger }],
  ['tpm_limit', { property: 'tpmLimit', nullable: true, read: readPositiveInteger }],
  ['max_concurrent', { property: 'maxConcurrent', nullable: true, read: readPositiveInteger }],
  ['budget_usd', { property: 'budgetUsd', nullable: true, read: readUsd }],
  ['budget_tokens', { property: 'budgetTokens', nullable: true, read: readPositiveInteger }],
  ['budget_period', { property: 'budgetPeriod', nullable: true, read: readBudgetPeriod }],
];

// Maps, not objects: a field named `constructor` or `toString` must be unknown, not inherited.
const TEAM_FIELDS: ReadonlyMap<string, Field> = new Map([
  ['name', { property: 'name', nullable: false, read: readName }],
  ...LIMIT_FIELDS,
]);

const KEY_FIELDS: ReadonlyMap<string, Field> = new Map([
  ...TEAM_FIELDS,
  ['team_id', { property: 'teamId', nullable: true, read: readId }],
  ['expires_at', { property: 'expiresAt', nullable: true, read: readFutureTime }],
  ['metadata', { property: 'metadata', nullable: true, read: readMetadata }],
]);

/** No team field reads the time. */
const ANY_TIME = 0;

// The casts below are sound: each reader checked its value against the store's field of the
// same name.

/** `POST /admin/v1/teams`. */
export function parseNewTeam(body: unknown): NewTeam {
  return requireName(readFields(body, TEAM_FIELDS, ANY_TIME)) as unknown as NewTeam;
}

/** `PATCH /admin/v1/teams/{id}`: every field optional, null clears a limit. */
export function parseTeamPatch(body: unknown): TeamPatch {
  return readFields(body, TEAM_FIELDS, ANY_TIME) as TeamPatch;
}

/** `POST /admin/v1/keys`. */
export function parseNewKey(body: unknown, now: number): NewKeyInput {
  return requireName(readFields(body, KEY_FIELDS, now)) as unknown as NewKeyInput;
}

/** `PATCH /admin/v1/keys/{id}`: every field optional, null clears it. */
export function parseKeyPatch(body: unknown, now: number): KeyPatch {
  return readFields(body, KEY_FIELDS, now) as KeyPatch;
}

/**
 * The limits to write so that a budget always has a period: a budget (USD or tokens) with no
 * period is a total budget, and is stored and shown as `'total'`. `current` is the record a patch
 * applies to (none for a new team or key).
 */
export function withBudgetPeriod<Input extends Partial<Limits>>(
  input: Input,
  current?: Limits,
): Input {
  const after = <Name extends keyof Limits>(name: Name): Limits[Name] | null =>
    input[name] !== undefined ? (input[name] as Limits[Name]) : (current?.[name] ?? null);
  const hasBudget = after('budgetUsd') !== null || after('budgetTokens') !== null;
  return hasBudget && after('budgetPeriod') === null ? { ...input, budgetPeriod: 'total' } : input;
}

function readFields(
  body: unknown,
  fields: ReadonlyMap<string, Field>,
  now: number,
): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw invalidParameter(null, 'The request body must be a JSON object.');
  }
  const read: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(body)) {
    const field = fields.get(name);
    if (field === undefined) throw invalidParameter(name, `Unknown field '${name}'.`);
    if (value === null && !field.nullable)
      throw invalidParameter(name, `'${name}' cannot be null.`);
    read[field.property] = value === null ? null : field.read(value, name, now);
  }
  return read;
}

function requireName(read: Record<string, unknown>): Record<string, unknown> {
  if (read.name === undefined) throw invalidParameter('name', "'name' is required.");
  return read;
}

function readName(value: unknown, param: string): string {
  if (typeof value !== 'string' || value.trim() === '' || value.length > MAX_NAME_LENGTH) {
    throw invalidParameter(
      param,
      `'${param}' must be a non-empty string of at most ${MAX_NAME_LENGTH} characters.`,
    );
  }
  return value;
}

function readId(value: unknown, param: string): string {
  if (typeof value !== 'string' || value === '' || value.length > MAX_QUERY_VALUE_LENGTH) {
    throw invalidParameter(param, `'${param}' must be an id (a non-empty string).`);
  }
  return value;
}

function readModels(value: unknown, param: string): string[] {
  if (!Array.isArray(value) || value.length > MAX_MODELS) {
    throw invalidParameter(
      param,
      `'${param}' must be an array of at most ${MAX_MODELS} model names, or null for any model.`,
    );
  }
  value.forEach((model: unknown, index) => {
    if (typeof model !== 'string' || model === '' || model.length > MAX_MODEL_NAME_LENGTH) {
      throw invalidParameter(
        `${param}[${index}]`,
        `A model name must be a non-empty string of at most ${MAX_MODEL_NAME_LENGTH} characters.`,
      );
    }
  });
  return value as string[];
}

function readPositiveInteger(value: unknown, param: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw invalidParameter(param, `'${param}' must be a positive integer, or null for no limit.`);
  }
  return value;
}

function readUsd(value: unknown, param: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw invalidParameter(param, `'${param}' must be a number of USD ≥ 0, or null for none.`);
  }
  return value;
}

const BUDGET_PERIODS: ReadonlySet<string> = new Set<BudgetPeriod>(['day', 'month', 'total']);

function readBudgetPeriod(value: unknown, param: string): BudgetPeriod {
  if (typeof value !== 'string' || !BUDGET_PERIODS.has(value)) {
    throw invalidParameter(param, `'${param}' must be one of: day, month, total.`);
  }
  return value as BudgetPeriod;
}

function readFutureTime(value: unknown, param: string, now: number): number {
  const time = typeof value === 'string' ? parseIsoTimestamp(value) : undefined;
  if (time === undefined) {
    throw invalidParameter(param, `'${param}' must be an ISO 8601 timestamp, or null.`);
  }
  if (time <= now) throw invalidParameter(param, `'${param}' must be in the future.`);
  return time;
}

function readMetadata(value: unknown, param: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalidParameter(param, `'${param}' must be a JSON object, or null.`);
  }
  if (Buffer.byteLength(JSON.stringify(value)) > MAX_METADATA_BYTES) {
    throw invalidParameter(
      param,
      `'${param}' must be at most ${MAX_METADATA_BYTES} bytes as JSON.`,
    );
  }
  return value as Record<string, unknown>;
}

/**
 * The query string's values by name: each name known and given once. An empty value counts as
 * absent, so a client may send `?from=&to=` for "no bound".
 */
export function readQuery(query: unknown, known: readonly string[]): Map<string, string> {
  const values = new Map<string, string>();
  for (const [name, value] of Object.entries((query ?? {}) as Record<string, unknown>)) {
    if (!known.includes(name)) throw invalidParameter(name, `Unknown query parameter '${name}'.`);
    if (typeof value !== 'string') {
      throw invalidParameter(name, `Query parameter '${name}' is given more than once.`);
    }
    if (value.length > MAX_QUERY_VALUE_LENGTH) {
      throw invalidParameter(name, `Query parameter '${name}' is too long.`);
    }
    if (value !== '') values.set(name, value);
  }
  return values;
}

/** `GET /admin/v1/keys?team_id=`. */
export function parseKeyListQuery(query: unknown): { teamId?: string } {
  const teamId = readQuery(query, ['team_id']).get('team_id');
  return teamId === undefined ? {} : { teamId };
}

const GROUPS: ReadonlySet<string> = new Set<UsageGroupBy>(['key', 'team', 'model', 'day']);

/** `GET /admin/v1/usage`: `group_by` required; `from` inclusive, `to` exclusive. */
export function parseUsageQuery(query: unknown): UsageQuery {
  const values = readQuery(query, ['group_by', 'from', 'to', 'key_id', 'team_id']);
  const groupBy = values.get('group_by');
  if (groupBy === undefined || !GROUPS.has(groupBy)) {
    throw invalidParameter('group_by', "'group_by' is required: key, team, model or day.");
  }
  const from = readQueryTime(values, 'from');
  const to = readQueryTime(values, 'to');
  if (from !== undefined && to !== undefined && to < from) {
    throw invalidParameter('to', "'to' must not be earlier than 'from'.");
  }
  return {
    groupBy: groupBy as UsageGroupBy,
    ...(from === undefined ? {} : { from }),
    ...(to === undefined ? {} : { to }),
    ...filters(values),
  };
}

/**
 * `GET /admin/v1/requests`: `limit` 1–1000 (default 50); `from` (ISO 8601) the oldest time;
 * `before` is passed on as given.
 */
export function parseRequestQuery(query: unknown): RequestQuery {
  const values = readQuery(query, [
    'key_id',
    'team_id',
    'model',
    'status',
    'from',
    'limit',
    'before',
  ]);
  const from = readQueryTime(values, 'from');
  const limit = readQueryInteger(values, 'limit', 1, MAX_PAGE_LIMIT) ?? DEFAULT_PAGE_LIMIT;
  // HTTP statuses only: the column is a 32-bit integer, which a larger number would overflow.
  const status = readQueryInteger(values, 'status', 100, 599);
  const model = values.get('model');
  const before = values.get('before');
  return {
    limit,
    ...filters(values),
    ...(model === undefined ? {} : { model }),
    ...(status === undefined ? {} : { status }),
    ...(from === undefined ? {} : { from }),
    ...(before === undefined ? {} : { before }),
  };
}

function filters(values: ReadonlyMap<string, string>): { keyId?: string; teamId?: string } {
  const keyId = values.get('key_id');
  const teamId = values.get('team_id');
  return {
    ...(keyId === undefined ? {} : { keyId }),
    ...(teamId === undefined ? {} : { teamId }),
  };
}

/** The ISO 8601 query parameter `name` as epoch ms, or undefined when absent. */
export function readQueryTime(
  values: ReadonlyMap<string, string>,
  name: string,
): number | undefined {
  const value = values.get(name);
  if (value === undefined) return undefined;
  const time = parseIsoTimestamp(value);
  if (time === undefined) throw invalidParameter(name, `'${name}' must be an ISO 8601 timestamp.`);
  return time;
}

function readQueryInteger(
  values: ReadonlyMap<string, string>,
  name: string,
  minimum: number,
  maximum: number,
): number | undefined {
  const value = values.get(name);
  if (value === undefined) return undefined;
  const number = /^\d{1,9}$/.test(value) ? Number(value) : Number.NaN;
  if (!(number >= minimum && number <= maximum)) {
    throw invalidParameter(name, `'${name}' must be an integer from ${minimum} to ${maximum}.`);
  }
  return number;
}
