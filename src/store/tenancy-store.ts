/**
 * The tenancy store: teams, virtual keys and the usage ledger, behind one interface with one
 * Kysely implementation for embedded SQLite and for PostgreSQL. It stores and answers; it does not
 * validate (the admin API does) and decides nothing (tenancy/ does).
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import type { TenancyDatabase } from './database-schema.js';
import { createKyselyTenancyStore } from './kysely-tenancy-store.js';
import { migrateTenancyStore } from './migrations.js';

export type BudgetPeriod = 'day' | 'month' | 'total';

/** Limits shared by teams and keys; null = unlimited / unset. */
export interface Limits {
  /** Allowlist; null = any model. */
  readonly models: readonly string[] | null;
  readonly rpmLimit: number | null;
  readonly tpmLimit: number | null;
  readonly maxConcurrent: number | null;
  readonly budgetUsd: number | null;
  readonly budgetTokens: number | null;
  readonly budgetPeriod: BudgetPeriod | null;
}

/** A team. Times are epoch milliseconds. */
export interface TeamRecord extends Limits {
  readonly id: string;
  readonly name: string;
  readonly createdAt: number;
  readonly updatedAt: number;
}

/** A virtual key. Times are epoch milliseconds. */
export interface KeyRecord extends Limits {
  readonly id: string;
  readonly name: string;
  readonly teamId: string | null;
  /** sha256 hex of the secret; the secret itself is never stored. */
  readonly keyHash: string;
  /** Shown in lists, e.g. "gw-AbC123de". */
  readonly keyPrefix: string;
  readonly expiresAt: number | null;
  readonly revokedAt: number | null;
  readonly metadata: Readonly<Record<string, unknown>> | null;
  readonly createdAt: number;
  readonly updatedAt: number;
}

/** One request, as the ledger keeps it. */
export interface LedgerRow {
  /** Unique, made by the ledger writer; appending is idempotent on it. */
  readonly id: string;
  /** Not unique: clients may send their own x-request-id. */
  readonly requestId: string;
  readonly createdAt: number;
  readonly keyId: string | null;
  readonly teamId: string | null;
  /** The model the client asked for. */
  readonly model: string | null;
  readonly servedModel: string | null;
  readonly provider: string | null;
  readonly deployment: string | null;
  readonly route: string;
  readonly stream: boolean;
  readonly status: number;
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly costUsd: number;
  readonly latencyMs: number;
  readonly ttftMs: number | null;
  readonly errorCode: string | null;
  /** Upstream attempts made (retries and fallbacks included); null when none was made. */
  readonly attempts?: number | null;
  /** The deployments that failed, and how: `a/x (upstream_timeout ×2), b/y (upstream_error)`. */
  readonly tried?: string | null;
}

/** `model` groups by the model the client asked for; `day` by UTC date (`YYYY-MM-DD`). */
export type UsageGroupBy = 'key' | 'team' | 'model' | 'day';

/** `from` is inclusive, `to` exclusive (epoch milliseconds). */
export interface UsageQuery {
  readonly groupBy: UsageGroupBy;
  readonly from?: number;
  readonly to?: number;
  readonly keyId?: string;
  readonly teamId?: string;
}

/** The totals of one group; `errors` counts the requests answered with a status >= 400. */
export interface UsageGroup {
  readonly group: string | null;
  readonly requests: number;
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly costUsd: number;
  readonly errors: number;
}

/** A page of the ledger; see {@link TenancyStore.requests} for `before`. */
export interface RequestQuery {
  readonly keyId?: string;
  readonly teamId?: string;
  readonly model?: string;
  readonly status?: number;
  /** Rows created at or after this time (epoch ms). */
  readonly from?: number;
  readonly limit: number;
  readonly before?: string;
}

export interface NewTeam extends Partial<Limits> {
  readonly name: string;
}

/** An explicit null clears a limit; an absent (undefined) field is left as it is. */
export type TeamPatch = Partial<NewTeam>;

