import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { UpstreamError } from '../../errors/gateway-error.js';
import {
  fromOllamaChatResponse,
  fromOllamaTags,
  toFinishReason,
  toUnixSeconds,
  toUsage,
} from './from-ollama-response.js';
import {
  isOllamaChatResponse,
  isOllamaTagsResponse,
  type OllamaChatResponse,
  type OllamaTagsResponse,
} from './ollama-wire.js';

function readFixture(name: string): unknown {
  return JSON.parse(readFileSync(new URL(`./__fixtures__/${name}`, import.meta.url), 'utf8'));
}

function chatFixture(name: string): OllamaChatResponse {
  const value = readFixture(name);
  if (!isOllamaChatResponse(value)) throw new Error(`${name} is not an Ollama chat response`);
  return value;
}

function tagsFixture(name: string): OllamaTagsResponse {
  const value = readFixture(name);
  if (!isOllamaTagsResponse(value)) throw new Error(`${name} is not an Ollama tags response`);
  return value;
}

/** Deterministic collaborators: ids 1, 2, 3, … and a clock at 2030-01-01T00:00:00Z. */
function fakeOptions() {
  let next = 0;
  return {
    id: 'chatcmpl-test',
    generateId: () => {
      next += 1;
      return String(next);
    },
    now: () => 1_893_456_000_000,
  };
}

describe('fromOllamaChatResponse', () => {
  it('maps a text response', () => {
    expect(
      fromOllamaChatResponse(chatFixture('ollama-chat-text.json'), fakeOptions()),
    ).toStrictEqual({
      id: 'chatcmpl-test',
      object: 'chat.completion',
      created: 1_748_855_671,
      model: 'llama3.2:3b',
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: 'The capital of France is Paris.' },
          finish_reason: 'stop',
        },
      ],
      usage: { prompt_tokens: 32, completion_tokens: 8, total_tokens: 40 },
    });
  });

  it('maps parallel tool calls with fresh ids, string arguments, null content and tool_calls', () => {
    expect(
      fromOllamaChatResponse(chatFixture('ollama-chat-tool-calls.json'), fakeOptions()),
    ).toStrictEqual({
      id: 'chatcmpl-test',
      object: 'chat.completion',
      created: 1_748_856_005,
      model: 'qwen3:8b',
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: null,
            tool_calls: [
              {
                id: 'call_1',
                type: 'function',
                function: { name: 'get_weather', arguments: '{"city":"Paris","unit":"celsius"}' },
              },
              {
                id: 'call_2',
                type: 'function',
                function: { name: 'get_time', arguments: '{"timezone":"Europe/Paris"}' },
              },
            ],
          },
          // Ollama said "stop"; OpenAI clients need "tool_calls" to run the tools.
          finish_reason: 'tool_calls',
        },
      ],
      usage: { prompt_tokens: 187, completion_tokens: 41, total_tokens: 228 },
    });
  });

  it('maps thinking to reasoning_content and reads a created_at with an offset', () => {
    const completion = fromOllamaChatResponse(
      chatFixture('ollama-chat-thinking.json'),
      fakeOptions(),
    );
    expect(completion.created).toBe(1_748_849_507);
    expect(completion.choices).toStrictEqual([
      {
        index: 0,
        message: {
          role: 'assistant',
          content: '17 × 23 = 391.',
          reasoning_content: '17 × 20 = 340 and 17 × 3 = 51, so 340 + 51 = 391.',
        },
        finish_reason: 'stop',
      },
    ]);
  });

  it('keeps text content next to tool calls, reports length, and counts missing usage as 0', () => {
    const response: OllamaChatResponse = {
      model: 'm',
      created_at: '0001-01-01T00:00:00Z',
      message: {
        role: 'assistant',
        content: 'Checking.',
        thinking: '',
        tool_calls: [{ function: { name: 'f', arguments: {} } }],
      },
      done: true,
      done_reason: 'length',
    };
    expect(fromOllamaChatResponse(response, fakeOptions())).toStrictEqual({
      id: 'chatcmpl-test',
      object: 'chat.completion',
      created: 1_893_456_000,
      model: 'm',
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: 'Checking.',
            tool_calls: [
              { id: 'call_1', type: 'function', function: { name: 'f', arguments: '{}' } },
            ],
          },
          finish_reason: 'tool_calls',
        },
      ],
      usage: { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 },
    });
  });

  it('throws UpstreamError on a response that is not done', () => {
    const response = { ...chatFixture('ollama-chat-text.json'), done: false };
    expect(() => fromOllamaChatResponse(response, fakeOptions())).toThrow(UpstreamError);
  });
});

describe('toFinishReason', () => {
  it.each([
    ['stop', false, 'stop'],
    ['length', false, 'length'],
    ['load', false, 'stop'],
    ['unload', false, 'stop'],
    ['something-new', false, 'stop'],
    [undefined, false, 'stop'],
    ['stop', true, 'tool_calls'],
    ['length', true, 'tool_calls'],
  ] as const)('%s (tool calls: %s) → %s', (doneReason, sawToolCalls, expected) => {
    expect(toFinishReason(doneReason, sawToolCalls)).toBe(expected);
  });
});

describe('toUnixSeconds', () => {
  const now = () => 1_700_000_000_999;
  it.each([
    ['2025-06-02T09:14:31.402914587Z', 1_748_855_671],
    ['2025-06-02T11:14:31.9+02:00', 1_748_855_671],
    ['2025-06-01T08:00:00Z', 1_748_764_800],
    ['0001-01-01T00:00:00Z', 1_700_000_000],
    ['not a date', 1_700_000_000],
    ['', 1_700_000_000],
  ])('%j → %d', (timestamp, expected) => {
    expect(toUnixSeconds(timestamp, now)).toBe(expected);
  });
});

describe('toUsage', () => {
  it('sums the counts and treats missing ones as 0', () => {
    expect(toUsage({ prompt_eval_count: 3, eval_count: 4 })).toStrictEqual({
      prompt_tokens: 3,
      completion_tokens: 4,
      total_tokens: 7,
    });
    expect(toUsage({ eval_count: 4 })).toStrictEqual({
      prompt_tokens: 0,
      completion_tokens: 4,
      total_tokens: 4,
    });
  });
});

describe('fromOllamaTags', () => {
  it('maps every model', () => {
    expect(fromOllamaTags(tagsFixture('ollama-tags.json'))).toStrictEqual([
      { id: 'llama3.2:3b', object: 'model', created: 1_746_876_121, owned_by: 'ollama' },
      { id: 'qwen3:8b', object: 'model', created: 1_748_764_800, owned_by: 'ollama' },
    ]);
  });

  it('gives created 0 for an unreadable date and an empty list for no models', () => {
    expect(fromOllamaTags({ models: [{ name: 'x', modified_at: 'yesterday' }] })).toStrictEqual([
      { id: 'x', object: 'model', created: 0, owned_by: 'ollama' },
    ]);
    expect(fromOllamaTags({ models: [] })).toStrictEqual([]);
  });
});
