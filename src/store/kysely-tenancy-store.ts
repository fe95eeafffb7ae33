/**
 * The one implementation of the tenancy store: the same Kysely queries on SQLite and PostgreSQL,
 * values always passed as parameters. Teams and keys are here, the ledger in `ledger-queries.ts`,
 * the schema in `migrations.ts`.
 */
import type { Kysely } from 'kysely';
import type { TenancyDatabase } from './database-schema.js';
import { appendLedgerRows, requestPage, spentBy, usageGroups } from './ledger-queries.js';
import { jsonColumn, keyRecord, limitColumns, randomId, teamRecord } from './store-records.js';
import type { StoreDialect, TeamRecord, TenancyStore } from './tenancy-store.js';

/** The store on an open, migrated database; `close()` destroys `database`. */
export function createKyselyTenancyStore(
  database: Kysely<TenancyDatabase>,
  dialect: StoreDialect,
): TenancyStore {
  let closing: Promise<void> | undefined;

  async function getTeam(id: string): Promise<TeamRecord | undefined> {
    const row = await database
      .selectFrom('teams')
      .selectAll()
      .where('id', '=', id)
      .where('deleted_at', 'is', null)
      .executeTakeFirst();
    return row === undefined ? undefined : teamRecord(row);
  }

  return {
    dialect,

    async createTeam(team, now) {
      const row = await database
        .insertInto('teams')
        .values({
          id: randomId('team_'),
          name: team.name,
          ...limitColumns(team),
          created_at: now,
          updated_at: now,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      return teamRecord(row);
    },

    getTeam,

    async listTeams() {
      const rows = await database
        .selectFrom('teams')
        .selectAll()
        .where('deleted_at', 'is', null)
        .orderBy('created_at', 'asc')
        .orderBy('id', 'asc')
        .execute();
      return rows.map(teamRecord);
    },

    async updateTeam(id, patch, now) {
      const row = await database
        .updateTable('teams')
        .set({ name: patch.name, ...limitColumns(patch), updated_at: now })
        .where('id', '=', id)
        .where('deleted_at', 'is', null)
        .returningAll()
        .executeTakeFirst();
      return row === undefined ? undefined : teamRecord(row);
    },

    deleteTeam(id, now) {
      return database.transaction().execute(async (transaction) => {
        const deleted = await transaction
          .updateTable('teams')
          .set({ deleted_at: now, updated_at: now })
          .where('id', '=', id)
          .where('deleted_at', 'is', null)
          .executeTakeFirst();
        if (deleted.numUpdatedRows === 0n) return false;
        await transaction
          .updateTable('api_keys')
          .set({ revoked_at: now, updated_at: now })
          .where('team_id', '=', id)
          .where('revoked_at', 'is', null)
          .execute();
        return true;
      });
    },

    async createKey(key, now) {
      const row = await database
        .insertInto('api_keys')
        .values({
          id: randomId('key_'),
          name: key.name,
          team_id: key.teamId,
          key_hash: key.keyHash,
          key_prefix: key.keyPrefix,
          ...limitColumns(key),
          expires_at: key.expiresAt,
          metadata: jsonColumn(key.metadata),
          created_at: now,
          updated_at: now,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      return keyRecord(row);
    },

    async getKey(id) {
      const row = await database
        .selectFrom('api_keys')
        .selectAll()
        .where('id', '=', id)
        .executeTakeFirst();
      return row === undefined ? undefined : keyRecord(row);
    },

    async listKeys(filter = {}) {
      let query = database.selectFrom('api_keys').selectAll();
      if (filter.teamId !== undefined) query = query.where('team_id', '=', filter.teamId);
      const rows = await query.orderBy('created_at', 'asc').orderBy('id', 'asc').execute();
      return rows.map(keyRecord);
    },

    async updateKey(id, patch, now) {
      const row = await database
        .updateTable('api_keys')
        .set({
          name: patch.name,
          team_id: patch.teamId,
          ...limitColumns(patch),
          expires_at: patch.expiresAt,
          metadata: jsonColumn(patch.metadata),
          updated_at: now,
        })
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirst();
      return row === undefined ? undefined : keyRecord(row);
    },

    async revokeKey(id, now) {
      const revoked = await database
        .updateTable('api_keys')
        .set({ revoked_at: now, updated_at: now })
        .where('id', '=', id)
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      if (revoked.numUpdatedRows > 0n) return true;
      const known = await database
        .selectFrom('api_keys')
        .select('id')
        .where('id', '=', id)
        .executeTakeFirst();
      return known !== undefined;
    },

    async findKeyByHash(keyHash) {
      const row = await database
        .selectFrom('api_keys')
        .selectAll()
        .where('key_hash', '=', keyHash)
        .executeTakeFirst();
      if (row === undefined) return undefined;
      const team = row.team_id === null ? undefined : await getTeam(row.team_id);
      return { key: keyRecord(row), team };
    },

    async changedSince(since) {
      const [keys, teams] = await Promise.all([
        database.selectFrom('api_keys').select('id').where('updated_at', '>=', since).execute(),
        database.selectFrom('teams').select('id').where('updated_at', '>=', since).execute(),
      ]);
      return { keyIds: keys.map((key) => key.id), teamIds: teams.map((team) => team.id) };
    },

    appendLedger: (rows) => appendLedgerRows(database, rows),
    usage: (query) => usageGroups(database, query),
    requests: (query) => requestPage(database, query),
    spent: (scope, from) => spentBy(database, scope, from),

    async ping() {
      await database.selectNoFrom((select) => select.lit(1).as('one')).execute();
    },

    close() {
      closing ??= database.destroy();
      return closing;
    },
  };
}
