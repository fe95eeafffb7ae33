import type { TestProject } from 'vitest/node';
import { probeServices } from './helpers/service-probes.js';

/**
 * Says which Node runs the suite (CI runs it on more than one line), and whether the real
 * PostgreSQL and Redis answer: the suites that need them run only then. Locally a skip is said
 * here, loudly, once; under `CI=true` (set by `.ci/run`) a server that does not answer fails the
 * whole run, since a silently skipped suite would pass.
 */
export default async function setup(project: TestProject): Promise<void> {
  console.log(`vitest on Node ${process.version} (${process.execPath})`);
  const { postgres, redis } = await probeServices();
  const missing: string[] = [];
  for (const [name, probe] of [
    ['PostgreSQL', postgres],
    ['Redis', redis],
  ] as const) {
    if (probe.error !== undefined) missing.push(`${name} at ${probe.url} (${probe.error})`);
  }
  if (missing.length > 0 && process.env.CI === 'true') {
    throw new Error(`CI needs the real servers, and these do not answer: ${missing.join('; ')}`);
  }
  for (const service of missing) {
    console.warn(`\n!!! ${service} does not answer: its suites are SKIPPED.\n`);
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