export interface NewKey extends Partial<Limits> {
  readonly name: string;
  readonly teamId?: string | null;
  readonly keyHash: string;
  readonly keyPrefix: string;
  readonly expiresAt?: number | null;
  readonly metadata?: Record<string, unknown> | null;
}

/** An explicit null clears a field; an absent (undefined) field is left as it is. */
export type KeyPatch = Partial<Omit<NewKey, 'keyHash' | 'keyPrefix'>>;

export type StoreDialect = 'sqlite' | 'postgres';

/** Persistence of teams, keys and the usage ledger. Times are epoch milliseconds. */
export interface TenancyStore {
  readonly dialect: StoreDialect;
  /** Its id is "team_" and 20 random base62 characters. */
  createTeam(team: NewTeam, now: number): Promise<TeamRecord>;
  /** Deleted teams are undefined. */
  getTeam(id: string): Promise<TeamRecord | undefined>;
  /** Teams not deleted, oldest first. */
  listTeams(): Promise<TeamRecord[]>;
  /** Undefined when the team is unknown or deleted. */
  updateTeam(id: string, patch: TeamPatch, now: number): Promise<TeamRecord | undefined>;
  /**
   * Deletes the team (soft: gone from get/list) and revokes its keys, in one transaction; false if
   * unknown.
   */
  deleteTeam(id: string, now: number): Promise<boolean>;
  /** Its id is "key_" and 20 random base62 characters. */
  createKey(key: NewKey, now: number): Promise<KeyRecord>;
  /** Revoked keys are still returned (with revokedAt). */
  getKey(id: string): Promise<KeyRecord | undefined>;
  /** All keys (revoked ones too), or a team's, oldest first. */
  listKeys(filter?: { readonly teamId?: string }): Promise<KeyRecord[]>;
  updateKey(id: string, patch: KeyPatch, now: number): Promise<KeyRecord | undefined>;
  /** Idempotent: keeps the first revokedAt; false only if the key is unknown. */
  revokeKey(id: string, now: number): Promise<boolean>;
  /**
   * The key with this hash and its team (if any and not deleted); revoked/expired keys ARE
   * returned (the caller decides).
   */
  findKeyByHash(
    keyHash: string,
  ): Promise<{ key: KeyRecord; team: TeamRecord | undefined } | undefined>;
  /**
   * Ids of keys and teams (deleted ones included) whose row changed (updatedAt) at or after
   * `since`, for cache invalidation polling.
   */
  changedSince(since: number): Promise<{ keyIds: string[]; teamIds: string[] }>;
  /**
   * Inserts rows in one statement (a transaction past 500 rows); a row whose id already exists is
   * skipped (a retried batch).
   */
  appendLedger(rows: readonly LedgerRow[]): Promise<void>;
  /**
   * Totals per group. Days come in date order; keys, teams and models by cost, highest first,
   * then by group (byte order, the null group last).
   */
  usage(query: UsageQuery): Promise<UsageGroup[]>;
  /**
   * Newest first (createdAt desc, then id desc), `limit` rows and whether more exist. `before`
   * starts the page after a row: a ledger row id (exact), else a request id (request ids repeat:
   * the oldest row with it, so paging by the last row's request id always ends, at worst skipping
   * that id's other rows), else a decimal epoch-ms or ISO timestamp (rows older than it); anything
   * else gives an empty page.
   */
  requests(query: RequestQuery): Promise<{ rows: LedgerRow[]; hasMore: boolean }>;
  /**
   * What a key or team spent since `from` (inclusive; null = all time): sum of costUsd and of
   * input+output tokens.
   */
  spent(
    scope: { readonly keyId: string } | { readonly teamId: string },
    from: number | null,
  ): Promise<{ costUsd: number; tokens: number }>;
  /** Resolves when the database answers (a cheap query); rejects otherwise. */
  ping(): Promise<void>;
  /** Closes the database or pool; later calls do nothing. */
  close(): Promise<void>;
}

