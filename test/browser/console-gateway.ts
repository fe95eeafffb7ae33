/**
 * A gateway as main.ts wires it, with tenancy on an SQLite file, the admin API and the console
 * (built for the test into a folder of its own), in front of the fake upstream, with one routed
 * and priced model so that every page of the console has something to show.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import OpenAI from 'openai';
import { pino } from 'pino';
import { build } from 'vite';
import { appDepsFromSettings, buildApp } from '../../src/app.js';
import { gatewayConfigFromSettings } from '../../src/config/gateway-config-from-env.js';
import { loadSettings } from '../../src/config/settings.js';
import { createProviders } from '../../src/providers/registry.js';
import { type RunningTenancy, startTenancy } from '../../src/tenancy/start-tenancy.js';
import type { FakeUpstream } from '../helpers/fake-upstream.js';

export const ADMIN_KEY = 'console-admin-key-0123456789-abcdefghijklmnop';
/** The model the test's keys use: routed to Ollama, at $150 and $600 per million tokens. */
export const MODEL = 'llama3.2';

export interface ConsoleGateway {
  readonly app: FastifyInstance;
  readonly url: string;
  readonly running: RunningTenancy;
  /** An OpenAI SDK client with `apiKey`, no retries. */
  client(apiKey: string): OpenAI;
  close(): Promise<void>;
}

/** Builds the console (Vite, as `npm run build` does) into a new temporary folder. */
export async function buildConsole(): Promise<string> {
  const folder = mkdtempSync(join(tmpdir(), 'aigw-console-ui-'));
  await build({
    configFile: new URL('../../web/vite.config.ts', import.meta.url).pathname,
    logLevel: 'error',
    build: { outDir: folder, emptyOutDir: true },
  });
  return folder;
}

export async function startConsoleGateway(
  upstream: FakeUpstream,
  consoleRoot: string,
): Promise<ConsoleGateway> {
  const folder = mkdtempSync(join(tmpdir(), 'aigw-console-db-'));
  const settings = loadSettings({
    DATABASE_URL: `sqlite:${join(folder, 'gateway.db')}`,
    ADMIN_API_KEY: ADMIN_KEY,
    OLLAMA_HOST: upstream.url,
    LOG_LEVEL: 'silent',
  });
  const base = gatewayConfigFromSettings(settings);
  const config = {
    ...base,
    models: [
      {
        name: MODEL,
        aliases: [],
        deployments: [{ provider: 'ollama', model: MODEL, weight: 1, maxConcurrent: 8 }],
        fallbacks: [],
      },
    ],
    prices: new Map([[`ollama/${MODEL}`, { inputPerMillion: 150, outputPerMillion: 600 }]]),
  };
  const logger = pino({ level: 'silent' });
  const registry = createProviders(config, { logger });
  if (settings.tenancy === undefined) throw new Error('tenancy is off');
  const running = await startTenancy(settings.tenancy, config, { logger, pollIntervalMs: 200 });
  const app = await buildApp({
    ...appDepsFromSettings(settings, config, registry.providers, logger),
    tenancy: running.tenancy,
    admin: { apiKey: ADMIN_KEY, store: running.store, consoleRoot },
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  return {
    app,
    url,
    running,
    client: (apiKey) =>
      new OpenAI({ apiKey, baseURL: `${url}/v1`, maxRetries: 0, timeout: 10_000 }),
    async close() {
      await app.close();
      await running.close(5_000);
      await registry.close();
      rmSync(folder, { recursive: true, force: true });
    },
  };
}
