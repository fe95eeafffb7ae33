/**
 * The real PostgreSQL and Redis the tenancy suites run against: whether they answered at the start
 * of the run (`service-probes.ts`), and a database or key prefix of its own for each suite, so
 * suites never see each other's rows.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';

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
