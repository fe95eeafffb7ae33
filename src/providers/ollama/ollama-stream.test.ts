import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { UpstreamError } from '../../errors/gateway-error.js';
import type { ChatCompletionChunk } from '../../openai/chat-types.js';
import { parseNdjson } from '../shared/ndjson-parser.js';
import { createOllamaChunkMapper, type OllamaChunkOptions, ollamaChunks } from './ollama-stream.js';

function fixtureBytes(name: string): Buffer {
  return readFileSync(new URL(`./__fixtures__/${name}`, import.meta.url));
}

async function* chunksOf<Item>(...items: readonly Item[]) {
  yield* items;
}

/** Everything the iterable yields, and the error it ended with (if any). */
async function drain<Item>(
  iterable: AsyncIterable<Item>,
): Promise<{ items: Item[]; error: unknown }> {
  const items: Item[] = [];
  try {
    for await (const item of iterable) items.push(item);
  } catch (error) {
    return { items, error };
  }
  return { items, error: undefined };
}

/** The chunks of {@link ollamaChunks}' batches, one by one. */
async function* flat(batches: AsyncIterable<readonly ChatCompletionChunk[]>) {
  for await (const batch of batches) yield* batch;
}

/** Upstream bytes of a fixture, cut into pieces of `size` bytes, parsed and mapped. */
function streamFixture(name: string, options: Partial<OllamaChunkOptions> = {}, size = 4096) {
  const bytes = fixtureBytes(name);
  const pieces: Uint8Array[] = [];
  for (let start = 0; start < bytes.length; start += size) {
    pieces.push(bytes.subarray(start, start + size));
  }
  return flat(
    ollamaChunks(parseNdjson(chunksOf(...pieces), { provider: 'ollama' }), {
      ...fakeOptions(),
      ...options,
    }),
  );
}

function fakeOptions(): OllamaChunkOptions {
  let next = 0;
  return {
    id: 'chatcmpl-test',
    model: 'llama3.2:3b',
    created: 1_700_000_000,
    generateId: () => {
      next += 1;
      return String(next);
    },
    now: () => 1_893_456_000_000,
  };
}

const envelope = {
  id: 'chatcmpl-test',
  object: 'chat.completion.chunk',
  created: 1_700_000_000,
  model: 'llama3.2:3b',
} as const;

function delta(value: object, finishReason: string | null = null): ChatCompletionChunk {
  return {
    ...envelope,
    choices: [{ index: 0, delta: value, finish_reason: finishReason }],
  } as ChatCompletionChunk;
}

function usage(prompt: number, completion: number): ChatCompletionChunk {
  return {
    ...envelope,
    choices: [],
    usage: {
      prompt_tokens: prompt,
      completion_tokens: completion,
      total_tokens: prompt + completion,
    },
  };
}

const roleChunk = delta({ role: 'assistant', content: '' });

describe('ollamaChunks', () => {
  it('maps a text stream: role, content, finish, usage', async () => {
    const expected = [
      roleChunk,
      delta({ content: 'The' }),
      delta({ content: ' capital' }),
      delta({ content: ' is' }),
      delta({ content: ' Paris ☀️.' }),
      delta({}, 'stop'),
      usage(26, 5),
    ];
    expect(await drain(streamFixture('ollama-stream-text.ndjson'))).toStrictEqual({
      items: expected,
      error: undefined,
    });
    // The same bytes one at a time (every line and every multi-byte character split).
    expect(await drain(streamFixture('ollama-stream-text.ndjson', {}, 1))).toStrictEqual({
      items: expected,
      error: undefined,
    });
  });

  it('maps parallel tool calls with stable ids, stream-wide indexes and finish tool_calls', async () => {
    const { items, error } = await drain(
      streamFixture('ollama-stream-tool-calls.ndjson', { model: 'qwen3:8b' }),
    );
    const qwen = (chunk: ChatCompletionChunk) => ({ ...chunk, model: 'qwen3:8b' });
    expect(error).toBeUndefined();
    expect(items).toStrictEqual(
      [
        roleChunk,
        delta({
          tool_calls: [
            {
              index: 0,
              id: 'call_1',
              type: 'function',
              function: { name: 'get_weather', arguments: '{"city":"Paris","unit":"celsius"}' },
            },
          ],
        }),
        delta({
          tool_calls: [
            {
              index: 1,
              id: 'call_2',
              type: 'function',
              function: { name: 'get_time', arguments: '{"timezone":"Europe/Paris"}' },
            },
          ],
        }),
        // Ollama's done_reason is "stop"; a tool call makes it "tool_calls".
        delta({}, 'tool_calls'),
        usage(187, 41),
      ].map(qwen),
    );
  });

  it('maps thinking to reasoning_content and done_reason length to length', async () => {
    const { items, error } = await drain(
      streamFixture('ollama-stream-thinking.ndjson', { model: 'qwen3:4b' }),
    );
    expect(error).toBeUndefined();
    expect(items).toStrictEqual(
      [
        roleChunk,
        delta({ reasoning_content: '17 × 20 = 340' }),
        delta({ reasoning_content: ', plus 51.' }),
        delta({ content: '391' }),
        delta({}, 'length'),
        usage(19, 96),
      ].map((chunk) => ({ ...chunk, model: 'qwen3:4b' })),
    );
  });

  it('throws UpstreamError on an error line, after the chunks before it, with no finish', async () => {
    const { items, error } = await drain(streamFixture('ollama-stream-error.ndjson'));
    expect(items).toStrictEqual([
      roleChunk,
      delta({ content: 'Once' }),
      delta({ content: ' upon' }),
    ]);
    expect(error).toBeInstanceOf(UpstreamError);
    expect(error).toMatchObject({
      status: 502,
      code: 'upstream_error',
      message:
        'The ollama upstream failed: an error was encountered while running the model: unexpected EOF',
    });
  });

  it('throws UpstreamError on a truncated stream instead of finishing it', async () => {
    const { items, error } = await drain(streamFixture('ollama-stream-truncated.ndjson'));
    expect(items).toStrictEqual([
      roleChunk,
      delta({ content: 'Once' }),
      delta({ content: ' upon' }),
    ]);
    expect(error).toBeInstanceOf(UpstreamError);
    expect(error).toMatchObject({
      message: 'The ollama upstream stream ended before its final message.',
    });
    expect(items.some((chunk) => chunk.choices[0]?.finish_reason != null)).toBe(false);
  });

  it('yields one batch per batch of lines, none for a batch that maps to nothing', async () => {
    const line = (content: string) => ({
      ...doneLine,
      done: false,
      message: { role: 'assistant', content },
    });
    async function* lines() {
      yield [line('a'), line('b')];
      yield [line('')];
      yield [doneLine];
    }
    const { items } = await drain(ollamaChunks(lines(), fakeOptions()));
    expect(items.map((batch) => batch.length)).toStrictEqual([3, 2]);
  });

  it('throws UpstreamError on an empty stream', async () => {
    const { items, error } = await drain(flat(ollamaChunks(chunksOf(), fakeOptions())));
    expect(items).toStrictEqual([]);
    expect(error).toBeInstanceOf(UpstreamError);
  });

  it('passes errors of the line source through unchanged', async () => {
    const failure = new Error('socket reset');
    async function* failing() {
      yield [
        JSON.parse(fixtureBytes('ollama-stream-truncated.ndjson').toString().split('\n')[0] ?? ''),
      ];
      throw failure;
    }
    const { items, error } = await drain(flat(ollamaChunks(failing(), fakeOptions())));
    expect(items).toStrictEqual([roleChunk, delta({ content: 'Once' })]);
    expect(error).toBe(failure);
  });
});

