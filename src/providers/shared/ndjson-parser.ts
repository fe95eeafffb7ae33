import { UpstreamError } from '../../errors/gateway-error.js';
import { createUtf8Decoder } from './utf8-decoder.js';

/** Longest line accepted by default: 16 MiB of text. */
export const DEFAULT_MAX_NDJSON_LINE_LENGTH = 16 * 1024 * 1024;

/** Call-site options for {@link parseNdjson}. */
export interface NdjsonParserOptions {
  /** Provider id for error messages, e.g. `ollama`. */
  readonly provider?: string;
  /**
   * Longest line accepted, in UTF-16 code units of decoded text (about bytes for JSON, which is
   * mostly ASCII). A longer line throws instead of buffering without bound.
   */
  readonly maxLineLength?: number;
}

/**
 * Parses newline-delimited JSON from a byte (or string) stream, yielding the values of the
 * non-blank lines each read completed, together (one step per read rather than per line: the
 * relay's per-line cost). Lines may be split anywhere across chunks, including inside a
 * multi-byte UTF-8 character; `\r\n` is accepted; a last line without a trailing newline is
 * still parsed.
 *
 * Throws {@link UpstreamError} on a line that is not JSON or is longer than `maxLineLength`,
 * after yielding the values before it. The message never includes the line itself (it may hold
 * prompts or secrets), and no `cause` is attached because a `SyntaxError` quotes the input.
 * Errors of `source` pass through unchanged.
 */
export async function* parseNdjson(
  source: AsyncIterable<Uint8Array | string>,
  options: NdjsonParserOptions = {},
): AsyncGenerator<readonly unknown[], void, undefined> {
  const maxLineLength = options.maxLineLength ?? DEFAULT_MAX_NDJSON_LINE_LENGTH;
  const who = options.provider === undefined ? 'The upstream' : `The ${options.provider} upstream`;
  const decoder = createUtf8Decoder();
  let lineNumber = 0;
  // The start of a line whose newline has not arrived yet. V8 concatenates strings as ropes, so
  // appending many small chunks stays linear.
  let pending = '';

  const parseLine = (line: string): { readonly value: unknown } | undefined => {
    lineNumber += 1;
    if (line.length > maxLineLength) throw tooLong(who, lineNumber, maxLineLength);
    // The `\r` of a `\r\n` is JSON whitespace: `trim()` and `JSON.parse` both ignore it.
    if (line.trim() === '') return undefined;
    try {
      return { value: JSON.parse(line) };
    } catch {
      throw new UpstreamError(`${who} sent a line that is not valid JSON (line ${lineNumber}).`);
    }
  };

  for await (const chunk of source) {
    // A string chunk after bytes: flush whatever partial character the decoder still holds.
    const text = typeof chunk === 'string' ? decoder.end() + chunk : decoder.write(chunk);
    const values: unknown[] = [];
    let failure: unknown;
    let start = 0;
    let newline = text.indexOf('\n');
    try {
      while (newline !== -1) {
        const line = pending + text.slice(start, newline);
        pending = '';
        const parsed = parseLine(line);
        if (parsed !== undefined) values.push(parsed.value);
        start = newline + 1;
        newline = text.indexOf('\n', start);
      }
      pending += text.slice(start);
      if (pending.length > maxLineLength) throw tooLong(who, lineNumber + 1, maxLineLength);
    } catch (error) {
      failure = error;
    }
    // The lines before a bad one still count: their values go out first.
    if (values.length > 0) yield values;
    if (failure !== undefined) throw failure;
  }

  const rest = pending + decoder.end();
  if (rest !== '') {
    const parsed = parseLine(rest);
    if (parsed !== undefined) yield [parsed.value];
  }
}

function tooLong(who: string, lineNumber: number, maxLineLength: number): UpstreamError {
  return new UpstreamError(
    `${who} sent a line longer than ${maxLineLength} characters (line ${lineNumber}).`,
  );
}
