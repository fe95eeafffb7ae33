import {
  DEFAULT_COOLDOWN_POLICY,
  DEFAULT_RETRY_POLICY,
  type GatewayConfig,
  type ProviderConfig,
} from './gateway-config.js';
import type { Settings } from './settings.js';

/**
 * The environment-only setup (no GATEWAY_CONFIG) as a GatewayConfig: an `ollama` provider, a
 * `cerebras` one when its key is set, no public model names, default routing policy. The default
 * provider is the settings' (the configured one unless DEFAULT_PROVIDER names another). Ollama
 * stays configured for a Cerebras-only user: its pinned routes (`/ollama/...`) answer 502 while no
 * Ollama runs, but nothing else waits on it, since /readyz follows the default provider only.
 */
export function gatewayConfigFromSettings(settings: Settings): GatewayConfig {
  const providers: ProviderConfig[] = [
    {
      name: 'ollama',
      kind: 'ollama',
      baseUrl: settings.ollama.baseUrl,
      headers: {},
      timeouts: settings.upstream,
    },
  ];
  if (settings.cerebras !== undefined) {
    providers.push({
      name: 'cerebras',
      kind: 'cerebras',
      baseUrl: settings.cerebras.baseUrl,
      apiKey: settings.cerebras.apiKey,
      headers: {},
      timeouts: settings.upstream,
    });
  }
  return Object.freeze({
    providers,
    models: [],
    defaultProvider: settings.defaultProvider,
    retry: DEFAULT_RETRY_POLICY,
    cooldown: DEFAULT_COOLDOWN_POLICY,
  });
}
