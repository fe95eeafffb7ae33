/**
 * The console in a real browser (Debian's Chromium, headless) against a real gateway: an SQLite
 * store, the fake upstream, the console built by Vite. One operator's session, in order: log in,
 * make a team and a key, see its secret once, use the key from the OpenAI SDK, find those
 * requests in the log and the usage, tighten a limit and hit it, revoke the key, log out; each
 * page checked with axe, at 1280 px and at phone width. Screenshots go to a temporary folder, or
 * to docs/images with UPDATE_SCREENSHOTS=1 (the README shows those).
 */
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import OpenAI from 'openai';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeUpstream, startFakeUpstream } from '../helpers/fake-upstream.js';
import { chromiumAvailable, launchChromium, seriousViolations } from './browser-kit.js';
import {
  ADMIN_KEY,
  buildConsole,
  type ConsoleGateway,
  MODEL,
  startConsoleGateway,
} from './console-gateway.js';

const SCREENSHOTS =
  process.env.UPDATE_SCREENSHOTS === '1'
    ? new URL('../../docs/images/', import.meta.url).pathname
    : join(tmpdir(), 'aigw-console-screenshots');
const STEP_MS = 30_000;
/** The ceiling for the whole console's JavaScript, gzipped. */
const MAX_GZIPPED_JS_BYTES = 250 * 1024;

/** One build for the whole file (Vite, as `npm run build` makes it). */
let built: Promise<string> | undefined;
const consoleBuild = () => {
  built ??= buildConsole();
  return built;
};

async function statusOf(promise: Promise<unknown>): Promise<number> {
  try {
    await promise;
    return 200;
  } catch (error) {
    if (error instanceof OpenAI.APIError) return error.status ?? 0;
    throw error;
  }
}

