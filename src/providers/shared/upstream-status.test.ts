import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { GatewayError, MAX_RETRY_AFTER_MS } from '../../errors/gateway-error.js';
import type { UpstreamResponse } from './upstream-client.js';
import { parseJson, readText, retryAfterMs, statusError } from './upstream-status.js';

function response(parts: string[]): UpstreamResponse & { destroyed: () => boolean } {
  const body = Readable.from(parts.map((part) => Buffer.from(part)));
  return {
    status: 200,
    headers: {},
    body: body as unknown as UpstreamResponse['body'],
    destroyed: () => body.destroyed,
  };
}

describe('reading upstream bodies', () => {
  it('reads a body under the limit as UTF-8, whatever its parts', async () => {
    expect(await readText(response(['h\u00e9', 'llo']), 100)).toBe('h\u00e9llo');
  });

  it('refuses an oversized upstream response with a 502 and drops the rest', async () => {
    const oversized = response(['x'.repeat(60), 'x'.repeat(60), 'x'.repeat(60)]);
    const error = await readText(oversized, 100).catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(GatewayError);
    expect(error).toMatchObject({ status: 502, code: 'upstream_error' });
    expect(oversized.destroyed()).toBe(true);
  });

  /** Reads `stream` as a 200 body. */
  const readOf = (stream: Readable) =>
    readText(
      { status: 200, headers: {}, body: stream as unknown as UpstreamResponse['body'] },
      100,
    );

  it.each([
    ['with its error: fails with that error', new Error('socket hang up')],
    ['without an error: fails with a 502', undefined],
  ])('a body destroyed before its end, %s', async (_name, cause) => {
    const broken = new Readable({ read() {} });
    const reading = readOf(broken);
    broken.push(Buffer.from('{"par'));
    broken.destroy(cause);
    if (cause === undefined) await expect(reading).rejects.toMatchObject({ status: 502 });
    else await expect(reading).rejects.toBe(cause);
  });

  it('settles for a body that was over before the read began', async () => {
    const failed = new Readable({ read() {} });
    const cause = new Error('socket hang up');
    failed.on('error', () => undefined).destroy(cause);
    await expect(readOf(failed)).rejects.toBe(cause);
    const cut = new Readable({ read() {} });
    cut.destroy();
    await expect(readOf(cut)).rejects.toMatchObject({ status: 502, code: 'upstream_error' });
    const read = Readable.from([Buffer.from('x')]);
    read.resume();
    await new Promise((resolve) => read.once('end', resolve));
    expect(await readOf(read)).toBe('');
  });

  it('maps a body that is not JSON to a 502 that does not quote it', async () => {
    let error: unknown;
    try {
      parseJson('<html>secret-ish</html>', 'vendor');
    } catch (thrown) {
      error = thrown;
    }
    expect(error).toMatchObject({ status: 502, code: 'upstream_error' });
    expect((error as Error).message).not.toContain('secret-ish');
  });
});

describe("retryAfterMs: the one parser of an upstream's requested wait", () => {
  const now = Date.parse('2026-12-07T12:00:00Z');

  it.each([
    ['delay-seconds', { 'retry-after': '7' }, 7_000],
    ['delay-seconds with spaces', { 'retry-after': ' 3 ' }, 3_000],
    ['zero', { 'retry-after': '0' }, 0],
    ['decimal seconds, rounded up to the millisecond', { 'retry-after': '1.0005' }, 1_001],
    ['IMF-fixdate', { 'retry-after': 'Mon, 07 Dec 2026 12:00:02 GMT' }, 2_000],
    ['RFC 850 date', { 'retry-after': 'Monday, 07-Dec-26 12:01:00 GMT' }, 60_000],
    ['asctime date, read as GMT', { 'retry-after': 'Mon Dec  7 12:00:05 2026' }, 5_000],
    ['a date already past', { 'retry-after': 'Mon, 07 Dec 2026 11:59:00 GMT' }, 0],
    ['retry-after-ms, to the millisecond', { 'retry-after-ms': '1234' }, 1_234],
    ['retry-after-ms before retry-after', { 'retry-after-ms': '250', 'retry-after': '9' }, 250],
    ['retry-after-ms with a fraction', { 'retry-after-ms': '12.5' }, 13],
    [
      'a bad retry-after-ms, then retry-after',
      { 'retry-after-ms': '-5', 'retry-after': '2' },
      2_000,
    ],
  ])('%s', (_name, headers, expected) => {
    expect(retryAfterMs(headers, now)).toBe(expected);
  });

  it.each([
    ['none', {}],
    ['text', { 'retry-after': 'soon' }],
    ['a negative number', { 'retry-after': '-1' }],
    // Date.parse alone reads these as dates in 2001.
    ['a bare month and day', { 'retry-after': 'May 5' }],
    ['a date without its zone', { 'retry-after': 'Mon, 07 Dec 2026 12:00:02' }],
    ['an empty retry-after-ms', { 'retry-after-ms': '' }],
    ['a repeated header', { 'retry-after': ['1', '2'] }],
  ])('ignores %s', (_name, headers) => {
    expect(retryAfterMs(headers, now)).toBeUndefined();
  });
});

describe('statusError', () => {
  const context = { provider: 'vendor', model: 'm', secrets: [] };
  const answer = (status: number, headers: Record<string, string> = {}) =>
    statusError({ status, headers, text: '{"error":{"message":"busy"}}' }, context);

  it('keeps the wait to the millisecond and relays it in whole seconds, rounded up', () => {
    const error = answer(429, { 'retry-after-ms': '1500' });
    expect(error).toMatchObject({ status: 429, retryAfterMs: 1_500, retryAfter: '2' });
    expect(answer(429, { 'retry-after': '0' }).retryAfter).toBe('0');
    expect(answer(429).retryAfter).toBeUndefined();
  });

  it('caps an absurd wait at a day, relayed as a plain integer', () => {
    const error = answer(429, { 'retry-after': '100000000000000000000' });
    expect(error.retryAfterMs).toBe(MAX_RETRY_AFTER_MS);
    expect(error.retryAfter).toBe('86400');
  });

  it('answers an upstream 503 as 503 upstream_unavailable, with its retry-after', () => {
    expect(answer(503, { 'retry-after': '4' })).toMatchObject({
      status: 503,
      type: 'api_error',
      code: 'upstream_unavailable',
      upstreamFailure: 'refused',
      upstreamStatus: 503,
      retryAfter: '4',
    });
    expect(answer(503).retryAfter).toBeUndefined();
  });

  it.each([500, 501, 502, 504, 520, 302])(
    'answers upstream %i as 502 upstream_error, keeping the status for the retry policy',
    (status) => {
      expect(answer(status)).toMatchObject({
        status: 502,
        code: 'upstream_error',
        upstreamFailure: 'failed',
        upstreamStatus: status,
      });
    },
  );
});
