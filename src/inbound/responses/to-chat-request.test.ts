import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../errors/gateway-error.js';
import type { ResponsesRequest } from './responses-types.js';
import { toChatRequest } from './to-chat-request.js';

const TOOLS = [
  { type: 'function', name: 'shell', parameters: { type: 'object' } },
  { type: 'custom', name: 'apply_patch', description: 'Edit files.' },
  {
    type: 'namespace',
    name: 'mcp__docs',
    description: 'Docs',
    tools: [{ type: 'function', name: 'search', parameters: { type: 'object' } }],
  },
  { type: 'web_search' },
];

function errorOf(run: () => unknown): GatewayError {
  try {
    run();
  } catch (error) {
    if (error instanceof GatewayError) return error;
    throw error;
  }
  throw new Error('expected a GatewayError');
}

describe('toChatRequest', () => {
  it('takes a string input as one user message', () => {
    const { request } = toChatRequest({ model: 'm', input: 'hi' });
    expect(request).toEqual({ model: 'm', messages: [{ role: 'user', content: 'hi' }] });
  });

  it('maps the sampling, length, format and reasoning parameters', () => {
    const { request } = toChatRequest({
      model: 'm',
      input: 'hi',
      instructions: 'Be brief.',
      max_output_tokens: 64,
      temperature: 0.2,
      top_p: 0.9,
      text: {
        format: { type: 'json_schema', name: 'answer', schema: { type: 'object' }, strict: true },
        verbosity: 'low',
      },
      reasoning: { effort: 'high', summary: 'auto' },
      store: false,
      include: ['reasoning.encrypted_content'],
      prompt_cache_key: 'abc',
      client_metadata: { session: 'x' },
    });
    expect(request).toEqual({
      model: 'm',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'hi' },
      ],
      max_completion_tokens: 64,
      temperature: 0.2,
      top_p: 0.9,
      response_format: {
        type: 'json_schema',
        json_schema: { name: 'answer', schema: { type: 'object' }, strict: true },
      },
      reasoning_effort: 'high',
    });
  });

  it('maps json_object, and leaves a text format and an unknown effort out', () => {
    expect(
      toChatRequest({ model: 'm', input: 'x', text: { format: { type: 'json_object' } } }).request
        .response_format,
    ).toEqual({ type: 'json_object' });
    const plain = toChatRequest({
      model: 'm',
      input: 'x',
      text: { format: { type: 'text' } },
      reasoning: { effort: 'ultra' },
    }).request;
    expect(plain).not.toHaveProperty('response_format');
    expect(plain).not.toHaveProperty('reasoning_effort');
  });

  it('translates a Codex-shaped turn: developer prompt, tools of every type, history', () => {
    const translation = toChatRequest({
      model: 'gpt-oss',
      instructions: 'You are Codex.',
      input: [
        {
          type: 'message',
          role: 'developer',
          content: [{ type: 'input_text', text: 'Sandbox: none' }],
        },
        {
          type: 'message',
          role: 'user',
          content: [
            { type: 'input_text', text: '# AGENTS.md' },
            { type: 'input_text', text: 'Fix the bug.' },
          ],
        },
        { type: 'reasoning', id: 'rs_1', summary: [], encrypted_content: 'opaque' },
        {
          type: 'message',
          role: 'assistant',
          content: [{ type: 'output_text', text: 'Looking.' }],
        },
        { type: 'function_call', call_id: 'c1', name: 'shell', arguments: '{"cmd":"ls"}' },
        {
          type: 'function_call',
          call_id: 'c2',
          name: 'search',
          namespace: 'mcp__docs',
          arguments: '{}',
        },
        { type: 'custom_tool_call', call_id: 'c3', name: 'apply_patch', input: '*** Begin Patch' },
        { type: 'function_call_output', call_id: 'c1', output: 'a.txt' },
        {
          type: 'function_call_output',
          call_id: 'c2',
          output: [{ type: 'input_text', text: 'doc' }],
        },
        { type: 'custom_tool_call_output', call_id: 'c3', output: 'Done!' },
      ],
      tools: TOOLS,
      tool_choice: 'auto',
      parallel_tool_calls: true,
      store: false,
      stream: true,
    } as ResponsesRequest);
    expect(translation.request.messages).toEqual([
      { role: 'system', content: 'You are Codex.' },
      { role: 'system', content: 'Sandbox: none' },
      { role: 'user', content: '# AGENTS.md\nFix the bug.' },
      {
        role: 'assistant',
        content: 'Looking.',
        tool_calls: [
          { id: 'c1', type: 'function', function: { name: 'shell', arguments: '{"cmd":"ls"}' } },
          { id: 'c2', type: 'function', function: { name: 'search', arguments: '{}' } },
          {
            id: 'c3',
            type: 'function',
            function: { name: 'apply_patch', arguments: '{"input":"*** Begin Patch"}' },
          },
        ],
      },
      { role: 'tool', tool_call_id: 'c1', content: 'a.txt' },
      { role: 'tool', tool_call_id: 'c2', content: 'doc' },
      { role: 'tool', tool_call_id: 'c3', content: 'Done!' },
    ]);
    expect(translation.request.tools?.map((tool) => tool.function.name)).toEqual([
      'shell',
      'apply_patch',
      'search',
    ]);
    expect(translation.request.tool_choice).toBe('auto');
    expect(translation.request.parallel_tool_calls).toBe(true);
    expect(translation.droppedTools).toEqual(['web_search']);
    expect(translation.droppedItems).toEqual(['reasoning']);
    expect(translation.request).not.toHaveProperty('stream');
    expect(translation.request).not.toHaveProperty('store');
  });

  it('starts an assistant turn for calls that follow a tool result', () => {
    const { request } = toChatRequest({
      model: 'm',
      input: [
        { role: 'user', content: 'go' },
        { type: 'function_call', call_id: 'a', name: 'f', arguments: '{}' },
        { type: 'function_call_output', call_id: 'a', output: 'ok' },
        { type: 'function_call', call_id: 'b', name: 'f', arguments: '{}' },
      ],
    });
    expect(request.messages.map((message) => message.role)).toEqual([
      'user',
      'assistant',
      'tool',
      'assistant',
    ]);
  });

  it('keeps images as parts and names images a tool returned', () => {
    const { request } = toChatRequest({
      model: 'm',
      input: [
        {
          role: 'user',
          content: [
            { type: 'input_text', text: 'What is this?' },
            { type: 'input_image', image_url: 'data:image/png;base64,AAAA', detail: 'low' },
          ],
        },
        { type: 'function_call', call_id: 'v', name: 'view_image', arguments: '{}' },
        {
          type: 'function_call_output',
          call_id: 'v',
          output: [{ type: 'input_image', image_url: 'data:image/png;base64,AAAA' }],
        },
      ],
    });
    expect(request.messages[0]?.content).toEqual([
      { type: 'text', text: 'What is this?' },
      { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA', detail: 'low' } },
    ]);
    expect(request.messages[2]?.content).toBe('[input_image omitted]');
  });

  it.each([
    [{ previous_response_id: 'resp_1' }, 'previous_response_id'],
    [{ conversation: 'conv_1' }, 'conversation'],
    [{ conversation: { id: 'conv_1' } }, 'conversation'],
    [{ input: [{ type: 'item_reference', id: 'msg_1' }] }, 'input[0]'],
  ])('refuses stored state %j: 400 previous_response_not_found', (fields, param) => {
    const error = errorOf(() => toChatRequest({ model: 'm', input: 'hi', ...fields }));
    expect({ status: error.status, code: error.code, param: error.param }).toEqual({
      status: 400,
      code: 'previous_response_not_found',
      param,
    });
  });

  it('takes an empty previous_response_id or a null conversation as none', () => {
    expect(() =>
      toChatRequest({ model: 'm', input: 'hi', previous_response_id: '', conversation: null }),
    ).not.toThrow();
  });

  it.each([
    [{ role: 'tool', content: 'x' }, 'input[0].role'],
    [{ role: 'constructor', content: 'x' }, 'input[0].role'],
    [{ role: 'user' }, 'input[0].content'],
    [{ role: 'user', content: [{ type: 'input_file', file_id: 'f' }] }, 'input[0].content[0].type'],
    [
      { role: 'user', content: [{ type: 'input_image', file_id: 'f' }] },
      'input[0].content[0].type',
    ],
    [{ type: 'function_call', name: 'f', arguments: '{}' }, 'input[0].call_id'],
    [{ type: 'function_call_output', call_id: 'a', output: 3 }, 'input[0].output'],
    [{ type: 'custom_tool_call', call_id: 'a', name: 'f' }, 'input[0].input'],
  ])('refuses the malformed item %j with a 422 naming %s', (item, param) => {
    const error = errorOf(() =>
      toChatRequest({ model: 'm', input: [item] } as unknown as ResponsesRequest),
    );
    expect({ status: error.status, code: error.code, param: error.param }).toEqual({
      status: 422,
      code: 'validation_error',
      param,
    });
  });

  it('leaves unknown item types out and reads instructions given as items', () => {
    const translation = toChatRequest({
      model: 'm',
      instructions: [{ role: 'developer', content: 'Rules.' }],
      input: [
        { type: 'web_search_call', id: 'ws' },
        { role: 'user', content: 'hi' },
      ],
    });
    expect(translation.request.messages).toEqual([
      { role: 'system', content: 'Rules.' },
      { role: 'user', content: 'hi' },
    ]);
    expect(translation.droppedItems).toEqual(['web_search_call']);
  });
});
