import { describe, expect, it } from 'vitest';
import { UpstreamError } from '../../errors/gateway-error.js';
import type { AssistantMessage, ChatCompletion, FinishReason } from '../../openai/chat-types.js';
import { toAnthropicMessage } from './to-anthropic-message.js';

const OPTIONS = { id: 'msg_1', model: 'claude-local', stopSequences: [] };

function completion(
  message: Partial<AssistantMessage> & Record<string, unknown>,
  finishReason: FinishReason | null = 'stop',
  extra: Record<string, unknown> = {},
): ChatCompletion {
  return {
    id: 'chatcmpl-1',
    object: 'chat.completion',
    created: 1,
    model: 'upstream',
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: null, ...message },
        finish_reason: finishReason,
        ...extra,
      },
    ],
    usage: { prompt_tokens: 20, completion_tokens: 5, total_tokens: 25 },
  };
}

describe('toAnthropicMessage', () => {
  it('answers text with the client’s model name and usage with all four keys', () => {
    expect(toAnthropicMessage(completion({ content: 'Hello' }), OPTIONS)).toEqual({
      id: 'msg_1',
      type: 'message',
      role: 'assistant',
      model: 'claude-local',
      content: [{ type: 'text', text: 'Hello' }],
      stop_reason: 'end_turn',
      stop_sequence: null,
      usage: {
        input_tokens: 20,
        output_tokens: 5,
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: 0,
      },
    });
  });

  it('puts thinking first, never an empty text block, and tool calls as tool_use with parsed input', () => {
    const message = toAnthropicMessage(
      completion(
        {
          content: '',
          reasoning_content: 'Use the tool.',
          tool_calls: [
            { id: 'call_1', type: 'function', function: { name: 'ls', arguments: '{"path":"."}' } },
            { id: '', type: 'function', function: { name: 'now', arguments: '' } },
          ],
        },
        // Ollama says stop for a tool call.
        'stop',
      ),
      OPTIONS,
    );
    expect(message.content).toEqual([
      { type: 'thinking', thinking: 'Use the tool.', signature: '' },
      { type: 'tool_use', id: 'call_1', name: 'ls', input: { path: '.' } },
      { type: 'tool_use', id: expect.stringMatching(/^toolu_/), name: 'now', input: {} },
    ]);
    expect(message.stop_reason).toBe('tool_use');
  });

  it('reads reasoning from a `reasoning` field too', () => {
    const message = toAnthropicMessage(completion({ content: 'x', reasoning: 'why' }), OPTIONS);
    expect(message.content[0]).toEqual({ type: 'thinking', thinking: 'why', signature: '' });
  });

  it('fails (502) on tool arguments that are not a JSON object rather than inventing an input', () => {
    const bad = completion({
      tool_calls: [{ id: 'c', type: 'function', function: { name: 'ls', arguments: '{"path":' } }],
    });
    expect(() => toAnthropicMessage(bad, OPTIONS)).toThrow(UpstreamError);
  });

  it.each([
    ['length', 'max_tokens'],
    ['content_filter', 'refusal'],
    [null, 'end_turn'],
  ] as const)('maps finish_reason %s to %s', (finishReason, stopReason) => {
    const message = toAnthropicMessage(completion({ content: 'x' }, finishReason), OPTIONS);
    expect(message.stop_reason).toBe(stopReason);
  });

  it('reports a refusal as its text with stop_reason refusal', () => {
    const message = toAnthropicMessage(completion({ refusal: 'I cannot help.' }), OPTIONS);
    expect(message.content).toEqual([{ type: 'text', text: 'I cannot help.' }]);
    expect(message.stop_reason).toBe('refusal');
  });

  it('names the stop sequence the upstream reported, or that the text ends with', () => {
    const options = { ...OPTIONS, stopSequences: ['STOP', '###'] };
    const vllm = toAnthropicMessage(
      completion({ content: 'a' }, 'stop', { stop_reason: '###' }),
      options,
    );
    expect([vllm.stop_reason, vllm.stop_sequence]).toEqual(['stop_sequence', '###']);
    const kept = toAnthropicMessage(completion({ content: 'a STOP' }), options);
    expect([kept.stop_reason, kept.stop_sequence]).toEqual(['stop_sequence', 'STOP']);
    const other = toAnthropicMessage(
      completion({ content: 'a' }, 'stop', { stop_reason: 7 }),
      options,
    );
    expect([other.stop_reason, other.stop_sequence]).toEqual(['end_turn', null]);
  });

  it('moves cached tokens out of input_tokens', () => {
    const cached = {
      ...completion({ content: 'x' }),
      usage: {
        prompt_tokens: 100,
        completion_tokens: 1,
        total_tokens: 101,
        prompt_tokens_details: { cached_tokens: 80 },
      },
    };
    expect(toAnthropicMessage(cached, OPTIONS).usage).toEqual({
      input_tokens: 20,
      output_tokens: 1,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 80,
    });
  });
});
