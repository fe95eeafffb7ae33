import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../errors/gateway-error.js';
import type { ChatRequest, ResponseFormat } from '../../openai/chat-types.js';
import { toOllamaChatRequest, toOllamaFormat, toOllamaThink } from './to-ollama-request.js';

const base: ChatRequest = { model: 'llama3.2:3b', messages: [{ role: 'user', content: 'Hi' }] };

function rejection(request: ChatRequest): ValidationError {
  try {
    toOllamaChatRequest(request, false);
  } catch (error) {
    if (error instanceof ValidationError) return error;
    throw error;
  }
  throw new Error('expected a ValidationError');
}

const PNG_BASE64 =
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';

describe('toOllamaChatRequest', () => {
  it('maps a minimal request and always sets stream', () => {
    expect(toOllamaChatRequest(base, false)).toStrictEqual({
      model: 'llama3.2:3b',
      messages: [{ role: 'user', content: 'Hi' }],
      stream: false,
    });
    expect(toOllamaChatRequest({ ...base, stream: false }, true).stream).toBe(true);
  });

  it('maps roles, content parts, images, tool calls, tool results and reasoning', () => {
    const request: ChatRequest = {
      model: 'qwen3:8b',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'developer', content: [{ type: 'text', text: 'Use metric units.' }] },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is in this picture?' },
            { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG_BASE64}` } },
            { type: 'text', text: 'And the weather in Paris?' },
          ],
          name: 'ada',
        },
        {
          role: 'assistant',
          content: null,
          reasoning_content: 'I need the weather tool.',
          tool_calls: [
            {
              id: 'call_a',
              type: 'function',
              function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
            },
            { id: 'call_b', type: 'function', function: { name: 'get_time', arguments: '' } },
          ],
        },
        { role: 'tool', tool_call_id: 'call_b', content: '10:00' },
        { role: 'tool', tool_call_id: 'call_a', content: [{ type: 'text', text: '21 °C' }] },
        { role: 'tool', tool_call_id: 'call_unknown', content: 'orphan' },
        { role: 'assistant', content: 'A pixel; 21 °C at 10:00.', reasoning_content: '' },
      ],
    };
    expect(toOllamaChatRequest(request, true)).toStrictEqual({
      model: 'qwen3:8b',
      stream: true,
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'system', content: 'Use metric units.' },
        {
          role: 'user',
          content: 'What is in this picture?\nAnd the weather in Paris?',
          images: [PNG_BASE64],
        },
        {
          role: 'assistant',
          content: '',
          thinking: 'I need the weather tool.',
          tool_calls: [
            { function: { name: 'get_weather', arguments: { city: 'Paris' } } },
            { function: { name: 'get_time', arguments: {} } },
          ],
        },
        { role: 'tool', content: '10:00', tool_name: 'get_time' },
        { role: 'tool', content: '21 °C', tool_name: 'get_weather' },
        { role: 'tool', content: 'orphan' },
        { role: 'assistant', content: 'A pixel; 21 °C at 10:00.' },
      ],
    });
  });

  it('maps sampling parameters into options, preferring max_completion_tokens', () => {
    const request: ChatRequest = {
      ...base,
      max_completion_tokens: 100,
      max_tokens: 50,
      temperature: 0,
      top_p: 0.9,
      seed: 42,
      stop: 'END',
      frequency_penalty: 0.5,
      presence_penalty: -0.5,
    };
    expect(toOllamaChatRequest(request, false).options).toStrictEqual({
      num_predict: 100,
      temperature: 0,
      top_p: 0.9,
      seed: 42,
      stop: ['END'],
      frequency_penalty: 0.5,
      presence_penalty: -0.5,
    });
    expect(
      toOllamaChatRequest(
        { ...base, max_completion_tokens: null, max_tokens: 50, stop: ['a', 'b'] },
        false,
      ).options,
    ).toStrictEqual({ num_predict: 50, stop: ['a', 'b'] });
  });

  it('omits options when every parameter is absent, null or an empty stop list', () => {
    const request: ChatRequest = {
      ...base,
      max_tokens: null,
      temperature: null,
      top_p: null,
      seed: null,
      stop: [],
      frequency_penalty: null,
      presence_penalty: null,
    };
    expect('options' in toOllamaChatRequest(request, false)).toBe(false);
  });

  it('maps response_format to format', () => {
    const schema = { type: 'object', properties: { answer: { type: 'string' } } };
    const format = (response_format: ResponseFormat) =>
      toOllamaChatRequest({ ...base, response_format }, false).format;
    expect(format({ type: 'json_object' })).toBe('json');
    expect(format({ type: 'json_schema', json_schema: { name: 'answer', schema } })).toEqual(
      schema,
    );
    expect(format({ type: 'json_schema', json_schema: { name: 'anything' } })).toBe('json');
    expect(
      'format' in toOllamaChatRequest({ ...base, response_format: { type: 'text' } }, false),
    ).toBe(false);
    expect(toOllamaFormat(null)).toBeUndefined();
  });

  it('maps tools, dropping strict, and honours tool_choice auto and none', () => {
    const tools: ChatRequest['tools'] = [
      {
        type: 'function',
        function: {
          name: 'get_weather',
          description: 'Weather for a city',
          parameters: { type: 'object', properties: { city: { type: 'string' } } },
          strict: true,
        },
      },
      { type: 'function', function: { name: 'get_time' } },
    ];
    const expected = [
      {
        type: 'function',
        function: {
          name: 'get_weather',
          description: 'Weather for a city',
          parameters: { type: 'object', properties: { city: { type: 'string' } } },
        },
      },
      { type: 'function', function: { name: 'get_time' } },
    ];
    expect(toOllamaChatRequest({ ...base, tools }, false).tools).toStrictEqual(expected);
    expect(toOllamaChatRequest({ ...base, tools, tool_choice: 'auto' }, false).tools).toStrictEqual(
      expected,
    );
    expect('tools' in toOllamaChatRequest({ ...base, tools, tool_choice: 'none' }, false)).toBe(
      false,
    );
    expect('tools' in toOllamaChatRequest({ ...base, tools: [] }, false)).toBe(false);
  });

  it('maps reasoning_effort to think', () => {
    expect(toOllamaChatRequest({ ...base, reasoning_effort: 'high' }, false).think).toBe('high');
    expect(toOllamaChatRequest({ ...base, reasoning_effort: 'none' }, false).think).toBe(false);
    expect('think' in toOllamaChatRequest({ ...base, reasoning_effort: null }, false)).toBe(false);
    expect(toOllamaThink('none')).toBe(false);
    expect(toOllamaThink('minimal')).toBe('low');
    expect(toOllamaThink('low')).toBe('low');
    expect(toOllamaThink('medium')).toBe('medium');
    expect(toOllamaThink('high')).toBe('high');
    expect(toOllamaThink(undefined)).toBeUndefined();
  });

  it('ignores fields that need no translation', () => {
    const request: ChatRequest = {
      ...base,
      n: 1,
      logprobs: false,
      top_logprobs: 0,
      logit_bias: {},
      parallel_tool_calls: false,
      stream_options: { include_usage: true },
      user: 'user-1',
      service_tier: 'auto',
      api_base: 'http://evil.example',
    };
    expect(toOllamaChatRequest(request, false)).toStrictEqual({
      model: 'llama3.2:3b',
      messages: [{ role: 'user', content: 'Hi' }],
      stream: false,
    });
  });

  it.each([
    [{ n: 2 }, 'n'],
    [{ logprobs: true }, 'logprobs'],
    [{ top_logprobs: 3 }, 'top_logprobs'],
    [{ logit_bias: { '50256': -100 } }, 'logit_bias'],
    [{ tool_choice: 'required' }, 'tool_choice'],
    [{ tool_choice: { type: 'function', function: { name: 'get_time' } } }, 'tool_choice'],
  ] as const)('rejects what Ollama cannot honour: %j', (fields, param) => {
    const error = rejection({ ...base, ...fields });
    expect(error).toMatchObject({ status: 422, code: 'validation_error', param });
  });

  it('rejects remote image URLs and malformed data URLs, naming the part', () => {
    const withImage = (url: string): ChatRequest => ({
      ...base,
      messages: [
        { role: 'system', content: 'x' },
        { role: 'user', content: 'y' },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'look' },
            { type: 'image_url', image_url: { url } },
          ],
        },
      ],
    });
    const remote = rejection(withImage('https://example.com/cat.png'));
    expect(remote.param).toBe('messages[2].content[1].image_url.url');
    expect(remote.message).toContain('not remote URLs');
    const malformed = rejection(withImage('data:text/plain;base64,aGVsbG8='));
    expect(malformed.param).toBe('messages[2].content[1].image_url.url');
    expect(malformed.message).toContain('data:image/<type>;base64,<data>');
    expect(rejection(withImage('data:image/png;base64,')).param).toBe(
      'messages[2].content[1].image_url.url',
    );
  });

  it('rejects content parts Ollama cannot take', () => {
    const error = rejection({
      ...base,
      messages: [{ role: 'user', content: [{ type: 'input_audio' }] }],
    });
    expect(error.param).toBe('messages[0].content[0].type');
  });

  it.each([
    ['{"city":', 'invalid JSON'],
    ['["Paris"]', 'an array'],
    ['"Paris"', 'a string'],
    ['null', 'null'],
  ])('rejects tool call arguments %j (%s)', (text) => {
    const error = rejection({
      ...base,
      messages: [
        { role: 'user', content: 'Weather?' },
        {
          role: 'assistant',
          content: '',
          tool_calls: [
            { id: 'call_1', type: 'function', function: { name: 'a', arguments: '{}' } },
            { id: 'call_2', type: 'function', function: { name: 'b', arguments: text } },
          ],
        },
      ],
    });
    expect(error).toMatchObject({
      status: 422,
      param: 'messages[1].tool_calls[1].function.arguments',
      message: 'Tool call arguments must be a JSON object string.',
    });
  });
});
