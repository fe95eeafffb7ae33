import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ModelInfo } from '../../openai/chat-types.js';
import type { ChatProvider } from '../../providers/provider.js';
import { callContext } from './call-context.js';
import { type ProviderRoutesOptions, unknownProvider } from './dispatch.js';

export interface ModelRoutesOptions extends ProviderRoutesOptions {
  /** How long one provider's listing may take for `/v1/models`. */
  readonly timeoutMs: number;
  /** How long a provider's listing (or its failure) is reused for `/v1/models`. */
  readonly cacheMs: number;
  readonly now: () => number;
  /** Public model names and aliases from the config, listed first. */
  readonly publicNames: readonly string[];
}

type Listing = { readonly models: readonly ModelInfo[] } | { readonly error: unknown };

/**
 * `GET /v1/models`: every model the gateway can route to, in OpenAI's list format: the public
 * names and aliases of the config, the default provider's by their own names, and every
 * provider's as `provider/model`. Each provider's
 * listing is fetched with a short timeout and cached; a provider that is down is left out (only
 * when all are down does the request fail). `GET /{provider}/v1/models`: that provider, live.
 */
export function modelRoutes(app: FastifyInstance, options: ModelRoutesOptions): void {
  const cache = new Map<string, { readonly at: number; readonly listing: Promise<Listing> }>();
  const listingOf = (provider: ChatProvider): Promise<Listing> => {
    const now = options.now();
    const cached = cache.get(provider.id);
    if (cached !== undefined && now - cached.at < options.cacheMs) return cached.listing;
    const listing = provider
      .listModels({
        signal: AbortSignal.timeout(options.timeoutMs),
        requestId: `models-${randomUUID()}`,
        logger: app.log,
      })
      .then(
        (models): Listing => ({ models }),
        (error: unknown): Listing => {
          app.log.warn({ provider: provider.id, code: codeOf(error) }, 'model listing failed');
          return { error };
        },
      );
    cache.set(provider.id, { at: now, listing });
    return listing;
  };

  app.get('/v1/models', async () => {
    const providers = [...options.providers.values()];
    const listings = await Promise.all(providers.map(listingOf));
    if (listings.every((listing) => 'error' in listing)) {
      const index = providers.indexOf(options.defaultProvider);
      const failed = listings[index] ?? listings[0];
      throw failed !== undefined && 'error' in failed ? failed.error : new Error('no providers');
    }
    const data: ModelInfo[] = options.publicNames.map((id) => ({
      id,
      object: 'model',
      created: 0,
      owned_by: 'ai-gateway',
    }));
    const defaultListing = listings[providers.indexOf(options.defaultProvider)];
    if (defaultListing !== undefined && 'models' in defaultListing)
      data.push(...defaultListing.models);
    providers.forEach((provider, index) => {
      const listing = listings[index];
      if (listing === undefined || !('models' in listing)) return;
      for (const model of listing.models) data.push({ ...model, id: `${provider.id}/${model.id}` });
    });
    return { object: 'list', data };
  });
  for (const provider of options.providers.values()) {
    app.get(`/${provider.id}/v1/models`, async (request: FastifyRequest) => {
      request.gateway.provider = provider.id;
      const data = await provider.listModels(callContext(request));
      return { object: 'list', data };
    });
  }
  app.get('/:provider/v1/models', unknownProvider(options.providers));
}

function codeOf(error: unknown): unknown {
  return typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : error;
}
