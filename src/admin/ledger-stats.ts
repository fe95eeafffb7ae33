/**
 * `GET /admin/v1/stats`: the ledger over a time range as the console's charts want it, built from
 * the store's two ledger reads. Totals per time bucket are exact (the store's usage sums, one per
 * bucket, or one grouped by day for day buckets); latency percentiles are computed here from the
 * newest rows of the range, at most {@link MAX_SAMPLED_ROWS}, and say whether that was all of them.
 */
import type { LedgerRow, TenancyStore, UsageGroup } from '../store/tenancy-store.js';
import { invalidParameter, readQuery, readQueryTime } from './admin-input.js';
import type {
  LatencyGroupJson,
  StatsBucket,
  StatsBucketJson,
  StatsJson,
  StatsTotalsJson,
} from './admin-json.js';

/** A checked `GET /admin/v1/stats` query; times are epoch ms, `to` exclusive. */
export interface StatsQuery {
  readonly from: number;
  readonly to: number;
  readonly bucket: StatsBucket;
  readonly keyId?: string;
  readonly teamId?: string;
}

const BUCKET_MS: Readonly<Record<StatsBucket, number>> = {
  minute: 60_000,
  hour: 3_600_000,
  day: 86_400_000,
};

/** Minute and hour buckets cost one store query each (61 at most): a chart has no use for more. */
const MAX_QUERIED_BUCKETS = 60;
const MAX_DAY_BUCKETS = 400;
const DEFAULT_RANGE_MS = 86_400_000;
/** Enough for stable percentiles, few enough to read in a few pages. */
export const MAX_SAMPLED_ROWS = 10_000;
const PAGE_ROWS = 1_000;

/** `from` defaults to a day before `to`, `to` to now; `bucket` to the one a chart wants. */
export function parseStatsQuery(query: unknown, now: number): StatsQuery {
  const values = readQuery(query, ['from', 'to', 'bucket', 'key_id', 'team_id']);
  const to = readQueryTime(values, 'to') ?? now;
  const from = readQueryTime(values, 'from') ?? to - DEFAULT_RANGE_MS;
  if (to <= from) throw invalidParameter('to', "'to' must be later than 'from'.");
  const bucket = values.get('bucket') ?? defaultBucket(to - from);
  if (!(bucket in BUCKET_MS)) {
    throw invalidParameter('bucket', "'bucket' must be one of: minute, hour, day.");
  }
  // By the range's length, not the aligned buckets it touches: an hour of minutes is 60 buckets
  // however it falls, though it touches 61 when it does not start on a minute.
  const spans = Math.ceil((to - from) / BUCKET_MS[bucket as StatsBucket]);
  const most = bucket === 'day' ? MAX_DAY_BUCKETS : MAX_QUERIED_BUCKETS;
  if (spans > most) {
    throw invalidParameter(
      'bucket',
      `The range spans ${spans} buckets of a ${bucket}: at most ${most}; use a larger bucket or a shorter range.`,
    );
  }
  const keyId = values.get('key_id');
  const teamId = values.get('team_id');
  return {
    from,
    to,
    bucket: bucket as StatsBucket,
    ...(keyId === undefined ? {} : { keyId }),
    ...(teamId === undefined ? {} : { teamId }),
  };
}

function defaultBucket(rangeMs: number): StatsBucket {
  if (rangeMs <= BUCKET_MS.hour) return 'minute';
  return rangeMs <= 2 * BUCKET_MS.day ? 'hour' : 'day';
}

/** The UTC-aligned starts of the buckets that overlap [from, to). */
function bucketStarts(from: number, to: number, size: number): number[] {
  const starts: number[] = [];
  for (let start = Math.floor(from / size) * size; start < to; start += size) starts.push(start);
  return starts;
}

/** The stats of the query's range. */
export async function ledgerStats(
  store: Pick<TenancyStore, 'usage' | 'requests'>,
  query: StatsQuery,
): Promise<StatsJson> {
  const [series, sample] = await Promise.all([timeSeries(store, query), newestRows(store, query)]);
  const totals = series.reduce(addTotals, emptyTotals());
  const answered = sample.rows;
  return {
    from: new Date(query.from).toISOString(),
    to: new Date(query.to).toISOString(),
    bucket: query.bucket,
    series,
    totals,
    latency: {
      sampled_requests: answered.length,
      complete: sample.complete,
      by_model: latencyGroups(answered, (row) => row.model),
      by_provider: latencyGroups(answered, (row) => row.provider),
      by_deployment: latencyGroups(answered, (row) => row.deployment),
    },
  };
}

function emptyTotals(): StatsTotalsJson {
  return { requests: 0, input_tokens: 0, output_tokens: 0, cost_usd: 0, errors: 0 };
}

