/**
 * A gateway for the Anthropic end-to-end suites, wired as the harness (and main.ts) wires it
 * (settings loader, Ollama and Cerebras both at one fake upstream), plus what those suites need
 * and the harness does not take: Claude Code's alias set-up (`claude-sonnet-4-5` served by
 * `ollama/llama3.2`, as a config file would declare it) and an injectable ping interval. Its
 * clients are Anthropic SDK clients.
 */
import type { AddressInfo } from 'node:net';
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { appDepsFromSettings, buildApp } from '../../src/app.js';
import { gatewayConfigFromSettings } from '../../src/config/gateway-config-from-env.js';
import { loadSettings } from '../../src/config/settings.js';
import { createProviders, providerSecrets } from '../../src/providers/registry.js';
import { type FakeUpstream, startFakeUpstream } from './fake-upstream.js';
import { CLIENT_KEY, PROVIDER_KEY } from './gateway-harness.js';
import { captureLogs, type LogCapture } from './log-capture.js';

/** The alias the gateway serves with `ollama/llama3.2` (Claude Code's first set-up). */
export const CLAUDE_ALIAS = 'claude-sonnet-4-5';

/** A model name each provider's fake answers to, for its pinned prefix. */
export const MODELS = { ollama: 'llama3.2', cerebras: 'llama3.1-8b' } as const;

export interface AnthropicGateway {
  readonly upstream: FakeUpstream;
  /** `http://127.0.0.1:PORT` */
  readonly url: string;
  readonly logs: LogCapture;
  /** An Anthropic SDK client at `prefix` ('' → `/v1/…`, 'ollama' → `/ollama/v1/…`), no retries. */
  client(prefix?: string, options?: { apiKey?: string; authToken?: string }): Anthropic;
  close(): Promise<void>;
}

export interface AnthropicGatewayOptions {
  /** The `ping` interval (the gateway's default is 15 s). */
  readonly pingIntervalMs?: number;
  /** Environment variables added to the harness's. */
  readonly env?: Record<string, string>;
}

/** Starts the fake upstream and the gateway in front of it. */
export async function startAnthropicGateway(
  options: AnthropicGatewayOptions = {},
): Promise<AnthropicGateway> {
  const upstream = await startFakeUpstream();
  const settings = loadSettings({
    ALLOWED_API_KEYS: CLIENT_KEY,
    OLLAMA_HOST: upstream.url,
    CEREBRAS_BASE_URL: `${upstream.url}/v1`,
    CEREBRAS_API_KEY: PROVIDER_KEY,
    LOG_LEVEL: 'debug',
    ...options.env,
  });
  const config = gatewayConfigFromSettings(settings);
  const alias = {
    name: 'claude-local',
    aliases: [CLAUDE_ALIAS],
    deployments: [{ provider: 'ollama', model: MODELS.ollama, weight: 1 }],
    fallbacks: [],
  };
  const logs = captureLogs([...settings.apiKeys, ...providerSecrets(config)], settings.logLevel);
  const registry = createProviders(config, { logger: logs.logger });
  const app = await buildApp({
    ...appDepsFromSettings(
      settings,
      { ...config, models: [alias] },
      registry.providers,
      logs.logger,
    ),
    ...(options.pingIntervalMs === undefined
      ? {}
      : { streamPingIntervalMs: options.pingIntervalMs }),
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  return {
    upstream,
    url,
    logs,
    client(prefix = '', clientOptions = {}) {
      return new Anthropic({
        baseURL: prefix === '' ? url : `${url}/${prefix}`,
        ...(clientOptions.authToken === undefined
          ? { apiKey: clientOptions.apiKey ?? CLIENT_KEY }
          : { authToken: clientOptions.authToken }),
        maxRetries: 0,
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
 * One gateway for a test file or describe block: started before its tests, closed after them,
 * its fake upstream reset before each. The object reads through to the running gateway.
 */
export function useAnthropicGateway(options: AnthropicGatewayOptions = {}): AnthropicGateway {
  let current: AnthropicGateway | undefined;
  const get = (): AnthropicGateway => {
    if (current === undefined) throw new Error('the gateway runs only inside the tests');
    return current;
  };
  beforeAll(async () => {
    current = await startAnthropicGateway(options);
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
    get url() {
      return get().url;
    },
    get logs() {
      return get().logs;
    },
    client: (prefix, clientOptions) => get().client(prefix, clientOptions),
    close: () => get().close(),
  };
}
