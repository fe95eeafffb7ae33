import { describe, expect, it } from 'vitest';
import type { CountTokensRequest } from './anthropic-wire.js';
import { estimateInputTokens } from './estimate-input-tokens.js';

const request = (messages: CountTokensRequest['messages'], more = {}): CountTokensRequest => ({
  model: 'm',
  messages,
  ...more,
});

describe('estimateInputTokens', () => {
  it('is a quarter of the characters, rounded up', () => {
    expect(estimateInputTokens(request([{ role: 'user', content: 'abcde' }]))).toBe(2);
  });

  it('counts the system prompt, every block kind the upstream sees, tools, and 1,600 per image', () => {
    const tools = [{ name: 't', input_schema: { type: 'object' } }];
    const estimate = estimateInputTokens(
      request(
        [
          { role: 'user', content: [{ type: 'text', text: 'x'.repeat(40) }] },
          {
            role: 'assistant',
            content: [
              { type: 'thinking', thinking: 'y'.repeat(400) },
              { type: 'tool_use', id: 'a', name: 't', input: { k: 'v' } },
            ],
          },
          {
            role: 'user',
            content: [
              { type: 'tool_result', tool_use_id: 'a', content: 'z'.repeat(20) },
              {
                type: 'tool_result',
                tool_use_id: 'b',
                content: [{ type: 'text', text: 'w'.repeat(20) }, null],
              },
              { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'AAAA' } },
            ],
          },
        ] as CountTokensRequest['messages'],
        { system: [{ type: 'text', text: 's'.repeat(40) }], tools },
      ),
    );
    const characters = 40 + 40 + '{"k":"v"}'.length + 20 + 20 + JSON.stringify(tools).length;
    expect(estimate).toBe(Math.ceil(characters / 4) + 1_600);
  });

  it('grows with the prompt', () => {
    const small = estimateInputTokens(
      request([{ role: 'user', content: 'hi' }], { system: 'sys' }),
    );
    const large = estimateInputTokens(
      request([{ role: 'user', content: 'hi'.repeat(1_000) }], { system: 'sys' }),
    );
    expect(large).toBeGreaterThan(small);
  });
});
