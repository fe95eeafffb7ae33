/** The model lists, routed and pinned, and the health routes that share their listings. */
import { describe, expect, it } from 'vitest';
import { UpstreamError, UpstreamTimeoutError } from '../../../src/errors/gateway-error.js';
import { appWith, auth } from '../../helpers/app-fixture.js';

describe('models and health', () => {
  it('lists models in the OpenAI list format', async () => {
    const { app } = await appWith();
    const response = await app.inject({ method: 'GET', url: '/cerebras/v1/models', headers: auth });
    expect(response.json()).toEqual({
      object: 'list',
      data: [{ id: 'cerebras-model', object: 'model', created: 1, owned_by: 'cerebras' }],
    });
  });

  it('reports readiness per provider, 503 when the default is down, cached', async () => {
    let cerebrasDown = true;
    let ollamaDown = false;
    const { app, ollama } = await appWith({
      ollama: {
        listModels: async () => {
          if (ollamaDown) throw new UpstreamError('down');
          return [];
        },
      },
      cerebras: {
        listModels: async () => {
          if (cerebrasDown) throw new UpstreamError('down');
          return [];
        },
      },
    });
    const ready = await app.inject({ method: 'GET', url: '/readyz' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toEqual({
      status: 'ready',
      providers: { ollama: 'ok', cerebras: 'unavailable' },
    });
    ollamaDown = true;
    cerebrasDown = false;
    const cached = await app.inject({ method: 'GET', url: '/readyz' });
    expect(cached.statusCode).toBe(200);
    expect(ollama.calls).toHaveLength(1);
    expect(ready.body).not.toMatch(/http|key|11434/i);
  });

  it('turns unavailable when the default provider is down', async () => {
    const { app } = await appWith({
      ollama: {
        listModels: async () => {
          throw new UpstreamError('down');
        },
      },
    });
    const response = await app.inject({ method: 'GET', url: '/readyz' });
    expect(response.statusCode).toBe(503);
    expect(response.json()).toMatchObject({ status: 'unavailable' });
  });
});

describe('merged model list', () => {
  it('leaves out a provider that is down and caches each listing', async () => {
    const { app, ollama, cerebras } = await appWith({
      cerebras: {
        listModels: async () => {
          throw new UpstreamError('down');
        },
      },
    });
    for (let round = 0; round < 2; round++) {
      const response = await app.inject({ method: 'GET', url: '/v1/models', headers: auth });
      expect(response.statusCode).toBe(200);
      expect(response.json().data.map((model: { id: string }) => model.id)).toEqual([
        'ollama-model',
        'ollama/ollama-model',
      ]);
    }
    expect(ollama.calls).toHaveLength(1);
    expect(cerebras.calls).toHaveLength(1);
  });

  it("answers 200 with the config's public names alone when every provider is down", async () => {
    const down = {
      listModels: async () => {
        throw new UpstreamTimeoutError('x', 'first_byte');
      },
    };
    const { app } = await appWith({ ollama: down, cerebras: down });
    const response = await app.inject({ method: 'GET', url: '/v1/models', headers: auth });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ object: 'list', data: [] });
  });

  it("shares each provider's listing with /readyz: one upstream call serves both", async () => {
    const { app, ollama, cerebras } = await appWith();
    expect((await app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
    const models = await app.inject({ method: 'GET', url: '/v1/models', headers: auth });
    expect(models.statusCode).toBe(200);
    expect(ollama.calls.filter((call) => call.method === 'listModels')).toHaveLength(1);
    expect(cerebras.calls.filter((call) => call.method === 'listModels')).toHaveLength(1);
  });
});
