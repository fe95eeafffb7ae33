import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  expectWellFormed,
  parseResponsesEvents,
  type ResponsesEvent,
} from '../../../test/helpers/responses-events.js';
import { splitAt } from '../../../test/helpers/split-at.js';
import { UpstreamTimeoutError } from '../../errors/gateway-error.js';
import type {
  ChatCompletionChunk,
  ChunkDelta,
  FinishReason,
  ToolCall,
} from '../../openai/chat-types.js';
import { toResponse } from './from-chat-completion.js';
import { createResponseShell } from './response-shell.js';
import { createResponsesFrames } from './responses-stream-frames.js';
import { toChatTools } from './responses-tools.js';
import type { ResponsesRequest } from './responses-types.js';

const REQUEST: ResponsesRequest = {
  model: 'm',
  input: 'hi',
  tools: [
    { type: 'function', name: 'get_weather', parameters: { type: 'object' } },
    { type: 'custom', name: 'apply_patch' },
  ],
};

function shell() {
  const { catalogue } = toChatTools(REQUEST.tools, null);
  return createResponseShell(REQUEST, catalogue, { now: () => 1_000_000, generateId: () => 'x' });
}

function chunk(delta: ChunkDelta, finishReason: FinishReason | null = null): ChatCompletionChunk {
  return {
    id: 'c',
    object: 'chat.completion.chunk',
    created: 1,
    model: 'm',
    choices: [{ index: 0, delta, finish_reason: finishReason }],
  };
}

const USAGE = { prompt_tokens: 7, completion_tokens: 3, total_tokens: 10 };

const USAGE_CHUNK: ChatCompletionChunk = {
  id: 'c',
  object: 'chat.completion.chunk',
  created: 1,
  model: 'm',
  choices: [],
  usage: USAGE,
};

/** Runs chunks through one encoder and parses what it wrote, the end frame (or error) included. */
function run(chunks: readonly ChatCompletionChunk[], failure?: UpstreamTimeoutError) {
  const frames = createResponsesFrames(shell());
  let text = '';
  for (const item of chunks) text += frames.chunk({ chunk: item, json: undefined });
  text += failure === undefined ? frames.end() : frames.error(failure);
  return parseResponsesEvents(text);
}

const types = (events: readonly ResponsesEvent[]) => events.map((event) => event.data.type);