const doneLine = {
  model: 'llama3.2:3b',
  created_at: '2025-06-02T09:14:31.311137425Z',
  message: { role: 'assistant', content: '' },
  done: true,
  done_reason: 'stop',
  prompt_eval_count: 2,
  eval_count: 3,
};

describe('createOllamaChunkMapper', () => {
  it('scrubs secrets from an upstream error message', () => {
    const mapper = createOllamaChunkMapper(fakeOptions());
    const line = { error: 'pull failed: https://registry.example/x?token=abc123secret' };
    expect(() => mapper.map(line)).toThrow(
      new UpstreamError(
        'The ollama upstream failed: pull failed: https://registry.example/x?token=[REDACTED]',
      ),
    );
  });

  it.each([
    ['null', null],
    ['a string', 'hello'],
    ['an OpenAI chunk', { id: 'x', object: 'chat.completion.chunk', choices: [] }],
    ['a line without a message', { ...doneLine, message: undefined }],
  ])('throws UpstreamError on %s', (_label, line) => {
    const mapper = createOllamaChunkMapper(fakeOptions());
    expect(() => mapper.map(line)).toThrow(
      new UpstreamError('The ollama upstream sent a stream line of an unknown shape.'),
    );
  });

  it('throws on data after the final line', () => {
    const mapper = createOllamaChunkMapper(fakeOptions());
    mapper.map(doneLine);
    expect(() => mapper.map(doneLine)).toThrow(
      new UpstreamError('The ollama upstream sent data after the end of its stream.'),
    );
  });

  it('maps a final line that carries content and no counts, without a usage chunk', () => {
    const mapper = createOllamaChunkMapper(fakeOptions());
    const line = {
      model: 'llama3.2:3b',
      created_at: '2025-06-02T09:14:31Z',
      message: { role: 'assistant', content: 'Hi', thinking: 'greet' },
      done: true,
      done_reason: 'load',
    };
    expect(mapper.map(line)).toStrictEqual([
      roleChunk,
      delta({ reasoning_content: 'greet', content: 'Hi' }),
      delta({}, 'stop'),
    ]);
    expect(() => mapper.finish()).not.toThrow();
  });

  it('emits a usage chunk when only one count is reported', () => {
    const mapper = createOllamaChunkMapper(fakeOptions());
    const { prompt_eval_count: _omitted, ...line } = doneLine;
    expect(mapper.map(line).at(-1)).toStrictEqual(usage(0, 3));
  });

  it('skips lines without content and emits the role chunk once', () => {
    const mapper = createOllamaChunkMapper(fakeOptions());
    const empty = { ...doneLine, done: false };
    expect(mapper.map(empty)).toStrictEqual([roleChunk]);
    expect(mapper.map(empty)).toStrictEqual([]);
    expect(() => mapper.finish()).toThrow(UpstreamError);
  });

  it("defaults created to the first line's created_at, for every later chunk too", () => {
    const { created: _omitted, ...options } = fakeOptions();
    const mapper = createOllamaChunkMapper({ ...options, now: () => 1_893_456_000_999 });
    const first = { ...doneLine, done: false, created_at: '2024-01-02T03:04:05.123456789Z' };
    const chunks = [...mapper.map(first), ...mapper.map(doneLine)];
    for (const chunk of chunks) expect(chunk.created).toBe(1_704_164_645);
  });

  it('falls back to now() when the first created_at is unreadable', () => {
    const { created: _omitted, ...options } = fakeOptions();
    const mapper = createOllamaChunkMapper({ ...options, now: () => 1_893_456_000_999 });
    for (const chunk of mapper.map({ ...doneLine, created_at: 'garbage' })) {
      expect(chunk.created).toBe(1_893_456_000);
    }
  });
});
