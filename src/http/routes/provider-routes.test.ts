import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFakeProvider } from '../../../test/helpers/fake-provider.js';
import { InvalidRequestError } from '../../errors/gateway-error.js';
import type { ChatProvider } from '../../providers/provider.js';
import type { ModelRouter } from '../../routing/model-router.js';
import { errorHandler, useErrorBody } from '../error-handler.js';
import { providerRoutes } from './provider-routes.js';

const providers = new Map<string, ChatProvider>([
  ['a', createFakeProvider('a')],
  ['b', createFakeProvider('b')],
]);

/** Says which way a model was run, so a test can tell the routed path from a pinned one. */
const router = {
  run: async (model: string) => ({ value: `routed ${model}` }),
  runPinned: async (provider: ChatProvider, model: string) => ({
    value: `pinned ${provider.id} ${model}`,
  }),
} as unknown as ModelRouter;

let app: FastifyInstance;
beforeAll(async () => {
  app = Fastify();
  app.decorateRequest('gateway', undefined as never);
  app.addHook('onRequest', (request, _reply, done) => {
    request.gateway = { startTime: 0, startedAt: 0, route: '' };
    done();
  });
  app.setErrorHandler(errorHandler(1024, 1_000));
  // A route outside any API plugin: the OpenAI envelope.
  app.get('/outside', async () => {
    throw new InvalidRequestError('Outside.');
  });
  // An API plugin with an error body of its own, as the Anthropic one will have.
  await app.register(async (api) => {
    useErrorBody(api, (error) => ({ type: 'error', error: { message: error.message } }));
    providerRoutes(
      api,
      { providers, router },
      {
        method: 'POST',
        path: '/things',
        schema: { body: { type: 'object', required: ['model'] } },
        handler: async (request, _reply, dispatch) => {
          const { model } = request.body as { model: string };
          const served = await dispatch.run(model, {} as never, async () => undefined);
          return { served: served.value, pinned: dispatch.provider?.id ?? null };
        },
      },
    );
  });
});
afterAll(async () => {
  await app.close();
});

const post = (url: string, payload: object) => app.inject({ method: 'POST', url, payload });

describe('providerRoutes', () => {
  it('serves /v1 through the router and /{provider}/v1 pinned to each configured provider', async () => {
    expect((await post('/v1/things', { model: 'm' })).json()).toEqual({
      served: 'routed m',
      pinned: null,
    });
    for (const id of ['a', 'b']) {
      expect((await post(`/${id}/v1/things`, { model: 'm' })).json()).toEqual({
        served: `pinned ${id} m`,
        pinned: id,
      });
    }
  });

  it("answers an unknown provider with a 404 naming the configured ones, in the plugin's body, before the schema", async () => {
    const response = await post('/c/v1/things', {});
    expect(response.statusCode).toBe(404);
    expect(response.json()).toEqual({
      type: 'error',
      error: { message: "Unknown provider 'c'. Configured providers: a, b." },
    });
  });

  it("checks the schema on the routed and the pinned routes, answering in the plugin's body", async () => {
    for (const url of ['/v1/things', '/a/v1/things']) {
      const response = await post(url, {});
      expect(response.statusCode, url).toBe(422);
      expect(response.json(), url).toMatchObject({ type: 'error' });
    }
  });

  it("keeps the plugin's error body to the plugin: other routes answer in the OpenAI envelope", async () => {
    const response = await app.inject({ method: 'GET', url: '/outside' });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toEqual({
      error: {
        message: 'Outside.',
        type: 'invalid_request_error',
        param: null,
        code: 'invalid_request',
      },
    });
  });
});
