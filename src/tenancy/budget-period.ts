import type { BudgetPeriod } from '../store/tenancy-store.js';

/**
 * Budget periods are UTC calendar periods derived from a request's time, never reset by a timer:
 * a request's period is the day or month its time falls in, and `total` never ends.
 */

export interface PeriodWindow {
  /** Names the period in counter keys: `2026-12-07`, `2026-12` or `total`. */
  readonly id: string;
  /** Epoch ms of the period's first instant; null for `total`. */
  readonly start: number | null;
  /** Epoch ms of the next period's first instant; null for `total`. */
  readonly end: number | null;
}

/** The period of `period` that `now` (epoch ms) falls in. */
export function periodWindow(period: BudgetPeriod, now: number): PeriodWindow {
  if (period === 'total') return { id: 'total', start: null, end: null };
  const date = new Date(now);
  const year = date.getUTCFullYear();
  const month = date.getUTCMonth();
  if (period === 'month') {
    return {
      id: `${year}-${String(month + 1).padStart(2, '0')}`,
      start: Date.UTC(year, month, 1),
      end: Date.UTC(year, month + 1, 1),
    };
  }
  const day = date.getUTCDate();
  return {
    id: date.toISOString().slice(0, 10),
    start: Date.UTC(year, month, day),
    end: Date.UTC(year, month, day + 1),
  };
}
