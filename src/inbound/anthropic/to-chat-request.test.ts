import { describe, expect, it } from 'vitest';
import type { MessagesRequest } from './anthropic-wire.js';
import { droppedToolNames, toChatRequest, withoutAttribution } from './to-chat-request.js';

const base = { model: 'claude-sonnet-4-5', max_tokens: 1024 } as const;
const WEATHER = {
  name: 'get_weather',
  description: 'Weather for a city',
  input_schema: { type: 'object', properties: { city: { type: 'string' } } },
  cache_control: { type: 'ephemeral' },
};

function translate(request: Record<string, unknown>) {
  return toChatRequest({ ...base, messages: [], ...request } as MessagesRequest);
}

describe('toChatRequest', () => {
  it('maps the sampling fields and leaves out what no upstream takes', () => {
    const chat = translate({
      messages: [{ role: 'user', content: 'hi' }],
      stop_sequences: ['###'],
      temperature: 0.5,
      top_p: 0.9,
      top_k: 40,
      stream: true,
      metadata: { user_id: '{"session":"x"}' },
      thinking: { type: 'enabled', budget_tokens: 2048 },
      context_management: { edits: [] },
    });
    expect(chat).toEqual({
      model: 'claude-sonnet-4-5',
      max_tokens: 1024,
      messages: [{ role: 'user', content: 'hi' }],
      stop: ['###'],
      temperature: 0.5,
      top_p: 0.9,
    });
  });

  it('makes one system message of the system blocks, without the attribution line', () => {
    const chat = translate({
      system: [
        {
          type: 'text',
          text: 'x-anthropic-billing-header: cc_version=2.0.1.abc; cc_entrypoint=cli;',
        },
        { type: 'text', text: 'You are Claude Code.', cache_control: { type: 'ephemeral' } },
        { type: 'text', text: '' },
        { type: 'text', text: 'Be brief.' },
      ],
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(chat.messages[0]).toEqual({
      role: 'system',
      content: 'You are Claude Code.\n\nBe brief.',
    });
  });

  it('strips the attribution line from a system string and keeps what follows it', () => {
    expect(withoutAttribution('x-anthropic-billing-header: cch=1;\n\nYou are helpful.')).toBe(
      'You are helpful.',
    );
    expect(withoutAttribution('x-anthropic-billing-header: cch=1;')).toBe('');
    expect(withoutAttribution('You are helpful.\nx-anthropic-billing-header: a')).toBe(
      'You are helpful.\nx-anthropic-billing-header: a',
    );
  });

  it('takes a role: system message as system text where it stands', () => {
    const chat = translate({
      messages: [
        { role: 'user', content: 'hi' },
        { role: 'system', content: [{ type: 'text', text: 'Reminder: be brief.' }] },
        { role: 'system', content: '' },
        { role: 'user', content: 'again' },
      ],
    });
    expect(chat.messages).toEqual([
      { role: 'user', content: 'hi' },
      { role: 'system', content: 'Reminder: be brief.' },
      { role: 'user', content: 'again' },
    ]);
  });

  it('translates a tool-use round trip: calls with JSON arguments, results as tool messages first', () => {
    const chat = translate({
      tools: [WEATHER],
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'Weather in Paris and Rome?' }] },
        {
          role: 'assistant',
          content: [
            { type: 'thinking', thinking: 'I need the tool.', signature: 'sig' },
            { type: 'redacted_thinking', data: 'xyz' },
            { type: 'text', text: 'Checking.' },
            { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Paris' } },
            { type: 'tool_use', id: 'toolu_2', name: 'get_weather', input: { city: 'Rome' } },
          ],
        },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 'toolu_1', content: 'Sunny' },
            {
              type: 'tool_result',
              tool_use_id: 'toolu_2',
              is_error: true,
              content: [{ type: 'text', text: 'Service down' }],
            },
            { type: 'text', text: 'Thanks' },
          ],
        },
      ],
    });
    expect(chat.messages).toEqual([
      { role: 'user', content: 'Weather in Paris and Rome?' },
      {
        role: 'assistant',
        content: 'Checking.',
        tool_calls: [
          {
            id: 'toolu_1',
            type: 'function',
            function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
          },
          {
            id: 'toolu_2',
            type: 'function',
            function: { name: 'get_weather', arguments: '{"city":"Rome"}' },
          },
        ],
      },
      { role: 'tool', tool_call_id: 'toolu_1', content: 'Sunny' },
      { role: 'tool', tool_call_id: 'toolu_2', content: 'Error: Service down' },
      { role: 'user', content: 'Thanks' },
    ]);
    expect(chat.tools).toEqual([
      {
        type: 'function',
        function: {
          name: 'get_weather',
          description: 'Weather for a city',
          parameters: WEATHER.input_schema,
        },
      },
    ]);
  });

  it('sends images as image_url parts (base64 as data URLs), those of tool results after them', () => {
    const chat = translate({
      messages: [
        {
          role: 'user',
          content: [
            {
              type: 'tool_result',
              tool_use_id: 'toolu_1',
              content: [{ type: 'image', source: { type: 'url', url: 'https://x.test/a.png' } }],
            },
            { type: 'text', text: 'What is this?' },
            { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBOR' } },
            { type: 'image', source: { type: 'file', file_id: 'file_1' } },
            { type: 'document', source: { type: 'text', data: 'ignored' } },
          ],
        },
      ],
    });
    expect(chat.messages).toEqual([
      { role: 'tool', tool_call_id: 'toolu_1', content: '' },
      {
        role: 'user',
        content: [
          { type: 'image_url', image_url: { url: 'https://x.test/a.png' } },
          { type: 'text', text: 'What is this?' },
          { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBOR' } },
        ],
      },
    ]);
  });

  it('drops empty text blocks and messages left empty, and an assistant turn of thinking only', () => {
    const chat = translate({
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: '' },
            { type: 'text', text: 'hi' },
          ],
        },
        {
          role: 'assistant',
          content: [
            { type: 'thinking', thinking: 'hmm' },
            { type: 'text', text: '' },
          ],
        },
        { role: 'assistant', content: '' },
        {
          role: 'user',
          content: [
            { type: 'text', text: '' },
            { type: 'mystery', text: 'x' },
          ],
        },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'a' },
            { type: 'text', text: 'b' },
          ],
        },
      ],
    });
    expect(chat.messages).toEqual([
      { role: 'user', content: 'hi' },
      { role: 'user', content: 'a\nb' },
    ]);
  });

  it.each([
    [{ type: 'auto' }, 'auto', undefined],
    [{ type: 'any' }, 'required', undefined],
    [{ type: 'none' }, 'none', undefined],
    [
      { type: 'tool', name: 'get_weather', disable_parallel_tool_use: true },
      { type: 'function', function: { name: 'get_weather' } },
      false,
    ],
    [{ type: 'auto', disable_parallel_tool_use: true }, 'auto', false],
    [{ type: 'something_new' }, undefined, undefined],
  ])('maps tool_choice %j', (choice, toolChoice, parallel) => {
    const chat = translate({
      tools: [WEATHER],
      tool_choice: choice,
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(chat.tool_choice).toEqual(toolChoice);
    expect(chat.parallel_tool_calls).toEqual(parallel);
  });

  it('leaves out Anthropic-defined tools, and tool_choice when no tool is left', () => {
    const request = {
      tools: [
        { type: 'web_search_20250305', name: 'web_search', max_uses: 5 },
        { type: 'bash_20250124', name: 'bash' },
      ],
      tool_choice: { type: 'any' },
      messages: [{ role: 'user', content: 'hi' }],
    };
    const chat = translate(request);
    expect(chat.tools).toBeUndefined();
    expect(chat.tool_choice).toBeUndefined();
    expect(droppedToolNames(request)).toEqual(['web_search', 'bash']);
  });

  it('never throws on odd blocks inside a tool result', () => {
    const chat = translate({
      messages: [
        {
          role: 'user',
          content: [
            {
              type: 'tool_result',
              tool_use_id: 't',
              content: [null, 3, { type: 'text', text: 'ok' }],
            },
          ],
        },
      ],
    });
    expect(chat.messages).toEqual([{ role: 'tool', tool_call_id: 't', content: 'ok' }]);
  });
});
