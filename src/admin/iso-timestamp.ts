/**
 * ISO 8601 as the admin API takes it: a date (`2031-01-05`, midnight UTC) or a date and time with
 * its zone (`2031-01-05T10:00:00Z`, `…+02:00`; seconds and a fraction optional). A time without a
 * zone is refused rather than read in the server's own zone, which a client cannot know.
 */
const ISO_8601 =
  /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:\d{2}))?$/;

/** Epoch milliseconds of an ISO 8601 timestamp, or undefined when `text` is not one. */
export function parseIsoTimestamp(text: string): number | undefined {
  const match = ISO_8601.exec(text);
  if (match === null) return undefined;
  const [, year, month, day, hour = '0', minute = '0', second = '0', fraction = '', zone = 'Z'] =
    match;
  const [fullYear = 0, monthNumber = 0, dayOfMonth = 0, hours = 0, minutes = 0, seconds = 0] = [
    year,
    month,
    day,
    hour,
    minute,
    second,
  ].map(Number);
  if (hours > 23 || minutes > 59 || seconds > 59) return undefined;
  const milliseconds = Number(fraction.padEnd(3, '0').slice(0, 3));
  const time = Date.UTC(
    fullYear,
    monthNumber - 1,
    dayOfMonth,
    hours,
    minutes,
    seconds,
    milliseconds,
  );
  // Date.UTC rolls 30 February into March and reads years below 100 as 19xx: a date that does
  // not come back as written is not a date.
  const check = new Date(time);
  if (
    check.getUTCFullYear() !== fullYear ||
    check.getUTCMonth() !== monthNumber - 1 ||
    check.getUTCDate() !== dayOfMonth
  ) {
    return undefined;
  }
  if (zone === 'Z') return time;
  const offsetHours = Number(zone.slice(1, 3));
  const offsetMinutes = Number(zone.slice(4, 6));
  if (offsetHours > 23 || offsetMinutes > 59) return undefined;
  const sign = zone.startsWith('-') ? -1 : 1;
  return time - sign * (offsetHours * 60 + offsetMinutes) * 60_000;
}
