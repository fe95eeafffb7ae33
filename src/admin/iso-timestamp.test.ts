import { describe, expect, it } from 'vitest';
import { parseIsoTimestamp } from './iso-timestamp.js';

describe('parseIsoTimestamp', () => {
  it.each([
    ['2031-01-05', Date.UTC(2031, 0, 5)],
    ['2031-01-05T10:20Z', Date.UTC(2031, 0, 5, 10, 20)],
    ['2031-01-05T10:20:30Z', Date.UTC(2031, 0, 5, 10, 20, 30)],
    ['2031-01-05T10:20:30.5Z', Date.UTC(2031, 0, 5, 10, 20, 30, 500)],
    ['2031-01-05T10:20:30.123456789Z', Date.UTC(2031, 0, 5, 10, 20, 30, 123)],
    ['2031-01-05T10:20:30+02:00', Date.UTC(2031, 0, 5, 8, 20, 30)],
    ['2031-01-05T00:30:00-01:30', Date.UTC(2031, 0, 5, 2, 0, 0)],
    ['2024-02-29T00:00:00Z', Date.UTC(2024, 1, 29)],
  ])('reads %s', (text, expected) => {
    expect(parseIsoTimestamp(text)).toBe(expected);
  });

  it('reads what toISOString writes', () => {
    const time = Date.UTC(2030, 6, 1, 12, 34, 56, 789);
    expect(parseIsoTimestamp(new Date(time).toISOString())).toBe(time);
  });

  it.each([
    '',
    'tomorrow',
    '1893456000000',
    '2031-01-05T10:20:30',
    '2031-01-05 10:20:30Z',
    '2031-1-5',
    '2031-13-01',
    '2031-00-10',
    '2023-02-29',
    '2031-04-31',
    '2031-01-00',
    '2031-01-05T24:00:00Z',
    '2031-01-05T10:60:00Z',
    '2031-01-05T10:20:60Z',
    '2031-01-05T10:20:30+24:00',
    '2031-01-05T10:20:30+02:60',
    '2031-01-05T10:20:30+0200',
    '0099-01-01',
    ' 2031-01-05',
    '2031-01-05Z',
  ])('refuses %j', (text) => {
    expect(parseIsoTimestamp(text)).toBeUndefined();
  });
});
