import { availableParallelism } from 'node:os';
import { type ProviderKind, type ProviderTimeouts, VENDORS } from '../providers/registry.js';
import type { Vendor } from '../providers/vendor.js';
import { type EnvironmentProviderSettings, environmentProviders } from './environment-providers.js';

/**
 * The one place that turns environment variables into typed, validated, frozen settings. Every bad
 * variable is collected and reported together in one ConfigError.
 */

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface Settings {
  readonly host: string;
  readonly port: number;
  readonly developmentMode: boolean;
  /** Empty only in development mode, where auth is off. */
  readonly apiKeys: readonly string[];
  /** DEFAULT_PROVIDER; unset, the provider the user configured (Cerebras for a key alone). */
  readonly defaultProvider: string;
  readonly bodyLimitBytes: number;
  readonly logLevel: LogLevel;
  readonly securityHeaders: boolean;
  readonly corsAllowedOrigins: readonly string[];
  /** Every provider's timeouts in the environment-only setup; the file's defaults otherwise. */
  readonly upstream: ProviderTimeouts;
  readonly readinessTimeoutMs: number;
  readonly readinessCacheMs: number;
  readonly modelListTimeoutMs: number;
  readonly modelListCacheMs: number;
  readonly shutdownTimeoutMs: number;
  /** A streaming client that takes no bytes for this long is dropped. */
  readonly streamWriteTimeoutMs: number;
  /** Longest wait for a client's request headers (slowloris). */
  readonly headersTimeoutMs: number;
  /** Longest silence between two chunks of a client's request body (not a total). */
  readonly bodyTimeoutMs: number;
  /** Longest wait for a client's whole request (headers and body). */
  readonly requestTimeoutMs: number;
  /** An idle keep-alive client connection is closed after this. */
  readonly keepAliveTimeoutMs: number;
  /** Relay Ollama's model management endpoints through `/{provider}/api/*`. */
  readonly ollamaAllowManagement: boolean;
  /** Processes serving the port (Node cluster); 1 serves from the main process itself. */
  readonly workers: number;
  /**
   * The providers the vendors' variables configure (OLLAMA_HOST, CEREBRAS_*), in registry order:
   * a vendor is configured when it has a base URL (its variable or its default) and, if it
   * requires one, a key. Ollama needs neither, so it is always there.
   */
  readonly providers: readonly EnvironmentProviderSettings[];
  /** GATEWAY_CONFIG: a YAML or JSON file of providers, models and routing; replaces the
   *  provider variables (OLLAMA_HOST, CEREBRAS_*, DEFAULT_PROVIDER) when set. */
  readonly configFile?: string;
  /** Prometheus `/metrics` on its own listener; absent when METRICS_PORT is 0 (the default). */
  readonly metrics?: MetricsSettings;
  /** Teams and virtual keys: present when ADMIN_API_KEY or DATABASE_URL is set. */
  readonly tenancy?: TenancySettings;
}

export interface TenancySettings {
  /** Enables `/admin/v1`; absent, virtual keys still authenticate and `/admin` is 404. */
  readonly adminApiKey?: string;
  /** `sqlite:PATH` or `postgres://…`. */
  readonly databaseUrl: string;
  /** Shares limit counters across workers and instances. */
  readonly redisUrl?: string;
  /** Output tokens a budget reservation assumes when the client sends no maximum. */
  readonly reserveMaxTokens: number;
}

/** Where the store lives when only ADMIN_API_KEY is set. */
export const DEFAULT_DATABASE_URL = 'sqlite:./data/ai-gateway.db';

/** Shortest admin key accepted: it guards every key and budget. */
const MIN_ADMIN_KEY_LENGTH = 32;

export interface MetricsSettings {
  readonly host: string;
  readonly port: number;
}

