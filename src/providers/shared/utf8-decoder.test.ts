import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { splitAt } from '../../../test/helpers/split-at.js';
import { createUtf8Decoder } from './utf8-decoder.js';

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
