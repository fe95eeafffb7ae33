/** Embeddings: routed and pinned, and their schema. */
import { describe, expect, it } from 'vitest';
import { appWith, auth, expectEnvelope } from '../../helpers/app-fixture.js';

describe('embeddings routes', () => {
  it('routes /v1/embeddings by model and pins prefixed routes', async () => {
    const { app, ollama, cerebras } = await appWith();
    const routed = await app.inject({
      method: 'POST',
      url: '/v1/embeddings',
      headers: auth,
      payload: { model: 'cerebras/e1', input: 'hi' },
    });
    expect(routed.statusCode).toBe(200);
    expect(routed.json()).toMatchObject({ object: 'list', model: 'e1' });
    expect(cerebras.calls[0]?.request?.model).toBe('e1');
    const pinned = await app.inject({
      method: 'POST',
      url: '/ollama/v1/embeddings',
      headers: auth,
      payload: { model: 'e2', input: ['a', 'b'] },
    });
    expect(pinned.statusCode).toBe(200);
    expect(ollama.calls[0]?.request?.model).toBe('e2');
    const unknown = await app.inject({
      method: 'POST',
      url: '/groq/v1/embeddings',
      headers: auth,
      payload: { model: 'e', input: 'a' },
    });
    expect(unknown.statusCode).toBe(404);
  });

  it.each([
    [{ input: 'a' }, 'model'],
    [{ model: 'e' }, 'input'],
    [{ model: 'e', input: 'a', encoding_format: 'hex' }, 'encoding_format'],
    [{ model: 'e', input: 'a', dimensions: 0 }, 'dimensions'],
  ])('answers %j with 422 naming %s', async (payload, param) => {
    const { app } = await appWith();
    const response = await app.inject({
      method: 'POST',
      url: '/v1/embeddings',
      headers: auth,
      payload,
    });
    expect(response.statusCode).toBe(422);
    expect(expectEnvelope(response.body, 'invalid_request_error', 'validation_error').param).toBe(
      param,
    );
  });
});
