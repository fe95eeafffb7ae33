import { describe, expect, it } from 'vitest';
import { formatCount, formatMs, formatPercent, formatUsd } from './format.js';

describe('numbers for people', () => {
  it('counts', () => {
    expect([0, 950, 1_234, 12_500, 3_400_000].map(formatCount)).toEqual([
      '0',
      '950',
      '1.2K',
      '12.5K',
      '3.4M',
    ]);
  });

  it('dollars: cents from a cent up, more digits below, compact past ten thousand', () => {
    expect([0, 0.034, 1.5, 0.0054, 0.00001234, 12_345].map(formatUsd)).toEqual([
      '$0',
      '$0.03',
      '$1.50',
      '$0.0054',
      '$0.000012',
      '$12.3K',
    ]);
  });

  it('durations and shares', () => {
    expect([850, 1_500, 12_300, 150_000, null].map(formatMs)).toEqual([
      '850 ms',
      '1.5 s',
      '12 s',
      '3 min',
      '—',
    ]);
    expect([0, 0.0123, 0.29].map(formatPercent)).toEqual(['0%', '1.2%', '29%']);
  });
});
