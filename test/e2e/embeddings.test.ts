import { describe, expect, it } from 'vitest';
import { PROVIDER_KEY, useGateway } from '../helpers/gateway-harness.js';
import { onlyRequest, rejectionOf } from '../helpers/openai-sdk-helpers.js';

const gateway = useGateway();

describe('embeddings with the openai SDK', () => {
  it('maps Ollama /api/embed, decoding the base64 the SDK asks for by default', async () => {
    const result = await gateway.client('ollama').embeddings.create({
      model: 'nomic-embed-text',
      input: ['hello', 'hi'],
    });
    expect(result.data.map((item) => item.embedding)).toEqual([
      [0, 5, 0.5],
      [1, 2, 0.5],
    ]);
    expect(result.data.map((item) => item.index)).toEqual([0, 1]);
    expect(result.usage).toEqual({ prompt_tokens: 6, total_tokens: 6 });
    const sent = onlyRequest(gateway.upstream);
    expect(sent.path).toBe('/api/embed');
    expect(sent.json).toEqual({ model: 'nomic-embed-text', input: ['hello', 'hi'] });
  });

  it('returns floats when asked, through /v1 routed by model', async () => {
    const result = await gateway.client('').embeddings.create({
      model: 'ollama/nomic-embed-text',
      input: 'hello',
      encoding_format: 'float',
    });
    expect(result.data[0]?.embedding).toEqual([0, 5, 0.5]);
    expect(onlyRequest(gateway.upstream).json).toEqual({
      model: 'nomic-embed-text',
      input: 'hello',
    });
  });

  it('relays an OpenAI-compatible provider with its key, base64 passed through', async () => {
    const result = await gateway.client('cerebras').embeddings.create({
      model: 'embed-model',
      input: 'hello',
    });
    expect(result.data[0]?.embedding).toEqual([0, 5, 0.5]);
    const sent = onlyRequest(gateway.upstream);
    expect(sent.path).toBe('/v1/embeddings');
    expect(sent.headers.authorization).toBe(`Bearer ${PROVIDER_KEY}`);
    expect(sent.json).toMatchObject({ model: 'embed-model', encoding_format: 'base64' });
  });

  it('refuses token-id input for Ollama with a 422 on input, before any upstream call', async () => {
    const error = await rejectionOf(
      gateway.client('ollama').embeddings.create({ model: 'm', input: [1, 2, 3] }),
    );
    expect(error).toMatchObject({ status: 422, param: 'input', code: 'validation_error' });
    expect(gateway.upstream.requests).toHaveLength(0);
  });

  it('validates the body (422 naming the field) and maps an unknown model to 404', async () => {
    const invalid = await rejectionOf(
      gateway.client('').embeddings.create({ model: 'm', input: [] as string[] }),
    );
    expect(invalid).toMatchObject({ status: 422, param: 'input' });
    gateway.upstream.enqueue({ status: 404, body: { error: 'model "m" not found' } });
    const missing = await rejectionOf(
      gateway.client('ollama').embeddings.create({ model: 'm', input: 'x' }),
    );
    expect(missing).toMatchObject({ status: 404, code: 'model_not_found' });
  });
});
