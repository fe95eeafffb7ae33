import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { periodWindow } from './budget-period.js';

describe('periodWindow', () => {
  it('names the UTC day and month a time falls in, whatever the local zone', () => {
    const now = Date.parse('2026-12-31T23:59:59.999Z');
    expect(periodWindow('day', now)).toEqual({
      id: '2026-12-31',
      start: Date.parse('2026-12-31T00:00:00Z'),
      end: Date.parse('2027-01-01T00:00:00Z'),
    });
    expect(periodWindow('month', now)).toEqual({
      id: '2026-12',
      start: Date.parse('2026-12-01T00:00:00Z'),
      end: Date.parse('2027-01-01T00:00:00Z'),
    });
    expect(periodWindow('total', now)).toEqual({ id: 'total', start: null, end: null });
  });

  it('handles leap days and short months', () => {
    const now = Date.parse('2028-02-29T12:00:00Z');
    expect(periodWindow('day', now).id).toBe('2028-02-29');
    expect(periodWindow('month', now).end).toBe(Date.parse('2028-03-01T00:00:00Z'));
  });

  it('puts every instant inside its own window, and the next instant of the end in the next', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: Date.parse('2100-01-01T00:00:00Z') }),
        fc.constantFrom('day' as const, 'month' as const),
        (now, period) => {
          const window = periodWindow(period, now);
          expect(window.start).toBeLessThanOrEqual(now);
          expect(window.end).toBeGreaterThan(now);
          const next = periodWindow(period, window.end ?? 0);
          expect(next.start).toBe(window.end);
          expect(next.id > window.id).toBe(true);
        },
      ),
    );
  });
});
