import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ChatCompletion, ChatRequest } from '../../openai/chat-types.js';
import type { ChatProvider } from '../../providers/provider.js';
import type { Served } from '../../routing/model-router.js';
import {
  awaitUnderHeartbeat,
  type PrimedStream,
  primeStream,
  type SseFrameEncoder,
  type SseHeartbeat,
  sendSse,
} from '../sse.js';
import { callContext } from './call-context.js';
import { type Dispatch, noteServed, type ProviderRoutesOptions } from './dispatch.js';

/**
 * The one routed chat pipeline every API that generates text calls (Chat Completions, and the
 * APIs that translate to it): routing, retries and fallbacks before the first byte, cancellation
 * when the client leaves, the serving deployment in a header and the access line, usage and time
 * to first token for the access line and metrics. An API brings only its request (already
 * translated to a {@link ChatRequest}) and, for a stream, its frame encoder.
 */
export interface ChatPipeline {
  /** A whole completion; its usage is noted for the access line, metrics and ledger. */
  complete(
    request: FastifyRequest,
    reply: FastifyReply,
    dispatch: Dispatch,
    body: ChatRequest,
  ): Promise<ChatCompletion>;
  /**
   * Waits for the first chunk (an early failure still gets a status and an error body), then
   * writes the stream as SSE through `frames`; resolves when the response has ended. With a
   * heartbeat (`options`), the stream opens early when the first chunk is slow to come, and the
   * heartbeat frame fills every silence (see `awaitUnderHeartbeat` and `sendSse`).
   */
  stream(
    request: FastifyRequest,
    reply: FastifyReply,
    dispatch: Dispatch,
    body: ChatRequest,
    frames: SseFrameEncoder,
    options?: ChatStreamOptions,
  ): Promise<void>;
}

/** How an API's stream differs from Chat Completions' beyond its frames. */
export interface ChatStreamOptions {
  /** Keep-alive frames while the upstream is silent; none when unset. */
  readonly heartbeat?: SseHeartbeat | undefined;
}

/** The pipeline over the routes' options (providers, router, metrics, write timeout). */
export function createChatPipeline(options: ProviderRoutesOptions): ChatPipeline {
  const { metrics, streamWriteTimeoutMs } = options;
  return {
    async complete(request, reply, dispatch, body) {
      const context = request.gateway;
      context.model = body.model;
      const ctx = callContext(request);
      const served = await dispatch.run(body.model, ctx, (provider, model) =>
        provider.chat(forModel(request, body, provider, model), ctx),
      );
      served.done();
      if (served.value.usage !== undefined) context.usage = served.value.usage;
      noteServed(request, reply, served);
      return served.value;
    },

    async stream(request, reply, dispatch, body, frames, streamOptions = {}) {
      const context = request.gateway;
      context.model = body.model;
      context.streamed = true;
      const ctx = callContext(request);
      const serving = dispatch.run(body.model, ctx, async (provider, model) =>
        primeStream(await provider.chatStream(forModel(request, body, provider, model), ctx)),
      );
      const { heartbeat } = streamOptions;
      const served =
        heartbeat === undefined
          ? await serving
          : await awaitUnderHeartbeat(request, reply, serving, {
              frames,
              heartbeat,
              release: releaseServed,
            });
      // Failed after the stream opened early: the error frame is written.
      if (served === undefined) return;
      noteServed(request, reply, served);
      if (served.value.first.done !== true) {
        context.ttftMs = performance.now() - context.startTime;
        metrics?.timeToFirstToken(served.provider, body.model, context.ttftMs / 1000);
      }
      metrics?.streamStarted();
      try {
        await sendSse(request, reply, served.value, {
          frames,
          writeTimeoutMs: streamWriteTimeoutMs,
          heartbeat,
        });
      } finally {
        served.done();
        metrics?.streamFinished();
      }
    },
  };
}

/** The request for one attempt: the deployment's own model name, and its provider noted. */
function forModel(
  request: FastifyRequest,
  body: ChatRequest,
  provider: ChatProvider,
  model: string,
): ChatRequest {
  request.gateway.provider = provider.id;
  return model === body.model ? body : { ...body, model };
}

/** Frees a stream that is no longer wanted: its upstream and its deployment's slot. */
function releaseServed(served: Served<PrimedStream>): void {
  served.done();
  Promise.resolve(served.value.rest.return?.()).catch(() => undefined);
}