/** The subset of a pino logger the store uses. */
export interface TenancyStoreLogger {
  info(object: object, message?: string): void;
  warn(object: object, message?: string): void;
}

export interface TenancyStoreOptions {
  readonly logger?: TenancyStoreLogger;
}

/** How long a query waits for a lock (SQLite) or for a connection (PostgreSQL) before failing. */
const WAIT_MS = 5_000;
const POSTGRES_POOL_SIZE = 10;
const INT8_OID = 20;
const NUMERIC_OID = 1700;

/**
 * Opens the store at `url` and applies any missing migration: `sqlite:PATH` (the folder is made;
 * `sqlite::memory:` for tests) or `postgres://…` / `postgresql://…`. Rejects on any other URL, and
 * when the database cannot be reached or migrated.
 */
export async function openTenancyStore(
  url: string,
  options: TenancyStoreOptions = {},
): Promise<TenancyStore> {
  const { dialect, database } = await connect(url, options.logger);
  try {
    await migrateTenancyStore(database, dialect, options.logger);
  } catch (error) {
    await database.destroy();
    throw error;
  }
  return createKyselyTenancyStore(database, dialect);
}

async function connect(
  url: string,
  logger: TenancyStoreLogger | undefined,
): Promise<{ dialect: StoreDialect; database: Kysely<TenancyDatabase> }> {
  // The drivers are loaded only for the dialect in use: each costs start-up time.
  if (url.startsWith('sqlite:')) {
    const path = url.slice('sqlite:'.length);
    if (path === '') throw new Error('Tenancy store URL "sqlite:" names no file: use sqlite:PATH');
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    const { default: Database } = await import('better-sqlite3');
    const sqlite = new Database(path);
    try {
      // WAL lets the admin API read while the ledger writes; NORMAL is durable in WAL mode
      // except for the last commits on power loss, which the ledger tolerates.
      sqlite.pragma('journal_mode = WAL');
      sqlite.pragma(`busy_timeout = ${WAIT_MS}`);
      sqlite.pragma('synchronous = NORMAL');
      // better-sqlite3's build turns foreign keys on already; said here so nothing depends on it.
      sqlite.pragma('foreign_keys = ON');
    } catch (error) {
      // Not a database file, for one: the first pragma reads it.
      sqlite.close();
      throw error;
    }
    return {
      dialect: 'sqlite',
      database: new Kysely({ dialect: new SqliteDialect({ database: sqlite }) }),
    };
  }
  if (/^postgres(ql)?:\/\//.test(url)) {
    const { default: pg } = await import('pg');
    const pool = new pg.Pool({
      connectionString: url,
      max: POSTGRES_POOL_SIZE,
      // A database that is down rejects queries after this, rather than leaving them waiting.
      connectionTimeoutMillis: WAIT_MS,
      types: {
        // Times and counts are int8 and sums of them numeric, which pg hands over as strings:
        // as numbers they read the same as SQLite's (epoch ms and token sums fit a double).
        getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
          oid === INT8_OID || oid === NUMERIC_OID
            ? Number
            : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
      },
    });
    // A connection the server drops emits 'error', which unheard ends the process. The pool hears
    // its idle connections' (logged here); a checked-out one is heard below and ignored: its
    // query rejects on its own.
    pool.on('error', (error) => {
      logger?.warn({ err: error }, 'tenancy store: an idle PostgreSQL connection failed');
    });
    pool.on('connect', (client) => {
      client.on('error', () => undefined);
    });
    return {
      dialect: 'postgres',
      database: new Kysely({ dialect: new PostgresDialect({ pool }) }),
    };
  }
  // Only the scheme is quoted: the rest of a URL may hold a password.
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1];
  const named = scheme === undefined ? '(no scheme)' : `scheme "${scheme}:"`;
  throw new Error(
    `Unsupported tenancy store URL ${named}: use sqlite:PATH, postgres://… or postgresql://…`,
  );
}
