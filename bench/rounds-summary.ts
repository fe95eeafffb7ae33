/** One measured point of `npm run bench`: a target, a mode and a concurrency, in one round. */
export interface Point {
  target: string;
  mode: string;
  connections: number;
  round: number;
  requestsPerSecond: number;
  p50: number;
  p99: number;
  errors: number;
  cpuMsPerRequest: number;
  rssMaxMb: number;
  privateMaxMb: number;
}

/** The point of `target` measured beside `point`: same mode, concurrency and round. */
export function besidePoint(
  points: readonly Point[],
  point: Point,
  target: string,
): Point | undefined {
  return points.find(
    (other) =>
      other.target === target &&
      other.mode === point.mode &&
      other.connections === point.connections &&
      other.round === point.round,
  );
}

/** CPU per request over a yardstick's beside it; undefined for the upstream itself or no yardstick. */
export function cpuOver(
  points: readonly Point[],
  point: Point,
  yardstick: string,
): number | undefined {
  const other = besidePoint(points, point, yardstick);
  return other === undefined || point.target === 'direct'
    ? undefined
    : point.cpuMsPerRequest / other.cpuMsPerRequest;
}

/**
 * With two rounds or more: per target, mode and concurrency, the median over the rounds of CPU per
 * request and of CPU ÷ each yardstick (`bare`, `fastify`: against its point of the same round). Single runs on
 * a shared machine move by ±10%; medians of alternated rounds are what to compare two builds by.
 */
export function roundsSummary(points: readonly Point[]): string[] {
  if (!points.some((point) => point.round > 0)) return [];
  const lines = [
    '',
    '| target | mode | conc | rounds | median CPU ms/req | median CPU ÷ bare | median CPU ÷ Fastify |',
    '|---|---|---|---:|---:|---:|---:|',
  ];
  const seen = new Set<string>();
  for (const point of points) {
    const key = `${point.target}|${point.mode}|${point.connections}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const rounds = points.filter(
      (other) =>
        other.target === point.target &&
        other.mode === point.mode &&
        other.connections === point.connections,
    );
    const over = (yardstick: string) => {
      const ratios = rounds.flatMap((round) => cpuOver(points, round, yardstick) ?? []);
      return ratios.length === 0 ? '—' : median(ratios).toFixed(2);
    };
    const cpu = median(rounds.map((round) => round.cpuMsPerRequest)).toFixed(3);
    lines.push(
      `| ${point.target} | ${point.mode} | ${point.connections} | ${rounds.length} | ${cpu} | ${over('bare')} | ${over('fastify')} |`,
    );
  }
  return lines;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] ?? Number.NaN)
    : ((sorted[middle - 1] ?? Number.NaN) + (sorted[middle] ?? Number.NaN)) / 2;
}
