/**
 * `.ci/run`'s check before the suites: fails (exit 1) when the PostgreSQL or Redis the tenancy
 * suites need does not answer. The run's global setup fails too under `CI=true`; this says so
 * first, before minutes of installing and testing.
 */
import { probeServices } from './helpers/service-probes.js';

const probes = await probeServices();
let failed = false;
for (const [name, probe] of [
  ['PostgreSQL', probes.postgres],
  ['Redis', probes.redis],
] as const) {
  if (probe.error === undefined) {
    console.log(`== ${name} at ${probe.url} answers`);
  } else {
    console.error(`== ${name} at ${probe.url} does not answer: ${probe.error}`);
    failed = true;
  }
}
process.exit(failed ? 1 : 0);
