// Fails CI when the PostgreSQL or Redis the tenancy suites need does not answer: locally those
// suites are skipped (loudly) without them, and a silently skipped suite in CI is a defect.
import { Redis } from 'ioredis';
import pg from 'pg';

const postgresUrl = process.env.DATABASE_URL_TEST ?? 'postgres://postgres@127.0.0.1:5432/test';
const redisUrl = process.env.REDIS_URL_TEST ?? 'redis://127.0.0.1:6379';

async function checkPostgres() {
  const client = new pg.Client({ connectionString: postgresUrl, connectionTimeoutMillis: 5_000 });
  try {
    await client.connect();
    const { rows } = await client.query('select version()');
    return rows[0].version.split(' on ')[0];
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function checkRedis() {
  const redis = new Redis(redisUrl, {
    lazyConnect: true,
    connectTimeout: 5_000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    const info = await redis.info('server');
    return `Redis ${/redis_version:(\S+)/.exec(info)?.[1] ?? '?'}`;
  } finally {
    redis.disconnect();
  }
}

let failed = false;
for (const [name, url, check] of [
  ['PostgreSQL', postgresUrl, checkPostgres],
  ['Redis', redisUrl, checkRedis],
]) {
  try {
    console.log(`== ${name} at ${url}: ${await check()}`);
  } catch (error) {
    console.error(`== ${name} at ${url} does not answer: ${error}`);
    failed = true;
  }
}
process.exit(failed ? 1 : 0);
