// The timeline of a short NIC run with a missing sync, drawn by scripts/timeline-view.mjs (a
// static stand-in for ui.perfetto.dev, which this machine cannot reach) in a real headless
// Chromium (Debian's chromium, driven by playwright-core): a row per thread track and per
// counter track of the trace-event JSON, every complete event of those tracks a slice, the
// data-check reports as instants with their flow arrows; the screenshot goes to
// docs/timeline.png under `npm run screenshots`. Outside CI the test is skipped when
// /usr/bin/chromium is missing.
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { expect, test } from 'vitest';
import { screenshotPath } from '../support/screenshot.js';
import { chromium } from 'playwright-core';
import { createMachine } from '../../src/index.js';
import { runNic } from '../../src/workloads/nic.js';

const CHROMIUM = '/usr/bin/chromium';
const run = existsSync(CHROMIUM) || process.env.CI === 'true';
const root = fileURLToPath(new URL('../../', import.meta.url));

test.skipIf(!run)('a NIC run with a missing sync, drawn track by track, and a screenshot is taken', async () => {
  const m = await createMachine({ arch: 'arm64', seed: 1, dataCheck: true });
  m.trace.start();
  runNic(m, { api: 'per-call', packets: 6, ringSize: 4, mode: 'recycle', bug: 'no-sync-for-cpu' });
  const trace = m.trace.stop();
  const { timelineHtml } = (await import(join(root, 'scripts', 'timeline-view.mjs'))) as { timelineHtml(t: unknown): string };
  const dir = mkdtempSync(join(tmpdir(), 'dmasim-timeline-'));
  const page = join(dir, 'timeline.html');
  writeFileSync(page, timelineHtml(trace));

  const ev = trace.traceEvents;
  const tracks = new Set(ev.filter((e) => e.ph === 'X' || e.ph === 'i').map((e) => `${e.pid}/${e.tid}`));
  const counters = new Set(ev.filter((e) => e.ph === 'C').map((e) => e.name));
  const reports = ev.filter((e) => e.ph === 'i' && e.cat === 'data-check').length;
  expect(reports).toBeGreaterThan(0);

  const browser = await chromium.launchPersistentContext(join(dir, 'profile'), {
    executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run'], viewport: { width: 1400, height: 420 },
  });
  try {
    const tab = await browser.newPage();
    await tab.goto(pathToFileURL(page).href);
    await tab.waitForSelector('body[data-state="drawn"]');
    const drawn = await tab.evaluate(() => ({
      tracks: document.querySelectorAll('.track').length,
      slices: document.querySelectorAll('.slice').length,
      counters: document.querySelectorAll('.counter').length,
      flows: document.querySelectorAll('.flow').length,
    }));
    expect(drawn).toEqual({
      tracks: tracks.size + counters.size,
      slices: ev.filter((e) => e.ph === 'X').length,
      counters: counters.size,
      flows: ev.filter((e) => e.ph === 'f').length,
    });
    await tab.screenshot({ path: screenshotPath('timeline.png'), fullPage: true });
  } finally {
    await browser.close();
  }
}, 120_000);
