import { describe, expect, it } from 'vitest';
import { DEFAULT_COOLDOWN_POLICY, DEFAULT_RETRY_POLICY } from '../config/gateway-config.js';
import { loadSettings } from '../config/settings.js';
import { startupSummary } from './startup-summary.js';

const SECRET = 'sk-summary-canary-0123456789';

const config = {
  prices: new Map(),
  providers: [
    {
      name: 'local',
      kind: 'ollama' as const,
      baseUrl: 'http://127.0.0.1:11434',
      headers: {},
      timeouts: { connectTimeoutMs: 1, firstByteTimeoutMs: 1, idleTimeoutMs: 1 },
    },
    {
      name: 'azure',
      kind: 'openai-compatible' as const,
      baseUrl: `https://user:${SECRET}@example.test/openai/v1?api-key=${SECRET}#${SECRET}`,
      apiKey: SECRET,
      headers: { 'x-api-key': SECRET },
      timeouts: { connectTimeoutMs: 1, firstByteTimeoutMs: 1, idleTimeoutMs: 1 },
    },
  ],
  models: [
    {
      name: 'chat',
      aliases: ['gpt-4o', 'default'],
      deployments: [
        { provider: 'azure', model: 'gpt-4o', weight: 1 },
        { provider: 'local', model: 'llama3.2', weight: 0 },
      ],
      fallbacks: ['small'],
    },
  ],
  defaultProvider: 'local',
  retry: DEFAULT_RETRY_POLICY,
  cooldown: DEFAULT_COOLDOWN_POLICY,
};

describe('startupSummary', () => {
  it('names the address, providers, routes, models and optional parts, and no secret', () => {
    const settings = loadSettings({
      ALLOWED_API_KEYS: `${SECRET},another-key-000`,
      METRICS_PORT: '9464',
      GATEWAY_CONFIG: 'gateway.yaml',
    });
    const summary = startupSummary(settings, config, 'http://127.0.0.1:8080', ['local']);
    expect(summary.fields).toEqual({
      listen: 'http://127.0.0.1:8080',
      providers: [
        { name: 'local', kind: 'ollama', baseUrl: 'http://127.0.0.1:11434' },
        { name: 'azure', kind: 'openai-compatible', baseUrl: 'https://example.test/openai/v1' },
      ],
      defaultProvider: 'local',
      routes: ['/v1/*', '/local/v1/*', '/azure/v1/*', '/local/api/*'],
      models: [
        {
          name: 'chat',
          aliases: ['gpt-4o', 'default'],
          deployments: ['azure/gpt-4o', 'local/llama3.2'],
          fallbacks: ['small'],
        },
      ],
      optional: {
        auth: '2 key(s)',
        metrics: 'http://127.0.0.1:9464/metrics',
        cors: 'off',
        securityHeaders: 'on',
        ollamaManagement: 'off',
        workers: '1',
        configFile: 'gateway.yaml',
      },
    });
    expect(summary.message).toBe(
      'ai-gateway on http://127.0.0.1:8080 in front of local (ollama, http://127.0.0.1:11434, default), ' +
        'azure (openai-compatible, https://example.test/openai/v1); models chat|gpt-4o|default; ' +
        'auth 2 key(s); metrics http://127.0.0.1:9464/metrics; cors off; securityHeaders on; ' +
        'ollamaManagement off; workers 1; configFile gateway.yaml',
    );
    expect(JSON.stringify(summary)).not.toContain(SECRET);
  });

  it('says when auth is off and when there are no public model names', () => {
    const settings = loadSettings({ DEVELOPMENT_MODE: 'true' });
    const summary = startupSummary(settings, { ...config, models: [] }, 'http://127.0.0.1:1', []);
    expect(summary.message).toContain('no public model names');
    expect(summary.fields.optional.auth).toBe('OFF (development mode)');
    expect(summary.fields.optional.configFile).toBe('none (environment only)');
  });
});
