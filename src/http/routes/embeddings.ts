import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { embeddingsRequestSchema } from '../../openai/embeddings-request-schema.js';
import type { EmbeddingsRequest } from '../../openai/embeddings-types.js';
import { toJsonText } from '../../openai/raw-json.js';
import type { ChatProvider } from '../../providers/provider.js';
import { resolveModel } from '../../routing/resolve-model.js';
import { callContext } from './call-context.js';
import { type ProviderRoutesOptions, unknownProvider } from './chat-completions.js';

/**
 * `POST /v1/embeddings`, routed by model like chat, and `POST /{provider}/v1/embeddings`, pinned
 * to that provider.
 */
export function embeddingsRoutes(app: FastifyInstance, options: ProviderRoutesOptions): void {
  const schema = { body: embeddingsRequestSchema };
  app.post('/v1/embeddings', { schema }, async (request, reply) => {
    const body = request.body as EmbeddingsRequest;
    const target = resolveModel(body.model, options.providers, options.defaultProvider);
    const upstreamBody = target.model === body.model ? body : { ...body, model: target.model };
    return embed(target.provider, upstreamBody, request, reply);
  });
  for (const provider of options.providers.values()) {
    app.post(`/${provider.id}/v1/embeddings`, { schema }, async (request, reply) =>
      embed(provider, request.body as EmbeddingsRequest, request, reply),
    );
  }
  app.post('/:provider/v1/embeddings', unknownProvider(options.providers));
}

async function embed(
  provider: ChatProvider,
  body: EmbeddingsRequest,
  request: FastifyRequest,
  reply: FastifyReply,
) {
  const context = request.gateway;
  context.provider = provider.id;
  context.model = body.model;
  const result = await provider.embeddings(body, callContext(request));
  context.usage = { ...result.usage, completion_tokens: 0 };
  return reply.type('application/json; charset=utf-8').send(toJsonText(result));
}
