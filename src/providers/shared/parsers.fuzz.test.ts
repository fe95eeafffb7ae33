/**
 * Property-based fuzzing (issue 5) of the parsers of untrusted upstream bytes: the SSE and NDJSON
 * parsers give the same result however a byte stream is split (mid-line, mid-UTF-8, mid surrogate
 * pair), and garbage either parses or fails with a GatewayError, never another error, never a
 * hang. The Ollama converters are fuzzed in ../ollama/ollama-converters.fuzz.test.ts.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { splitAt } from '../../../test/helpers/split-at.js';
import { GatewayError } from '../../errors/gateway-error.js';
import { parseNdjson } from './ndjson-parser.js';
import { parseSse } from './sse-parser.js';

const RUNS = { numRuns: 300, plugins: [fc.timeout(2_000)] };

/** Any code point, plus what breaks naive code: lone surrogates, NUL, BOM, RTL, CR, LF. */
const hostileChar = fc.oneof(
  fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
  fc.constantFrom('\ud800', '\udfff', '\u0000', '\ufeff', '\u202e', '\r', '\n', '"', '\\'),
);
const text = fc.string({ unit: hostileChar, maxLength: 16 });
/** Split points anywhere, empty chunks included. */
const splits = fc.array(fc.nat(), { maxLength: 24 });

async function* source<T>(chunks: readonly T[]): AsyncGenerator<T> {
  yield* chunks;
}

interface Outcome {
  readonly items: unknown[];
  readonly error?: unknown;
}

/** Everything an iterable yields, and what it threw, if anything. */
async function outcome(items: AsyncIterable<unknown>): Promise<Outcome> {
  const seen: unknown[] = [];
  try {
    for await (const item of items) seen.push(item);
    return { items: seen };
  } catch (error) {
    return { items: seen, error };
  }
}

/** Comparable form: items, and the error's class and message (never a stack). */
function comparable({ items, error }: Outcome) {
  if (error === undefined) return { items };
  return { items, error: error instanceof Error ? `${error.name}: ${error.message}` : error };
}

function expectGatewayErrorOrNone(result: Outcome): void {
  if (result.error !== undefined) expect(result.error).toBeInstanceOf(GatewayError);
}

/** A parser's batches one item at a time: how items are batched follows the reads; they must not. */
async function* oneByOne<T>(batches: AsyncIterable<readonly T[]>): AsyncGenerator<T> {
  for await (const batch of batches) yield* batch;
}

const bytesOf = (value: string) => new TextEncoder().encode(value);