/** Thrown by {@link loadSettings}; its message lists every problem, one per line. */
export class ConfigError extends Error {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`Invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

export type Environment = Readonly<Record<string, string | undefined>>;

const LOG_LEVELS: readonly LogLevel[] = [
  'fatal',
  'error',
  'warn',
  'info',
  'debug',
  'trace',
  'silent',
];
/**
 * Parses and validates the environment; throws ConfigError naming every bad variable. `vendors`
 * is the registry's but in tests that add one.
 */
export function loadSettings(
  env: Environment,
  cpuCount: () => number = availableParallelism,
  vendors: readonly Vendor<ProviderKind>[] = VENDORS,
): Settings {
  const problems: string[] = [];
  const read = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value === undefined || value === '' ? undefined : value;
  };

  /** `alternative` names what else the variable takes, e.g. `auto (…) or `. */
  const integer = (name: string, fallback: number, min: number, max: number, alternative = '') => {
    const raw = read(name);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!/^\d+$/.test(raw) || value < min || value > max) {
      problems.push(
        `${name} must be ${alternative}an integer from ${min} to ${max} (got "${raw}")`,
      );
      return fallback;
    }
    return value;
  };

  const boolean = (name: string, fallback: boolean): boolean => {
    const raw = read(name)?.toLowerCase();
    if (raw === undefined) return fallback;
    if (['true', '1', 'yes', 'on'].includes(raw)) return true;
    if (['false', '0', 'no', 'off'].includes(raw)) return false;
    problems.push(`${name} must be true or false (got "${raw}")`);
    return fallback;
  };

  const url = (name: string, fallback: string | undefined): string | undefined => {
    const raw = read(name) ?? fallback;
    if (raw === undefined) return undefined;
    try {
      const parsed = new URL(raw);
      if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error('protocol');
      if (parsed.username !== '' || parsed.password !== '') {
        problems.push(`${name} must not contain credentials; use the matching API key variable`);
      }
      return raw.replace(/\/+$/, '');
    } catch {
      problems.push(`${name} must be an http(s) URL`);
      return fallback;
    }
  };

  const list = (name: string): string[] =>
    (read(name) ?? '')
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item !== '');

  const host = read('HOST') ?? '127.0.0.1';
  const port = integer('PORT', 8080, 0, 65_535);
  const developmentMode = boolean('DEVELOPMENT_MODE', false);
  const apiKeys = list('ALLOWED_API_KEYS');
  const tenancy = readTenancy(read, integer, problems);
  if (apiKeys.length === 0 && !developmentMode && tenancy === undefined) {
    problems.push(
      'ALLOWED_API_KEYS is required: set one or more comma-separated client keys, or ADMIN_API_KEY to issue virtual keys (or DEVELOPMENT_MODE=true on a loopback HOST to run without auth)',
    );
  }
  if (developmentMode && !isLoopback(host)) {
    problems.push(
      `DEVELOPMENT_MODE=true is only allowed with a loopback HOST (got "${host}"); it disables auth`,
    );
  }
  for (const key of apiKeys) {
    if (key.length < 8 || /\s/.test(key)) {
      problems.push('ALLOWED_API_KEYS entries must be at least 8 characters without spaces');
      break;
    }
  }

  const logLevel = (read('LOG_LEVEL') ?? 'info').toLowerCase() as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) {
    problems.push(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}`);
  }

  const corsAllowedOrigins = list('CORS_ALLOWED_ORIGINS');
  for (const origin of corsAllowedOrigins) {
    if (!isExactOrigin(origin)) {
      problems.push(
        `CORS_ALLOWED_ORIGINS entries must be exact origins like https://app.example.com (got "${origin}")`,
      );
    }
  }

  const configFile = read('GATEWAY_CONFIG');
  const { providers, implied, lacking } = environmentProviders(vendors, read, url);
  const defaultProvider = (read('DEFAULT_PROVIDER') ?? implied).toLowerCase();
  // With a config file, the file names the providers and the default one.
  const choices = vendors.filter((vendor) => vendor.environment !== undefined);
  if (configFile === undefined && !choices.some((vendor) => vendor.kind === defaultProvider)) {
    problems.push(`DEFAULT_PROVIDER must be one of ${choices.map(({ kind }) => kind).join(', ')}`);
  } else if (configFile === undefined && lacking.has(defaultProvider)) {
    problems.push(`DEFAULT_PROVIDER=${defaultProvider} needs ${lacking.get(defaultProvider)}`);
  }

  const workers =
    read('WORKERS')?.toLowerCase() === 'auto'
      ? cpuCount()
      : integer('WORKERS', 1, 1, 256, 'auto (one process per CPU) or ');
  if (workers > 1 && tenancy !== undefined && tenancy.redisUrl === undefined) {
    problems.push(
      'WORKERS > 1 with virtual keys needs REDIS_URL: the workers must share the limit counters for limits to hold exactly',
    );
  }
  const metricsPort = integer('METRICS_PORT', 0, 0, 65_535);
  if (metricsPort !== 0 && metricsPort === port) {
    problems.push('METRICS_PORT must differ from PORT (metrics are served off the public port)');
  }

  const headersTimeoutMs = integer('HEADERS_TIMEOUT_MS', 30_000, 100, 600_000);
  const requestTimeoutMs = integer('REQUEST_TIMEOUT_MS', 120_000, 100, 3_600_000);
  if (requestTimeoutMs < headersTimeoutMs) {
    problems.push(
      'REQUEST_TIMEOUT_MS must be at least HEADERS_TIMEOUT_MS (headers are part of it)',
    );
  }

  const settings: Settings = {
    host,
    port,
    developmentMode,
    apiKeys,
    defaultProvider,
    bodyLimitBytes: integer('BODY_LIMIT_BYTES', 10 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
    logLevel,
    securityHeaders: boolean('ENABLE_SECURITY_HEADERS', true),
    corsAllowedOrigins,
    upstream: {
      connectTimeoutMs: integer('UPSTREAM_CONNECT_TIMEOUT_MS', 10_000, 1, 600_000),
      firstByteTimeoutMs: integer('UPSTREAM_FIRST_BYTE_TIMEOUT_MS', 120_000, 1, 3_600_000),
      idleTimeoutMs: integer('UPSTREAM_IDLE_TIMEOUT_MS', 60_000, 1, 3_600_000),
    },
    readinessTimeoutMs: integer('READINESS_TIMEOUT_MS', 2_000, 1, 60_000),
    readinessCacheMs: integer('READINESS_CACHE_MS', 5_000, 0, 600_000),
    modelListTimeoutMs: integer('MODEL_LIST_TIMEOUT_MS', 5_000, 1, 600_000),
    modelListCacheMs: integer('MODEL_LIST_CACHE_MS', 10_000, 0, 3_600_000),
    shutdownTimeoutMs: integer('SHUTDOWN_TIMEOUT_MS', 30_000, 0, 600_000),
    streamWriteTimeoutMs: integer('STREAM_WRITE_TIMEOUT_MS', 60_000, 1, 3_600_000),
    headersTimeoutMs,
    requestTimeoutMs,
    bodyTimeoutMs: integer('BODY_TIMEOUT_MS', 10_000, 100, 3_600_000),
    keepAliveTimeoutMs: integer('KEEP_ALIVE_TIMEOUT_MS', 72_000, 100, 3_600_000),
    workers,
    ollamaAllowManagement: boolean('OLLAMA_ALLOW_MANAGEMENT', false),
    providers,
    ...(configFile === undefined ? {} : { configFile }),
    ...(tenancy === undefined ? {} : { tenancy }),
    ...(metricsPort === 0
      ? {}
      : { metrics: { host: read('METRICS_HOST') ?? '127.0.0.1', port: metricsPort } }),
  };

  if (problems.length > 0) throw new ConfigError(problems);
  return deepFreeze(settings);
}

