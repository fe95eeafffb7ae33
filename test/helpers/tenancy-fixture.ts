/**
 * A gateway with tenancy on a real store, for the http suites: the stores a suite runs on (an
 * SQLite file, and PostgreSQL when it answered at the start of the run) and an app built on one
 * of them, with the admin API, in front of a fake `ollama` provider.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { buildApp } from '../../src/app.js';
import {
  DEFAULT_COOLDOWN_POLICY,
  DEFAULT_RETRY_POLICY,
  type GatewayConfig,
} from '../../src/config/gateway-config.js';
import { type RunningTenancy, startTenancy } from '../../src/tenancy/start-tenancy.js';
import { createFakeProvider, type FakeProvider } from './fake-provider.js';
import { createTemporaryDatabase, postgresUrlOrSkip } from './real-services.js';

export const ADMIN_KEY = 'admin-key-0123456789-abcdefghijklmnopqrstuvwxyz';
export const STATIC_KEY = 'static-key-0123456789';

/** USD per million tokens of `m1`: the fake's 3 input and 2 output tokens cost $0.007. */
export const M1_PRICE = { inputPerMillion: 1_000, outputPerMillion: 2_000 };

/** An empty database of a suite's own. */
export interface TestDatabase {
  readonly url: string;
  remove(): Promise<void>;
}

/** A store a suite runs on; `skip` when its server did not answer (said loudly at start). */
export interface StoreBackend {
  readonly name: string;
  readonly skip: boolean;
  create(): Promise<TestDatabase>;
}

/** SQLite in a temporary folder, and the test PostgreSQL server. */
export function storeBackends(): readonly StoreBackend[] {
  const postgresUrl = postgresUrlOrSkip();
  return [
    {
      name: 'SQLite',
      skip: false,
      async create() {
        const folder = mkdtempSync(join(tmpdir(), 'aigw-admin-'));
        return {
          url: `sqlite:${join(folder, 'gateway.db')}`,
          remove: async () => rmSync(folder, { recursive: true, force: true }),
        };
      },
    },
    {
      name: 'PostgreSQL',
      skip: postgresUrl === null,
      async create() {
        if (postgresUrl === null) throw new Error('PostgreSQL did not answer');
        const database = await createTemporaryDatabase(postgresUrl);
        return { url: database.url, remove: () => database.drop() };
      },
    },
  ];
}

export interface TenancyApp {
  readonly app: FastifyInstance;
  readonly running: RunningTenancy;
  readonly ollama: FakeProvider;
  /** Closes the app, flushes the ledger and closes the store. */
  close(): Promise<void>;
}

/**
 * Tenancy on the store at `databaseUrl` (no polling: this app's own admin API is what changes
 * keys) and the app, with one static key beside the virtual ones and the admin API on.
 */
export async function startTenancyApp(databaseUrl: string): Promise<TenancyApp> {
  const config: GatewayConfig = {
    providers: [
      {
        name: 'ollama',
        kind: 'ollama',
        baseUrl: 'http://127.0.0.1:9',
        headers: {},
        timeouts: { connectTimeoutMs: 1_000, firstByteTimeoutMs: 1_000, idleTimeoutMs: 1_000 },
      },
    ],
    models: [],
    prices: new Map([['m1', M1_PRICE]]),
    defaultProvider: 'ollama',
    retry: DEFAULT_RETRY_POLICY,
    cooldown: DEFAULT_COOLDOWN_POLICY,
  };
  const running = await startTenancy(
    { databaseUrl, reserveMaxTokens: 4096, adminApiKey: ADMIN_KEY },
    config,
    { logger: pino({ level: 'silent' }), pollIntervalMs: 0 },
  );
  const ollama = createFakeProvider('ollama');
  const app = await buildApp({
    providers: new Map([['ollama', ollama]]),
    apiKeys: [STATIC_KEY],
    tenancy: running.tenancy,
    admin: { apiKey: ADMIN_KEY, store: running.store },
  });
  return {
    app,
    running,
    ollama,
    async close() {
      await app.close();
      await running.close(2_000);
    },
  };
}
