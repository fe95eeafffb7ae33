import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isOllamaChatResponse, isOllamaErrorLine, isOllamaTagsResponse } from './ollama-wire.js';

function fixtureText(name: string): string {
  return readFileSync(new URL(`./__fixtures__/${name}`, import.meta.url), 'utf8');
}

function fixtureLines(name: string): unknown[] {
  return fixtureText(name)
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line));
}

const line = {
  model: 'llama3.2:3b',
  created_at: '2025-06-02T09:14:31.184322519Z',
  message: { role: 'assistant', content: 'Hi' },
  done: false,
};

describe('isOllamaChatResponse', () => {
  it('accepts every recorded response and stream line', () => {
    for (const name of [
      'ollama-chat-text.json',
      'ollama-chat-tool-calls.json',
      'ollama-chat-thinking.json',
    ]) {
      expect(isOllamaChatResponse(JSON.parse(fixtureText(name))), name).toBe(true);
    }
    for (const name of [
      'ollama-stream-text.ndjson',
      'ollama-stream-tool-calls.ndjson',
      'ollama-stream-thinking.ndjson',
      'ollama-stream-truncated.ndjson',
    ]) {
      for (const value of fixtureLines(name)) expect(isOllamaChatResponse(value), name).toBe(true);
    }
  });

  it.each([
    ['null', null],
    ['an array', [line]],
    ['a missing model', { ...line, model: undefined }],
    ['a numeric created_at', { ...line, created_at: 0 }],
    ['a string done', { ...line, done: 'true' }],
    ['a missing message', { ...line, message: undefined }],
    ['a null content', { ...line, message: { role: 'assistant', content: null } }],
    ['a missing role', { ...line, message: { content: 'Hi' } }],
    ['a null thinking', { ...line, message: { ...line.message, thinking: null } }],
    ['a numeric done_reason', { ...line, done: true, done_reason: 1 }],
    ['a negative count', { ...line, done: true, eval_count: -1 }],
    ['a fractional count', { ...line, done: true, prompt_eval_count: 1.5 }],
    ['tool_calls not an array', { ...line, message: { ...line.message, tool_calls: {} } }],
    [
      'string arguments (OpenAI style)',
      {
        ...line,
        message: { ...line.message, tool_calls: [{ function: { name: 'f', arguments: '{}' } }] },
      },
    ],
    [
      'array arguments',
      {
        ...line,
        message: { ...line.message, tool_calls: [{ function: { name: 'f', arguments: [] } }] },
      },
    ],
    [
      'a tool call without a name',
      { ...line, message: { ...line.message, tool_calls: [{ function: { arguments: {} } }] } },
    ],
    ['an error line', { error: 'boom' }],
  ])('rejects %s', (_label, value) => {
    expect(isOllamaChatResponse(value)).toBe(false);
  });
});

describe('isOllamaErrorLine', () => {
  it('accepts {error: string} only', () => {
    expect(isOllamaErrorLine(fixtureLines('ollama-stream-error.ndjson').at(-1))).toBe(true);
    expect(isOllamaErrorLine({ error: '' })).toBe(true);
    expect(isOllamaErrorLine({ error: { message: 'x' } })).toBe(false);
    expect(isOllamaErrorLine(line)).toBe(false);
    expect(isOllamaErrorLine('error')).toBe(false);
    expect(isOllamaErrorLine(null)).toBe(false);
  });
});

describe('isOllamaTagsResponse', () => {
  it('accepts the recorded listing and rejects other shapes', () => {
    expect(isOllamaTagsResponse(JSON.parse(fixtureText('ollama-tags.json')))).toBe(true);
    expect(isOllamaTagsResponse({ models: [] })).toBe(true);
    expect(isOllamaTagsResponse({})).toBe(false);
    expect(isOllamaTagsResponse({ models: {} })).toBe(false);
    expect(isOllamaTagsResponse({ models: [{ name: 'x' }] })).toBe(false);
    expect(isOllamaTagsResponse({ models: [{ modified_at: '2025-01-01T00:00:00Z' }] })).toBe(false);
    expect(isOllamaTagsResponse({ models: [null] })).toBe(false);
  });
});
