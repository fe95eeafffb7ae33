import { randomUUID } from 'node:crypto';
import type { ModelInfo } from '../openai/chat-types.js';
import type { ChatProvider, ProviderLogger } from './provider.js';

/** A provider's models, or why they could not be listed. */
export type ModelListing = { readonly models: readonly ModelInfo[] } | { readonly error: unknown };

/** How fresh a listing must be, and how long a new fetch may take. */
export interface ModelListingOptions {
  /** A listing (or failure) younger than this is reused. */
  readonly maxAgeMs: number;
  readonly timeoutMs: number;
}

/**
 * Each provider's model listing, shared by `/v1/models` and `/readyz`: one fetch at a time per
 * provider, and its result (success or failure) reused by both, so neither can be used to flood
 * an upstream.
 */
export interface ModelListings {
  /** Never rejects: a failure is a listing with `error`. */
  get(provider: ChatProvider, options: ModelListingOptions): Promise<ModelListing>;
}

export interface ModelListingsDeps {
  readonly now: () => number;
  readonly logger: ProviderLogger;
}

/** Builds an empty cache; all state lives in the returned object (one per app). */
export function createModelListings(deps: ModelListingsDeps): ModelListings {
  const cache = new Map<string, { readonly at: number; readonly listing: Promise<ModelListing> }>();
  return {
    get(provider, options) {
      const now = deps.now();
      const cached = cache.get(provider.id);
      if (cached !== undefined && now - cached.at < options.maxAgeMs) return cached.listing;
      const listing = provider
        .listModels({
          signal: AbortSignal.timeout(options.timeoutMs),
          requestId: `model-listing-${randomUUID()}`,
          logger: deps.logger,
        })
        .then(
          (models): ModelListing => ({ models }),
          (error: unknown): ModelListing => {
            deps.logger.warn(
              { provider: provider.id, code: codeOf(error) },
              'model listing failed',
            );
            return { error };
          },
        );
      cache.set(provider.id, { at: now, listing });
      return listing;
    },
  };
}

function codeOf(error: unknown): unknown {
  return typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : error;
}
