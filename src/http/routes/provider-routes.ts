import type { FastifyInstance, FastifyReply, FastifyRequest, FastifySchema } from 'fastify';
import { ERROR_CODES } from '../../errors/error-codes.js';
import { NotFoundError } from '../../errors/gateway-error.js';
import type { ChatProvider } from '../../providers/provider.js';
import type { AdmissionKind } from '../hooks/tenancy-admission.js';
import { type Dispatch, type ProviderRoutesOptions, pinnedTo, routedBy } from './dispatch.js';

/** Serves one request of a {@link ProviderRoute}, through the router or one pinned provider. */
export type ProviderRouteHandler = (
  request: FastifyRequest,
  reply: FastifyReply,
  dispatch: Dispatch,
) => Promise<unknown>;

/** One operation of an API that every provider serves (chat completions, embeddings, models). */
export interface ProviderRoute {
  readonly method: 'GET' | 'POST';
  /** The path under `/v1`, e.g. `/chat/completions`. */
  readonly path: string;
  /** Checked on the routed and the pinned routes; an unknown provider's 404 comes before it. */
  readonly schema?: FastifySchema;
  readonly handler: ProviderRouteHandler;
  /** An inference route: it goes in the usage ledger and virtual keys are admitted on it. */
  readonly admission?: AdmissionKind;
}

/**
 * Registers `route` on `/v1{path}`, routed by model (see {@link routedBy}); on
 * `/{provider}/v1{path}` for each configured provider, pinned to it (see {@link pinnedTo}); and
 * on `/:provider/v1{path}`, a 404 that names the configured providers. Each configured provider
 * gets a static route, which the router matches before the parametric one and faster. The
 * dispatchers are made here, once per route: a request costs no more than its handler.
 *
 * Call it from an API plugin: the routes share the plugin's error encoder (`useErrorBody`).
 */
export function providerRoutes(
  app: FastifyInstance,
  options: Pick<ProviderRoutesOptions, 'providers' | 'router' | 'admission'>,
  route: ProviderRoute,
): void {
  const { method, path, handler } = route;
  const schema = route.schema === undefined ? {} : { schema: route.schema };
  const admission = (provider: string | undefined) =>
    route.admission === undefined || options.admission === undefined
      ? {}
      : { preHandler: options.admission(provider, route.admission) };
  const routed = routedBy(options.router);
  app.route({
    method,
    url: `/v1${path}`,
    ...schema,
    ...admission(undefined),
    handler: (request, reply) => handler(request, reply, routed),
  });
  for (const provider of options.providers.values()) {
    const pinned = pinnedTo(provider, options.router);
    app.route({
      method,
      url: `/${provider.id}/v1${path}`,
      ...schema,
      ...admission(provider.id),
      handler: (request, reply) => handler(request, reply, pinned),
    });
  }
  app.route({ method, url: `/:provider/v1${path}`, handler: unknownProvider(options.providers) });
}

/** A 404 for `/{unknown}/v1/...` that names the configured providers (not secret). */
function unknownProvider(providers: ReadonlyMap<string, ChatProvider>) {
  const known = [...providers.keys()].join(', ');
  return async function unknownProviderRoute(request: FastifyRequest): Promise<never> {
    const { provider } = request.params as { provider: string };
    throw new NotFoundError(
      `Unknown provider '${provider.slice(0, 64)}'. Configured providers: ${known}.`,
      ERROR_CODES.ROUTE_NOT_FOUND.code,
      null,
    );
  };
}
