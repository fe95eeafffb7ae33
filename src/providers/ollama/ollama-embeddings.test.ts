import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../errors/gateway-error.js';
import {
  fromOllamaEmbedResponse,
  isOllamaEmbedResponse,
  toBase64Float32,
  toOllamaEmbedRequest,
} from './ollama-embeddings.js';

const response = {
  model: 'nomic-embed-text',
  embeddings: [
    [0.5, -1.25],
    [2, 0],
  ],
  prompt_eval_count: 7,
};

describe('Ollama embeddings', () => {
  it('maps the request, keeping text and dimensions', () => {
    expect(toOllamaEmbedRequest({ model: 'm', input: ['a', 'b'], dimensions: 2 })).toEqual({
      model: 'm',
      input: ['a', 'b'],
      dimensions: 2,
    });
    expect(toOllamaEmbedRequest({ model: 'm', input: 'a', encoding_format: 'base64' })).toEqual({
      model: 'm',
      input: 'a',
    });
  });

  it.each([[[1, 2, 3]], [[[1, 2], [3]]]])('rejects token ids with a 422 on input (%j)', (input) => {
    let error: unknown;
    try {
      toOllamaEmbedRequest({ model: 'm', input });
    } catch (thrown) {
      error = thrown;
    }
    expect(error).toBeInstanceOf(GatewayError);
    expect(error).toMatchObject({ status: 422, param: 'input' });
  });

  it('maps floats with indexes and usage', () => {
    expect(fromOllamaEmbedResponse(response, 'float', 2)).toEqual({
      object: 'list',
      data: [
        { object: 'embedding', index: 0, embedding: [0.5, -1.25] },
        { object: 'embedding', index: 1, embedding: [2, 0] },
      ],
      model: 'nomic-embed-text',
      usage: { prompt_tokens: 7, total_tokens: 7 },
    });
  });

  it('encodes base64 as little-endian float32, the way OpenAI does', () => {
    const encoded = fromOllamaEmbedResponse(response, 'base64', 2).data[0]?.embedding as string;
    const bytes = Buffer.from(encoded, 'base64');
    expect(bytes.length).toBe(8);
    expect([bytes.readFloatLE(0), bytes.readFloatLE(4)]).toEqual([0.5, -1.25]);
    expect(toBase64Float32([1])).toBe('AACAPw==');
  });

  it('fails when the count of vectors does not match the inputs', () => {
    expect(() => fromOllamaEmbedResponse(response, 'float', 3)).toThrow(/2 embeddings for 3/);
  });

  it('recognises only the /api/embed shape', () => {
    expect(isOllamaEmbedResponse(response)).toBe(true);
    expect(isOllamaEmbedResponse({ model: 'm', embeddings: [['x']] })).toBe(false);
    expect(isOllamaEmbedResponse({ model: 'm', embedding: [1] })).toBe(false);
    expect(isOllamaEmbedResponse(null)).toBe(false);
  });
});
