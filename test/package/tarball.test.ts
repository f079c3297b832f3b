// The packed tarball, installed into an empty folder as a user installs it, works from every
// place a tool embeds it: ESM, CommonJS (mixed with ESM on one machine: one copy of the library,
// so one set of classes), TypeScript 5.0 strict without the DOM lib, a worker thread, and an
// esbuild browser bundle in headless Chromium. It installs nothing but itself and the worker pool
// of dmasim/check (tinypool), which the core entries never load.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { beforeAll, expect, test } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const CHROMIUM = '/usr/bin/chromium';
let app: string;

function run(cmd: string, args: readonly string[], cwd: string): string {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

const node = (file: string): string => run(process.execPath, [file], app);

beforeAll(() => {
  const dir = mkdtempSync(join(tmpdir(), 'dmasim-tarball-'));
  const packed = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', dir], root)) as { filename: string }[];
  app = join(dir, 'app');
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true, type: 'module' }));
  run('npm', ['install', '--offline', '--no-audit', '--no-fund', join(dir, packed[0]!.filename)], app);
}, 120_000);

test('installing the tarball installs dmasim and the checker\'s worker pool, nothing else', () => {
  expect(readdirSync(join(app, 'node_modules')).filter((n) => !n.startsWith('.')).sort()).toEqual(['dmasim', 'tinypool']);
  const pkg = JSON.parse(readFileSync(join(app, 'node_modules/dmasim/package.json'), 'utf8')) as { dependencies?: object };
  expect(Object.keys(pkg.dependencies ?? {})).toEqual(['tinypool']);
});

const SCENARIO = `
  const m = await createMachine({ seed: 3 });
  const dev = m.createDevice({ name: 'nic' });
  const p = m.kmalloc(64, GFP_KERNEL);
  m.cpu.write(p, [1, 2, 3]);
  const h = dma_map_single(dev, p, 64, DMA_TO_DEVICE);
  const seen = [...dev.dmaRead(h, 3)];
`;

test('ESM: import, map, and the device sees the bytes', () => {
  writeFileSync(join(app, 'esm.mjs'), `import { createMachine, dma_map_single, DMA_TO_DEVICE, GFP_KERNEL } from 'dmasim';
${SCENARIO}
console.log(JSON.stringify(seen));`);
  expect(JSON.parse(node('esm.mjs'))).toEqual([1, 2, 3]);
});

test('CommonJS: require() and import() give the same classes; a machine made by one works with the other', () => {
  writeFileSync(join(app, 'mixed.cjs'), `const cjs = require('dmasim');
const cjsWorkloads = require('dmasim/workloads');
import('dmasim').then(async (esm) => {
  const m = await esm.createMachine({ seed: 3 });
  const dev = m.createDevice({ name: 'nic' });
  const p = m.kmalloc(64, cjs.GFP_KERNEL);
  m.cpu.write(p, [4, 5, 6]);
  const h = cjs.dma_map_single(dev, p, 64, cjs.DMA_TO_DEVICE);
  const report = cjsWorkloads.runNic(m, { packets: 100 });
  console.log(JSON.stringify({
    sameMachine: cjs.Machine === esm.Machine, isInstance: m instanceof cjs.Machine,
    mapped: !cjs.dma_mapping_error(dev, h), seen: [...dev.dmaRead(h, 3)], verified: report.verified,
  }));
});`);
  expect(JSON.parse(node('mixed.cjs'))).toEqual({ sameMachine: true, isInstance: true, mapped: true, seen: [4, 5, 6], verified: 200 });
});

test('a worker thread runs its own machine', () => {
  writeFileSync(join(app, 'worker.mjs'), `import { Worker, isMainThread, parentPort } from 'node:worker_threads';
import { createMachine, dma_map_single, DMA_TO_DEVICE, GFP_KERNEL } from 'dmasim';
if (isMainThread) {
  new Worker(new URL(import.meta.url)).once('message', (seen) => console.log(JSON.stringify(seen)));
} else {
${SCENARIO}
  parentPort.postMessage(seen);
}`);
  expect(JSON.parse(node('worker.mjs'))).toEqual([1, 2, 3]);
});

test('TypeScript 5.0, strict, no DOM lib, no @types: ESM, CommonJS and node10 resolution compile', () => {
  const tsc = join(root, 'node_modules/typescript-5.0/bin/tsc');
  const consoleDecl = 'declare const console: { log(...a: unknown[]): void };';
  const body = `${SCENARIO.replace('const m =', 'const m: Machine =')}
const report: NicReport = runNic(m, { packets: 10 });
console.log(seen, report.verified, m.stats().cacheMaintenanceOps);
`;
  writeFileSync(join(app, 'esm.mts'), `import { createMachine, dma_map_single, DMA_TO_DEVICE, GFP_KERNEL, type Machine } from 'dmasim';
import { runNic, type NicReport } from 'dmasim/workloads';
${consoleDecl}
${body}`);
  writeFileSync(join(app, 'cjs.cts'), `import { createMachine, dma_map_single, DMA_TO_DEVICE, GFP_KERNEL, type Machine } from 'dmasim';
import { runNic, type NicReport } from 'dmasim/workloads';
${consoleDecl}
async function main(): Promise<void> {
${body}
}
void main();`);
  const project = (name: string, module: string, resolution: string, files: string[]): string => {
    writeFileSync(join(app, name), JSON.stringify({
      compilerOptions: { strict: true, noEmit: true, target: 'es2022', lib: ['es2022'], types: [], skipLibCheck: false, module, moduleResolution: resolution },
      files,
    }));
    return name;
  };
  run(process.execPath, [tsc, '-p', project('tsconfig.node16.json', 'node16', 'node16', ['esm.mts', 'cjs.cts'])], app);
  writeFileSync(join(app, 'node10.ts'), `import { createMachine, type Machine } from 'dmasim';
import { runNic, type NicReport } from 'dmasim/workloads';
export async function f(): Promise<NicReport> { const m: Machine = await createMachine(); return runNic(m, { packets: 1 }); }`);
  run(process.execPath, [tsc, '-p', project('tsconfig.node10.json', 'commonjs', 'node', ['node10.ts'])], app);
}, 180_000);

test.skipIf(!existsSync(CHROMIUM) && process.env.CI !== 'true')('an esbuild browser bundle runs in headless Chromium with no configuration', async () => {
  writeFileSync(join(app, 'browser.mjs'), `import { createMachine, dma_map_single, DMA_TO_DEVICE, GFP_KERNEL } from 'dmasim';
(async () => {
${SCENARIO}
  globalThis.result = { seen, stats: m.stats().deviceBytesRead };
})().catch((e) => { globalThis.result = { error: String(e && e.stack || e) }; });`);
  const out = await build({ entryPoints: [join(app, 'browser.mjs')], bundle: true, platform: 'browser', format: 'iife', write: false, absWorkingDir: app, logLevel: 'silent' });
  const bundle = out.outputFiles[0]!.text;
  const { chromium } = await import('playwright-core');
  const ctx = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'dmasim-chromium-')), {
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const page = await ctx.newPage();
    await page.addScriptTag({ content: bundle });
    await page.waitForFunction(() => (globalThis as { result?: unknown }).result !== undefined, undefined, { timeout: 90_000 });
    expect(await page.evaluate(() => (globalThis as { result?: unknown }).result)).toEqual({ seen: [1, 2, 3], stats: 3 });
  } finally {
    await ctx.close();
  }
}, 180_000);