function addTotals(sum: StatsTotalsJson, group: StatsTotalsJson): StatsTotalsJson {
  return {
    requests: sum.requests + group.requests,
    input_tokens: sum.input_tokens + group.input_tokens,
    output_tokens: sum.output_tokens + group.output_tokens,
    cost_usd: sum.cost_usd + group.cost_usd,
    errors: sum.errors + group.errors,
  };
}

function totalsOf(groups: readonly UsageGroup[]): StatsTotalsJson {
  return groups.reduce<StatsTotalsJson>(
    (sum, group) =>
      addTotals(sum, {
        requests: group.requests,
        input_tokens: group.inputTokens,
        output_tokens: group.outputTokens,
        cost_usd: group.costUsd,
        errors: group.errors,
      }),
    emptyTotals(),
  );
}

async function timeSeries(
  store: Pick<TenancyStore, 'usage'>,
  query: StatsQuery,
): Promise<StatsBucketJson[]> {
  const size = BUCKET_MS[query.bucket];
  const starts = bucketStarts(query.from, query.to, size);
  const filters = {
    ...(query.keyId === undefined ? {} : { keyId: query.keyId }),
    ...(query.teamId === undefined ? {} : { teamId: query.teamId }),
  };
  if (query.bucket === 'day') {
    // The ledger keeps each row's UTC day: one grouped sum covers every bucket.
    const days = await store.usage({ groupBy: 'day', from: query.from, to: query.to, ...filters });
    const byDay = new Map(days.map((day) => [day.group, day]));
    return starts.map((start) => {
      const day = byDay.get(new Date(start).toISOString().slice(0, 10));
      return { start: new Date(start).toISOString(), ...totalsOf(day === undefined ? [] : [day]) };
    });
  }
  const sums = await Promise.all(
    starts.map((start) =>
      store.usage({
        groupBy: 'day',
        from: Math.max(start, query.from),
        to: Math.min(start + size, query.to),
        ...filters,
      }),
    ),
  );
  return starts.map((start, index) => ({
    start: new Date(start).toISOString(),
    ...totalsOf(sums[index] ?? []),
  }));
}

/** The newest rows of the range, newest first, paging back until `from` or the cap. */
async function newestRows(
  store: Pick<TenancyStore, 'requests'>,
  query: StatsQuery,
): Promise<{ rows: LedgerRow[]; complete: boolean }> {
  const rows: LedgerRow[] = [];
  // A timestamp cursor: the rows strictly older than `to`, which is exclusive.
  let before = new Date(query.to).toISOString();
  for (;;) {
    const page = await store.requests({
      limit: PAGE_ROWS,
      before,
      ...(query.keyId === undefined ? {} : { keyId: query.keyId }),
      ...(query.teamId === undefined ? {} : { teamId: query.teamId }),
    });
    for (const row of page.rows) {
      if (row.createdAt < query.from) return { rows, complete: true };
      if (rows.length === MAX_SAMPLED_ROWS) return { rows, complete: false };
      rows.push(row);
    }
    const last = page.rows.at(-1);
    if (!page.hasMore || last === undefined) return { rows, complete: true };
    before = last.id;
  }
}

/** Nearest-rank percentile of sorted values; null for none. */
export function percentile(sorted: readonly number[], fraction: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.max(1, Math.ceil(fraction * sorted.length));
  return sorted[rank - 1] ?? null;
}

/** Groups by `groupOf`, busiest first. */
function latencyGroups(
  rows: readonly LedgerRow[],
  groupOf: (row: LedgerRow) => string | null,
): LatencyGroupJson[] {
  const groups = new Map<string | null, LedgerRow[]>();
  for (const row of rows) {
    const group = groupOf(row);
    const members = groups.get(group);
    if (members === undefined) groups.set(group, [row]);
    else members.push(row);
  }
  const ascending = (values: number[]) => values.sort((a, b) => a - b);
  return [...groups]
    .map(([group, members]) => {
      const answered = members.filter((row) => row.status < 400);
      const latencies = ascending(answered.map((row) => row.latencyMs));
      const ttfts = ascending(answered.flatMap((row) => (row.ttftMs === null ? [] : [row.ttftMs])));
      return {
        group,
        requests: members.length,
        errors: members.length - answered.length,
        latency_p50_ms: percentile(latencies, 0.5),
        latency_p95_ms: percentile(latencies, 0.95),
        ttft_p50_ms: percentile(ttfts, 0.5),
        ttft_p95_ms: percentile(ttfts, 0.95),
      };
    })
    .sort((a, b) => b.requests - a.requests);
}
