// The playground in a real headless Chromium (Debian's chromium package, driven by
// playwright-core; no downloaded browser): the page loads, a preset runs and draws the cache
// lines of its buffers, a bug preset shows its data-check report, a program that never ends is
// stopped without freezing the page, and a screenshot is saved (docs/playground.png under
// `npm run screenshots`). Outside CI the test is skipped when /usr/bin/chromium is missing; in CI
// (CI=true) it must run.
import { existsSync, mkdtempSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { screenshotPath } from '../support/screenshot.js';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

const CHROMIUM = '/usr/bin/chromium';
const run = existsSync(CHROMIUM) || process.env.CI === 'true';
const root = fileURLToPath(new URL('../../', import.meta.url));

let server: Server;
let browser: BrowserContext;
let page: Page;
let url: string;

beforeAll(async () => {
  if (!run) return;
  const pg = (await import(join(root, 'scripts', 'playground.mjs'))) as { buildPlayground(): Promise<string>; serve(dir: string): Promise<Server> };
  server = await pg.serve(await pg.buildPlayground());
  const addr = server.address() as { port: number };
  url = `http://127.0.0.1:${addr.port}/`;
  // A fresh --user-data-dir (playwright passes it for a persistent context).
  browser = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'dmasim-chromium-')), {
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
    viewport: { width: 1400, height: 1000 },
  });
  page = await browser.newPage();
  await page.goto(url);
  await page.waitForSelector('body[data-state="ready"]');
}, 120_000);

afterAll(async () => {
  await browser?.close();
  server?.close();
});

async function runPreset(name: string): Promise<string> {
  await page.selectOption('#preset', { label: name });
  await page.click('#run');
  await page.waitForFunction(() => document.body.dataset.state !== 'ready' && !(document.getElementById('run') as HTMLButtonElement).disabled, undefined, { timeout: 60_000 });
  const status = await page.textContent('#status');
  await page.evaluate(() => { document.body.dataset.state = 'ready'; });
  return status ?? '';
}

test.skipIf(!run)('a preset runs against dmasim in the page and draws its buffers', async () => {
  const status = await runPreset('RX: sync for the CPU before reading');
  expect(status).toMatch(/^done: \d+ steps, 0 data-check reports$/);
  expect(await page.textContent('#console')).toBe('[1,2,3,4]');
  await page.click('#prev'); // the step before the end: the buffer is still mapped
  await page.click('#prev');
  expect(await page.locator('#buffers .lines i').count()).toBeGreaterThan(0);
}, 120_000);

test.skipIf(!run)('a bug preset shows its data-check report, and a screenshot is taken', async () => {
  const status = await runPreset('Bug: no dma_sync_single_for_cpu (stale read)');
  expect(status).toMatch(/1 data-check report$/);
  expect(await page.textContent('#reports')).toContain('BUG: DMA-API stale read');
  expect(await page.locator('#timeline svg rect').count()).toBeGreaterThan(0);
  // Back to the stale read: the buffer still mapped, its lines owned by the device, the report out.
  await page.click('#prev');
  await page.click('#prev');
  expect(await page.textContent('#call')).toMatch(/ m\.cpu\.read\(/);
  expect(await page.locator('#buffers .lines i.device').count()).toBeGreaterThan(0);
  expect(await page.textContent('#reports')).toContain('BUG: DMA-API stale read');
  await page.screenshot({ path: screenshotPath('playground.png'), fullPage: true });
}, 120_000);

test.skipIf(!run)('a program that never ends is stopped and the page stays usable', async () => {
  const status = await runPreset('A program that never ends');
  expect(status).toMatch(/step budget exceeded/);
  expect(await page.isEnabled('#run')).toBe(true);
}, 120_000);