describe('parseSse', () => {
  /** A field value: anything but a line break (that would end the line). */
  const field = text.map((value) => value.replace(/[\r\n]/g, ' '));
  interface SseEventInput {
    readonly comment?: string;
    readonly event?: string;
    readonly id?: string;
    readonly data: readonly string[];
  }
  const event: fc.Arbitrary<SseEventInput> = fc.record(
    {
      comment: field,
      event: field,
      id: field,
      data: fc.array(field, { minLength: 1, maxLength: 3 }),
    },
    { requiredKeys: ['data'] },
  );
  const stream = fc.record({
    events: fc.array(event, { maxLength: 6 }),
    eol: fc.constantFrom('\n', '\r\n', '\r'),
  });
  const serialize = (input: { events: readonly SseEventInput[]; eol: string }) =>
    input.events
      .map(({ comment, event: name, id, data }) => {
        const lines = [
          ...(comment === undefined ? [] : [`:${comment}`]),
          ...(name === undefined ? [] : [`event: ${name}`]),
          ...(id === undefined ? [] : [`id: ${id}`]),
          ...data.map((line) => `data: ${line}`),
        ];
        return `${lines.join(input.eol)}${input.eol}${input.eol}`;
      })
      .join('');

  it('yields the same events however the bytes are split, and the data as sent', async () => {
    await fc.assert(
      fc.asyncProperty(stream, splits, async (input, points) => {
        const bytes = bytesOf(serialize(input));
        const whole = await outcome(oneByOne(parseSse(source([bytes]))));
        const split = await outcome(oneByOne(parseSse(source(splitAt(bytes, points)))));
        expect(comparable(split)).toEqual(comparable(whole));
        // The data survives, as UTF-8 carries it (a lone surrogate becomes U+FFFD). Unlike the
        // spec, eventsource-parser also dispatches an event whose data is empty.
        const decoder = new TextDecoder('utf-8', { ignoreBOM: true });
        const expected = input.events.map(({ data }) => decoder.decode(bytesOf(data.join('\n'))));
        expect(whole.items.map((item) => (item as { data: string }).data)).toEqual(expected);
      }),
      RUNS,
    );
  });

  it('yields the same events for string chunks split anywhere, mid surrogate pair included', async () => {
    await fc.assert(
      fc.asyncProperty(stream, splits, async (input, points) => {
        const value = serialize(input);
        const whole = await outcome(oneByOne(parseSse(source([value]))));
        const split = await outcome(oneByOne(parseSse(source(splitAt(value, points)))));
        expect(comparable(split)).toEqual(comparable(whole));
      }),
      RUNS,
    );
  });

  // A final CR is a complete line end: the parser must not wait for an LF that never comes, or a
  // stream with bare-CR line ends loses its `data: [DONE]` and looks truncated.
  it('yields the final event of a stream whose lines end in a bare CR', async () => {
    const bytes = bytesOf('data: {"n":1}\r\rdata: [DONE]\r\r');
    const { items } = await outcome(oneByOne(parseSse(source([bytes]))));
    expect(items.map((item) => (item as { data: string }).data)).toEqual(['{"n":1}', '[DONE]']);
  });

  it('garbage bytes: the same outcome whole or split, and only GatewayErrors', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 2_000 }), splits, async (bytes, points) => {
        const whole = await outcome(oneByOne(parseSse(source([bytes]))));
        const split = await outcome(oneByOne(parseSse(source(splitAt(bytes, points)))));
        expectGatewayErrorOrNone(whole);
        expect(comparable(split)).toEqual(comparable(whole));
      }),
      RUNS,
    );
  });
});

describe('parseNdjson', () => {
  const values = fc.array(fc.jsonValue({ maxDepth: 3, stringUnit: hostileChar }), { maxLength: 6 });
  const layout = fc.record({
    eol: fc.constantFrom('\n', '\r\n'),
    blankLines: fc.boolean(),
    trailingNewline: fc.boolean(),
  });
  const maxLineLength = fc.option(fc.integer({ min: 1, max: 64 }), { nil: undefined });

  it('yields the same values however the bytes are split, equal to what was sent', async () => {
    await fc.assert(
      fc.asyncProperty(
        values,
        layout,
        splits,
        async (sent, { eol, blankLines, trailingNewline }, points) => {
          const separator = blankLines ? `${eol}  ${eol}` : eol;
          const body = sent.map((value) => JSON.stringify(value)).join(separator);
          const bytes = bytesOf(trailingNewline ? `${body}${eol}` : body);
          const whole = await outcome(oneByOne(parseNdjson(source([bytes]))));
          const split = await outcome(oneByOne(parseNdjson(source(splitAt(bytes, points)))));
          expect(comparable(split)).toEqual(comparable(whole));
          // As JSON carries them through UTF-8 (-0 becomes 0, a lone surrogate U+FFFD).
          const expected = sent.map((value) =>
            JSON.parse(new TextDecoder().decode(bytesOf(JSON.stringify(value)))),
          );
          expect(whole).toEqual({ items: expected });
        },
      ),
      RUNS,
    );
  });

  it('garbage bytes, any line limit: the same outcome whole or split, only GatewayErrors', async () => {
    const garbage = fc.oneof(
      fc.uint8Array({ maxLength: 2_000 }),
      fc
        .array(fc.constantFrom('{"a":1}', '\n', '\r\n', '[', '"', '\u00e9', ' ', 'null'), {
          maxLength: 60,
        })
        .map((parts) => bytesOf(parts.join(''))),
    );
    await fc.assert(
      fc.asyncProperty(garbage, splits, maxLineLength, async (bytes, points, limit) => {
        const options = limit === undefined ? {} : { maxLineLength: limit, provider: 'fuzz' };
        const whole = await outcome(oneByOne(parseNdjson(source([bytes]), options)));
        const split = await outcome(oneByOne(parseNdjson(source(splitAt(bytes, points)), options)));
        expectGatewayErrorOrNone(whole);
        expect(comparable(split)).toEqual(comparable(whole));
      }),
      RUNS,
    );
  });
});
