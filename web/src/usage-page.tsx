import { useMemo, useState } from 'preact/hooks';
import { api } from './api.js';
import { Chart } from './chart.js';
import { download, toCsv } from './csv.js';
import { formatCount, formatUsd } from './format.js';
import { Notice } from './notice.js';
import { useLoader } from './use-loader.js';
import { useNames } from './use-names.js';

const GROUPS = [
  { id: 'day', label: 'Day' },
  { id: 'key', label: 'Key' },
  { id: 'team', label: 'Team' },
  { id: 'model', label: 'Model' },
] as const;

type GroupBy = (typeof GROUPS)[number]['id'];

/** A UTC date `days` before today, as a date input holds it. */
function daysAgo(days: number): string {
  return new Date(Date.now() - days * 86_400_000).toISOString().slice(0, 10);
}

/** Usage grouped by day, key, team or model over a range of days: a chart, a table, a CSV. */
export function UsagePage() {
  const [groupBy, setGroupBy] = useState<GroupBy>('day');
  const [from, setFrom] = useState(() => daysAgo(6));
  const [to, setTo] = useState(() => daysAgo(0));
  const names = useNames();
  // `to` is a whole day: the API's bound is exclusive, so the day after it.
  const end =
    to === '' ? undefined : new Date(Date.parse(to) + 86_400_000).toISOString().slice(0, 10);
  const loaded = useLoader(() => api.usage(groupBy, from || undefined, end), [groupBy, from, end]);
  const rows = loaded.data?.data ?? [];
  const label = (group: string | null) =>
    groupBy === 'key'
      ? names.key(group)
      : groupBy === 'team'
        ? names.team(group)
        : (group ?? '(none)');

  const chart = useMemo(() => {
    const shown = groupBy === 'day' ? rows : rows.slice(0, 12);
    return {
      categories: shown.map((row) => label(row.group)),
      x: shown.map((_row, index) => index),
      series: [
        {
          label: 'Spend',
          values: shown.map((row) => row.cost_usd),
          color: '#047857',
          format: formatUsd,
        },
      ],
    };
    // names change with the loaded rows.
  }, [rows, groupBy, names.keys, names.teams]);

  const exportCsv = () =>
    download(
      `usage-by-${groupBy}-${from || 'start'}-to-${to || 'now'}.csv`,
      toCsv(
        ['group', 'name', 'requests', 'input_tokens', 'output_tokens', 'cost_usd', 'errors'],
        rows.map((row) => [
          row.group ?? '',
          label(row.group),
          row.requests,
          row.input_tokens,
          row.output_tokens,
          row.cost_usd,
          row.errors,
        ]),
      ),
    );

  return (
    <section aria-labelledby="usage-title">
      <div class="page-head">
        <h1 id="usage-title">Usage</h1>
        <button type="button" class="button" onClick={exportCsv} disabled={rows.length === 0}>
          Export CSV
        </button>
      </div>
      <form class="toolbar" onSubmit={(event) => event.preventDefault()}>
        <div class="field">
          <label for="usage-group">Group by</label>
          <select
            id="usage-group"
            value={groupBy}
            onChange={(event) => setGroupBy(event.currentTarget.value as GroupBy)}
          >
            {GROUPS.map((group) => (
              <option key={group.id} value={group.id}>
                {group.label}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="usage-from">From (UTC)</label>
          <input
            id="usage-from"
            type="date"
            value={from}
            max={to}
            onChange={(event) => setFrom(event.currentTarget.value)}
          />
        </div>
        <div class="field">
          <label for="usage-to">To (UTC, inclusive)</label>
          <input
            id="usage-to"
            type="date"
            value={to}
            min={from}
            onChange={(event) => setTo(event.currentTarget.value)}
          />
        </div>
      </form>
      {loaded.error !== undefined ? (
        <Notice kind="error" title="Usage could not be loaded." onRetry={loaded.reload}>
          {loaded.error.message}
        </Notice>
      ) : loaded.data === undefined ? (
        <Notice kind="loading" title="Loading usage…" />
      ) : rows.length === 0 ? (
        <Notice kind="empty" title="No usage in this range.">
          Pick an earlier start date, or send requests with a key: they show here within a second or
          two.
        </Notice>
      ) : (
        <>
          <div class="card">
            <h2>Spend by {groupBy}</h2>
            <Chart
              title={`Spend by ${groupBy}`}
              kind="bars"
              x={chart.x}
              categories={chart.categories}
              series={chart.series}
            />
            {groupBy !== 'day' && rows.length > 12 ? (
              <p class="muted">The chart shows the 12 largest; the table has them all.</p>
            ) : null}
          </div>
          <div class="table-scroll">
            <table class="table">
              <caption class="visually-hidden">Usage by {groupBy}</caption>
              <thead>
                <tr>
                  <th scope="col">{GROUPS.find((group) => group.id === groupBy)?.label}</th>
                  <th scope="col" class="number">
                    Requests
                  </th>
                  <th scope="col" class="number">
                    Input tokens
                  </th>
                  <th scope="col" class="number">
                    Output tokens
                  </th>
                  <th scope="col" class="number">
                    Spend
                  </th>
                  <th scope="col" class="number">
                    Errors
                  </th>
                </tr>
              </thead>
              <tbody>
                {rows.map((row) => (
                  <tr key={row.group ?? 'none'}>
                    <td>{label(row.group)}</td>
                    <td class="number">{formatCount(row.requests)}</td>
                    <td class="number">{formatCount(row.input_tokens)}</td>
                    <td class="number">{formatCount(row.output_tokens)}</td>
                    <td class="number">{formatUsd(row.cost_usd)}</td>
                    <td class="number">{formatCount(row.errors)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
    </section>
  );
}
