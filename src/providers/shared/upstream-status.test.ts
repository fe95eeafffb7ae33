import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../errors/gateway-error.js';
import type { UpstreamResponse } from './upstream-client.js';
import { parseJson, readText } from './upstream-status.js';

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