/**
 * ADMIN_API_KEY, DATABASE_URL, REDIS_URL and RESERVE_MAX_TOKENS; undefined when neither of the
 * first two is set (the gateway then runs with no database, as before tenancy).
 */
function readTenancy(
  read: (name: string) => string | undefined,
  integer: (name: string, fallback: number, min: number, max: number) => number,
  problems: string[],
): TenancySettings | undefined {
  const adminApiKey = read('ADMIN_API_KEY');
  const configuredUrl = read('DATABASE_URL');
  const redisUrl = read('REDIS_URL');
  const reserveMaxTokens = integer('RESERVE_MAX_TOKENS', 4096, 1, 10_000_000);
  if (adminApiKey === undefined && configuredUrl === undefined) {
    if (redisUrl !== undefined) {
      problems.push(
        "REDIS_URL needs ADMIN_API_KEY or DATABASE_URL (it holds virtual keys' counters)",
      );
    }
    return undefined;
  }
  if (
    adminApiKey !== undefined &&
    (adminApiKey.length < MIN_ADMIN_KEY_LENGTH || /\s/.test(adminApiKey))
  ) {
    problems.push(
      `ADMIN_API_KEY must be at least ${MIN_ADMIN_KEY_LENGTH} characters without spaces (try: openssl rand -hex 32)`,
    );
  }
  const databaseUrl = configuredUrl ?? DEFAULT_DATABASE_URL;
  if (!/^sqlite:.+/.test(databaseUrl) && !/^postgres(ql)?:\/\/.+/.test(databaseUrl)) {
    problems.push('DATABASE_URL must be sqlite:PATH or postgres://user@host:port/database');
  }
  if (redisUrl !== undefined && !/^rediss?:\/\/.+/.test(redisUrl)) {
    problems.push('REDIS_URL must be redis://host:port or rediss://host:port');
  }
  return {
    databaseUrl,
    reserveMaxTokens,
    ...(adminApiKey === undefined ? {} : { adminApiKey }),
    ...(redisUrl === undefined ? {} : { redisUrl }),
  };
}

/** True for 127.0.0.0/8, ::1 and localhost. */
export function isLoopback(host: string): boolean {
  return (
    host === 'localhost' || host === '::1' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host)
  );
}

function isExactOrigin(origin: string): boolean {
  try {
    const parsed = new URL(origin);
    return (
      (parsed.protocol === 'http:' || parsed.protocol === 'https:') && parsed.origin === origin
    );
  } catch {
    return false;
  }
}

/** Freezes `value` and everything it holds. */
export function deepFreeze<T extends object>(value: T): T {
  for (const child of Object.values(value)) {
    if (typeof child === 'object' && child !== null) deepFreeze(child);
  }
  return Object.freeze(value);
}
