/**
 * The tenancy store's schema, as versioned migrations applied at open: a database that already has
 * some of them gets only the missing ones, in name order. A migration, once released, is never
 * edited; a change is a new `000N_…` entry.
 */
import {
  type CreateTableBuilder,
  type Kysely,
  type Migration,
  type MigrationProvider,
  type MigrationResultSet,
  Migrator,
  type RawBuilder,
  sql,
} from 'kysely';
import type { TenancyDatabase } from './database-schema.js';
import type { StoreDialect, TenancyStoreLogger } from './tenancy-store.js';

/**
 * Applies every missing migration in one transaction; rejects with the first failure, and then
 * none of them is applied.
 */
export async function migrateTenancyStore(
  database: Kysely<TenancyDatabase>,
  dialect: StoreDialect,
  logger: TenancyStoreLogger | undefined,
): Promise<void> {
  const migrator = new Migrator({
    db: database,
    provider: tenancyMigrations(dialect),
    disableTransactions: dialect === 'sqlite',
  });
  let outcome: MigrationResultSet;
  if (dialect === 'sqlite') {
    // Gateway workers open the same file at once. On PostgreSQL Kysely serialises them with an
    // advisory lock; on SQLite its lock does nothing and its deferred transaction lets two of them
    // both find a new file empty ("table teams already exists"). BEGIN IMMEDIATE takes the write
    // lock first: the others wait (busy_timeout), then find the work done.
    await sql`begin immediate`.execute(database);
    outcome = await migrator.migrateToLatest();
    await (outcome.error === undefined ? sql`commit` : sql`rollback`).execute(database);
  } else {
    outcome = await migrator.migrateToLatest();
  }
  const { error, results = [] } = outcome;
  if (error !== undefined) {
    throw error instanceof Error ? error : new Error(`tenancy store migration failed: ${error}`);
  }
  for (const result of results) {
    logger?.info({ migration: result.migrationName, dialect }, 'tenancy store migrated');
  }
}

/** The migrations, by name; the names sort in the order they apply. */
function tenancyMigrations(dialect: StoreDialect): MigrationProvider {
  return {
    getMigrations: async () => ({
      '0001_initial': initial(dialect),
      '0002_ledger_attempts': ledgerAttempts(dialect),
    }),
  };
}

function initial(dialect: StoreDialect): Migration {
  // The schema's one difference between the dialects: PostgreSQL compares text by the server's
  // locale (`en_US` puts `a` before `B`), SQLite byte by byte. Ids, days and model names are
  // ordered and compared (paging, group order), so PostgreSQL's text is byte-ordered ("C") too,
  // and both stores page and sort alike whatever locale the server was set up with.
  const text = dialect === 'postgres' ? sql`text collate "C"` : sql`text`;
  return {
    async up(database: Kysely<unknown>) {
      await database.schema
        .createTable('teams')
        .addColumn('id', text, (column) => column.primaryKey())
        .addColumn('name', text, (column) => column.notNull())
        .$call((table) => addLimitColumns(table, text))
        .addColumn('created_at', 'bigint', (column) => column.notNull())
        .addColumn('updated_at', 'bigint', (column) => column.notNull())
        .addColumn('deleted_at', 'bigint')
        .execute();
      await database.schema
        .createIndex('teams_updated_at')
        .on('teams')
        .column('updated_at')
        .execute();

      await database.schema
        .createTable('api_keys')
        .addColumn('id', text, (column) => column.primaryKey())
        .addColumn('name', text, (column) => column.notNull())
        .addColumn('team_id', text, (column) => column.references('teams.id'))
        .addColumn('key_hash', text, (column) => column.notNull())
        .addColumn('key_prefix', text, (column) => column.notNull())
        .$call((table) => addLimitColumns(table, text))
        .addColumn('expires_at', 'bigint')
        .addColumn('revoked_at', 'bigint')
        .addColumn('metadata', text)
        .addColumn('created_at', 'bigint', (column) => column.notNull())
        .addColumn('updated_at', 'bigint', (column) => column.notNull())
        .execute();
      await database.schema
        .createIndex('api_keys_key_hash')
        .unique()
        .on('api_keys')
        .column('key_hash')
        .execute();
      await database.schema
        .createIndex('api_keys_team_id')
        .on('api_keys')
        .column('team_id')
        .execute();
      await database.schema
        .createIndex('api_keys_updated_at')
        .on('api_keys')
        .column('updated_at')
        .execute();

      // No foreign keys: a row is written after the request, whatever became of its key since,
      // and a key may be one of the configuration's static keys, which have no row.
      await database.schema
        .createTable('usage_ledger')
        .addColumn('id', text, (column) => column.primaryKey())
        .addColumn('request_id', text, (column) => column.notNull())
        .addColumn('created_at', 'bigint', (column) => column.notNull())
        .addColumn('day', text, (column) => column.notNull())
        .addColumn('key_id', text)
        .addColumn('team_id', text)
        .addColumn('model', text)
        .addColumn('served_model', text)
        .addColumn('provider', text)
        .addColumn('deployment', text)
        .addColumn('route', text, (column) => column.notNull())
        .addColumn('stream', 'integer', (column) => column.notNull())
        .addColumn('status', 'integer', (column) => column.notNull())
        .addColumn('input_tokens', 'bigint', (column) => column.notNull())
        .addColumn('output_tokens', 'bigint', (column) => column.notNull())
        .addColumn('cost_usd', 'double precision', (column) => column.notNull())
        .addColumn('latency_ms', 'bigint', (column) => column.notNull())
        .addColumn('ttft_ms', 'bigint')
        .addColumn('error_code', text)
        .execute();
      // (created_at, id) is the order `requests()` pages in, newest first.
      await database.schema
        .createIndex('usage_ledger_created_at')
        .on('usage_ledger')
        .columns(['created_at', 'id'])
        .execute();
      await database.schema
        .createIndex('usage_ledger_key_id_created_at')
        .on('usage_ledger')
        .columns(['key_id', 'created_at'])
        .execute();
      await database.schema
        .createIndex('usage_ledger_team_id_created_at')
        .on('usage_ledger')
        .columns(['team_id', 'created_at'])
        .execute();
      // A page may start at a request id (`requests({ before })`).
      await database.schema
        .createIndex('usage_ledger_request_id')
        .on('usage_ledger')
        .column('request_id')
        .execute();
    },
  };
}

/** The columns of `LimitColumns`, shared by teams and keys. */
function addLimitColumns<Table extends string, Columns extends string>(
  table: CreateTableBuilder<Table, Columns>,
  text: RawBuilder<unknown>,
) {
  return table
    .addColumn('models', text)
    .addColumn('rpm_limit', 'bigint')
    .addColumn('tpm_limit', 'bigint')
    .addColumn('max_concurrent', 'bigint')
    .addColumn('budget_usd', 'double precision')
    .addColumn('budget_tokens', 'bigint')
    .addColumn('budget_period', text);
}

/** The ledger says how many upstream attempts a request took and which deployments failed. */
function ledgerAttempts(dialect: StoreDialect): Migration {
  const text = dialect === 'postgres' ? sql`text collate "C"` : sql`text`;
  return {
    async up(database: Kysely<unknown>) {
      await database.schema.alterTable('usage_ledger').addColumn('attempts', 'integer').execute();
      await database.schema.alterTable('usage_ledger').addColumn('tried', text).execute();
    },
  };
}
