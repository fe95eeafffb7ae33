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

  it('fails with the error of a body that breaks off', async () => {
    const broken = new Readable({ read() {} });
    const reading = readText(
      { status: 200, headers: {}, body: broken as unknown as UpstreamResponse['body'] },
      100,
    );
    broken.push(Buffer.from('{"par'));
    const cause = new Error('socket hang up');
    broken.destroy(cause);
    await expect(reading).rejects.toBe(cause);
  });

  it('fails when a body is destroyed before its end without an error', async () => {
    const cut = new Readable({ read() {} });
    const reading = readText(
      { status: 200, headers: {}, body: cut as unknown as UpstreamResponse['body'] },
      100,
    );
    cut.push(Buffer.from('{"par'));
    cut.destroy();
    await expect(reading).rejects.toMatchObject({ status: 502, code: 'upstream_error' });
  });

  it('settles for a body that was over before the read began', async () => {
    const failed = new Readable({ read() {} });
    const cause = new Error('socket hang up');
    failed.on('error', () => undefined).destroy(cause);
    const asBody = (stream: Readable) => stream as unknown as UpstreamResponse['body'];
    await expect(readText({ status: 200, headers: {}, body: asBody(failed) }, 100)).rejects.toBe(
      cause,
    );
    const cut = new Readable({ read() {} });
    cut.destroy();
    await expect(
      readText({ status: 200, headers: {}, body: asBody(cut) }, 100),
    ).rejects.toMatchObject({ status: 502 });
    const read = Readable.from([Buffer.from('x')]);
    read.resume();
    await new Promise((resolve) => read.once('end', resolve));
    expect(await readText({ status: 200, headers: {}, body: asBody(read) }, 100)).toBe('');
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
