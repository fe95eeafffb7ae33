/**
 * The stream state machine fed OpenAI chunks as providers yield them, its frames read back with
 * the strict accumulator of `test/helpers/anthropic-events.ts`; then a property: any split of an
 * answer into chunks adds up to the same message. Past 300 lines because the property shares the
 * chunk builders of the cases above it.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { accumulateMessage, parseAnthropicSse } from '../../../test/helpers/anthropic-events.js';
import { UpstreamError, UpstreamTimeoutError } from '../../errors/gateway-error.js';
import type {
  ChatCompletionChunk,
  ChunkDelta,
  FinishReason,
  ToolCallDelta,
} from '../../openai/chat-types.js';
import {
  type AnthropicStreamOptions,
  createAnthropicStreamEncoder,
} from './anthropic-stream-encoder.js';

const OPTIONS: AnthropicStreamOptions = {
  id: 'msg_test',
  model: 'claude-local',
  inputTokens: 42,
  stopSequences: [],
};

const chunk = (
  delta: ChunkDelta,
  finishReason: FinishReason | null = null,
): ChatCompletionChunk => ({
  id: 'chatcmpl-1',
  object: 'chat.completion.chunk',
  created: 1,
  model: 'upstream-model',
  choices: [{ index: 0, delta, finish_reason: finishReason }],
});

const usageChunk = (prompt: number, completion: number, cached?: number): ChatCompletionChunk => ({
  ...chunk({}),
  choices: [],
  usage: {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
    ...(cached === undefined ? {} : { prompt_tokens_details: { cached_tokens: cached } }),
  },
});

const toolDelta = (index: number, fields: Omit<ToolCallDelta, 'index'>): ChunkDelta => ({
  tool_calls: [{ index, ...fields }],
});

/** The SSE text of a whole stream through a fresh encoder (failing with `error` if given). */
function encode(
  chunks: readonly ChatCompletionChunk[],
  options: Partial<AnthropicStreamOptions> = {},
  error?: UpstreamError,
): string {
  const encoder = createAnthropicStreamEncoder({ ...OPTIONS, ...options });
  let text = '';
  for (const item of chunks) text += encoder.chunk({ chunk: item, json: undefined });
  return text + (error === undefined ? encoder.end() : encoder.error(error));
}

const messageOf = (text: string) => accumulateMessage(parseAnthropicSse(text));

/** The frames a text answer's stream ends with, for stop reasons. */
const answer = (pieces: readonly string[], finishReason: FinishReason = 'stop', stop?: unknown) => [
  chunk({ role: 'assistant', content: '' }),
  ...pieces.map((content) => chunk({ content })),
  {
    ...chunk({}, finishReason),
    choices: [{ index: 0, delta: {}, finish_reason: finishReason, stop_reason: stop }],
  },
  usageChunk(10, pieces.length),
];

