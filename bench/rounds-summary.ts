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

/**
 * With two rounds or more: per target, mode and concurrency, the median over the rounds of CPU per
 * request and of CPU ÷ bare (each round against the bare relay of the same round). Single runs on
 * a shared machine move by ±10%; medians of alternated rounds are what to compare two builds by.
 */
export function roundsSummary(points: readonly Point[]): string[] {
  if (!points.some((point) => point.round > 0)) return [];
  const lines = [
    '',
    '| target | mode | conc | rounds | median CPU ms/req | median CPU ÷ bare |',
    '|---|---|---|---:|---:|---:|',
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
    const overBare = rounds.flatMap((round) => {
      const bare = points.find(
        (other) =>
          other.target === 'bare' &&
          other.mode === round.mode &&
          other.connections === round.connections &&
          other.round === round.round,
      );
      return bare === undefined ? [] : [round.cpuMsPerRequest / bare.cpuMsPerRequest];
    });
    const ratio =
      point.target === 'direct' || overBare.length === 0 ? '—' : median(overBare).toFixed(2);
    const cpu = median(rounds.map((round) => round.cpuMsPerRequest)).toFixed(3);
    lines.push(
      `| ${point.target} | ${point.mode} | ${point.connections} | ${rounds.length} | ${cpu} | ${ratio} |`,
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
