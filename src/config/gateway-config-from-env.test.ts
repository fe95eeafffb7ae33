import { describe, expect, it } from 'vitest';
import { gatewayConfigFromSettings } from './gateway-config-from-env.js';
import { loadSettings } from './settings.js';

const base = { ALLOWED_API_KEYS: 'key-one-1234' };
const providersOf = (env: Record<string, string>) => {
  const config = gatewayConfigFromSettings(loadSettings({ ...base, ...env }));
  return {
    names: config.providers.map((provider) => provider.name),
    default: config.defaultProvider,
  };
};

describe('gatewayConfigFromSettings', () => {
  it('serves plain /v1 from Cerebras when only its key is set, keeping Ollama as a pinned route', () => {
    expect(providersOf({ CEREBRAS_API_KEY: 'csk-test' })).toEqual({
      names: ['ollama', 'cerebras'],
      default: 'cerebras',
    });
  });

  it('serves plain /v1 from Ollama when OLLAMA_HOST is set, or nothing is', () => {
    expect(providersOf({})).toEqual({ names: ['ollama'], default: 'ollama' });
    expect(
      providersOf({ CEREBRAS_API_KEY: 'csk-test', OLLAMA_HOST: 'http://127.0.0.1:11434' }),
    ).toEqual({ names: ['ollama', 'cerebras'], default: 'ollama' });
  });

  it('follows DEFAULT_PROVIDER when it is set', () => {
    expect(providersOf({ CEREBRAS_API_KEY: 'csk-test', DEFAULT_PROVIDER: 'ollama' }).default).toBe(
      'ollama',
    );
  });
});
