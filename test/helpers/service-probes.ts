/**
 * Where the real PostgreSQL and Redis of the tenancy suites are (`DATABASE_URL_TEST`,
 * `REDIS_URL_TEST`, else the machine's defaults) and whether they answer. No vitest here: the
 * run's global setup and `.ci/run`'s check before the run both use it.
 */
import { Redis } from 'ioredis';
import pg from 'pg';

export const POSTGRES_URL_TEST =
  process.env.DATABASE_URL_TEST ?? 'postgres://postgres@127.0.0.1:5432/test';
export const REDIS_URL_TEST = process.env.REDIS_URL_TEST ?? 'redis://127.0.0.1:6379';

export interface Probe {
  readonly url: string;
  /** Why it did not answer; undefined when it did. */
  readonly error?: string;
}

/** Connects once, runs `select 1`, and hangs up (bounded to 2 s). */
export async function probePostgres(url = POSTGRES_URL_TEST): Promise<Probe> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
  try {
    await client.connect();
    await client.query('select 1');
    return { url };
  } catch (error) {
    return { url, error: String(error) };
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Connects once, PINGs, and hangs up (bounded to 2 s, no reconnecting). */
export async function probeRedis(url = REDIS_URL_TEST): Promise<Probe> {
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 2_000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    await redis.ping();
    return { url };
  } catch (error) {
    return { url, error: String(error) };
  } finally {
    redis.disconnect();
  }
}

/** Both servers' probes, in parallel. */
export function probeServices(): Promise<{ postgres: Probe; redis: Probe }> {
  return Promise.all([probePostgres(), probeRedis()]).then(([postgres, redis]) => ({
    postgres,
    redis,
  }));
}