describe('createResponsesFrames', () => {
  it('streams a text answer: created, in_progress, one message item, completed with usage', () => {
    const events = run([
      chunk({ role: 'assistant', content: '' }),
      chunk({ content: 'Hel' }),
      chunk({ content: 'lo' }),
      chunk({}, 'stop'),
      USAGE_CHUNK,
    ]);
    expect(types(events)).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
      'response.output_text.delta',
      'response.output_text.delta',
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.completed',
    ]);
    const response = expectWellFormed(events);
    expect(response).toMatchObject({
      id: 'resp_x',
      status: 'completed',
      usage: { input_tokens: 7, output_tokens: 3, total_tokens: 10 },
      output: [{ type: 'message', content: [{ type: 'output_text', text: 'Hello' }] }],
    });
    expect(events[0]?.data.response).toMatchObject({
      status: 'in_progress',
      output: [],
      usage: null,
    });
  });

  it('streams reasoning, then text, then function and custom calls, each its own item', () => {
    const events = run([
      chunk({ reasoning_content: 'Let me ' }),
      chunk({ reasoning_content: 'think.' }),
      chunk({ content: 'Sure.' }),
      chunk({
        tool_calls: [
          {
            index: 0,
            id: 'call_a',
            type: 'function',
            function: { name: 'get_weather', arguments: '' },
          },
        ],
      }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: '{"city":' } }] }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: '"Oslo"}' } }] }),
      chunk({
        tool_calls: [
          {
            index: 1,
            id: 'call_b',
            function: { name: 'apply_patch', arguments: '{"input":"*** Be' },
          },
        ],
      }),
      chunk({ tool_calls: [{ index: 1, function: { arguments: 'gin Patch"}' } }] }),
      chunk({}, 'tool_calls'),
      USAGE_CHUNK,
    ]);
    const response = expectWellFormed(events);
    expect(response.output).toEqual([
      {
        type: 'reasoning',
        id: 'rs_x_0',
        status: 'completed',
        summary: [],
        content: [{ type: 'reasoning_text', text: 'Let me think.' }],
      },
      expect.objectContaining({ type: 'message', id: 'msg_x_1' }),
      {
        type: 'function_call',
        id: 'fc_x_2',
        status: 'completed',
        call_id: 'call_a',
        name: 'get_weather',
        arguments: '{"city":"Oslo"}',
      },
      {
        type: 'custom_tool_call',
        id: 'ctc_x_3',
        status: 'completed',
        call_id: 'call_b',
        name: 'apply_patch',
        input: '*** Begin Patch',
      },
    ]);
    const argumentDeltas = events
      .filter((event) => event.data.type === 'response.function_call_arguments.delta')
      .map((event) => event.data.delta);
    expect(argumentDeltas).toEqual(['{"city":', '"Oslo"}']);
    const custom = events.filter((event) =>
      event.data.type.startsWith('response.custom_tool_call'),
    );
    expect(custom.map((event) => [event.data.type, event.data.delta ?? event.data.input])).toEqual([
      ['response.custom_tool_call_input.delta', '*** Begin Patch'],
      ['response.custom_tool_call_input.done', '*** Begin Patch'],
    ]);
    const added = events.find((event) => event.data.output_index === 3);
    expect(added?.data.item).toMatchObject({
      type: 'custom_tool_call',
      input: '',
      status: 'in_progress',
    });
  });

  it('closes the items at the finish reason, before the usage arrives', () => {
    const frames = createResponsesFrames(shell());
    const beforeUsage =
      frames.chunk({ chunk: chunk({ content: 'Hi' }), json: undefined }) +
      frames.chunk({ chunk: chunk({}, 'stop'), json: undefined });
    expect(types(parseResponsesEvents(beforeUsage)).at(-1)).toBe('response.output_item.done');
    const rest = frames.chunk({ chunk: USAGE_CHUNK, json: undefined }) + frames.end();
    expect(types(parseResponsesEvents(rest))).toEqual(['response.completed']);
  });

  it('announces a call only once its name is known, with the arguments that came before', () => {
    const events = run([
      chunk({ tool_calls: [{ index: 0, id: 'call_1', function: { arguments: '{"ci' } }] }),
      chunk({ tool_calls: [{ index: 0, function: { name: 'get_', arguments: 'ty":' } }] }),
      chunk({ tool_calls: [{ index: 0, function: { name: 'weather', arguments: '1}' } }] }),
      chunk({}, 'tool_calls'),
    ]);
    const response = expectWellFormed(events);
    expect(response.output).toEqual([
      expect.objectContaining({ name: 'get_weather', arguments: '{"city":1}', call_id: 'call_1' }),
    ]);
    expect(
      events.find((event) => event.data.type === 'response.output_item.added')?.data.item,
    ).toMatchObject({
      name: 'get_',
    });
  });

  it('ends a length stop with response.incomplete and incomplete items', () => {
    const events = run([chunk({ content: 'Hel' }), chunk({}, 'length'), USAGE_CHUNK]);
    const response = expectWellFormed(events);
    expect(types(events).at(-1)).toBe('response.incomplete');
    expect(response).toMatchObject({
      status: 'incomplete',
      incomplete_details: { reason: 'max_output_tokens' },
      output: [{ status: 'incomplete' }],
      usage: { output_tokens: 3 },
    });
  });

  it('ends a failure with response.failed listing what came so far', () => {
    const failure = new UpstreamTimeoutError('ollama', 'idle');
    const events = run([chunk({ content: 'Hel' })], failure);
    const response = expectWellFormed(events);
    expect(types(events).at(-1)).toBe('response.failed');
    expect(response).toMatchObject({
      status: 'failed',
      error: { code: 'upstream_timeout', message: failure.message },
      output: [{ type: 'message', status: 'incomplete', content: [{ text: 'Hel' }] }],
    });
  });

  it('still frames a stream that ended with no chunk, or failed before one', () => {
    expect(types(run([]))).toEqual([
      'response.created',
      'response.in_progress',
      'response.completed',
    ]);
    const failed = run([], new UpstreamTimeoutError('ollama', 'idle'));
    expect(types(failed)).toEqual(['response.created', 'response.in_progress', 'response.failed']);
  });

  it('ignores empty deltas and choices other than the first', () => {
    const events = run([
      chunk({ role: 'assistant', content: '' }),
      {
        ...chunk({ content: 'other' }),
        choices: [{ index: 1, delta: { content: 'x' }, finish_reason: null }],
      },
      chunk({}, 'stop'),
    ]);
    expect(types(events)).toEqual([
      'response.created',
      'response.in_progress',
      'response.completed',
    ]);
  });
});

