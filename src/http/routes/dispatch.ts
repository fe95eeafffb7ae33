/**
 * What the provider routes (chat, embeddings, models) share: their options, how a request picks
 * its upstream (the router, or one pinned provider), and how the serving deployment is reported.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { GatewayMetrics } from '../../metrics/gateway-metrics.js';
import type { CallContext, ChatProvider } from '../../providers/provider.js';
import type { Attempt, ModelRouter, Served } from '../../routing/model-router.js';
import type { AdmissionHookFactory } from '../hooks/tenancy-admission.js';

export interface ProviderRoutesOptions {
  readonly providers: ReadonlyMap<string, ChatProvider>;
  readonly defaultProvider: ChatProvider;
  /** Serves the unprefixed `/v1/...` routes: public models, `provider/model`, the default. */
  readonly router: ModelRouter;
  readonly metrics?: GatewayMetrics | undefined;
  /** See {@link SseOptions.writeTimeoutMs}. */
  readonly streamWriteTimeoutMs: number;
  /** Admits virtual keys on inference routes; absent without tenancy. */
  readonly admission?: AdmissionHookFactory | undefined;
}

/** How a route picks its upstream: the router (by model) or one pinned provider. */
export interface Dispatch {
  /** The provider a `/{provider}/v1/...` route is pinned to; undefined on `/v1/...`. */
  readonly provider: ChatProvider | undefined;
  /** Runs `attempt` for `model` with the retries (and, when routed, fallbacks) of the router. */
  run<Value>(model: string, ctx: CallContext, attempt: Attempt<Value>): Promise<Served<Value>>;
}

/** The `/v1/...` routes: by model, through the router (deployments, retries, fallbacks). */
export function routedBy(router: ModelRouter): Dispatch {
  return { provider: undefined, run: (model, ctx, attempt) => router.run(model, ctx, attempt) };
}

/**
 * A pinned provider (`/{provider}/v1/...`), with the model name as sent: the router's retries,
 * backoff and budget on that provider alone, never a fallback to another.
 */
export function pinnedTo(provider: ChatProvider, router: ModelRouter): Dispatch {
  return {
    provider,
    run: (model, ctx, attempt) => router.runPinned(provider, model, ctx, attempt),
  };
}

/** The header that names the deployment (`provider/model`) that served the response. */
const DEPLOYMENT_HEADER = 'x-aigw-deployment';

/** Names the serving deployment in a header and in the access line. */
export function noteServed(request: FastifyRequest, reply: FastifyReply, served: Served<unknown>) {
  request.gateway.deployment = served.deployment;
  request.gateway.attempts = served.attempts;
  if (served.tried !== undefined && served.tried !== '') request.gateway.tried = served.tried;
  reply.header(DEPLOYMENT_HEADER, toHeaderValue(served.deployment));
}

/**
 * The model part can be the client's own text, and Node throws on a header value with anything
 * but visible ASCII: such a value goes percent-encoded (and is never reflected raw).
 */
function toHeaderValue(value: string): string {
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
