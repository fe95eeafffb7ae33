/** Numbers and times as people read them: 1.2k, $0.03, 850 ms. */

const compact = new Intl.NumberFormat('en', { notation: 'compact', maximumFractionDigits: 1 });
const whole = new Intl.NumberFormat('en');

/** A count: 950, 1.2k, 3.4M. */
export function formatCount(value: number): string {
  return Math.abs(value) < 1_000 ? whole.format(Math.round(value)) : compact.format(value);
}

/** USD: cents for amounts of a cent or more, up to four decimals below, and no `-0`. */
export function formatUsd(value: number): string {
  if (value === 0) return '$0';
  const magnitude = Math.abs(value);
  const digits = magnitude >= 0.01 ? 2 : magnitude >= 0.0001 ? 4 : 6;
  if (magnitude >= 10_000) return `$${compact.format(value)}`;
  return `$${value.toLocaleString('en', { minimumFractionDigits: digits === 2 ? 2 : 0, maximumFractionDigits: digits })}`;
}

/** A duration: 850 ms, 1.5 s, 2 min. */
export function formatMs(value: number | null | undefined): string {
  if (value === null || value === undefined) return '—';
  if (value < 1_000) return `${Math.round(value)} ms`;
  if (value < 60_000) return `${(value / 1_000).toFixed(value < 10_000 ? 1 : 0)} s`;
  return `${Math.round(value / 60_000)} min`;
}

/** A share: 0.0123 → 1.2%. */
export function formatPercent(value: number): string {
  if (value === 0) return '0%';
  return `${(value * 100).toFixed(value < 0.1 ? 1 : 0)}%`;
}

/** A moment in the reader's own time zone, to the second. */
export function formatTime(iso: string | null): string {
  if (iso === null) return '—';
  return new Date(iso).toLocaleString('en-GB', {
    year: 'numeric',
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  });
}
