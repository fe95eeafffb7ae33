import {
  DEFAULT_COOLDOWN_POLICY,
  DEFAULT_RETRY_POLICY,
  type GatewayConfig,
} from './gateway-config.js';
import type { Settings } from './settings.js';

/**
 * The environment-only setup (no GATEWAY_CONFIG) as a GatewayConfig: each provider the vendors'
 * variables configure, named after its kind (always `ollama`, `cerebras` when its key is set), no
 * public model names, default routing policy. The default provider is the settings' (the
 * configured one unless DEFAULT_PROVIDER names another). Ollama stays configured for a
 * Cerebras-only user: its pinned routes (`/ollama/...`) answer 502 while no Ollama runs, but
 * nothing else waits on it, since /readyz follows the default provider only.
 */
export function gatewayConfigFromSettings(settings: Settings): GatewayConfig {
  return Object.freeze({
    providers: settings.providers.map((provider) => ({
      name: provider.kind,
      kind: provider.kind,
      baseUrl: provider.baseUrl,
      ...(provider.apiKey === undefined ? {} : { apiKey: provider.apiKey }),
      headers: {},
      timeouts: settings.upstream,
    })),
    models: [],
    prices: new Map(),
    defaultProvider: settings.defaultProvider,
    retry: DEFAULT_RETRY_POLICY,
    cooldown: DEFAULT_COOLDOWN_POLICY,
  });
}
