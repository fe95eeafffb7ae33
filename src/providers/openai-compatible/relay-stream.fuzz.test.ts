/**
 * Property-based test of the relayed OpenAI-compatible stream: chunks come in batches that follow
 * the upstream's reads, so whatever the reads, the chunks, their upstream text and the failure (if
 * any) must be the same. Content is hostile text (surrogates, CR/LF, quotes); events may span two
 * `data:` lines (valid JSON whose text would break SSE framing) or be broken JSON.
 */
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { splitAt } from '../../../test/helpers/split-at.js';
import type { ChatStream } from '../provider.js';
import type { UpstreamClient, UpstreamResponse } from '../shared/upstream-client.js';
import { createOpenAiCompatibleProvider } from './openai-compatible-provider.js';

const RUNS = { numRuns: 200, plugins: [fc.timeout(2_000)] };

const hostileChar = fc.oneof(
  fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
  fc.constantFrom('\ud800', '\udfff', '\u0000', '\u2028', '\r', '\n', '"', '\\'),
);

const usage = { prompt_tokens: 2, completion_tokens: 3, total_tokens: 5 };

/** One upstream event: a content chunk (maybe carrying usage, maybe over two lines) or junk. */
const event = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record({
      kind: fc.constant('chunk' as const),
      content: fc.string({ unit: hostileChar, maxLength: 12 }),
      withUsage: fc.boolean(),
      twoLines: fc.boolean(),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('broken' as const) }) },
);
const stream = fc.record({
  events: fc.array(event, { maxLength: 8 }),
  separateUsage: fc.boolean(),
  done: fc.boolean(),
});

type Input = typeof stream extends fc.Arbitrary<infer Value> ? Value : never;

function serialize(input: Input): string {
  let text = '';
  for (const item of input.events) {
    if (item.kind === 'broken') {
      text += 'data: {"id":\n\n';
      continue;
    }
    const json = JSON.stringify({
      id: 'c1',
      object: 'chat.completion.chunk',
      choices: [{ index: 0, delta: { content: item.content }, finish_reason: null }],
      ...(item.withUsage ? { usage } : {}),
    });
    // JSON may break after any structural comma: the two lines join into the same valid JSON.
    text += item.twoLines
      ? `data: ${json.replace('","object"', '",\ndata: "object"')}\n\n`
      : `data: ${json}\n\n`;
  }
  if (input.separateUsage)
    text += `data: {"id":"c1","choices":[],"usage":${JSON.stringify(usage)}}\n\n`;
  if (input.done) text += 'data: [DONE]\n\n';
  return text;
}

function providerOver(parts: readonly Uint8Array[]) {
  const upstream: UpstreamClient = {
    provider: 'vendor',
    async request() {
      const body = Readable.from(parts.map((part) => Buffer.from(part)));
      return { status: 200, headers: {}, body: body as unknown as UpstreamResponse['body'] };
    },
    async requestText() {
      throw new Error('not used');
    },
    async close() {},
  };
  return createOpenAiCompatibleProvider(
    { name: 'vendor', secrets: [] },
    { upstream, now: () => 0, generateId: () => 'id' },
  );
}

/** Flattened chunks with their text, and the failure's message, if any. */
async function relay(stream: ChatStream) {
  const items: unknown[] = [];
  try {
    for await (const batch of stream) {
      expect(batch.length).toBeGreaterThan(0);
      for (const { chunk, json } of batch) {
        if (json !== undefined) {
          expect(JSON.parse(json)).toEqual(chunk);
          expect(json).not.toMatch(/[\r\n]/);
        }
        items.push({ chunk, json });
      }
    }
    return { items };
  } catch (error) {
    return { items, error: (error as Error).message };
  }
}

const request = { model: 'm', messages: [{ role: 'user' as const, content: 'hi' }] };
const ctx = () => ({
  signal: new AbortController().signal,
  requestId: 'r',
  logger: { debug() {}, info() {}, warn() {}, error() {} },
});

describe('relayed stream, any split of the upstream bytes', () => {
  it('yields the same chunks, texts and failure however the reads fall', async () => {
    await fc.assert(
      fc.asyncProperty(stream, fc.array(fc.nat(), { maxLength: 24 }), async (input, points) => {
        const bytes = new TextEncoder().encode(serialize(input));
        const whole = await relay(await providerOver([bytes]).chatStream(request, ctx()));
        const split = await relay(
          await providerOver(splitAt(bytes, points)).chatStream(request, ctx()),
        );
        expect(split).toEqual(whole);
        const complete = input.done && input.events.every((item) => item.kind === 'chunk');
        expect(whole.error === undefined).toBe(complete);
      }),
      RUNS,
    );
  });
});
