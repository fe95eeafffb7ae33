import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { useErrorBody } from '../../http/error-handler.js';
import { createChatPipeline } from '../../http/routes/chat-pipeline.js';
import type { ProviderRoutesOptions } from '../../http/routes/dispatch.js';
import { type ProviderRouteHandler, providerRoutes } from '../../http/routes/provider-routes.js';
import { anthropicErrorBody } from './anthropic-error-body.js';
import { newAnthropicId } from './anthropic-ids.js';
import { createAnthropicStreamEncoder, PING_FRAME } from './anthropic-stream-encoder.js';
import type { CountTokensRequest, MessagesRequest } from './anthropic-wire.js';
import { estimateInputTokens } from './estimate-input-tokens.js';
import {
  countTokensRequestSchema,
  messagesRequestSchema,
  messagesValidationError,
} from './messages-request-schema.js';
import { toAnthropicMessage } from './to-anthropic-message.js';
import { droppedToolNames, toChatRequest } from './to-chat-request.js';

export interface AnthropicRoutesOptions extends ProviderRoutesOptions {
  /** Silence after which a stream gets a `ping`, and between pings; 15 s when unset. */
  readonly pingIntervalMs?: number | undefined;
}

/** Anthropic's SDKs read a response's request id from this header (`requestID`). */
const REQUEST_ID_HEADER = 'request-id';

/**
 * A Fastify plugin serving Anthropic's Messages API in front of every provider:
 * `POST /v1/messages` (routed by model: aliases map `claude-*` names to served models) and
 * `POST /{provider}/v1/messages` (pinned), and `…/v1/messages/count_tokens`. A query string
 * (Claude Code's `?beta=true`) and `anthropic-version` / `anthropic-beta` headers are accepted
 * and ignored. Each request is translated to a chat request and served by the one chat pipeline,
 * then translated back, so routing, retries, cancellation, timeouts and usage are Chat
 * Completions' own. Every error on these routes (auth, validation, unknown provider, upstream)
 * is Anthropic's error body with Anthropic's type, and a 400 for a malformed request.
 */
export async function anthropicRoutes(
  app: FastifyInstance,
  options: AnthropicRoutesOptions,
): Promise<void> {
  useErrorBody(app, anthropicErrorBody);
  app.setSchemaErrorFormatter(messagesValidationError);
  // Every answer that goes through Fastify, errors of the hooks before these routes' own included;
  // a stream writes its headers itself and sets it in the handler.
  app.addHook('onSend', (request, reply, payload, done) => {
    reply.header(REQUEST_ID_HEADER, request.id);
    done(null, payload);
  });
  providerRoutes(app, options, {
    method: 'POST',
    path: '/messages',
    schema: { body: messagesRequestSchema },
    admission: 'generate',
    handler: serveMessages(options),
  });
  providerRoutes(app, options, {
    method: 'POST',
    path: '/messages/count_tokens',
    schema: { body: countTokensRequestSchema },
    handler: async (request) => ({
      input_tokens: estimateInputTokens(request.body as CountTokensRequest),
    }),
  });
}

/** Serves one Messages request: JSON, or SSE events (with pings while the upstream is silent). */
function serveMessages(options: AnthropicRoutesOptions): ProviderRouteHandler {
  const pipeline = createChatPipeline(options);
  const heartbeat = { intervalMs: options.pingIntervalMs ?? 15_000, frame: PING_FRAME };
  return async function serveMessage(request: FastifyRequest, reply: FastifyReply, dispatch) {
    const body = request.body as MessagesRequest;
    const chatRequest = toChatRequest(body);
    const dropped = droppedToolNames(body);
    if (dropped.length > 0) {
      request.log.debug(
        { tools: dropped },
        'Anthropic-defined tools left out: no upstream runs them',
      );
    }
    const id = newAnthropicId('msg');
    const stopSequences = body.stop_sequences ?? [];
    if (body.stream === true) {
      reply.header(REQUEST_ID_HEADER, request.id);
      const frames = createAnthropicStreamEncoder({
        id,
        model: body.model,
        inputTokens: estimateInputTokens(body),
        stopSequences,
      });
      await pipeline.stream(request, reply, dispatch, chatRequest, frames, { heartbeat });
      return reply;
    }
    const completion = await pipeline.complete(request, reply, dispatch, chatRequest);
    const message = toAnthropicMessage(completion, { id, model: body.model, stopSequences });
    return reply.type('application/json; charset=utf-8').send(JSON.stringify(message));
  };
}
