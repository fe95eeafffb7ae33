/**
 * The real PostgreSQL and Redis the tenancy suites run against: whether they answered at the start
 * of the run (`service-probes.ts`), and a database or key prefix of its own for each suite, so
 * suites never see each other's rows.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, inject } from 'vitest';

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

/**
 * `count` connections to the test Redis for one describe block, and a key prefix of its own:
 * opened before its tests; after them its keys are deleted (SCAN, not KEYS: the server may be
 * shared) and the connections closed. Call inside the describe.
 */
export function useRedis(
  url: string,
  count = 1,
): { readonly prefix: string; readonly connections: readonly Redis[] } {
  const prefix = `${uniqueName('aigw')}:`;
  const connections: Redis[] = [];
  beforeAll(() => {
    for (let index = 0; index < count; index++) connections.push(new Redis(url));
  });
  afterAll(async () => {
    const [first] = connections;
    if (first !== undefined) {
      let cursor = '0';
      do {
        const [next, keys] = await first.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1_000);
        if (keys.length > 0) await first.del(...keys);
        cursor = next;
      } while (cursor !== '0');
    }
    await Promise.all(connections.map((connection) => connection.quit()));
  });
  return { prefix, connections };
}
