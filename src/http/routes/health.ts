import type { FastifyInstance, FastifyReply } from 'fastify';
import type { ModelListingOptions, ModelListings } from '../../providers/model-listings.js';
import type { ChatProvider } from '../../providers/provider.js';

export interface HealthRoutesOptions {
  readonly providers: ReadonlyMap<string, ChatProvider>;
  readonly defaultProvider: ChatProvider;
  /** Each provider's listing, shared with `/v1/models`. */
  readonly listings: ModelListings;
  /** How fresh a probe must be, so /readyz cannot be used to flood upstreams, and its timeout. */
  readonly probe: ModelListingOptions;
}

/** The paths that need no API key. */
export const HEALTH_PATHS: ReadonlySet<string> = new Set(['/healthz', '/readyz']);

/**
 * A Fastify plugin. `/healthz`: the process is up (no upstream call). `/readyz`: each provider's
 * reachability, probed by listing its models; 200 when the default provider is reachable. The
 * body names providers and their status only, no URLs or settings.
 */
export async function healthRoutes(
  app: FastifyInstance,
  options: HealthRoutesOptions,
): Promise<void> {
  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async (_request, reply: FastifyReply) => {
    const providers = [...options.providers.values()];
    const listings = await Promise.all(
      providers.map((provider) => options.listings.get(provider, options.probe)),
    );
    const statuses: Record<string, 'ok' | 'unavailable'> = {};
    providers.forEach((provider, index) => {
      statuses[provider.id] =
        listings[index] !== undefined && 'models' in listings[index] ? 'ok' : 'unavailable';
    });
    const ready = statuses[options.defaultProvider.id] === 'ok';
    reply.code(ready ? 200 : 503);
    return {
      status: ready ? 'ready' : 'unavailable',
      providers: statuses,
    };
  });
}
