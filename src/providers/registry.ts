import { randomBytes } from 'node:crypto';
import type { GatewayConfig, ProviderConfig } from '../config/gateway-config.js';
import { createCerebrasProvider } from './cerebras/cerebras-provider.js';
import { createOllamaProvider } from './ollama/ollama-provider.js';
import { createOpenAiCompatibleProvider } from './openai-compatible/openai-compatible-provider.js';
import type { ChatProvider, ProviderDeps } from './provider.js';
import { watchStaleConnections } from './shared/stale-connections.js';
import {
  createUpstreamClient,
  type UpstreamClient,
  type UpstreamObservers,
} from './shared/upstream-client.js';

export interface ProviderRegistry {
  readonly providers: ReadonlyMap<string, ChatProvider>;
  /** Closes every upstream connection pool. */
  close(): Promise<void>;
}

/** Random bytes per id: 24 URL-safe characters. */
const ID_BYTES = 18;
/** Ids drawn per `randomBytes` call: a call costs far more than slicing an id from the pool. */
const IDS_PER_DRAW = 256;

/**
 * Makes 24-character, URL-safe id suffixes (144 random bits each: unique without a counter shared
 * across processes), cut from a pool of random bytes refilled `IDS_PER_DRAW` ids at a time.
 */
export function createIdGenerator(draw: (size: number) => Buffer = randomBytes): () => string {
  let pool: Buffer = Buffer.alloc(0);
  let offset = 0;
  return () => {
    if (offset + ID_BYTES > pool.length) {
      pool = draw(ID_BYTES * IDS_PER_DRAW);
      offset = 0;
    }
    const id = pool.toString('base64url', offset, offset + ID_BYTES);
    offset += ID_BYTES;
    return id;
  };
}

/** Every credential the providers hold: scrubbed from logs and relayed upstream text. */
export function providerSecrets(config: GatewayConfig): readonly string[] {
  return config.providers.flatMap(secretsOf);
}

function secretsOf(provider: ProviderConfig): string[] {
  return [
    ...(provider.apiKey === undefined ? [] : [provider.apiKey]),
    ...Object.values(provider.headers),
  ];
}

/**
 * Configured providers → providers, each on its own pooled upstream client. `observers` hear of
 * what the clients do on their own (a request repeated after a stale connection).
 */
export function createProviders(
  config: GatewayConfig,
  observers: UpstreamObservers = {},
): ProviderRegistry {
  const clients: UpstreamClient[] = [];
  const staleConnections = watchStaleConnections();
  const providers = new Map<string, ChatProvider>();
  const generateId = createIdGenerator();
  for (const settings of config.providers) {
    const upstream = createUpstreamClient(
      {
        provider: settings.name,
        baseUrl: settings.baseUrl,
        headers: {
          ...settings.headers,
          ...(settings.apiKey === undefined ? {} : { authorization: `Bearer ${settings.apiKey}` }),
        },
        ...settings.timeouts,
      },
      { ...observers, staleConnections },
    );
    clients.push(upstream);
    providers.set(settings.name, createProvider(settings, { upstream, now: Date.now, generateId }));
  }
  return {
    providers,
    async close() {
      staleConnections.close();
      await Promise.all(clients.map((client) => client.close()));
    },
  };
}

/** The configured providers that also relay their vendor's own API (`/{name}/api/*`). */
export function nativeApiProviders(config: GatewayConfig): readonly string[] {
  return config.providers
    .filter((provider) => provider.kind === 'ollama')
    .map((provider) => provider.name);
}

/** The only place that lists the provider kinds. */
function createProvider(settings: ProviderConfig, deps: ProviderDeps): ChatProvider {
  switch (settings.kind) {
    case 'ollama':
      return createOllamaProvider({ name: settings.name, secrets: secretsOf(settings) }, deps);
    case 'cerebras':
      return createCerebrasProvider({ name: settings.name, apiKey: settings.apiKey ?? '' }, deps);
    case 'openai-compatible':
      return createOpenAiCompatibleProvider(
        { id: settings.name, secrets: secretsOf(settings) },
        deps,
      );
  }
}
