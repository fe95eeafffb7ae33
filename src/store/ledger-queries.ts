/**
 * The usage ledger's queries (the store's `appendLedger`, `usage`, `requests` and `spent`): the
 * same Kysely queries on SQLite and PostgreSQL, values always passed as parameters.
 */
import type { Expression, ExpressionBuilder, Kysely, SqlBool } from 'kysely';
import type { TenancyDatabase } from './database-schema.js';
import { ledgerColumns, ledgerRow } from './store-records.js';
import type {
  LedgerRow,
  RequestQuery,
  UsageGroup,
  UsageGroupBy,
  UsageQuery,
} from './tenancy-store.js';

type Database = Kysely<TenancyDatabase>;
type LedgerExpressions = ExpressionBuilder<TenancyDatabase, 'usage_ledger'>;

/** Where a page of `requests()` starts: after this row, or (no id) before this time. */
interface PagePosition {
  readonly createdAt: number;
  readonly id?: string;
}

const GROUP_COLUMNS = {
  key: 'key_id',
  team: 'team_id',
  model: 'model',
  day: 'day',
} as const satisfies Record<UsageGroupBy, string>;

/**
 * Rows per INSERT: 500 rows of 19 columns stay under both dialects' cap on parameters a statement
 * (SQLite 32,766, PostgreSQL 65,535).
 */
const LEDGER_ROWS_PER_INSERT = 500;

/** Inserts the rows, skipping ids already there; several INSERTs go in one transaction. */
export async function appendLedgerRows(
  database: Database,
  rows: readonly LedgerRow[],
): Promise<void> {
  const columns = rows.map(ledgerColumns);
  const insert = (executor: Database, start: number) =>
    executor
      .insertInto('usage_ledger')
      .values(columns.slice(start, start + LEDGER_ROWS_PER_INSERT))
      .onConflict((conflict) => conflict.column('id').doNothing())
      .execute();
  if (columns.length === 0) return;
  // One statement needs no transaction of its own (two round trips saved on PostgreSQL).
  if (columns.length <= LEDGER_ROWS_PER_INSERT) {
    await insert(database, 0);
    return;
  }
  await database.transaction().execute(async (transaction) => {
    for (let start = 0; start < columns.length; start += LEDGER_ROWS_PER_INSERT) {
      await insert(transaction, start);
    }
  });
}

/** Totals per group, in the order `TenancyStore.usage` documents. */
export function usageGroups(database: Database, query: UsageQuery): Promise<UsageGroup[]> {
  const column = GROUP_COLUMNS[query.groupBy];
  return database
    .selectFrom('usage_ledger')
    .where((where) =>
      where.and(
        ledgerFilters(where, query).concat(
          query.from === undefined ? [] : [where('created_at', '>=', query.from)],
          query.to === undefined ? [] : [where('created_at', '<', query.to)],
        ),
      ),
    )
    .select((select) => [
      select.ref(column).as('group'),
      select.fn.countAll<number>().as('requests'),
      select.fn.sum<number>('input_tokens').as('inputTokens'),
      select.fn.sum<number>('output_tokens').as('outputTokens'),
      select.fn.sum<number>('cost_usd').as('costUsd'),
      // Literals, not parameters: PostgreSQL would take untyped CASE parameters for text.
      select.fn
        .sum<number>(
          select.case().when('status', '>=', 400).then(select.lit(1)).else(select.lit(0)).end(),
        )
        .as('errors'),
    ])
    .groupBy(column)
    .$call((grouped) =>
      query.groupBy === 'day'
        ? grouped.orderBy(column, 'asc')
        : grouped
            .orderBy('costUsd', 'desc')
            // SQLite sorts nulls first and PostgreSQL last unless told.
            .orderBy(column, (order) => order.asc().nullsLast()),
    )
    .execute();
}

