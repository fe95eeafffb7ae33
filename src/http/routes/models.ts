import type { FastifyInstance, FastifyRequest } from 'fastify';
import { toAnthropicModelList } from '../../inbound/anthropic/to-anthropic-model-list.js';
import type { ModelInfo } from '../../openai/chat-types.js';
import type { ModelListingOptions, ModelListings } from '../../providers/model-listings.js';
import type { ChatProvider } from '../../providers/provider.js';
import { callContext } from './call-context.js';
import type { ProviderRoutesOptions } from './dispatch.js';
import { providerRoutes } from './provider-routes.js';

export interface ModelRoutesOptions extends ProviderRoutesOptions {
  /** Each provider's listing, shared with `/readyz`. */
  readonly listings: ModelListings;
  /** How fresh a listing must be for `/v1/models`, and how long one may take. */
  readonly listing: ModelListingOptions;
  /** Public model names and aliases from the config, listed first. */
  readonly publicNames: readonly string[];
}

/** A model list in OpenAI's format. */
interface ModelList {
  readonly object: 'list';
  readonly data: readonly ModelInfo[];
}

/**
 * A Fastify plugin. `GET /v1/models`: every model the gateway can route to, in OpenAI's list
 * format: the public names and aliases of the config, the default provider's by their own names,
 * and every provider's as `provider/model`. A provider that is down (the default one included) is
 * left out rather than failing the whole list: a client picking a model should see what can serve
 * now. `GET /{provider}/v1/models`: that provider, live. A request with an `anthropic-version`
 * header (Anthropic's SDKs, Claude Code) gets the same models in Anthropic's list format.
 */
export async function modelRoutes(
  app: FastifyInstance,
  options: ModelRoutesOptions,
): Promise<void> {
  providerRoutes(app, options, {
    method: 'GET',
    path: '/models',
    handler: async (request, _reply, dispatch) => {
      const list =
        dispatch.provider === undefined
          ? await mergedList(options)
          : await providerList(request, dispatch.provider);
      return request.headers['anthropic-version'] === undefined
        ? list
        : toAnthropicModelList(list.data);
    },
  });
}

async function mergedList(options: ModelRoutesOptions): Promise<ModelList> {
  const providers = [...options.providers.values()];
  const listings = await Promise.all(
    providers.map((provider) => options.listings.get(provider, options.listing)),
  );
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
}

async function providerList(request: FastifyRequest, provider: ChatProvider): Promise<ModelList> {
  request.gateway.provider = provider.id;
  const data = await provider.listModels(callContext(request));
  return { object: 'list', data };
}
