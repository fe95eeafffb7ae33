import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createUtf8Decoder } from './utf8-decoder.js';

/** Splits `bytes` at the given points (sorted, deduplicated, within range). */
function splitAt(bytes: Uint8Array, points: readonly number[]): Uint8Array[] {
  const cuts = [...new Set(points.map((point) => point % (bytes.length + 1)))].sort(
    (a, b) => a - b,
  );
  const parts: Uint8Array[] = [];
  let start = 0;
  for (const cut of cuts) {
    parts.push(bytes.subarray(start, cut));
    start = cut;
  }
  parts.push(bytes.subarray(start));
  return parts;
}

describe('utf8 decoder', () => {
  it('decodes any bytes split anywhere exactly as TextDecoder does', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 64 }),
        fc.array(fc.nat(), { maxLength: 6 }),
        (bytes, points) => {
          const decoder = createUtf8Decoder();
          const text = splitAt(bytes, points)
            .map((part) => decoder.write(part))
            .join('');
          expect(text + decoder.end()).toBe(new TextDecoder().decode(bytes));
        },
      ),
      { numRuns: 2_000 },
    );
  });

  it('drops a leading byte-order mark, even one split across chunks, and only that one', () => {
    const decoder = createUtf8Decoder();
    expect(decoder.write(Uint8Array.of(0xef, 0xbb))).toBe('');
    expect(decoder.write(Uint8Array.of(0xbf, 0x61, 0xef, 0xbb, 0xbf))).toBe('a\ufeff');
    expect(decoder.end()).toBe('');
  });

  it('joins a character split across chunks and ends a cut one as U+FFFD', () => {
    const decoder = createUtf8Decoder();
    const euro = Buffer.from('€');
    expect(decoder.write(euro.subarray(0, 1))).toBe('');
    expect(decoder.write(euro.subarray(1))).toBe('€');
    expect(decoder.write(euro.subarray(0, 2))).toBe('');
    expect(decoder.end()).toBe('\ufffd');
  });
});
