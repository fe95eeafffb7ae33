import type { Redis } from 'ioredis';
import type { GatewayConfig } from '../config/gateway-config.js';
import type { TenancySettings } from '../config/settings.js';
import type { GatewayMetrics } from '../metrics/gateway-metrics.js';
import type { ProviderLogger } from '../providers/provider.js';
import { deploymentsOf } from '../routing/deployments-of.js';
import { openTenancyStore, type TenancyStore } from '../store/tenancy-store.js';
import { createKeyDirectory } from './key-directory.js';
import { createLeasedLimitCounters } from './leased-limit-counters.js';
import { createLedgerWriter, type LedgerWriter } from './ledger-writer.js';
import type { LimitCounters } from './limit-counters.js';
import { createMemoryLimitCounters } from './memory-limit-counters.js';
import { createPriceTable } from './price-table.js';
import { createTenancy, type Tenancy } from './tenancy.js';

/** Tenancy as the gateway runs it, with what it opened, to close at shutdown. */
export interface RunningTenancy {
  readonly tenancy: Tenancy;
  readonly store: TenancyStore;
  readonly ledger: LedgerWriter;
  /** Flushes the ledger (bounded by `timeoutMs`), then closes the counters, Redis and the store. */
  close(timeoutMs: number): Promise<void>;
}

export interface StartTenancyOptions {
  readonly logger: ProviderLogger;
  readonly metrics?: GatewayMetrics | undefined;
  readonly now?: () => number;
  /** See `KeyDirectoryOptions.pollIntervalMs`. */
  readonly pollIntervalMs?: number;
}

/**
 * Opens the store (running its migrations), connects Redis when configured (the limit counters
 * then live there, shared by every worker and instance; in memory otherwise), and builds the key
 * directory, the ledger writer and the price table. Redis and pg are loaded only here, so a
 * gateway without tenancy never loads them.
 */
export async function startTenancy(
  settings: TenancySettings,
  config: GatewayConfig,
  options: StartTenancyOptions,
): Promise<RunningTenancy> {
  const { logger, metrics } = options;
  const now = options.now ?? Date.now;
  const store = await openTenancyStore(settings.databaseUrl, { logger });
  let redis: Redis | undefined;
  let counters: LimitCounters;
  try {
    if (settings.redisUrl === undefined) {
      counters = createMemoryLimitCounters();
    } else {
      const [{ Redis: RedisClient }, { createRedisLimitCounters }] = await Promise.all([
        import('ioredis'),
        import('./redis-limit-counters.js'),
      ]);
      redis = new RedisClient(settings.redisUrl, {
        // Fail a command fast when Redis is away instead of queueing it for ever.
        maxRetriesPerRequest: 1,
        connectTimeout: 2_000,
        lazyConnect: true,
      });
      redis.on('error', (error: Error) => logger.warn({ err: error }, 'redis connection error'));
      await redis.connect();
      // Leases spare most requests the round trip to Redis (see leased-limit-counters.ts).
      counters = createLeasedLimitCounters({
        shared: createRedisLimitCounters({ redis, prefix: 'aigw:limits:' }),
        now,
        onError: (error) =>
          logger.warn(
            { err: error },
            'limit leases: a background call to Redis failed (a hand-back is retried)',
          ),
      });
    }
  } catch (error) {
    redis?.disconnect();
    await store.close();
    throw error;
  }
  const directory = createKeyDirectory({
    store,
    logger,
    now,
    ...(options.pollIntervalMs === undefined ? {} : { pollIntervalMs: options.pollIntervalMs }),
  });
  const ledger = createLedgerWriter({
    store,
    logger,
    ...(metrics === undefined ? {} : { onDropped: (count) => metrics.ledgerRowsDropped(count) }),
  });
  const providers = new Set(config.providers.map((provider) => provider.name));
  const tenancy = createTenancy({
    directory,
    ledger,
    counters,
    prices: createPriceTable(config.prices),
    deploymentsOf: deploymentsOf(config.models, providers, config.defaultProvider),
    logger,
    now,
    reserveMaxTokens: settings.reserveMaxTokens,
    ...(metrics === undefined
      ? {}
      : { onUnpriced: (deployment: string) => metrics.unpricedRequest(deployment) }),
  });
  return {
    tenancy,
    store,
    ledger,
    async close(timeoutMs) {
      directory.close();
      await ledger.close(timeoutMs);
      await counters.close();
      redis?.disconnect();
      await store.close();
    },
  };
}
