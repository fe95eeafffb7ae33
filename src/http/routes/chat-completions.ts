import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { NotFoundError } from '../../errors/gateway-error.js';
import type { GatewayMetrics } from '../../metrics/gateway-metrics.js';
import { chatRequestSchema } from '../../openai/chat-request-schema.js';
import type { ChatRequest } from '../../openai/chat-types.js';
import { toJsonText } from '../../openai/raw-json.js';
import type { ChatProvider } from '../../providers/provider.js';
import { resolveModel } from '../../routing/resolve-model.js';
import { primeStream, sendSse } from '../sse.js';
import { callContext } from './call-context.js';

export interface ProviderRoutesOptions {
  readonly providers: ReadonlyMap<string, ChatProvider>;
  readonly defaultProvider: ChatProvider;
  readonly metrics?: GatewayMetrics | undefined;
}

/**
 * `POST /v1/chat/completions`, routed by model (`provider/model`, else the default provider), and
 * `POST /{provider}/v1/chat/completions`, one static route per configured provider, pinned to it;
 * an unconfigured provider is a 404 naming it.
 */
export function chatCompletionRoutes(app: FastifyInstance, options: ProviderRoutesOptions): void {
  const schema = { body: chatRequestSchema };
  app.post('/v1/chat/completions', { schema }, async (request, reply) => {
    const body = request.body as ChatRequest;
    const target = resolveModel(body.model, options.providers, options.defaultProvider);
    const upstreamBody = target.model === body.model ? body : { ...body, model: target.model };
    return complete(target.provider, upstreamBody, request, reply, options.metrics);
  });
  for (const provider of options.providers.values()) {
    app.post(`/${provider.id}/v1/chat/completions`, { schema }, async (request, reply) =>
      complete(provider, request.body as ChatRequest, request, reply, options.metrics),
    );
  }
  app.post('/:provider/v1/chat/completions', unknownProvider(options.providers));
}

/** Serves one chat request from `provider`: JSON, or SSE after the first chunk arrived. */
async function complete(
  provider: ChatProvider,
  body: ChatRequest,
  request: FastifyRequest,
  reply: FastifyReply,
  metrics: GatewayMetrics | undefined,
) {
  const context = request.gateway;
  context.provider = provider.id;
  context.model = body.model;
  const ctx = callContext(request);
  if (body.stream === true) {
    context.streamed = true;
    const stream = await primeStream(await provider.chatStream(body, ctx));
    if (metrics !== undefined && stream.first.done !== true) {
      const seconds = (performance.now() - context.startTime) / 1000;
      metrics.timeToFirstToken(provider.id, body.model, seconds);
    }
    metrics?.streamStarted();
    try {
      await sendSse(request, reply, stream, {
        includeUsage: body.stream_options?.include_usage === true,
      });
    } finally {
      metrics?.streamFinished();
    }
    return reply;
  }
  const completion = await provider.chat(body, ctx);
  if (completion.usage !== undefined) context.usage = completion.usage;
  return reply.type('application/json; charset=utf-8').send(toJsonText(completion));
}

/** A 404 for `/{unknown}/v1/...` that names the configured providers (not secret). */
export function unknownProvider(providers: ReadonlyMap<string, ChatProvider>) {
  const known = [...providers.keys()].join(', ');
  return async function unknownProviderRoute(request: FastifyRequest) {
    const { provider } = request.params as { provider: string };
    throw new NotFoundError(
      `Unknown provider '${provider.slice(0, 64)}'. Configured providers: ${known}.`,
      'route_not_found',
      null,
    );
  };
}