describe('the Anthropic stream encoder', () => {
  it('streams text as one block between message_start and message_delta, with usage both times', () => {
    const text = encode(answer(['Hel', 'lo']));
    const frames = parseAnthropicSse(text);
    expect(frames.map((frame) => frame.event)).toEqual([
      'message_start',
      'content_block_start',
      'content_block_delta',
      'content_block_delta',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
    expect(frames[0]?.data).toEqual({
      type: 'message_start',
      message: {
        id: 'msg_test',
        type: 'message',
        role: 'assistant',
        model: 'claude-local',
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: {
          input_tokens: 42,
          output_tokens: 0,
          cache_creation_input_tokens: 0,
          cache_read_input_tokens: 0,
        },
      },
    });
    expect(frames[5]?.data).toEqual({
      type: 'message_delta',
      delta: { stop_reason: 'end_turn', stop_sequence: null },
      usage: {
        input_tokens: 10,
        output_tokens: 2,
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: 0,
      },
    });
    expect(messageOf(text).content).toEqual([{ type: 'text', text: 'Hello' }]);
  });

  it('puts reasoning in a thinking block before the text, from reasoning_content or reasoning', () => {
    const reasoning = { reasoning: 'Let me think.' } as unknown as ChunkDelta;
    const text = encode([
      chunk({ reasoning_content: 'Hmm, ' }),
      chunk(reasoning),
      chunk({ content: 'Yes.' }, 'stop'),
      usageChunk(5, 7),
    ]);
    expect(messageOf(text).content).toEqual([
      { type: 'thinking', thinking: 'Hmm, Let me think.', signature: '' },
      { type: 'text', text: 'Yes.' },
    ]);
  });

  it("relays OpenAI's argument pieces as input_json_delta, and a tool call makes the stop tool_use", () => {
    const text = encode([
      chunk({ content: 'Checking.' }),
      chunk(
        toolDelta(0, {
          id: 'call_1',
          type: 'function',
          function: { name: 'get_weather', arguments: '' },
        }),
      ),
      chunk(toolDelta(0, { function: { arguments: '{"loc' } })),
      chunk(toolDelta(0, { function: { arguments: 'ation":"Pa' } })),
      chunk(toolDelta(0, { function: { arguments: 'ris"}' } })),
      chunk({}, 'tool_calls'),
      usageChunk(10, 9),
    ]);
    const pieces = parseAnthropicSse(text)
      .filter(
        (frame) => (frame.data.delta as { type?: string } | undefined)?.type === 'input_json_delta',
      )
      .map((frame) => (frame.data.delta as { partial_json: string }).partial_json);
    expect(pieces).toEqual(['{"loc', 'ation":"Pa', 'ris"}']);
    const message = messageOf(text);
    expect(message.content).toEqual([
      { type: 'text', text: 'Checking.' },
      { type: 'tool_use', id: 'call_1', name: 'get_weather', input: { location: 'Paris' } },
    ]);
    expect(message.stopReason).toBe('tool_use');
  });

  it("sends Ollama's whole parallel calls as one piece each, tool_use although it said stop", () => {
    const text = encode([
      chunk({
        tool_calls: [
          {
            index: 0,
            id: 'call_a',
            type: 'function',
            function: { name: 'read', arguments: '{"path":"a"}' },
          },
          {
            index: 1,
            id: 'call_b',
            type: 'function',
            function: { name: 'read', arguments: '{"path":"b"}' },
          },
        ],
      }),
      chunk({}, 'stop'),
      usageChunk(10, 9),
    ]);
    const message = messageOf(text);
    expect(message.content).toEqual([
      { type: 'tool_use', id: 'call_a', name: 'read', input: { path: 'a' } },
      { type: 'tool_use', id: 'call_b', name: 'read', input: { path: 'b' } },
    ]);
    expect(message.stopReason).toBe('tool_use');
  });

  it('gives a call without an id a toolu_ id, and a call without arguments the input {}', () => {
    const text = encode([
      chunk(toolDelta(0, { function: { name: 'now' } })),
      chunk({}, 'tool_calls'),
    ]);
    const [block] = messageOf(text).content;
    expect(block).toMatchObject({ type: 'tool_use', name: 'now', input: {} });
    expect((block as { id: string }).id).toMatch(/^toolu_[0-9a-f]{32}$/);
  });

  it('starts a new block for a call with a new id even when the vendor leaves the index out', () => {
    const unindexed = (fields: Omit<ToolCallDelta, 'index'>) =>
      chunk({ tool_calls: [fields as ToolCallDelta] });
    const text = encode([
      unindexed({ id: 'call_a', function: { name: 'a', arguments: '{}' } }),
      unindexed({ id: 'call_b', function: { name: 'b', arguments: '{"x":' } }),
      unindexed({ function: { arguments: '1}' } }),
      chunk({}, 'tool_calls'),
    ]);
    expect(messageOf(text).content).toEqual([
      { type: 'tool_use', id: 'call_a', name: 'a', input: {} },
      { type: 'tool_use', id: 'call_b', name: 'b', input: { x: 1 } },
    ]);
  });

  it.each([
    ['length', 'max_tokens'],
    ['content_filter', 'refusal'],
    ['stop', 'end_turn'],
  ] as const)('maps finish_reason %s to stop_reason %s', (finishReason, stopReason) => {
    expect(messageOf(encode(answer(['Hi'], finishReason))).stopReason).toBe(stopReason);
  });

  it('reports the stop sequence the upstream named, or the one the text ends with', () => {
    const stopSequences = ['###', 'END'];
    const named = messageOf(encode(answer(['a', 'b'], 'stop', 'END'), { stopSequences }));
    expect([named.stopReason, named.stopSequence]).toEqual(['stop_sequence', 'END']);
    const kept = messageOf(encode(answer(['a #', '##'], 'stop'), { stopSequences }));
    expect([kept.stopReason, kept.stopSequence]).toEqual(['stop_sequence', '###']);
    const unsaid = messageOf(encode(answer(['a', 'b'], 'stop'), { stopSequences }));
    expect([unsaid.stopReason, unsaid.stopSequence]).toEqual(['end_turn', null]);
    const cut = messageOf(encode(answer(['a ###'], 'length'), { stopSequences }));
    expect([cut.stopReason, cut.stopSequence]).toEqual(['max_tokens', null]);
  });

  it('opens no block for empty pieces: a stream with no content is start, delta, stop', () => {
    const text = encode([
      chunk({ role: 'assistant', content: '' }),
      chunk({ content: '' }, 'stop'),
    ]);
    expect(parseAnthropicSse(text).map((frame) => frame.event)).toEqual([
      'message_start',
      'message_delta',
      'message_stop',
    ]);
  });

  it('moves cached prompt tokens to cache_read_input_tokens, and estimates without usage', () => {
    expect(
      messageOf(encode([chunk({ content: 'Hi' }, 'stop'), usageChunk(100, 3, 60)])).usage,
    ).toEqual({
      input_tokens: 40,
      output_tokens: 3,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 60,
    });
    expect(messageOf(encode([chunk({ content: 'Hello world!' }, 'stop')])).usage).toMatchObject({
      input_tokens: 42,
      output_tokens: 3,
    });
  });

  it('ends a failed stream with an error frame and no message_stop, an open block left as is', () => {
    const text = encode(
      [chunk({ content: 'Hel' })],
      {},
      new UpstreamTimeoutError('ollama', 'idle'),
    );
    const message = messageOf(text);
    expect(message.end).toEqual({
      error: { type: 'timeout_error', message: 'The ollama upstream timed out while streaming.' },
    });
    expect(text).not.toContain('message_stop');
    const alone = encode([], {}, new UpstreamError('broken'));
    expect(parseAnthropicSse(alone).map((frame) => frame.event)).toEqual(['error']);
  });

  it('writes message_start once, whether a stream opened early (start) or with its first chunk', () => {
    const encoder = createAnthropicStreamEncoder(OPTIONS);
    const text =
      encoder.start?.() +
      `${encoder.start?.()}${encoder.chunk({ chunk: chunk({ content: 'a' }, 'stop'), json: undefined })}${encoder.end()}`;
    expect(parseAnthropicSse(text).filter((frame) => frame.event === 'message_start')).toHaveLength(
      1,
    );
  });
});

describe('the Anthropic stream encoder, for any split of the upstream stream', () => {
  const piecesOf = (text: string, cuts: readonly number[]): string[] => {
    const points = [...new Set(cuts.map((cut) => cut % (text.length + 1)))].sort((a, b) => a - b);
    const pieces: string[] = [];
    let from = 0;
    for (const point of [...points, text.length]) {
      pieces.push(text.slice(from, point));
      from = point;
    }
    return pieces;
  };
  const cuts = fc.array(fc.nat(), { maxLength: 12 });
  const answerShape = fc.record({
    thinking: fc.string({ maxLength: 40 }),
    thinkingCuts: cuts,
    text: fc.string({ maxLength: 60 }),
    textCuts: cuts,
    tools: fc.array(
      fc.record({
        name: fc.string({ minLength: 1, maxLength: 10 }),
        input: fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 2 }), {
          maxKeys: 3,
        }),
        cuts,
        whole: fc.boolean(),
      }),
      { maxLength: 3 },
    ),
  });

  it('adds up to the same final message, with the framing rules kept', () => {
    fc.assert(
      fc.property(answerShape, (shape) => {
        const chunks: ChatCompletionChunk[] = [chunk({ role: 'assistant', content: '' })];
        for (const piece of piecesOf(shape.thinking, shape.thinkingCuts)) {
          chunks.push(chunk({ reasoning_content: piece }));
        }
        for (const piece of piecesOf(shape.text, shape.textCuts))
          chunks.push(chunk({ content: piece }));
        shape.tools.forEach((tool, index) => {
          const json = JSON.stringify(tool.input);
          const head = { id: `call_${index}`, type: 'function' as const };
          if (tool.whole) {
            // Ollama: the whole call at once.
            chunks.push(
              chunk(toolDelta(index, { ...head, function: { name: tool.name, arguments: json } })),
            );
            return;
          }
          chunks.push(
            chunk(toolDelta(index, { ...head, function: { name: tool.name, arguments: '' } })),
          );
          for (const piece of piecesOf(json, tool.cuts)) {
            chunks.push(chunk(toolDelta(index, { function: { arguments: piece } })));
          }
        });
        chunks.push(chunk({}, shape.tools.length > 0 ? 'tool_calls' : 'stop'), usageChunk(3, 4));
        const message = messageOf(encode(chunks));
        const expected = [
          ...(shape.thinking === ''
            ? []
            : [{ type: 'thinking', thinking: shape.thinking, signature: '' }]),
          ...(shape.text === '' ? [] : [{ type: 'text', text: shape.text }]),
          ...shape.tools.map((tool, index) => ({
            type: 'tool_use',
            id: `call_${index}`,
            name: tool.name,
            input: JSON.parse(JSON.stringify(tool.input)),
          })),
        ];
        expect(message.content).toEqual(expected);
        expect(message.stopReason).toBe(shape.tools.length > 0 ? 'tool_use' : 'end_turn');
        expect(message.usage).toEqual({
          input_tokens: 3,
          output_tokens: 4,
          cache_creation_input_tokens: 0,
          cache_read_input_tokens: 0,
        });
      }),
      { numRuns: 300 },
    );
  });
});
