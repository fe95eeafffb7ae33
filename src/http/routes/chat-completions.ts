import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { chatRequestSchema } from '../../openai/chat-request-schema.js';
import type { ChatRequest } from '../../openai/chat-types.js';
import { toJsonText } from '../../openai/raw-json.js';
import type { ChatProvider } from '../../providers/provider.js';
import { openAiSseFrames } from '../openai-sse-frames.js';
import { primeStream, sendSse } from '../sse.js';
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
 * `POST /v1/chat/completions`, routed by model (public names and aliases with their deployments,
 * retries and fallbacks; `provider/model`; else the default provider), and
 * `POST /{provider}/v1/chat/completions`, one static route per configured provider, pinned to it
 * (the same retries, on that provider only); an unconfigured provider is a 404 naming it.
 */
export function chatCompletionRoutes(app: FastifyInstance, options: ProviderRoutesOptions): void {
  const schema = { body: chatRequestSchema };
  const routed = routedBy(options.router);
  app.post('/v1/chat/completions', { schema }, async (request, reply) =>
    complete(routed, request, reply, options),
  );
  for (const provider of options.providers.values()) {
    const pinned = pinnedTo(provider, options.router);
    app.post(`/${provider.id}/v1/chat/completions`, { schema }, async (request, reply) =>
      complete(pinned, request, reply, options),
    );
  }
  app.post('/:provider/v1/chat/completions', unknownProvider(options.providers));
}

/** Serves one chat request: JSON, or SSE once the first chunk arrived (so early failures can still fall back). */
async function complete(
  dispatch: Dispatch,
  request: FastifyRequest,
  reply: FastifyReply,
  options: ProviderRoutesOptions,
) {
  const { metrics } = options;
  const body = request.body as ChatRequest;
  const context = request.gateway;
  context.model = body.model;
  const ctx = callContext(request);
  const forModel = (provider: ChatProvider, model: string): ChatRequest => {
    context.provider = provider.id;
    return model === body.model ? body : { ...body, model };
  };
  if (body.stream === true) {
    context.streamed = true;
    const served = await dispatch(body.model, ctx, async (provider, model) =>
      primeStream(await provider.chatStream(forModel(provider, model), ctx)),
    );
    noteServed(request, reply, served);
    if (metrics !== undefined && served.value.first.done !== true) {
      const seconds = (performance.now() - context.startTime) / 1000;
      metrics.timeToFirstToken(served.provider, body.model, seconds);
    }
    metrics?.streamStarted();
    try {
      await sendSse(request, reply, served.value, {
        frames: openAiSseFrames(body.stream_options?.include_usage === true),
        writeTimeoutMs: options.streamWriteTimeoutMs,
      });
    } finally {
      served.done();
      metrics?.streamFinished();
    }
    return reply;
  }
  const served = await dispatch(body.model, ctx, (provider, model) =>
    provider.chat(forModel(provider, model), ctx),
  );
  served.done();
  const completion = served.value;
  if (completion.usage !== undefined) context.usage = completion.usage;
  noteServed(request, reply, served);
  return reply.type('application/json; charset=utf-8').send(toJsonText(completion));
}
