import { describe, expect, it } from 'vitest';
import { toCerebrasRequest } from './cerebras-provider.js';

describe('toCerebrasRequest', () => {
  it('drops the fields Cerebras rejects and keeps the rest', () => {
    expect(
      toCerebrasRequest({
        model: 'llama-3.3-70b',
        messages: [],
        frequency_penalty: 0.5,
        presence_penalty: 0.1,
        logit_bias: { '1': 2 },
        parallel_tool_calls: true,
        service_tier: 'auto',
        temperature: 0.2,
        seed: 3,
      }),
    ).toEqual({ model: 'llama-3.3-70b', messages: [], temperature: 0.2, seed: 3 });
  });

  it('renames max_tokens to max_completion_tokens', () => {
    expect(toCerebrasRequest({ model: 'm', max_tokens: 10 })).toEqual({
      model: 'm',
      max_completion_tokens: 10,
    });
  });

  it('prefers max_completion_tokens when both are sent', () => {
    expect(toCerebrasRequest({ model: 'm', max_tokens: 10, max_completion_tokens: 20 })).toEqual({
      model: 'm',
      max_completion_tokens: 20,
    });
  });

  it('does not invent a limit', () => {
    expect(toCerebrasRequest({ model: 'm', max_tokens: null })).toEqual({ model: 'm' });
  });
});
