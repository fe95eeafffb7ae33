import { StringDecoder } from 'node:string_decoder';

/** Streaming UTF-8 decoding of an upstream body, chunk by chunk. */
export interface Utf8Decoder {
  /** The text of `bytes`; a character split across chunks comes out whole with the next. */
  write(bytes: Uint8Array): string;
  /** What is left (a cut character as U+FFFD); the decoder then starts afresh. */
  end(): string;
}

/**
 * Decodes as `new TextDecoder()` does (a leading byte-order mark dropped, invalid bytes as
 * U+FFFD), but with Node's StringDecoder: in Node 20 streaming `TextDecoder.decode` costs several
 * times as much for each read, and every streamed upstream read pays it (docs/performance.md,
 * "Measured choices in the code").
 */
export function createUtf8Decoder(): Utf8Decoder {
  const decoder = new StringDecoder('utf8');
  let atStart = true;
  const dropBom = (text: string): string => {
    if (text.length === 0) return text;
    atStart = false;
    return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  };
  return {
    write(bytes) {
      const text = decoder.write(bytes);
      return atStart ? dropBom(text) : text;
    },
    end() {
      const text = decoder.end();
      const rest = atStart ? dropBom(text) : text;
      atStart = true;
      return rest;
    },
  };
}