describe.skipIf(!chromiumAvailable())('the console in Chromium', () => {
  let upstream: FakeUpstream;
  let gateway: ConsoleGateway;
  let consoleRoot: string;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  /** Content-Security-Policy violations the page reported: there must be none. */
  const cspViolations: string[] = [];
  let secret = '';
  const requestIds: string[] = [];

  const open = async (hash: string, heading: string) => {
    await page.goto(`${gateway.url}/ui/#/${hash}`);
    await page.getByRole('heading', { level: 1, name: heading }).waitFor();
  };
  const snap = (name: string) =>
    page.screenshot({ path: join(SCREENSHOTS, `console-${name}.png`), fullPage: true });
  const focused = () => page.evaluate('document.activeElement?.textContent');
  const expectAccessible = async () => {
    expect(await seriousViolations(page)).toEqual([]);
  };

  beforeAll(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    [upstream, consoleRoot, browser] = await Promise.all([
      startFakeUpstream(),
      consoleBuild(),
      launchChromium(),
    ]);
    gateway = await startConsoleGateway(upstream, consoleRoot);
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
    page.setDefaultTimeout(10_000);
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) cspViolations.push(message.text());
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await gateway?.close();
    await upstream?.close();
    if (process.env.UPDATE_SCREENSHOTS !== '1') console.info(`console screenshots: ${SCREENSHOTS}`);
  });

  it(
    'asks for the admin key, refuses a wrong one, and logs in with a cookie only',
    async () => {
      await page.goto(`${gateway.url}/ui/`);
      const field = page.getByLabel('Admin key');
      await field.waitFor();
      await expectAccessible();
      await snap('login');
      await field.fill('not-the-admin-key');
      await page.getByRole('button', { name: 'Log in' }).click();
      await page.getByRole('alert').filter({ hasText: 'not the admin key' }).waitFor();
      await field.fill(ADMIN_KEY);
      await page.getByRole('button', { name: 'Log in' }).click();
      await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
      await page.getByText('No requests in this range yet.').waitFor();

      const [cookie] = await context.cookies();
      expect(cookie).toMatchObject({ name: 'aigw_console', httpOnly: true, sameSite: 'Strict' });
      expect(cookie?.value).not.toContain(ADMIN_KEY);
      const stored = await page.evaluate('JSON.stringify({ ...localStorage, ...sessionStorage })');
      expect(stored).toBe('{}');
      expect(await page.content()).not.toContain(ADMIN_KEY);
    },
    STEP_MS,
  );

  it(
    'creates a team and a key, and shows the secret once',
    async () => {
      await open('keys', 'Keys');
      await page.getByText('No keys yet.').waitFor();
      await page.getByRole('button', { name: 'Create team' }).click();
      const teamForm = page.getByRole('form', { name: 'Create team' });
      await teamForm.getByLabel('Name').fill('Research');
      await teamForm.getByLabel('Budget (USD)').fill('5');
      await page.getByRole('button', { name: 'Create team', exact: true }).last().click();
      await page.getByRole('cell', { name: /^Research team_/ }).waitFor();

      await page.getByRole('button', { name: 'Create key' }).first().click();
      const keyForm = page.getByRole('form', { name: 'Create key' });
      await keyForm.getByLabel('Name').fill('ci-bot');
      await keyForm.getByLabel('Team').selectOption({ label: 'Research' });
      await keyForm.getByLabel('Models allowed').fill(MODEL);
      await keyForm.getByLabel('Budget (tokens)').fill('100000');
      await page.getByRole('button', { name: 'Create key' }).last().click();
      const shown = page.getByLabel("The new key's secret");
      await shown.waitFor();
      secret = await shown.inputValue();
      expect(secret).toMatch(/^gw-[0-9A-Za-z]{43}$/);
      await page.getByText('It is shown only once').waitFor();
      await context.grantPermissions(['clipboard-read', 'clipboard-write']);
      await page.getByRole('button', { name: 'Copy', exact: true }).click();
      await page.getByText('Copied to the clipboard.').waitFor();
      expect(await page.evaluate('navigator.clipboard.readText()')).toBe(secret);
      await expectAccessible();
      await snap('new-key');

      await page.getByRole('button', { name: 'I have saved it' }).click();
      await page.reload();
      await page.getByRole('cell', { name: /^ci-bot gw-/ }).waitFor();
      expect(await page.content()).not.toContain(secret);
      expect(await page.getByRole('cell', { name: /^ci-bot gw-/ }).textContent()).toContain(
        secret.slice(0, 11),
      );
    },
    STEP_MS,
  );

  it(
    'lets the key make requests, streamed and not, one of them refused',
    async () => {
      const client = gateway.client(secret);
      for (let index = 0; index < 2; index += 1) {
        const completion = await client.chat.completions
          .create({ model: MODEL, messages: [{ role: 'user', content: 'hi' }] })
          .withResponse();
        requestIds.push(completion.request_id ?? '');
      }
      const stream = await client.chat.completions.create({
        model: MODEL,
        messages: [{ role: 'user', content: 'stream please' }],
        stream: true,
      });
      let text = '';
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
      expect(text.length).toBeGreaterThan(0);
      expect(
        await statusOf(
          client.chat.completions.create({
            model: 'gpt-4o',
            messages: [{ role: 'user', content: 'x' }],
          }),
        ),
      ).toBe(403);
    },
    STEP_MS,
  );

  it(
    'shows those requests in the log, newest first, with their details',
    async () => {
      await open('requests', 'Request log');
      const rows = page.locator('table.requests tbody tr');
      for (let tries = 0; (await rows.count()) < 4 && tries < 40; tries += 1) {
        await page.waitForTimeout(250);
        await page.getByRole('button', { name: 'Refresh' }).click();
        await page.waitForLoadState('networkidle');
      }
      await expect.poll(() => rows.count()).toBe(4);
      await expect.poll(() => rows.first().textContent()).toMatch(/403.*model_not_allowed/);
      await page.getByLabel('Status').fill('403');
      await page.getByRole('button', { name: 'Apply filters' }).click();
      await expect.poll(() => rows.count()).toBe(1);
      await page.getByRole('button', { name: 'Clear' }).click();
      await expect.poll(() => rows.count()).toBe(4);
      // A "From" in the future leaves nothing, and says what to do.
      await page.getByLabel('From').fill('2099-01-01T00:00');
      await page.getByRole('button', { name: 'Apply filters' }).click();
      await expect.poll(() => rows.count()).toBe(0);
      await expect.poll(() => page.getByText('No request matches these filters.').count()).toBe(1);
      await page.getByRole('button', { name: 'Clear' }).click();
      await expect.poll(() => rows.count()).toBe(4);
      // The oldest row is the first request made.
      await page.getByRole('button', { name: 'Details' }).last().click();
      const details = page.locator('dl.details');
      await expect.poll(() => details.textContent()).toContain(requestIds[0]);
      expect(await details.textContent()).toContain(`ollama/${MODEL}`);
      await expectAccessible();
      await snap('requests');
    },
    STEP_MS,
  );

  it(
    'shows them in the usage chart and table, and exports them as CSV',
    async () => {
      await open('usage', 'Usage');
      await page.getByLabel('Group by').selectOption('key');
      const row = page.getByRole('row', { name: /ci-bot/ });
      await row.waitFor();
      expect(await row.getByRole('cell').nth(1).textContent()).toBe('4');
      expect(await row.getByRole('cell').nth(5).textContent()).toBe('1');
      const chart = page.getByRole('img', { name: /^Spend by key\. ci-bot \$0\.\d+$/ });
      await chart.locator('canvas').waitFor();
      await expectAccessible();
      await snap('usage');
      const [download] = await Promise.all([
        page.waitForEvent('download'),
        page.getByRole('button', { name: 'Export CSV' }).click(),
      ]);
      const csv = readFileSync((await download.path()) ?? '', 'utf8');
      expect(csv.split('\r\n')[0]).toBe(
        'group,name,requests,input_tokens,output_tokens,cost_usd,errors',
      );
      expect(csv).toMatch(/key_\w+,ci-bot,4,/);
    },
    STEP_MS,
  );

  it(
    'edits a limit, which the next requests hit (429), and shows the key at it',
    async () => {
      await open('keys', 'Keys');
      await page.getByRole('button', { name: 'Edit key ci-bot' }).click();
      await page
        .getByRole('form', { name: 'Save changes' })
        .getByLabel('Requests per minute')
        .fill('2');
      await page.getByRole('button', { name: 'Save changes' }).click();
      await page.getByRole('cell', { name: /2 rpm/ }).first().waitFor();
      const client = gateway.client(secret);
      const ask = () =>
        statusOf(
          client.chat.completions.create({
            model: MODEL,
            messages: [{ role: 'user', content: 'hi' }],
          }),
        );
      expect([await ask(), await ask(), await ask()]).toEqual([200, 200, 429]);
      await page.reload();
      await page.getByText('0/2 rpm left').waitFor();
      await expectAccessible();
      await snap('keys');
    },
    STEP_MS,
  );

  it(
    'shows traffic, spend and latency on the overview, and deployments on providers',
    async () => {
      await open('overview', 'Overview');
      await page.getByText('Requests and errors', { exact: true }).waitFor();
      const tiles = await page.locator('.tiles').textContent();
      expect(tiles).toMatch(/Requests\s*7/);
      expect(tiles).toMatch(/Error rate\s*29%/);
      await page.getByRole('cell', { name: MODEL, exact: true }).first().waitFor();
      await page
        .getByRole('img', { name: new RegExp(`^Latency p95 and p50 by model\\. ${MODEL} \\d+ ms`) })
        .waitFor();
      await page.getByRole('radio', { name: 'By provider' }).check();
      await page
        .getByRole('img', { name: /^Time to first token p95 and p50 by provider\. ollama/ })
        .waitFor();
      await expectAccessible();
      await snap('overview');

      await open('providers', 'Providers');
      await page
        .getByRole('cell', { name: `ollama/${MODEL}` })
        .first()
        .waitFor();
      expect(await page.locator('.badge-healthy').first().textContent()).toBe('healthy');
      await expectAccessible();
      await snap('providers');
    },
    STEP_MS,
  );

  it(
    'fits a phone-width screen without scrolling sideways',
    async () => {
      await page.setViewportSize({ width: 390, height: 844 });
      for (const [hash, heading] of [
        ['overview', 'Overview'],
        ['keys', 'Keys'],
        ['requests', 'Request log'],
      ] as const) {
        await open(hash, heading);
        await page.waitForLoadState('networkidle');
        const overflow = await page.evaluate(
          'document.documentElement.scrollWidth - document.documentElement.clientWidth',
        );
        expect(overflow, hash).toBeLessThanOrEqual(0);
      }
      await snap('phone');
      await page.setViewportSize({ width: 1280, height: 900 });
    },
    STEP_MS,
  );

  it(
    'revokes the key with the keyboard after a confirmation, and the next request is a 401',
    async () => {
      await open('keys', 'Keys');
      await page.getByRole('button', { name: 'Revoke key ci-bot' }).focus();
      await page.keyboard.press('Enter');
      const dialog = page.getByRole('dialog', { name: /Revoke the key/ });
      await dialog.waitFor();
      // Focus starts on Cancel: Enter alone never revokes; Escape closes.
      await expect.poll(focused).toBe('Cancel');
      await page.keyboard.press('Escape');
      await dialog.waitFor({ state: 'hidden' });
      await page.getByRole('button', { name: 'Revoke key ci-bot' }).click();
      await dialog.waitFor();
      await expect.poll(focused).toBe('Cancel');
      await page.keyboard.press('Shift+Tab');
      expect(await focused()).toBe('Revoke key');
      await page.keyboard.press('Enter');
      await dialog.waitFor({ state: 'hidden' });
      await page.getByLabel('Show revoked and expired').check();
      await page.getByText('revoked', { exact: true }).waitFor();
      expect(
        await statusOf(
          gateway
            .client(secret)
            .chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'hi' }] }),
        ),
      ).toBe(401);
    },
    STEP_MS,
  );

  it(
    'logs out: the cookie is gone and the admin API refuses the old one',
    async () => {
      const [cookie] = await context.cookies();
      await page.getByRole('button', { name: 'Log out' }).click();
      await page.getByLabel('Admin key').waitFor();
      expect(await context.cookies()).toEqual([]);
      const response = await fetch(`${gateway.url}/admin/v1/teams`, {
        headers: { cookie: `${cookie?.name}=${cookie?.value}` },
      });
      expect(response.status).toBe(401);
      expect(cspViolations).toEqual([]);
    },
    STEP_MS,
  );
});

describe('the console build', () => {
  afterAll(async () => {
    rmSync(await consoleBuild(), { recursive: true, force: true });
  });

  it('ships under 250 KB of gzipped JavaScript, and no source maps', async () => {
    const assets = join(await consoleBuild(), 'assets');
    const names = readdirSync(assets);
    const gzipped = names
      .filter((name) => name.endsWith('.js'))
      .reduce((sum, name) => sum + gzipSync(readFileSync(join(assets, name))).length, 0);
    console.info(`console JavaScript: ${(gzipped / 1024).toFixed(1)} KB gzipped`);
    expect(gzipped).toBeGreaterThan(10 * 1024);
    expect(gzipped).toBeLessThan(MAX_GZIPPED_JS_BYTES);
    expect(names.filter((name) => name.endsWith('.map'))).toEqual([]);
  }, 60_000);
});
