import type { FastifyInstance } from 'fastify';
import { chatRequestSchema } from '../../openai/chat-request-schema.js';
import type { ChatRequest } from '../../openai/chat-types.js';
import { toJsonText } from '../../openai/raw-json.js';
import type { ChatProvider } from '../../providers/provider.js';
import { openAiSseFrames } from '../openai-sse-frames.js';
import { primeStream, type SseOptions, sendSse } from '../sse.js';
import { callContext } from './call-context.js';
import { noteServed, type ProviderRoutesOptions } from './dispatch.js';
import { type ProviderRouteHandler, providerRoutes } from './provider-routes.js';

/**
 * A Fastify plugin: `POST /v1/chat/completions`, routed by model (public names and aliases with
 * their deployments, retries and fallbacks; `provider/model`; else the default provider), and
 * `POST /{provider}/v1/chat/completions`, one static route per configured provider, pinned to it
 * (the same retries, on that provider only); an unconfigured provider is a 404 naming it. Errors
 * are written in the OpenAI envelope (the default encoder).
 */
export async function chatCompletionRoutes(
  app: FastifyInstance,
  options: ProviderRoutesOptions,
): Promise<void> {
  providerRoutes(app, options, {
    method: 'POST',
    path: '/chat/completions',
    schema: { body: chatRequestSchema },
    handler: serveChatCompletion(options),
  });
}

/** Serves one chat request: JSON, or SSE once the first chunk arrived (so early failures can still fall back). */
function serveChatCompletion(options: ProviderRoutesOptions): ProviderRouteHandler {
  const { metrics } = options;
  // The two ways a stream is written, made once: a request picks one by include_usage.
  const sseWithUsage: SseOptions = {
    frames: openAiSseFrames(true),
    writeTimeoutMs: options.streamWriteTimeoutMs,
  };
  const sseWithoutUsage: SseOptions = {
    frames: openAiSseFrames(false),
    writeTimeoutMs: options.streamWriteTimeoutMs,
  };
  return async function serveChat(request, reply, dispatch) {
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
      const served = await dispatch.run(body.model, ctx, async (provider, model) =>
        primeStream(await provider.chatStream(forModel(provider, model), ctx)),
      );
      noteServed(request, reply, served);
      if (metrics !== undefined && served.value.first.done !== true) {
        const seconds = (performance.now() - context.startTime) / 1000;
        metrics.timeToFirstToken(served.provider, body.model, seconds);
      }
      metrics?.streamStarted();
      try {
        await sendSse(
          request,
          reply,
          served.value,
          body.stream_options?.include_usage === true ? sseWithUsage : sseWithoutUsage,
        );
      } finally {
        served.done();
        metrics?.streamFinished();
      }
      return reply;
    }
    const served = await dispatch.run(body.model, ctx, (provider, model) =>
      provider.chat(forModel(provider, model), ctx),
    );
    served.done();
    const completion = served.value;
    if (completion.usage !== undefined) context.usage = completion.usage;
    noteServed(request, reply, served);
    return reply.type('application/json; charset=utf-8').send(toJsonText(completion));
  };
}
