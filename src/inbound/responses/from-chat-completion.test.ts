import { describe, expect, it } from 'vitest';
import type { ChatCompletion, ChatCompletionChoice } from '../../openai/chat-types.js';
import { toResponse } from './from-chat-completion.js';
import { createResponseShell } from './response-shell.js';
import { toChatTools } from './responses-tools.js';
import type { ResponsesRequest } from './responses-types.js';

const REQUEST: ResponsesRequest = {
  model: 'llama3.2',
  input: 'hi',
  tools: [
    { type: 'function', name: 'get_weather', parameters: { type: 'object' } },
    { type: 'custom', name: 'apply_patch' },
    {
      type: 'namespace',
      name: 'mcp__docs',
      tools: [{ type: 'function', name: 'search', parameters: { type: 'object' } }],
    },
  ],
  temperature: 0.5,
  metadata: { run: '1' },
};

function shellFor(request: ResponsesRequest = REQUEST) {
  const { catalogue } = toChatTools(request.tools, request.tool_choice);
  return createResponseShell(request, catalogue, {
    now: () => 1_700_000_000_500,
    generateId: () => 'abc',
  });
}

function completion(
  message: ChatCompletionChoice['message'],
  finishReason: ChatCompletionChoice['finish_reason'] = 'stop',
): ChatCompletion {
  return {
    id: 'chatcmpl-1',
    object: 'chat.completion',
    created: 1,
    model: 'llama3.2',
    choices: [{ index: 0, message, finish_reason: finishReason }],
    usage: {
      prompt_tokens: 10,
      completion_tokens: 5,
      total_tokens: 15,
      prompt_tokens_details: { cached_tokens: 4 },
      completion_tokens_details: { reasoning_tokens: 2 },
    },
  };
}

describe('toResponse', () => {
  it('builds a completed response that echoes the request', () => {
    const response = toResponse(completion({ role: 'assistant', content: 'Hello' }), shellFor());
    expect(response).toEqual({
      id: 'resp_abc',
      object: 'response',
      created_at: 1_700_000_000,
      completed_at: 1_700_000_000,
      status: 'completed',
      error: null,
      incomplete_details: null,
      model: 'llama3.2',
      instructions: null,
      max_output_tokens: null,
      metadata: { run: '1' },
      parallel_tool_calls: true,
      previous_response_id: null,
      reasoning: { effort: null, summary: null },
      store: false,
      temperature: 0.5,
      text: { format: { type: 'text' }, verbosity: 'medium' },
      tool_choice: 'auto',
      tools: REQUEST.tools,
      top_p: 1,
      truncation: 'disabled',
      background: false,
      output: [
        {
          type: 'message',
          id: 'msg_abc_0',
          status: 'completed',
          role: 'assistant',
          content: [{ type: 'output_text', text: 'Hello', annotations: [], logprobs: [] }],
        },
      ],
      usage: {
        input_tokens: 10,
        input_tokens_details: { cached_tokens: 4 },
        output_tokens: 5,
        output_tokens_details: { reasoning_tokens: 2 },
        total_tokens: 15,
      },
    });
  });

  it('lists reasoning, text and every call, mapping custom and namespaced tools back', () => {
    const response = toResponse(
      completion(
        {
          role: 'assistant',
          content: 'Calling.',
          reasoning_content: 'Think.',
          tool_calls: [
            {
              id: 'call_1',
              type: 'function',
              function: { name: 'get_weather', arguments: '{"city":"Oslo"}' },
            },
            {
              id: 'call_2',
              type: 'function',
              function: { name: 'apply_patch', arguments: '{"input":"*** Begin Patch\\n"}' },
            },
            { id: 'call_3', type: 'function', function: { name: 'search', arguments: '{}' } },
            { id: 'call_4', type: 'function', function: { name: 'invented', arguments: '{}' } },
          ],
        },
        'tool_calls',
      ),
      shellFor(),
    ) as { status: string; output: unknown[] };
    expect(response.status).toBe('completed');
    expect(response.output).toEqual([
      {
        type: 'reasoning',
        id: 'rs_abc_0',
        status: 'completed',
        summary: [],
        content: [{ type: 'reasoning_text', text: 'Think.' }],
      },
      expect.objectContaining({ type: 'message', id: 'msg_abc_1' }),
      {
        type: 'function_call',
        id: 'fc_abc_2',
        status: 'completed',
        call_id: 'call_1',
        name: 'get_weather',
        arguments: '{"city":"Oslo"}',
      },
      {
        type: 'custom_tool_call',
        id: 'ctc_abc_3',
        status: 'completed',
        call_id: 'call_2',
        name: 'apply_patch',
        input: '*** Begin Patch\n',
      },
      {
        type: 'function_call',
        id: 'fc_abc_4',
        status: 'completed',
        call_id: 'call_3',
        name: 'search',
        namespace: 'mcp__docs',
        arguments: '{}',
      },
      {
        type: 'function_call',
        id: 'fc_abc_5',
        status: 'completed',
        call_id: 'call_4',
        name: 'invented',
        arguments: '{}',
      },
    ]);
  });

  it('is incomplete after a length stop', () => {
    const response = toResponse(
      completion({ role: 'assistant', content: 'Hel' }, 'length'),
      shellFor(),
    ) as Record<string, unknown>;
    expect(response).toMatchObject({
      status: 'incomplete',
      incomplete_details: { reason: 'max_output_tokens' },
      output: [{ type: 'message', status: 'incomplete' }],
    });
    expect(response).not.toHaveProperty('completed_at');
  });

  it('writes no empty message, and a refusal as a refusal part', () => {
    const empty = toResponse(completion({ role: 'assistant', content: '' }), shellFor()) as {
      output: unknown[];
    };
    expect(empty.output).toEqual([]);
    const refused = toResponse(
      completion({ role: 'assistant', content: null, refusal: 'No.' }),
      shellFor(),
    ) as { output: unknown[] };
    expect(refused.output).toEqual([
      {
        type: 'message',
        id: 'msg_abc_0',
        status: 'completed',
        role: 'assistant',
        content: [{ type: 'refusal', refusal: 'No.' }],
      },
    ]);
  });

  it('takes a custom call whose arguments are not the wrapper as the raw text', () => {
    const response = toResponse(
      completion(
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            {
              id: 'c',
              type: 'function',
              function: { name: 'apply_patch', arguments: '*** Begin Patch' },
            },
          ],
        },
        'tool_calls',
      ),
      shellFor(),
    ) as { output: { input?: string }[] };
    expect(response.output[0]?.input).toBe('*** Begin Patch');
  });
});
