import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { asGatewayError, NotFoundError } from '../../errors/gateway-error.js';
import type { GatewayMetrics } from '../../metrics/gateway-metrics.js';
import { chatRequestSchema } from '../../openai/chat-request-schema.js';
import type { ChatRequest } from '../../openai/chat-types.js';
import { toJsonText } from '../../openai/raw-json.js';
import type { CallContext, ChatProvider } from '../../providers/provider.js';
import type { Attempt, ModelRouter, Served } from '../../routing/model-router.js';
import { primeStream, sendSse } from '../sse.js';
import { callContext } from './call-context.js';

export interface ProviderRoutesOptions {
  readonly providers: ReadonlyMap<string, ChatProvider>;
  readonly defaultProvider: ChatProvider;
  /** Serves the unprefixed `/v1/...` routes: public models, `provider/model`, the default. */
  readonly router: ModelRouter;
  readonly metrics?: GatewayMetrics | undefined;
  /** See {@link SseOptions.writeTimeoutMs}. */
  readonly streamWriteTimeoutMs: number;
}

/** How a route picks its upstream: the router (by model) or one pinned provider. */
export type Dispatch = <Value>(
  model: string,
  ctx: CallContext,
  attempt: Attempt<Value>,
) => Promise<Served<Value>>;

/** A pinned provider: one attempt, the model name as sent. */
export function pinnedTo(provider: ChatProvider, metrics?: GatewayMetrics): Dispatch {
  return async (model, _ctx, attempt) => {
    let value: Awaited<ReturnType<typeof attempt>>;
    try {
      value = await attempt(provider, model);
    } catch (error) {
      metrics?.upstreamAttempt(provider.id, asGatewayError(error).code);
      throw error;
    }
    metrics?.upstreamAttempt(provider.id, 'ok');
    return {
      value,
      provider: provider.id,
      deployment: `${provider.id}/${model}`,
      attempts: 1,
      done: () => undefined,
    };
  };
}

/** The header that names the deployment (`provider/model`) that served the response. */
export const DEPLOYMENT_HEADER = 'x-aigw-deployment';

/**
 * `POST /v1/chat/completions`, routed by model (public names and aliases with their deployments,
 * retries and fallbacks; `provider/model`; else the default provider), and
 * `POST /{provider}/v1/chat/completions`, one static route per configured provider, pinned to it;
 * an unconfigured provider is a 404 naming it.
 */
export function chatCompletionRoutes(app: FastifyInstance, options: ProviderRoutesOptions): void {
  const schema = { body: chatRequestSchema };
  const routed: Dispatch = (model, ctx, attempt) => options.router.run(model, ctx, attempt);
  app.post('/v1/chat/completions', { schema }, async (request, reply) =>
    complete(routed, request, reply, options),
  );
  for (const provider of options.providers.values()) {
    const pinned = pinnedTo(provider, options.metrics);
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
        includeUsage: body.stream_options?.include_usage === true,
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

/** Names the serving deployment in a header and in the access line. */
export function noteServed(request: FastifyRequest, reply: FastifyReply, served: Served<unknown>) {
  request.gateway.deployment = served.deployment;
  request.gateway.attempts = served.attempts;
  reply.header(DEPLOYMENT_HEADER, toHeaderValue(served.deployment));
}

/**
 * The model part can be the client's own text, and Node throws on a header value with anything
 * but visible ASCII: such a value goes percent-encoded (and is never reflected raw).
 */
export function toHeaderValue(value: string): string {
  if (/^[\x21-\x7e]{1,512}$/.test(value)) return value;
  // Byte-wise, as UTF-8: encodeURIComponent would throw on a lone surrogate.
  let encoded = '';
  for (const byte of Buffer.from(value.slice(0, 512), 'utf8')) {
    encoded +=
      byte > 0x20 && byte < 0x7f && byte !== 0x25
        ? String.fromCharCode(byte)
        : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return encoded;
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
