import { useMemo, useState } from 'preact/hooks';
import type { LatencyGroupJson, StatsJson } from './api.js';
import { Chart } from './chart.js';
import { formatMs } from './format.js';
import { LatencyTable } from './latency-table.js';

const VIEWS = [
  { id: 'model', label: 'By model' },
  { id: 'provider', label: 'By provider' },
] as const;

/**
 * Latency and time to first token, median drawn inside the 95th percentile, by model or by
 * provider, with the table of the same numbers under the charts.
 */
export function LatencyCharts({ latency }: { latency: StatsJson['latency'] }) {
  const [view, setView] = useState<(typeof VIEWS)[number]['id']>('model');
  const groups = view === 'model' ? latency.by_model : latency.by_provider;
  const answered = useMemo(
    () => groups.filter((group) => group.latency_p50_ms !== null).slice(0, 12),
    [groups],
  );
  const chartOf = (p95: keyof LatencyGroupJson, p50: keyof LatencyGroupJson) => ({
    x: answered.map((_group, index) => index),
    categories: answered.map((group) => group.group ?? '(none)'),
    series: [
      {
        label: 'p95',
        values: answered.map((group) => group[p95] as number | null),
        color: '#93c5fd',
        format: formatMs,
        barWidth: 0.6,
      },
      {
        label: 'p50',
        values: answered.map((group) => group[p50] as number | null),
        color: '#1d4ed8',
        format: formatMs,
        barWidth: 0.3,
      },
    ],
  });
  const latencyChart = useMemo(() => chartOf('latency_p95_ms', 'latency_p50_ms'), [answered]);
  const ttftChart = useMemo(() => chartOf('ttft_p95_ms', 'ttft_p50_ms'), [answered]);
  const noun = view === 'model' ? 'model' : 'provider';

  return (
    <div class="card">
      <div class="page-head">
        <h2>Latency and time to first token</h2>
        <fieldset class="segmented">
          <legend class="visually-hidden">Group latency</legend>
          {VIEWS.map((candidate) => (
            <label key={candidate.id} class={candidate.id === view ? 'selected' : ''}>
              <input
                type="radio"
                name="latency-view"
                value={candidate.id}
                checked={candidate.id === view}
                onChange={() => setView(candidate.id)}
              />
              {candidate.label}
            </label>
          ))}
        </fieldset>
      </div>
      {answered.length === 0 ? (
        <p class="muted">No request was answered in this range: nothing to time.</p>
      ) : (
        <div class="grid-2">
          <div>
            <h3>Latency by {noun} (p50 inside p95)</h3>
            <Chart title={`Latency p95 and p50 by ${noun}`} kind="bars" {...latencyChart} />
          </div>
          <div>
            <h3>Time to first token by {noun} (streams)</h3>
            <Chart
              title={`Time to first token p95 and p50 by ${noun}`}
              kind="bars"
              {...ttftChart}
            />
          </div>
        </div>
      )}
      <LatencyTable
        groups={groups}
        label={view === 'model' ? 'Model' : 'Provider'}
        {...(view === 'provider' ? { none: 'refused before routing' } : {})}
      />
      {latency.complete ? null : (
        <p class="muted">
          Percentiles from the newest {latency.sampled_requests.toLocaleString('en')} requests of
          the range.
        </p>
      )}
    </div>
  );
}