/** A page of rows, newest first, as `TenancyStore.requests` documents. */
export async function requestPage(
  database: Database,
  query: RequestQuery,
): Promise<{ rows: LedgerRow[]; hasMore: boolean }> {
  const position =
    query.before === undefined ? undefined : await pagePosition(database, query.before);
  if (query.before !== undefined && position === undefined) return { rows: [], hasMore: false };
  const rows = await database
    .selectFrom('usage_ledger')
    .selectAll()
    .where((where) =>
      where.and(
        ledgerFilters(where, query).concat(
          query.model === undefined ? [] : [where('model', '=', query.model)],
          query.status === undefined ? [] : [where('status', '=', query.status)],
          query.from === undefined ? [] : [where('created_at', '>=', query.from)],
          position === undefined ? [] : [after(where, position)],
        ),
      ),
    )
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    // One more than asked says whether another page exists.
    .limit(query.limit + 1)
    .execute();
  return {
    rows: rows.slice(0, query.limit).map(ledgerRow),
    hasMore: rows.length > query.limit,
  };
}

/** The cost and tokens of a key's or team's rows since `from` (null = all of them). */
export async function spentBy(
  database: Database,
  scope: { readonly keyId: string } | { readonly teamId: string },
  from: number | null,
): Promise<{ costUsd: number; tokens: number }> {
  const totals = await database
    .selectFrom('usage_ledger')
    .where((where) =>
      where.and([
        'keyId' in scope ? where('key_id', '=', scope.keyId) : where('team_id', '=', scope.teamId),
        ...(from === null ? [] : [where('created_at', '>=', from)]),
      ]),
    )
    .select((select) => [
      select.fn.sum<number | null>('cost_usd').as('costUsd'),
      select.fn
        .sum<number | null>(select('input_tokens', '+', select.ref('output_tokens')))
        .as('tokens'),
    ])
    .executeTakeFirstOrThrow();
  // SUM over no rows is null.
  return { costUsd: totals.costUsd ?? 0, tokens: totals.tokens ?? 0 };
}

/** `before` as a position: a row id, else a request id's oldest row, else a timestamp. */
async function pagePosition(database: Database, before: string): Promise<PagePosition | undefined> {
  const row =
    (await database
      .selectFrom('usage_ledger')
      .select(['created_at', 'id'])
      .where('id', '=', before)
      .executeTakeFirst()) ??
    (await database
      .selectFrom('usage_ledger')
      .select(['created_at', 'id'])
      .where('request_id', '=', before)
      .orderBy('created_at', 'asc')
      .orderBy('id', 'asc')
      .limit(1)
      .executeTakeFirst());
  if (row !== undefined) return { createdAt: row.created_at, id: row.id };
  const time = parseTimestamp(before);
  return time === undefined ? undefined : { createdAt: time };
}

/** The key and team filters `usage()` and `requests()` share. */
function ledgerFilters(
  where: LedgerExpressions,
  filter: Pick<UsageQuery | RequestQuery, 'keyId' | 'teamId'>,
): Expression<SqlBool>[] {
  const filters: Expression<SqlBool>[] = [];
  if (filter.keyId !== undefined) filters.push(where('key_id', '=', filter.keyId));
  if (filter.teamId !== undefined) filters.push(where('team_id', '=', filter.teamId));
  return filters;
}

/** Rows after `position` in newest-first order. */
function after(where: LedgerExpressions, position: PagePosition): Expression<SqlBool> {
  if (position.id === undefined) return where('created_at', '<', position.createdAt);
  return where.or([
    where('created_at', '<', position.createdAt),
    where.and([where('created_at', '=', position.createdAt), where('id', '<', position.id)]),
  ]);
}

/** A decimal epoch-ms or an ISO date/timestamp, else undefined. */
function parseTimestamp(text: string): number | undefined {
  if (/^\d+$/.test(text)) return Number(text);
  if (!/^\d{4}-\d{2}-\d{2}/.test(text)) return undefined;
  const time = Date.parse(text);
  return Number.isNaN(time) ? undefined : time;
}
