import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';

/** One line or set of bars of a chart. */
export interface ChartSeries {
  readonly label: string;
  readonly values: readonly (number | null)[];
  readonly color: string;
  /** How values read on the axis and in the legend. */
  readonly format: (value: number) => string;
  /** A bar's share of its slot (default 0.6): a narrower one drawn over a wider one nests in it. */
  readonly barWidth?: number;
}

/** A chart: its axis, its series, and what it is called for screen readers. */
export interface ChartProps {
  /** Said to screen readers; the table beside each chart holds the same numbers. */
  readonly title: string;
  readonly kind: 'line' | 'bars';
  /** Unix seconds for a time axis; with `categories`, their indices. */
  readonly x: readonly number[];
  /** Names of the bars, for a categorical axis. */
  readonly categories?: readonly string[];
  readonly series: readonly ChartSeries[];
  readonly height?: number;
}

/**
 * A uPlot chart that fills its container's width and follows it. The plot is made again when the
 * data change: a console redraws a few times a minute, and uPlot draws a thousand points in well
 * under a millisecond.
 */
export function Chart({ title, kind, x, categories, series, height = 220 }: ChartProps) {
  const container = useRef<HTMLDivElement>(null);

  useEffect(() => {
    const element = container.current;
    if (element === null) return;
    const first = series[0];
    const options: uPlot.Options = {
      width: Math.max(200, element.clientWidth),
      height,
      legend: { show: series.length > 1 },
      cursor: { drag: { x: false, y: false } },
      scales: {
        // Categories sit on whole numbers, half a step in from each edge.
        x:
          categories === undefined
            ? { time: true }
            : { time: false, range: () => [-0.5, Math.max(1, x.length) - 0.5] },
        y: { range: (_plot, _min, max) => [0, max > 0 ? max * 1.1 : 1] },
      },
      axes: [
        {
          stroke: '#374151',
          grid: { stroke: '#e5e7eb' },
          ...(categories === undefined
            ? {}
            : {
                splits: () => [...x],
                values: (_plot, ticks) => ticks.map((tick) => shorten(categories[tick] ?? '')),
              }),
        },
        {
          stroke: '#374151',
          grid: { stroke: '#e5e7eb' },
          size: 64,
          values: (_plot, ticks) => ticks.map((tick) => first?.format(tick) ?? String(tick)),
        },
      ],
      series: [
        categories === undefined
          ? {}
          : { label: 'Group', value: (_plot: uPlot, value: number) => categories[value] ?? '—' },
        ...series.map((line) => ({
          label: line.label,
          stroke: line.color,
          fill: kind === 'bars' ? line.color : `${line.color}22`,
          width: kind === 'bars' ? 0 : 2,
          points: { show: kind === 'line' && x.length < 3 },
          value: (_plot: uPlot, value: number | null) =>
            value === null ? '—' : line.format(value),
          ...barPaths(kind, line.barWidth),
        })),
      ],
    };
    const data = [x, ...series.map((line) => line.values)] as uPlot.AlignedData;
    const plot = new uPlot(options, data, element);
    const observer = new ResizeObserver(() => {
      plot.setSize({ width: Math.max(200, element.clientWidth), height });
    });
    observer.observe(element);
    return () => {
      observer.disconnect();
      plot.destroy();
    };
  }, [kind, x, categories, series, height]);

  return (
    <div
      class="chart"
      ref={container}
      role="img"
      aria-label={`${title}. ${summary(x, categories, series)}`}
    />
  );
}

/**
 * What the chart shows, in words, for screen readers: each bar's value (the first dozen), or each
 * line's total over the range.
 */
function summary(
  x: readonly number[],
  categories: readonly string[] | undefined,
  series: readonly ChartSeries[],
): string {
  if (categories !== undefined) {
    const first = series[0];
    return x
      .slice(0, 12)
      .map((index) => `${categories[index]} ${first?.format(first.values[index] ?? 0)}`)
      .join(', ');
  }
  return series
    .map(
      (line) =>
        `${line.label} in total ${line.format(line.values.reduce<number>((sum, value) => sum + (value ?? 0), 0))}`,
    )
    .join(', ');
}

/** uPlot's bar paths for a bar series (its plugin is optional in the typings, always in the build). */
function barPaths(kind: ChartProps['kind'], barWidth = 0.6): { paths?: uPlot.Series.PathBuilder } {
  // The widest bar in pixels scales with the share, so a narrow bar still nests in a wide one.
  const paths =
    kind === 'bars' ? uPlot.paths.bars?.({ size: [barWidth, barWidth * 100] }) : undefined;
  return paths === undefined ? {} : { paths };
}

function shorten(label: string): string {
  return label.length > 14 ? `${label.slice(0, 13)}…` : label;
}
