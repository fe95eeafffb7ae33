/**
 * Where the real agents are installed (`test/agents/node_modules`, apart from the root's so a
 * user's `npm ci` stays small) and the loud skip when they are not: a developer who did not
 * install them gets a warning with the command, never a failure. CI installs them (`.ci/run`).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** This folder: its own package.json and lockfile pin the agents' versions. */
export const AGENTS_DIR = fileURLToPath(new URL('.', import.meta.url));

/** `test/agents/node_modules`. */
export const AGENTS_MODULES = join(AGENTS_DIR, 'node_modules');

/** The command that installs the agents, from the repository's root. */
export const INSTALL_COMMAND = 'npm ci --prefix test/agents';

/**
 * Whether `entry` (a path under `test/agents/node_modules`) is installed; when it is not, says so
 * once, loudly, with the command that installs it, and the caller skips its suite on false. In
 * CI (`CI=true`, which `.ci/run` runs under) a missing agent throws instead: there the agents
 * are installed, and a skip would hide that they no longer are.
 */
export function agentInstalled(agent: string, entry: string): boolean {
  if (existsSync(join(AGENTS_MODULES, entry))) return true;
  const missing = `${agent} is not installed (no test/agents/node_modules/${entry})`;
  if (process.env.CI === 'true') {
    throw new Error(`${missing}: CI must run it; install it with \`${INSTALL_COMMAND}\`.`);
  }
  console.warn(
    `\n!!! ${missing}: its end-to-end tests are SKIPPED. Install the agents with ` +
      `\`${INSTALL_COMMAND}\` and run \`npx vitest run test/agents\`.\n`,
  );
  return false;
}
