import { describe, expect, it } from 'vitest';
import { ConfigError, isLoopback, loadSettings } from './settings.js';

const base = { ALLOWED_API_KEYS: 'key-one-1234,key-two-5678' };

function problemsOf(env: Record<string, string>): readonly string[] {
  try {
    loadSettings(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('loadSettings', () => {
  it('applies documented defaults', () => {
    const settings = loadSettings(base);
    expect(settings).toMatchObject({
      host: '127.0.0.1',
      port: 8080,
      developmentMode: false,
      apiKeys: ['key-one-1234', 'key-two-5678'],
      defaultProvider: 'ollama',
      bodyLimitBytes: 10 * 1024 * 1024,
      logLevel: 'info',
      securityHeaders: true,
      corsAllowedOrigins: [],
      upstream: { connectTimeoutMs: 10_000, firstByteTimeoutMs: 120_000, idleTimeoutMs: 60_000 },
    });
    expect(settings.providers).toEqual([{ kind: 'ollama', baseUrl: 'http://localhost:11434' }]);
  });

  it('returns a deeply frozen object', () => {
    const settings = loadSettings(base);
    expect(Object.isFrozen(settings)).toBe(true);
    expect(Object.isFrozen(settings.upstream)).toBe(true);
    expect(Object.isFrozen(settings.apiKeys)).toBe(true);
  });

  it('reads every variable', () => {
    const settings = loadSettings({
      ...base,
      HOST: '0.0.0.0',
      PORT: '9000',
      DEFAULT_PROVIDER: 'cerebras',
      CEREBRAS_API_KEY: 'csk-test',
      CEREBRAS_BASE_URL: 'http://127.0.0.1:1234/v1/',
      OLLAMA_HOST: 'http://gpu-box:11434',
      BODY_LIMIT_BYTES: '2048',
      LOG_LEVEL: 'DEBUG',
      ENABLE_SECURITY_HEADERS: 'false',
      CORS_ALLOWED_ORIGINS: 'https://a.example.com, http://localhost:3000',
      UPSTREAM_CONNECT_TIMEOUT_MS: '100',
      UPSTREAM_FIRST_BYTE_TIMEOUT_MS: '200',
      UPSTREAM_IDLE_TIMEOUT_MS: '300',
      READINESS_TIMEOUT_MS: '50',
      READINESS_CACHE_MS: '0',
      SHUTDOWN_TIMEOUT_MS: '1000',
    });
    expect(settings).toMatchObject({
      host: '0.0.0.0',
      port: 9000,
      defaultProvider: 'cerebras',
      providers: [
        { kind: 'ollama', baseUrl: 'http://gpu-box:11434' },
        { kind: 'cerebras', apiKey: 'csk-test', baseUrl: 'http://127.0.0.1:1234/v1' },
      ],
      bodyLimitBytes: 2048,
      logLevel: 'debug',
      securityHeaders: false,
      corsAllowedOrigins: ['https://a.example.com', 'http://localhost:3000'],
      upstream: { connectTimeoutMs: 100, firstByteTimeoutMs: 200, idleTimeoutMs: 300 },
      readinessTimeoutMs: 50,
      readinessCacheMs: 0,
      shutdownTimeoutMs: 1000,
    });
  });

  it('refuses to start without keys, naming ALLOWED_API_KEYS', () => {
    expect(() => loadSettings({})).toThrow(/ALLOWED_API_KEYS/);
  });

  it('allows no keys in development mode on loopback only', () => {
    expect(loadSettings({ DEVELOPMENT_MODE: 'true' }).apiKeys).toEqual([]);
    expect(loadSettings({ DEVELOPMENT_MODE: 'true', HOST: 'localhost' }).developmentMode).toBe(
      true,
    );
    expect(problemsOf({ DEVELOPMENT_MODE: 'true', HOST: '0.0.0.0' }).join()).toMatch(
      /DEVELOPMENT_MODE.*loopback/,
    );
  });

  it('lists every bad variable in one error', () => {
    const problems = problemsOf({
      ALLOWED_API_KEYS: 'short',
      PORT: 'eighty',
      LOG_LEVEL: 'loud',
      ENABLE_SECURITY_HEADERS: 'maybe',
      OLLAMA_HOST: 'ftp://x',
      CEREBRAS_BASE_URL: 'https://user:pass@api.example.com',
      CORS_ALLOWED_ORIGINS: 'https://ok.example.com,*,https://a.example.com/path',
      DEFAULT_PROVIDER: 'openai',
      UPSTREAM_IDLE_TIMEOUT_MS: '-1',
    });
    const text = problems.join('\n');
    for (const name of [
      'ALLOWED_API_KEYS',
      'PORT',
      'LOG_LEVEL',
      'ENABLE_SECURITY_HEADERS',
      'OLLAMA_HOST',
      'CEREBRAS_BASE_URL',
      'CORS_ALLOWED_ORIGINS',
      'DEFAULT_PROVIDER',
      'UPSTREAM_IDLE_TIMEOUT_MS',
    ]) {
      expect(text).toContain(name);
    }
    expect(problems.filter((problem) => problem.includes('CORS'))).toHaveLength(2);
    expect(text).not.toContain('pass@');
  });

  it('defaults to the provider that is configured, unless DEFAULT_PROVIDER says otherwise', () => {
    const key = { CEREBRAS_API_KEY: 'csk-test' };
    const host = { OLLAMA_HOST: 'http://gpu-box:11434' };
    const defaultOf = (env: Record<string, string>) => loadSettings({ ...base, ...env });
    expect(defaultOf({}).defaultProvider).toBe('ollama');
    expect(defaultOf(key).defaultProvider).toBe('cerebras');
    expect(defaultOf({ ...key, OLLAMA_HOST: '  ' }).defaultProvider).toBe('cerebras');
    expect(defaultOf({ ...key, ...host }).defaultProvider).toBe('ollama');
    expect(defaultOf(host).defaultProvider).toBe('ollama');
    expect(defaultOf({ ...key, DEFAULT_PROVIDER: 'ollama' }).defaultProvider).toBe('ollama');
    expect(defaultOf({ ...key, ...host, DEFAULT_PROVIDER: 'Cerebras' }).defaultProvider).toBe(
      'cerebras',
    );
  });

  it('needs a Cerebras key to make Cerebras the default', () => {
    expect(problemsOf({ ...base, DEFAULT_PROVIDER: 'cerebras' }).join()).toMatch(
      /CEREBRAS_API_KEY/,
    );
  });

  it('treats blank variables as unset', () => {
    expect(loadSettings({ ...base, PORT: '  ', CEREBRAS_API_KEY: '' }).port).toBe(8080);
  });
});

describe('isLoopback', () => {
  it.each([
    ['127.0.0.1', true],
    ['127.1.2.3', true],
    ['localhost', true],
    ['::1', true],
    ['0.0.0.0', false],
    ['192.168.1.2', false],
    ['::', false],
  ])('%s → %s', (host, expected) => {
    expect(isLoopback(host)).toBe(expected);
  });
});

describe('WORKERS', () => {
  it('defaults to 1, reads a count, and takes auto as the CPU count', () => {
    expect(loadSettings(base).workers).toBe(1);
    expect(loadSettings({ ...base, WORKERS: '3' }).workers).toBe(3);
    expect(loadSettings({ ...base, WORKERS: 'auto' }, () => 6).workers).toBe(6);
    for (const value of ['0', 'two', '257', '-1']) {
      expect(problemsOf({ ...base, WORKERS: value })).toEqual([
        `WORKERS must be auto (one process per CPU) or an integer from 1 to 256 (got "${value}")`,
      ]);
    }
  });
});

describe('METRICS_PORT and METRICS_HOST', () => {
  it('is off by default and on its own loopback listener when set', () => {
    expect(loadSettings(base).metrics).toBeUndefined();
    expect(loadSettings({ ...base, METRICS_PORT: '9464' }).metrics).toEqual({
      host: '127.0.0.1',
      port: 9464,
    });
    expect(
      loadSettings({ ...base, METRICS_PORT: '9464', METRICS_HOST: '0.0.0.0' }).metrics?.host,
    ).toBe('0.0.0.0');
  });

  it('refuses the public port', () => {
    expect(problemsOf({ ...base, METRICS_PORT: '8080' }).join()).toMatch(/METRICS_PORT.*PORT/);
    expect(loadSettings({ ...base, METRICS_PORT: '9464', WORKERS: '2' }).metrics?.port).toBe(9464);
  });
});

describe('GATEWAY_CONFIG', () => {
  it('is read as a path and takes over the provider variables', () => {
    const settings = loadSettings({
      ...base,
      GATEWAY_CONFIG: 'gateway.yaml',
      DEFAULT_PROVIDER: 'x',
    });
    expect(settings.configFile).toBe('gateway.yaml');
    expect(loadSettings(base).configFile).toBeUndefined();
  });
});

describe('client timeouts', () => {
  it('reads them and keeps the request timeout at least the headers timeout', () => {
    expect(loadSettings(base)).toMatchObject({
      headersTimeoutMs: 30_000,
      requestTimeoutMs: 120_000,
      keepAliveTimeoutMs: 72_000,
      bodyTimeoutMs: 10_000,
    });
    expect(loadSettings({ ...base, BODY_TIMEOUT_MS: '250' }).bodyTimeoutMs).toBe(250);
    expect(problemsOf({ ...base, BODY_TIMEOUT_MS: '50' }).join()).toMatch(/BODY_TIMEOUT_MS/);
    expect(
      problemsOf({ ...base, HEADERS_TIMEOUT_MS: '5000', REQUEST_TIMEOUT_MS: '1000' }).join(),
    ).toMatch(/REQUEST_TIMEOUT_MS/);
  });
});

describe('loadSettings: tenancy', () => {
  const admin = 'a'.repeat(32);

  it('is off with neither ADMIN_API_KEY nor DATABASE_URL: no database at all', () => {
    expect(loadSettings(base).tenancy).toBeUndefined();
  });

  it('opens the embedded SQLite file by default once ADMIN_API_KEY is set, static keys optional', () => {
    expect(loadSettings({ ADMIN_API_KEY: admin }).tenancy).toEqual({
      adminApiKey: admin,
      databaseUrl: 'sqlite:./data/ai-gateway.db',
      reserveMaxTokens: 4096,
    });
  });

  it('takes DATABASE_URL alone (virtual keys, no admin API), REDIS_URL and RESERVE_MAX_TOKENS', () => {
    const settings = loadSettings({
      DATABASE_URL: 'postgres://gw@db:5432/gateway',
      REDIS_URL: 'redis://cache:6379',
      RESERVE_MAX_TOKENS: '1000',
      WORKERS: '4',
    });
    expect(settings.tenancy).toEqual({
      databaseUrl: 'postgres://gw@db:5432/gateway',
      redisUrl: 'redis://cache:6379',
      reserveMaxTokens: 1000,
    });
    expect(settings.workers).toBe(4);
  });

  it('refuses a short admin key, an unknown database, a bad Redis URL and Redis alone', () => {
    expect(problemsOf({ ...base, ADMIN_API_KEY: 'short-admin-key' })).toEqual([
      expect.stringContaining('ADMIN_API_KEY must be at least 32 characters'),
    ]);
    expect(problemsOf({ ...base, DATABASE_URL: 'mysql://db/x' })).toEqual([
      expect.stringContaining('DATABASE_URL must be sqlite:PATH or postgres://'),
    ]);
    expect(problemsOf({ ...base, ADMIN_API_KEY: admin, REDIS_URL: 'cache:6379' })).toEqual([
      expect.stringContaining('REDIS_URL must be redis://'),
    ]);
    expect(problemsOf({ ...base, REDIS_URL: 'redis://cache:6379' })).toEqual([
      expect.stringContaining('REDIS_URL needs ADMIN_API_KEY or DATABASE_URL'),
    ]);
  });

  it('refuses several workers without Redis: their limits could not be exact', () => {
    expect(problemsOf({ ADMIN_API_KEY: admin, WORKERS: '2' })).toEqual([
      expect.stringContaining('WORKERS > 1 with virtual keys needs REDIS_URL'),
    ]);
    expect(problemsOf({ ADMIN_API_KEY: admin, WORKERS: '1' })).toEqual([]);
  });

  it('never quotes the admin key in a problem', () => {
    const secret = 'not-long-enough-secret';
    expect(problemsOf({ ADMIN_API_KEY: secret }).join('\n')).not.toContain(secret);
  });
});
