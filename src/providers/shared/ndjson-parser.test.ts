import { describe, expect, it } from 'vitest';
import { UpstreamError } from '../../errors/gateway-error.js';
import { DEFAULT_MAX_NDJSON_LINE_LENGTH, parseNdjson } from './ndjson-parser.js';

/** Every value, whatever batches they came in. */
async function collect<Item>(batches: AsyncIterable<readonly Item[]>): Promise<Item[]> {
  const items: Item[] = [];
  for await (const batch of batches) items.push(...batch);
  return items;
}

async function* chunksOf(...chunks: ReadonlyArray<Uint8Array | string>) {
  yield* chunks;
}

/** Splits `bytes` before each offset in `offsets`. */
function splitAt(bytes: Uint8Array, offsets: readonly number[]): Uint8Array[] {
  const parts: Uint8Array[] = [];
  let start = 0;
  for (const offset of offsets) {
    parts.push(bytes.subarray(start, offset));
    start = offset;
  }
  parts.push(bytes.subarray(start));
  return parts;
}

async function parseError(source: AsyncIterable<Uint8Array | string>): Promise<unknown> {
  try {
    await collect(parseNdjson(source));
  } catch (error) {
    return error;
  }
  throw new Error('expected parseNdjson to throw');
}

const GREETING = { text: 'héllo 👋' };
const GREETING_BYTES = Buffer.from(`${JSON.stringify(GREETING)}\n{"n":2}\n`, 'utf8');

