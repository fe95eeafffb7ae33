import type { FastifyInstance } from 'fastify';
import { chatRequestSchema } from '../../openai/chat-request-schema.js';
import type { ChatRequest } from '../../openai/chat-types.js';
import { toJsonText } from '../../openai/raw-json.js';
import { openAiSseFrames } from '../openai-sse-frames.js';
import { createChatPipeline } from './chat-pipeline.js';
import type { ProviderRoutesOptions } from './dispatch.js';
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
    admission: 'generate',
    handler: serveChatCompletion(options),
  });
}

/** Serves one chat request: JSON, or SSE once the first chunk arrived (so early failures can still fall back). */
function serveChatCompletion(options: ProviderRoutesOptions): ProviderRouteHandler {
  const pipeline = createChatPipeline(options);
  return async function serveChat(request, reply, dispatch) {
    const body = request.body as ChatRequest;
    if (body.stream === true) {
      await pipeline.stream(
        request,
        reply,
        dispatch,
        body,
        openAiSseFrames(body.stream_options?.include_usage === true),
      );
      return reply;
    }
    const completion = await pipeline.complete(request, reply, dispatch, body);
    return reply.type('application/json; charset=utf-8').send(toJsonText(completion));
  };
}
