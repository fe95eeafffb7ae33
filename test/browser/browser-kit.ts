/**
 * Debian's Chromium driven by playwright-core for the console's browser tests: whether it is
 * there (a missing one is a loud skip locally, a failure under CI), how it is launched, and an
 * accessibility check with axe-core.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { type Browser, chromium, type Page } from 'playwright-core';

export const CHROMIUM_PATH = '/usr/bin/chromium';
const INSTALL_HINT = 'apt-get install -y chromium';

/**
 * Whether the browser suites can run. Without Chromium they are skipped with a warning; under
 * `CI=true` that is an error instead, so a CI machine without it never passes by skipping.
 */
export function chromiumAvailable(): boolean {
  if (existsSync(CHROMIUM_PATH)) return true;
  if (process.env.CI === 'true') {
    throw new Error(`Chromium is missing at ${CHROMIUM_PATH} under CI: ${INSTALL_HINT}`);
  }
  console.warn(
    `\n!!! Chromium is missing at ${CHROMIUM_PATH}: the console's browser tests are SKIPPED. Install it: ${INSTALL_HINT}\n`,
  );
  return false;
}

/** Headless, without a sandbox (root in CI) and without any traffic of its own. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-default-apps',
      // Containers often have a small /dev/shm; Chromium then uses /tmp instead.
      '--disable-dev-shm-usage',
      '--disable-domain-reliability',
      '--disable-sync',
      '--no-first-run',
      '--no-pings',
    ],
  });
}

const axeSource = readFileSync(
  createRequire(import.meta.url).resolve('axe-core/axe.min.js'),
  'utf8',
);

/** An axe violation, as much of it as a failure message needs. */
export interface AxeViolation {
  readonly id: string;
  readonly impact: string | null;
  readonly help: string;
  readonly targets: readonly string[];
}

/**
 * The serious and critical axe violations of the page as it is now (WCAG 2 A and AA rules and
 * best practices). axe is evaluated through the DevTools protocol, which the page's CSP does not
 * govern, so the policy under test stays as strict as it is served.
 */
export async function seriousViolations(page: Page): Promise<AxeViolation[]> {
  await page.evaluate(axeSource);
  const violations = (await page.evaluate(
    'axe.run().then((result) => result.violations.map((violation) => ({ id: violation.id, impact: violation.impact, help: violation.help, targets: violation.nodes.map((node) => node.target.join(" ")) })))',
  )) as AxeViolation[];
  return violations.filter(
    (violation) => violation.impact === 'serious' || violation.impact === 'critical',
  );
}