/** An upstream answer: its reasoning, text, calls and finish reason, unsplit. */
interface Answer {
  readonly reasoning: string;
  readonly text: string;
  readonly calls: readonly { name: 'get_weather' | 'apply_patch'; arguments: string }[];
  readonly finish: 'stop' | 'length' | 'tool_calls';
}

/** The answer as chunks, each field cut at `cuts` and the deltas grouped as `groups` says. */
function chunksOf(answer: Answer, cuts: readonly number[], groups: readonly number[]) {
  const deltas: ChunkDelta[] = [];
  for (const piece of splitAt(answer.reasoning, cuts)) deltas.push({ reasoning_content: piece });
  for (const piece of splitAt(answer.text, cuts)) deltas.push({ content: piece });
  answer.calls.forEach((call, index) => {
    const [first = '', ...rest] = splitAt(call.arguments, cuts);
    const id = `call_${index}`;
    deltas.push({
      tool_calls: [
        { index, id, type: 'function', function: { name: call.name, arguments: first } },
      ],
    });
    for (const piece of rest)
      deltas.push({ tool_calls: [{ index, function: { arguments: piece } }] });
  });
  // Several deltas in one chunk is what a batching upstream does: merge neighbours as `groups` says.
  const chunks: ChatCompletionChunk[] = [];
  let at = 0;
  for (const size of groups) {
    if (at >= deltas.length) break;
    const group = deltas.slice(at, at + 1 + (size % 3));
    at += group.length;
    for (const delta of group) chunks.push(chunk(delta));
  }
  for (const delta of deltas.slice(at)) chunks.push(chunk(delta));
  chunks.push(chunk({}, answer.finish), USAGE_CHUNK);
  return chunks;
}

const answers = fc.record({
  reasoning: fc.string({ maxLength: 20 }),
  text: fc.string({ maxLength: 40 }),
  calls: fc.array(
    fc.record({
      name: fc.constantFrom<'get_weather' | 'apply_patch'>('get_weather', 'apply_patch'),
      arguments: fc.string({ maxLength: 30 }).map((value) => JSON.stringify({ input: value })),
    }),
    { maxLength: 3 },
  ),
  finish: fc.constantFrom<Answer['finish']>('stop', 'length', 'tool_calls'),
});

describe('any split of an upstream stream', () => {
  it('gives the same final response, and the same one as the JSON answer', () => {
    fc.assert(
      fc.property(
        answers,
        fc.array(fc.nat(60), { maxLength: 8 }),
        fc.array(fc.nat(), { maxLength: 12 }),
        (answer, cuts, groups) => {
          const whole = expectWellFormed(run(chunksOf(answer, [], [])));
          const split = expectWellFormed(run(chunksOf(answer, cuts, groups)));
          expect(split).toEqual(whole);
          const toolCalls: ToolCall[] = answer.calls.map((call, index) => ({
            id: `call_${index}`,
            type: 'function',
            function: { name: call.name, arguments: call.arguments },
          }));
          const json = toResponse(
            {
              id: 'c',
              object: 'chat.completion',
              created: 1,
              model: 'm',
              choices: [
                {
                  index: 0,
                  finish_reason: answer.finish,
                  message: {
                    role: 'assistant',
                    content: answer.text,
                    reasoning_content: answer.reasoning,
                    ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
                  },
                },
              ],
              usage: USAGE,
            },
            shell(),
          );
          expect(split).toEqual(json);
        },
      ),
      { numRuns: 300 },
    );
  });
});