describe('parseNdjson', () => {
  it('parses one value per line from bytes', async () => {
    const values = await collect(parseNdjson(chunksOf(Buffer.from('{"a":1}\n[2]\n"three"\n4\n'))));
    expect(values).toEqual([{ a: 1 }, [2], 'three', 4]);
  });

  it('keeps a multi-byte character intact when the bytes are split at any offset', async () => {
    const text = Buffer.from('héllo 👋', 'utf8');
    for (let offset = 0; offset <= text.length; offset += 1) {
      const bytes = Buffer.concat([Buffer.from('{"text":"'), text, Buffer.from('"}\n')]);
      const cut = offset + '{"text":"'.length;
      const values = await collect(parseNdjson(chunksOf(...splitAt(bytes, [cut]))));
      expect(values, `split at byte ${offset} of the text`).toEqual([GREETING]);
    }
  });

  it('parses a stream split at every pair of offsets, and one byte at a time', async () => {
    for (let first = 0; first <= GREETING_BYTES.length; first += 1) {
      for (let second = first; second <= GREETING_BYTES.length; second += 3) {
        const values = await collect(
          parseNdjson(chunksOf(...splitAt(GREETING_BYTES, [first, second]))),
        );
        expect(values, `split at ${first} and ${second}`).toEqual([GREETING, { n: 2 }]);
      }
    }
    const bytewise = [...GREETING_BYTES].map((byte) => Uint8Array.of(byte));
    expect(await collect(parseNdjson(chunksOf(...bytewise)))).toEqual([GREETING, { n: 2 }]);
  });

  it('accepts \\r\\n, also when \\r and \\n arrive in different chunks', async () => {
    const values = await collect(
      parseNdjson(chunksOf('{"a":1}\r\n{"b":', '2}\r', '\n{"c":3}\r\n')),
    );
    expect(values).toEqual([{ a: 1 }, { b: 2 }, { c: 3 }]);
  });

  it('ignores a byte-order mark before the first line', async () => {
    const withBom = Uint8Array.of(0xef, 0xbb, 0xbf, ...new TextEncoder().encode('{"a":1}\n'));
    expect(await collect(parseNdjson(chunksOf(withBom)))).toEqual([{ a: 1 }]);
  });

  it('skips blank and whitespace-only lines', async () => {
    const values = await collect(parseNdjson(chunksOf('\n\n{"a":1}\n  \n\r\n\t\n{"b":2}\n\n')));
    expect(values).toEqual([{ a: 1 }, { b: 2 }]);
  });

  it('parses a last line without a trailing newline', async () => {
    expect(await collect(parseNdjson(chunksOf('{"a":1}\n{"b"', ':2}')))).toEqual([
      { a: 1 },
      { b: 2 },
    ]);
    expect(await collect(parseNdjson(chunksOf('{"c":3}\r')))).toEqual([{ c: 3 }]);
  });

  it('parses a last line whose final character is split without a trailing newline', async () => {
    const bytes = Buffer.from('"👋"', 'utf8');
    const values = await collect(parseNdjson(chunksOf(...splitAt(bytes, [2, 4]))));
    expect(values).toEqual(['👋']);
  });

  it('yields nothing for an empty source or blank lines only', async () => {
    expect(await collect(parseNdjson(chunksOf()))).toEqual([]);
    expect(await collect(parseNdjson(chunksOf('', '\n', '\r\n  ')))).toEqual([]);
  });

  it('accepts string chunks, also after bytes', async () => {
    const values = await collect(parseNdjson(chunksOf(Buffer.from('{"a":'), '1}\n', '{"b":2}')));
    expect(values).toEqual([{ a: 1 }, { b: 2 }]);
  });

  it('throws UpstreamError on an invalid line without echoing it', async () => {
    const secretLine = 'the prompt with sk-live-abcdefghijkl is not JSON';
    const error = await parseError(chunksOf(`{"ok":true}\n${secretLine}\n{"never":1}\n`));
    expect(error).toBeInstanceOf(UpstreamError);
    expect(error).toMatchObject({
      status: 502,
      code: 'upstream_error',
      message: 'The upstream sent a line that is not valid JSON (line 2).',
    });
    expect((error as UpstreamError).cause).toBeUndefined();
    expect(JSON.stringify(error)).not.toContain('sk-live');
  });

  it('counts blank lines in the line number and names the provider when given', async () => {
    const lines = parseNdjson(chunksOf('{"a":1}\n\n{"a":'), { provider: 'ollama' });
    await expect(collect(lines)).rejects.toThrow(
      'The ollama upstream sent a line that is not valid JSON (line 3).',
    );
  });

  it('yields the values before an invalid line', async () => {
    const seen: unknown[] = [];
    const lines = parseNdjson(chunksOf('{"a":1}\n{oops}\n'));
    await expect(
      (async () => {
        for await (const batch of lines) seen.push(...batch);
      })(),
    ).rejects.toBeInstanceOf(UpstreamError);
    expect(seen).toEqual([{ a: 1 }]);
  });

  it('throws on a complete line longer than the limit', async () => {
    const lines = parseNdjson(chunksOf(`"${'x'.repeat(20)}"\n`), { maxLineLength: 16 });
    await expect(collect(lines)).rejects.toThrow(
      'The upstream sent a line longer than 16 characters (line 1).',
    );
  });

  it('throws on an unterminated line once it passes the limit, without waiting for its end', async () => {
    let chunksRead = 0;
    async function* endless() {
      yield '{"ok":1}\n';
      for (;;) {
        chunksRead += 1;
        yield 'x'.repeat(10);
      }
    }
    const lines = parseNdjson(endless(), { maxLineLength: 25 });
    await expect(collect(lines)).rejects.toThrow(
      'The upstream sent a line longer than 25 characters (line 2).',
    );
    expect(chunksRead).toBe(3);
  });

  it('accepts a line exactly at the limit and defaults the limit to 16 MiB', async () => {
    const values = await collect(parseNdjson(chunksOf('"abcd"\n"efgh"'), { maxLineLength: 6 }));
    expect(values).toEqual(['abcd', 'efgh']);
    expect(DEFAULT_MAX_NDJSON_LINE_LENGTH).toBe(16 * 1024 * 1024);
  });

  it('yields the values each read completed together', async () => {
    const batches: (readonly unknown[])[] = [];
    for await (const batch of parseNdjson(
      chunksOf('{"a":1}\n{"b":2}\n{"c"', ':3}', '\n\n', '{"d":4}'),
    )) {
      batches.push(batch);
    }
    expect(batches).toEqual([[{ a: 1 }, { b: 2 }], [{ c: 3 }], [{ d: 4 }]]);
  });

  it('passes errors of the source through unchanged', async () => {
    const failure = new Error('socket reset');
    async function* failing() {
      yield '{"a":1}\n';
      throw failure;
    }
    await expect(collect(parseNdjson(failing()))).rejects.toBe(failure);
  });

  it('closes the source when the consumer stops early', async () => {
    let closed = false;
    async function* source() {
      try {
        yield '{"a":1}\n{"b":2}\n';
        yield '{"c":3}\n';
      } finally {
        closed = true;
      }
    }
    for await (const batch of parseNdjson(source())) {
      expect(batch).toEqual([{ a: 1 }, { b: 2 }]);
      break;
    }
    expect(closed).toBe(true);
  });
});
