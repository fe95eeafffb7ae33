import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { NotFoundError } from '../../errors/gateway-error.js';
import { chatRequestSchema } from '../../openai/chat-request-schema.js';
import type { ChatRequest } from '../../openai/chat-types.js';
import { toJsonText } from '../../openai/raw-json.js';
import type { ChatProvider } from '../../providers/provider.js';
import { primeStream, sendSse } from '../sse.js';
import { callContext } from './call-context.js';

export interface ProviderRoutesOptions {
  readonly providers: ReadonlyMap<string, ChatProvider>;
  readonly defaultProvider: ChatProvider;
}

/**
 * `POST /v1/chat/completions` (default provider) and `POST /{provider}/v1/chat/completions`, one
 * static route per configured provider; an unconfigured provider is a 404 naming it.
 */
export function chatCompletionRoutes(app: FastifyInstance, options: ProviderRoutesOptions): void {
  const schema = { body: chatRequestSchema };
  app.post('/v1/chat/completions', { schema }, handlerFor(options.defaultProvider));
  for (const provider of options.providers.values()) {
    app.post(`/${provider.id}/v1/chat/completions`, { schema }, handlerFor(provider));
  }
  app.post('/:provider/v1/chat/completions', unknownProvider(options.providers));
}

function handlerFor(provider: ChatProvider) {
  return async function chatCompletions(request: FastifyRequest, reply: FastifyReply) {
    const body = request.body as ChatRequest;
    const context = request.gateway;
    context.provider = provider.id;
    context.model = body.model;
    const ctx = callContext(request);
    if (body.stream === true) {
      const stream = await primeStream(await provider.chatStream(body, ctx));
      await sendSse(request, reply, stream, {
        includeUsage: body.stream_options?.include_usage === true,
      });
      return reply;
    }
    const completion = await provider.chat(body, ctx);
    if (completion.usage !== undefined) context.usage = completion.usage;
    return reply.type('application/json; charset=utf-8').send(toJsonText(completion));
  };
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
