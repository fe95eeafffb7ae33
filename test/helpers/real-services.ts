/**
 * The real PostgreSQL and Redis the tenancy suites run against: where they are
 * (`DATABASE_URL_TEST`, `REDIS_URL_TEST`, else the machine's defaults), whether they answer, and a
 * database or key prefix of its own for each suite, so suites never see each other's rows.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';
import { inject } from 'vitest';

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

/** The PostgreSQL URL when the server answered at the start of the run, else null (skip). */
export function postgresUrlOrSkip(): string | null {
  return inject('postgresUrl');
}

/** The Redis URL when the server answered at the start of the run, else null (skip). */
export function redisUrlOrSkip(): string | null {
  return inject('redisUrl');
}

/** A unique, lower-case name for one suite's database, schema or key prefix. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${randomBytes(6).toString('hex')}`;
}

/**
 * Creates an empty database on the test server for one suite and returns its URL and a `drop`
 * that removes it (connections to it must be closed first).
 */
export async function createTemporaryDatabase(
  serverUrl: string,
): Promise<{ url: string; drop(): Promise<void> }> {
  const name = uniqueName('aigw_test');
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: serverUrl });
      await client.connect();
      try {
        await client.query(`drop database if exists ${name} with (force)`);
      } finally {
        await client.end();
      }
    },
  };
}
