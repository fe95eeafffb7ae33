import { describe, expect, it } from 'vitest';
import { costNano, createPriceTable } from './price-table.js';

const prices = createPriceTable(
  new Map([
    ['llama-3.3-70b', { inputPerMillion: 0.85, outputPerMillion: 1.2 }],
    ['groq/llama-3.3-70b', { inputPerMillion: 0.59, outputPerMillion: 0.79 }],
    ['qwen3', { inputPerMillion: 2, outputPerMillion: 0.5 }],
  ]),
);

describe('the price table', () => {
  it('prices a deployment by provider/model first, then by the served model name', () => {
    expect(prices.priceOf('groq/llama-3.3-70b')).toEqual({
      inputPerMillion: 0.59,
      outputPerMillion: 0.79,
    });
    expect(prices.priceOf('cerebras/llama-3.3-70b')?.inputPerMillion).toBe(0.85);
    expect(prices.priceOf('ollama/unknown')).toBeUndefined();
    // A served name with a slash of its own (an Ollama namespace) keeps it.
    expect(prices.priceOf('ollama/library/qwen3')).toBeUndefined();
  });

  it('takes the dearest input and output price among the deployments that may serve', () => {
    expect(prices.worstCase(['groq/llama-3.3-70b', 'local/qwen3', 'x/none'])).toEqual({
      inputPerMillion: 2,
      outputPerMillion: 0.79,
    });
    expect(prices.worstCase(['x/none'])).toBeUndefined();
  });

  it('costs tokens in whole nano-dollars', () => {
    const price = { inputPerMillion: 0.85, outputPerMillion: 1.2 };
    // 1,000 input tokens at $0.85/M = $0.00085; 500 output at $1.2/M = $0.0006.
    expect(costNano(price, 1_000, 500)).toBe(1_450_000);
    expect(costNano(undefined, 1_000, 500)).toBe(0);
    expect(costNano(price, 1_000_000, 1_000_000)).toBe(2_050_000_000);
  });
});
