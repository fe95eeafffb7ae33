import type { TestProject } from 'vitest/node';
import { probePostgres, probeRedis } from './helpers/real-services.js';

/**
 * Says which Node runs the suite (CI runs it on more than one line), and whether the real
 * PostgreSQL and Redis answer: the suites that need them run only then, and a skip is said here,
 * loudly, once. CI (`.ci/run`) checks both servers before it starts, so a skip there can't happen.
 */
export default async function setup(project: TestProject): Promise<void> {
  console.log(`vitest on Node ${process.version} (${process.execPath})`);
  const [postgres, redis] = await Promise.all([probePostgres(), probeRedis()]);
  for (const [name, probe] of [
    ['PostgreSQL', postgres],
    ['Redis', redis],
  ] as const) {
    if (probe.error !== undefined) {
      console.warn(
        `\n!!! ${name} at ${probe.url} does not answer (${probe.error}): its suites are SKIPPED.\n`,
      );
    }
  }
  project.provide('postgresUrl', postgres.error === undefined ? postgres.url : null);
  project.provide('redisUrl', redis.error === undefined ? redis.url : null);
}

declare module 'vitest' {
  export interface ProvidedContext {
    /** The test PostgreSQL server's URL when it answered at start, else null. */
    postgresUrl: string | null;
    /** The test Redis server's URL when it answered at start, else null. */
    redisUrl: string | null;
  }
}
