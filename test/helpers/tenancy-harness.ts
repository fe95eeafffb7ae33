/**
 * Gateways with tenancy on, as main.ts wires them (the real settings loader, store, counters and
 * key directory), in front of one fake upstream; several may share one database and one Redis,
 * as instances behind a load balancer do. Keys are made straight in the store, so these suites
 * don't depend on the admin API.
 */
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import OpenAI from 'openai';
import { appDepsFromSettings, buildApp } from '../../src/app.js';
import type { GatewayConfig } from '../../src/config/gateway-config.js';
import { gatewayConfigFromSettings } from '../../src/config/gateway-config-from-env.js';
import { loadSettings } from '../../src/config/settings.js';
import { createGatewayMetrics, type GatewayMetrics } from '../../src/metrics/gateway-metrics.js';
import { createProviders, providerSecrets } from '../../src/providers/registry.js';
import type { KeyRecord, NewKey, NewTeam, TeamRecord } from '../../src/store/tenancy-store.js';
import { generateKeySecret, hashKeySecret, keyPrefixOf } from '../../src/tenancy/key-secret.js';
import { type RunningTenancy, startTenancy } from '../../src/tenancy/start-tenancy.js';
import type { FakeUpstream } from './fake-upstream.js';
import { captureLogs, type LogCapture } from './log-capture.js';

/** The static key every tenancy gateway also accepts. */
export const STATIC_KEY = 'static-client-key-0042';

export interface TenantGateway {
  readonly app: FastifyInstance;
  readonly url: string;
  readonly running: RunningTenancy;
  readonly logs: LogCapture;
  readonly metrics: GatewayMetrics;
  /** An OpenAI SDK client with `apiKey`, no retries unless asked. */
  client(apiKey: string, options?: { prefix?: string; maxRetries?: number }): OpenAI;
  close(): Promise<void>;
}

export interface TenantGatewayOptions {
  readonly upstream: FakeUpstream;
  readonly databaseUrl: string;
  readonly redisUrl?: string | undefined;
  readonly env?: Record<string, string>;
  /** Replaces the environment's provider setup (prices, models). */
  readonly config?: (config: GatewayConfig) => GatewayConfig;
  /** How often the key directory polls for changes; short in tests. */
  readonly pollIntervalMs?: number;
}

export async function startTenantGateway(options: TenantGatewayOptions): Promise<TenantGateway> {
  const settings = loadSettings({
    ALLOWED_API_KEYS: STATIC_KEY,
    DATABASE_URL: options.databaseUrl,
    ...(options.redisUrl === undefined ? {} : { REDIS_URL: options.redisUrl }),
    OLLAMA_HOST: options.upstream.url,
    CEREBRAS_BASE_URL: `${options.upstream.url}/v1`,
    CEREBRAS_API_KEY: 'csk-tenancy-provider-key',
    LOG_LEVEL: 'info',
    ...options.env,
  });
  const base = gatewayConfigFromSettings(settings);
  const config = options.config?.(base) ?? base;
  const logs = captureLogs([...settings.apiKeys, ...providerSecrets(config)], settings.logLevel);
  const metrics = createGatewayMetrics({ collectDefaultMetrics: false });
  const registry = createProviders(config, { logger: logs.logger });
  const tenancySettings = settings.tenancy;
  if (tenancySettings === undefined) throw new Error('tenancy is off');
  const running = await startTenancy(tenancySettings, config, {
    logger: logs.logger,
    metrics,
    pollIntervalMs: options.pollIntervalMs ?? 200,
  });
  const app = await buildApp({
    ...appDepsFromSettings(settings, config, registry.providers, logs.logger),
    metrics,
    tenancy: running.tenancy,
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  return {
    app,
    url,
    running,
    logs,
    metrics,
    client(apiKey, clientOptions = {}) {
      const prefix = clientOptions.prefix ?? '';
      return new OpenAI({
        apiKey,
        baseURL: prefix === '' ? `${url}/v1` : `${url}/${prefix}/v1`,
        maxRetries: clientOptions.maxRetries ?? 0,
        timeout: 10_000,
      });
    },
    async close() {
      await app.close();
      await running.close(5_000);
      await registry.close();
    },
  };
}

/** A new virtual key in the store, and its secret. */
export async function createTestKey(
  gateway: TenantGateway,
  fields: Partial<Omit<NewKey, 'keyHash' | 'keyPrefix'>> = {},
): Promise<{ record: KeyRecord; secret: string }> {
  const secret = generateKeySecret();
  const record = await gateway.running.store.createKey(
    { name: 'test key', ...fields, keyHash: hashKeySecret(secret), keyPrefix: keyPrefixOf(secret) },
    Date.now(),
  );
  return { record, secret };
}

export async function createTestTeam(
  gateway: TenantGateway,
  fields: Partial<NewTeam> = {},
): Promise<TeamRecord> {
  return gateway.running.store.createTeam({ name: 'test team', ...fields }, Date.now());
}

/** Waits (bounded) until `check` holds, polling every 50 ms. */
export async function eventually<T>(
  check: () => Promise<T | undefined>,
  timeoutMs = 5_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`not true within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
