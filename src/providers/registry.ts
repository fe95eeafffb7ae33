import { randomBytes } from 'node:crypto';
import type { Settings } from '../config/settings.js';
import { createCerebrasProvider } from './cerebras/cerebras-provider.js';
import { createOllamaProvider } from './ollama/ollama-provider.js';
import type { ChatProvider } from './provider.js';
import { createUpstreamClient, type UpstreamClient } from './shared/upstream-client.js';

export interface ProviderRegistry {
  readonly providers: ReadonlyMap<string, ChatProvider>;
  /** Closes every upstream connection pool. */
  close(): Promise<void>;
}

/** A 24-character, URL-safe id suffix: unique without a counter shared across processes. */
export function generateId(): string {
  return randomBytes(18).toString('base64url');
}

/** Settings → providers. The only place that lists the provider kinds. */
export function createProviders(settings: Settings): ProviderRegistry {
  const clients: UpstreamClient[] = [];
  const providers = new Map<string, ChatProvider>();
  const timeouts = settings.upstream;
  const deps = (upstream: UpstreamClient) => {
    clients.push(upstream);
    return { upstream, now: Date.now, generateId };
  };

  const ollama = createOllamaProvider(
    settings.ollama,
    deps(
      createUpstreamClient({ provider: 'ollama', baseUrl: settings.ollama.baseUrl, ...timeouts }),
    ),
  );
  providers.set(ollama.id, ollama);

  if (settings.cerebras !== undefined) {
    const cerebras = createCerebrasProvider(
      settings.cerebras,
      deps(
        createUpstreamClient({
          provider: 'cerebras',
          baseUrl: settings.cerebras.baseUrl,
          headers: { authorization: `Bearer ${settings.cerebras.apiKey}` },
          ...timeouts,
        }),
      ),
    );
    providers.set(cerebras.id, cerebras);
  }

  return {
    providers,
    async close() {
      await Promise.all(clients.map((client) => client.close()));
    },
  };
}
