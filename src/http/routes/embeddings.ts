import type { FastifyInstance } from 'fastify';
import { ERROR_CODES } from '../../errors/error-codes.js';
import { NotFoundError } from '../../errors/gateway-error.js';
import { embeddingsRequestSchema } from '../../openai/embeddings-request-schema.js';
import type { EmbeddingsRequest } from '../../openai/embeddings-types.js';
import { toJsonText } from '../../openai/raw-json.js';
import { callContext } from './call-context.js';
import { noteServed, type ProviderRoutesOptions } from './dispatch.js';
import { type ProviderRouteHandler, providerRoutes } from './provider-routes.js';

/**
 * A Fastify plugin: `POST /v1/embeddings`, routed by model like chat (deployments, retries,
 * fallbacks), and `POST /{provider}/v1/embeddings`, pinned to that provider (the same retries, on
 * it only). Errors are written in the OpenAI envelope (the default encoder).
 */
export async function embeddingsRoutes(
  app: FastifyInstance,
  options: ProviderRoutesOptions,
): Promise<void> {
  providerRoutes(app, options, {
    method: 'POST',
    path: '/embeddings',
    schema: { body: embeddingsRequestSchema },
    admission: 'embed',
    handler: embed,
  });
}

const embed: ProviderRouteHandler = async (request, reply, dispatch) => {
  const body = request.body as EmbeddingsRequest;
  const context = request.gateway;
  context.model = body.model;
  const ctx = callContext(request);
  const served = await dispatch.run(body.model, ctx, async (provider, model) => {
    context.provider = provider.id;
    if (provider.embeddings === undefined) {
      throw new NotFoundError(
        `The provider '${provider.id}' does not serve embeddings.`,
        ERROR_CODES.EMBEDDINGS_NOT_SUPPORTED.code,
        'model',
      );
    }
    return provider.embeddings(model === body.model ? body : { ...body, model }, ctx);
  });
  served.done();
  context.usage = { ...served.value.usage, completion_tokens: 0 };
  noteServed(request, reply, served);
  return reply.type('application/json; charset=utf-8').send(toJsonText(served.value));
};
