import type { FastifyInstance } from 'fastify';
import { createChatPipeline } from '../../http/routes/chat-pipeline.js';
import type { ProviderRoutesOptions } from '../../http/routes/dispatch.js';
import { type ProviderRouteHandler, providerRoutes } from '../../http/routes/provider-routes.js';
import { toResponse } from './from-chat-completion.js';
import { createResponseShell } from './response-shell.js';
import { responsesRequestSchema } from './responses-request-schema.js';
import { createResponsesFrames } from './responses-stream-frames.js';
import type { ResponsesRequest } from './responses-types.js';
import { toChatRequest } from './to-chat-request.js';

/**
 * A Fastify plugin: the OpenAI Responses API, stateless, on `POST /v1/responses` (routed by
 * model) and `POST /{provider}/v1/responses` (pinned), through the one chat pipeline: each
 * request is translated to a chat request and its completion or chunks back. Errors before a
 * stream are the OpenAI envelope (the default encoder); after, `response.failed`.
 */
export async function responsesRoutes(
  app: FastifyInstance,
  options: ProviderRoutesOptions,
): Promise<void> {
  providerRoutes(app, options, {
    method: 'POST',
    path: '/responses',
    schema: { body: responsesRequestSchema },
    admission: 'generate',
    handler: serveResponses(options),
  });
}

function serveResponses(options: ProviderRoutesOptions): ProviderRouteHandler {
  const pipeline = createChatPipeline(options);
  return async function serveResponse(request, reply, dispatch) {
    const body = request.body as ResponsesRequest;
    const translation = toChatRequest(body);
    const { droppedTools, droppedItems } = translation;
    if (droppedTools.length > 0 || droppedItems.length > 0) {
      request.log.debug(
        { droppedTools, droppedItems },
        'Responses: hosted tools and unread input items left out of the upstream request',
      );
    }
    const shell = createResponseShell(body, translation.catalogue);
    if (body.stream === true) {
      await pipeline.stream(
        request,
        reply,
        dispatch,
        translation.request,
        createResponsesFrames(shell),
      );
      return reply;
    }
    const completion = await pipeline.complete(request, reply, dispatch, translation.request);
    return reply
      .type('application/json; charset=utf-8')
      .send(JSON.stringify(toResponse(completion, shell)));
  };
}
