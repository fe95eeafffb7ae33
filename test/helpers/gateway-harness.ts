import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { appDepsFromSettings, buildApp } from '../../src/app.js';
import { gatewayConfigFromSettings } from '../../src/config/gateway-config-from-env.js';
import { loadSettings, type Settings } from '../../src/config/settings.js';
import {
  createGatewayMetrics,
  type GatewayMetrics,
  STALE_CONNECTION_OUTCOME,
} from '../../src/metrics/gateway-metrics.js';
import {
  createProviders,
  type ProviderRegistry,
  providerSecrets,
} from '../../src/providers/registry.js';
import { type FakeUpstream, startFakeUpstream } from './fake-upstream.js';
import { captureLogs, type LogCapture } from './log-capture.js';

/** The client key and the provider key every e2e gateway is configured with (log canaries). */
export const CLIENT_KEY = 'canary-client-key-7f3a9c';
export const PROVIDER_KEY = 'csk-canary-provider-key-5d21e8';

/** A real gateway listening on 127.0.0.1:0, wired as main.ts wires it, in front of a fake upstream. */
export interface GatewayHarness {
  readonly upstream: FakeUpstream;
  readonly app: FastifyInstance;
  readonly settings: Settings;
  readonly registry: ProviderRegistry;
  /** e.g. `http://127.0.0.1:PORT` */
  readonly url: string;
  readonly logs: LogCapture;
  /** What the gateway recorded (served by main.ts on METRICS_PORT). */
  readonly metrics: GatewayMetrics;
  /** An official OpenAI SDK client for `prefix` ('' → `/v1`, 'ollama' → `/ollama/v1`). */
  client(prefix?: string, options?: { apiKey?: string; maxRetries?: number }): OpenAI;
  close(): Promise<void>;
}

/**
 * Starts the fake upstream and a gateway configured through the real settings loader, with both
 * providers pointing at the fake. `env` overrides or adds variables.
 */
export async function startGateway(env: Record<string, string> = {}): Promise<GatewayHarness> {
  const upstream = await startFakeUpstream();
  const settings = loadSettings({
    ALLOWED_API_KEYS: CLIENT_KEY,
    OLLAMA_HOST: upstream.url,
    CEREBRAS_BASE_URL: `${upstream.url}/v1`,
    CEREBRAS_API_KEY: PROVIDER_KEY,
    LOG_LEVEL: 'debug',
    ...env,
  });
  const config = gatewayConfigFromSettings(settings);
  const logs = captureLogs([...settings.apiKeys, ...providerSecrets(config)], settings.logLevel);
  const metrics = createGatewayMetrics({ collectDefaultMetrics: false });
  const registry = createProviders(config, {
    logger: logs.logger,
    onStaleRepeat: (provider) => metrics.upstreamAttempt(provider, STALE_CONNECTION_OUTCOME),
  });
  const app = await buildApp({
    ...appDepsFromSettings(settings, config, registry.providers, logs.logger),
    metrics,
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  return {
    upstream,
    app,
    settings,
    registry,
    url,
    logs,
    metrics,
    client(prefix = '', options = {}) {
      return new OpenAI({
        apiKey: options.apiKey ?? CLIENT_KEY,
        baseURL: prefix === '' ? `${url}/v1` : `${url}/${prefix}/v1`,
        maxRetries: options.maxRetries ?? 0,
        timeout: 5_000,
      });
    },
    async close() {
      await app.close();
      await registry.close();
      await upstream.close();
    },
  };
}

/**
 * One harness gateway for a test file (or describe block): started before its tests, closed
 * after them, its fake upstream reset before each test. The returned object reads through to the
 * running harness, so tests use it like the harness itself.
 */
export function useGateway(env: Record<string, string> = {}): GatewayHarness {
  let current: GatewayHarness | undefined;
  const get = (): GatewayHarness => {
    if (current === undefined) throw new Error('the gateway runs only inside the tests');
    return current;
  };
  beforeAll(async () => {
    current = await startGateway(env);
  });
  afterAll(async () => {
    await current?.close();
  });
  beforeEach(() => {
    current?.upstream.reset();
  });
  return {
    get upstream() {
      return get().upstream;
    },
    get app() {
      return get().app;
    },
    get settings() {
      return get().settings;
    },
    get registry() {
      return get().registry;
    },
    get url() {
      return get().url;
    },
    get logs() {
      return get().logs;
    },
    get metrics() {
      return get().metrics;
    },
    client: (prefix, options) => get().client(prefix, options),
    close: () => get().close(),
  };
}
