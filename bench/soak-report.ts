/** The soak's samples and the Markdown it prints: sample table, drift, growth checks, percentiles. */

/** One reading of the gateway and the upstream, taken every few seconds. */
export interface Sample {
  readonly atSeconds: number;
  /** Requests finished so far (all outcomes). */
  readonly finished: number;
  /** Gateway resident memory from /proc (VmRSS). */
  readonly rssMb: number;
  readonly heapUsedMb: number;
  readonly handles: number;
  /** Every socket fd of the gateway (listeners and the metrics scrape included). */
  readonly gatewaySockets: number;
  /** Established TCP connections from the gateway to the upstream port. */
  readonly gatewayToUpstream: number;
  /** Established TCP sockets of the upstream process. */
  readonly upstreamConnections: number;
  /** Upstream responses in progress. */
  readonly upstreamActive: number;
  readonly requestsInFlight: number;
  readonly streamsInFlight: number;
  readonly lagP99Ms: number;
}

type NumericKey = Exclude<keyof Sample, 'atSeconds' | 'finished'>;

const COLUMNS: readonly [string, keyof Sample, number][] = [
  ['t s', 'atSeconds', 0],
  ['finished', 'finished', 0],
  ['RSS MB', 'rssMb', 1],
  ['heap MB', 'heapUsedMb', 1],
  ['handles', 'handles', 0],
  ['gw sockets', 'gatewaySockets', 0],
  ['gw→up conns', 'gatewayToUpstream', 0],
  ['up conns', 'upstreamConnections', 0],
  ['up active', 'upstreamActive', 0],
  ['in flight', 'requestsInFlight', 0],
  ['streams', 'streamsInFlight', 0],
  ['lag p99 ms', 'lagP99Ms', 1],
];

export function sampleTable(samples: readonly Sample[]): string[] {
  const lines = [
    `| ${COLUMNS.map(([title]) => title).join(' | ')} |`,
    `|${COLUMNS.map(() => '---:').join('|')}|`,
  ];
  for (const sample of samples) {
    lines.push(`| ${COLUMNS.map(([, key, digits]) => sample[key].toFixed(digits)).join(' | ')} |`);
  }
  return lines;
}

/** How one series moved after the warm-up. */
export interface Trend {
  readonly name: string;
  readonly atWarmup: number;
  readonly atEnd: number;
  readonly max: number;
  /** (end − warm-up) / warm-up, in percent. */
  readonly driftPercent: number;
  /** Least-squares slope per minute over the samples after the warm-up. */
  readonly slopePerMinute: number;
  /** Every sample after the warm-up ≥ the one before, and the last > the first. */
  readonly monotonic: boolean;
}

export const TREND_SERIES: readonly [string, NumericKey][] = [
  ['RSS MB', 'rssMb'],
  ['heap used MB', 'heapUsedMb'],
  ['active handles', 'handles'],
  ['gateway sockets', 'gatewaySockets'],
  ['gateway→upstream connections', 'gatewayToUpstream'],
  ['upstream connections', 'upstreamConnections'],
];

export function trends(samples: readonly Sample[], warmupSeconds: number): Trend[] {
  const after = samples.filter((sample) => sample.atSeconds >= warmupSeconds);
  return TREND_SERIES.map(([name, key]) => {
    const values = after.map((sample) => sample[key]);
    const times = after.map((sample) => sample.atSeconds / 60);
    const atWarmup = values[0] ?? Number.NaN;
    const atEnd = values.at(-1) ?? Number.NaN;
    const monotonic =
      values.length > 2 &&
      atEnd > atWarmup &&
      values.every((value, index) => index === 0 || value >= (values[index - 1] ?? value));
    return {
      name,
      atWarmup,
      atEnd,
      max: Math.max(...samples.map((sample) => sample[key])),
      driftPercent: ((atEnd - atWarmup) / atWarmup) * 100,
      slopePerMinute: slope(times, values),
      monotonic,
    };
  });
}

export function trendTable(list: readonly Trend[]): string[] {
  const lines = [
    '| series | at warm-up end | at end | drift | slope /min | max (whole run) | grew monotonically |',
    '|---|---:|---:|---:|---:|---:|---|',
  ];
  for (const trend of list) {
    const drift = Number.isFinite(trend.driftPercent) ? `${trend.driftPercent.toFixed(1)}%` : '—';
    lines.push(
      `| ${trend.name} | ${trend.atWarmup.toFixed(1)} | ${trend.atEnd.toFixed(1)} | ${drift} | ${trend.slopePerMinute.toFixed(2)} | ${trend.max.toFixed(1)} | ${trend.monotonic ? '**yes**' : 'no'} |`,
    );
  }
  return lines;
}

function slope(xs: readonly number[], ys: readonly number[]): number {
  const n = xs.length;
  if (n < 2) return Number.NaN;
  const meanX = xs.reduce((sum, x) => sum + x, 0) / n;
  const meanY = ys.reduce((sum, y) => sum + y, 0) / n;
  let numerator = 0;
  let denominator = 0;
  for (let index = 0; index < n; index++) {
    const dx = (xs[index] ?? meanX) - meanX;
    numerator += dx * ((ys[index] ?? meanY) - meanY);
    denominator += dx * dx;
  }
  return denominator === 0 ? Number.NaN : numerator / denominator;
}

export function outcomeTable(outcomes: ReadonlyMap<string, number>): string[] {
  const total = [...outcomes.values()].reduce((sum, value) => sum + value, 0);
  const lines = ['| outcome | requests | share |', '|---|---:|---:|'];
  const sorted = [...outcomes.entries()].sort((a, b) => b[1] - a[1]);
  for (const [outcome, value] of sorted) {
    lines.push(`| ${outcome} | ${value} | ${((value / total) * 100).toFixed(1)}% |`);
  }
  lines.push(`| **total** | ${total} | 100% |`);
  return lines;
}

/** The `fraction` quantile (nearest rank) of `values`, NaN if empty. */
export function quantile(values: readonly number[], fraction: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(fraction * sorted.length) - 1));
  return sorted[rank] ?? Number.NaN;
}

export function distributionRow(name: string, values: readonly number[]): string {
  const cells = [0.5, 0.9, 0.99, 1].map((fraction) => quantile(values, fraction).toFixed(1));
  return `| ${name} | ${values.length} | ${cells.join(' | ')} |`;
}

export const DISTRIBUTION_HEADER = [
  '| measure (ms) | n | p50 | p90 | p99 | max |',
  '|---|---:|---:|---:|---:|---:|',
];
