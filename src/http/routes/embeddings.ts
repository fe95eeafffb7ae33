import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { embeddingsRequestSchema } from '../../openai/embeddings-request-schema.js';
import type { EmbeddingsRequest } from '../../openai/embeddings-types.js';
import { toJsonText } from '../../openai/raw-json.js';
import { callContext } from './call-context.js';
import {
  type Dispatch,
  noteServed,
  type ProviderRoutesOptions,
  pinnedTo,
  routedBy,
  unknownProvider,
} from './dispatch.js';

/**
 * `POST /v1/embeddings`, routed by model like chat (deployments, retries, fallbacks), and
 * `POST /{provider}/v1/embeddings`, pinned to that provider (the same retries, on it only).
 */
export function embeddingsRoutes(app: FastifyInstance, options: ProviderRoutesOptions): void {
  const schema = { body: embeddingsRequestSchema };
  const routed = routedBy(options.router);
  app.post('/v1/embeddings', { schema }, async (request, reply) => embed(routed, request, reply));
  for (const provider of options.providers.values()) {
    const pinned = pinnedTo(provider, options.router);
    app.post(`/${provider.id}/v1/embeddings`, { schema }, async (request, reply) =>
      embed(pinned, request, reply),
    );
  }
  app.post('/:provider/v1/embeddings', unknownProvider(options.providers));
}

async function embed(dispatch: Dispatch, request: FastifyRequest, reply: FastifyReply) {
  const body = request.body as EmbeddingsRequest;
  const context = request.gateway;
  context.model = body.model;
  const ctx = callContext(request);
  const served = await dispatch(body.model, ctx, (provider, model) => {
    context.provider = provider.id;
    return provider.embeddings(model === body.model ? body : { ...body, model }, ctx);
  });
  served.done();
  context.usage = { ...served.value.usage, completion_tokens: 0 };
  noteServed(request, reply, served);
  return reply.type('application/json; charset=utf-8').send(toJsonText(served.value));
}
