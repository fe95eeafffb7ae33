import { useMemo, useState } from 'preact/hooks';
import { api, type StatsJson, type UsageGroupJson } from './api.js';
import { Chart } from './chart.js';
import { formatCount, formatPercent, formatUsd } from './format.js';
import { LatencyCharts } from './latency-charts.js';
import { Notice } from './notice.js';
import { useLoader } from './use-loader.js';
import { useNames } from './use-names.js';

const RANGES = [
  { id: 'hour', label: 'Last hour', ms: 3_600_000 },
  { id: 'day', label: 'Last 24 hours', ms: 86_400_000 },
  { id: 'month', label: 'Last 30 days', ms: 30 * 86_400_000 },
] as const;

/** Requests, tokens, spend and errors over a recent range; latency by model and provider; top spenders. */
export function OverviewPage() {
  const [rangeId, setRangeId] = useState<(typeof RANGES)[number]['id']>('day');
  const range = RANGES.find((candidate) => candidate.id === rangeId) ?? RANGES[1];
  const names = useNames();
  const loaded = useLoader(async () => {
    const to = new Date();
    const from = new Date(to.getTime() - range.ms).toISOString();
    const [stats, keys, teams] = await Promise.all([
      api.stats(from, to.toISOString()),
      api.usage('key', from, to.toISOString()),
      api.usage('team', from, to.toISOString()),
    ]);
    return { stats, keys: keys.data, teams: teams.data };
  }, [range.ms]);

  return (
    <section aria-labelledby="overview-title">
      <div class="page-head">
        <h1 id="overview-title">Overview</h1>
        <fieldset class="segmented">
          <legend class="visually-hidden">Range</legend>
          {RANGES.map((candidate) => (
            <label key={candidate.id} class={candidate.id === rangeId ? 'selected' : ''}>
              <input
                type="radio"
                name="overview-range"
                value={candidate.id}
                checked={candidate.id === rangeId}
                onChange={() => setRangeId(candidate.id)}
              />
              {candidate.label}
            </label>
          ))}
        </fieldset>
      </div>
      {loaded.error !== undefined ? (
        <Notice kind="error" title="The overview could not be loaded." onRetry={loaded.reload}>
          {loaded.error.message}
        </Notice>
      ) : loaded.data === undefined ? (
        <Notice kind="loading" title="Loading the overview…" />
      ) : (
        <OverviewBody
          stats={loaded.data.stats}
          keys={loaded.data.keys}
          teams={loaded.data.teams}
          keyName={names.key}
          teamName={names.team}
        />
      )}
    </section>
  );
}

function OverviewBody({
  stats,
  keys,
  teams,
  keyName,
  teamName,
}: {
  stats: StatsJson;
  keys: readonly UsageGroupJson[];
  teams: readonly UsageGroupJson[];
  keyName: (id: string | null) => string;
  teamName: (id: string | null) => string;
}) {
  const { totals } = stats;
  const x = useMemo(() => stats.series.map((bucket) => Date.parse(bucket.start) / 1000), [stats]);
  const traffic = useMemo(
    () => [
      {
        label: 'Requests',
        values: stats.series.map((bucket) => bucket.requests),
        color: '#1d4ed8',
        format: formatCount,
      },
      {
        label: 'Errors',
        values: stats.series.map((bucket) => bucket.errors),
        color: '#b91c1c',
        format: formatCount,
      },
    ],
    [stats],
  );
  const spend = useMemo(
    () => [
      {
        label: 'Spend',
        values: stats.series.map((bucket) => bucket.cost_usd),
        color: '#047857',
        format: formatUsd,
      },
    ],
    [stats],
  );
  const tokens = useMemo(
    () => [
      {
        label: 'Tokens',
        values: stats.series.map((bucket) => bucket.input_tokens + bucket.output_tokens),
        color: '#7c3aed',
        format: formatCount,
      },
    ],
    [stats],
  );
  if (totals.requests === 0) {
    return (
      <Notice kind="empty" title="No requests in this range yet.">
        Create a key on the Keys & teams page and send a request with it; it shows here within a
        second or two. Or pick a longer range.
      </Notice>
    );
  }
  return (
    <>
      <dl class="tiles">
        <div class="tile">
          <dt>Requests</dt>
          <dd>{formatCount(totals.requests)}</dd>
        </div>
        <div class="tile">
          <dt>Tokens</dt>
          <dd>{formatCount(totals.input_tokens + totals.output_tokens)}</dd>
        </div>
        <div class="tile">
          <dt>Spend</dt>
          <dd>{formatUsd(totals.cost_usd)}</dd>
        </div>
        <div class="tile">
          <dt>Error rate</dt>
          <dd>{formatPercent(totals.errors / totals.requests)}</dd>
        </div>
      </dl>
      <div class="grid-2">
        <div class="card">
          <h2>Requests and errors</h2>
          <Chart title="Requests and errors over time" kind="line" x={x} series={traffic} />
        </div>
        <div class="card">
          <h2>Spend</h2>
          <Chart title="Spend over time" kind="bars" x={x} series={spend} />
        </div>
        <div class="card">
          <h2>Tokens</h2>
          <Chart title="Tokens over time" kind="bars" x={x} series={tokens} />
        </div>
        <div class="card">
          <h2>Top spenders</h2>
          <TopTable caption="Keys by spend" rows={keys} name={keyName} />
          <TopTable caption="Teams by spend" rows={teams} name={teamName} />
        </div>
      </div>
      <LatencyCharts latency={stats.latency} />
    </>
  );
}

function TopTable({
  caption,
  rows,
  name,
}: {
  caption: string;
  rows: readonly UsageGroupJson[];
  name: (id: string | null) => string;
}) {
  return (
    <table class="table">
      <caption>{caption}</caption>
      <thead>
        <tr>
          <th scope="col">Name</th>
          <th scope="col" class="number">
            Requests
          </th>
          <th scope="col" class="number">
            Spend
          </th>
        </tr>
      </thead>
      <tbody>
        {rows.length === 0 ? (
          <tr>
            <td colSpan={3} class="muted">
              None in this range.
            </td>
          </tr>
        ) : (
          rows.slice(0, 5).map((row) => (
            <tr key={row.group ?? 'none'}>
              <td>{name(row.group)}</td>
              <td class="number">{formatCount(row.requests)}</td>
              <td class="number">{formatUsd(row.cost_usd)}</td>
            </tr>
          ))
        )}
      </tbody>
    </table>
  );
}
