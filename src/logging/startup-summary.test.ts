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
        auth: '2 static key(s)',
        tenancy: 'off',
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
        'auth 2 static key(s); tenancy off; metrics http://127.0.0.1:9464/metrics; cors off; securityHeaders on; ' +
        'ollamaManagement off; workers 1; configFile gateway.yaml',
    );
    expect(JSON.stringify(summary)).not.toContain(SECRET);
  });

  it('says where teams, keys and counters live, never a database or Redis password', () => {
    const settings = loadSettings({
      ADMIN_API_KEY: SECRET.padEnd(40, 'x'),
      DATABASE_URL: 'postgres://gateway:db-password-123@db.internal:5432/gateway',
      REDIS_URL: 'redis://:redis-password-456@cache:6379',
      WORKERS: '2',
    });
    const summary = startupSummary(settings, config, 'http://127.0.0.1:8080', []);
    expect(summary.fields.optional.auth).toBe('0 static key(s) and virtual keys');
    expect(summary.fields.optional.tenancy).toBe(
      'postgres postgres://db.internal:5432/gateway, counters in redis redis://cache:6379, admin API on',
    );
    const text = JSON.stringify(summary);
    for (const secret of ['db-password-123', 'redis-password-456', SECRET]) {
      expect(text).not.toContain(secret);
    }
    const embedded = loadSettings({ DATABASE_URL: 'sqlite:./data/x.db' });
    expect(startupSummary(embedded, config, 'http://127.0.0.1:1', []).fields.optional.tenancy).toBe(
      'sqlite:./data/x.db, counters in memory, admin API off',
    );
  });

  it('says when auth is off and when there are no public model names', () => {
    const settings = loadSettings({ DEVELOPMENT_MODE: 'true' });
    const summary = startupSummary(settings, { ...config, models: [] }, 'http://127.0.0.1:1', []);
    expect(summary.message).toContain('no public model names');
    expect(summary.fields.optional.auth).toBe('OFF (development mode)');
    expect(summary.fields.optional.configFile).toBe('none (environment only)');
  });
});
