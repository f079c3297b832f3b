// What tracing costs: dma_map_single + dma_unmap_single pairs of a 1500 B buffer on a
// non-coherent arm64 device (TO_DEVICE: a clean per map), in four builds/modes:
//   no hooks   dmasim bundled with every `dmaTrace?.` hook line removed (as if built without
//              tracepoints: the baseline)
//   off        the real build, no event enabled (one null check per tracepoint site)
//   events     events/dma/enable and events/swiotlb/enable set, recording into the ring buffer
//   perfetto   the timeline recorder on (m.trace.start()), restarted before each batch
// Each mode runs in a process of its own (a kernel of its own); figures are the median of
// rounds, ratios to the no-hooks build of the same run.

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createMachine } from '../src/machine.js';
import { DMA_BIT_MASK, DMA_MAPPING_ERROR, DMA_TO_DEVICE } from '../src/include/dma-mapping.js';
import { dma_map_single, dma_set_mask_and_coherent, dma_unmap_single } from '../src/dma/mapping.js';
import { GFP_KERNEL } from '../src/mm/gfp.js';
import { measure, report, type Job, type Row } from './util.js';

const SUITE = 'tracing';
const PAIRS = 2_000;
const LEN = 1500;

type Mode = 'no hooks' | 'off' | 'events' | 'perfetto';

async function child(mode: Mode): Promise<void> {
  const m = await createMachine({ arch: 'arm64', seed: 1 });
  const dev = m.createDevice({ name: '0000:03:00.0', driver: 'trace_bench' });
  if (dma_set_mask_and_coherent(dev, DMA_BIT_MASK(64)) !== 0) throw new Error('dma_set_mask_and_coherent failed');
  const buf = m.kmalloc(LEN, GFP_KERNEL);
  if (mode === 'events') {
    m.tracefs.write('/sys/kernel/tracing/events/dma/enable', '1');
    m.tracefs.write('/sys/kernel/tracing/events/swiotlb/enable', '1');
  }
  if (mode === 'perfetto') m.trace.start();
  const fn = (): void => {
    for (let i = 0; i < PAIRS; i++) {
      const a = dma_map_single(dev, buf, LEN, DMA_TO_DEVICE);
      if (a === DMA_MAPPING_ERROR) throw new Error('dma_map_single failed');
      dma_unmap_single(dev, a, LEN, DMA_TO_DEVICE);
    }
  };
  // Untimed before each batch: a fresh recording (the last one's JSON is garbage now), then a
  // collection, so that no mode pays in its timed batch for garbage made outside it.
  const gc = (globalThis as { gc?: () => void }).gc ?? ((): void => {});
  const beforeEach = (): void => {
    if (mode === 'perfetto') {
      m.trace.stop();
      m.trace.start();
    }
    gc();
  };
  const job: Job = { name: mode, ops: PAIRS, fn, beforeEach };
  const ns = await measure([job]);
  process.stdout.write(`${ns.get(mode) ?? NaN}\n`);
}

/** This bench bundled again with the trace hook lines of src/ removed. */
async function buildWithoutHooks(self: string): Promise<string> {
  const root = join(dirname(self), '..', '..');
  const out = join(dirname(self), 'tracing-nohooks.mjs');
  const { build } = await import('esbuild');
  await build({
    entryPoints: [join(root, 'bench', 'tracing.bench.ts')],
    bundle: true, platform: 'node', target: 'node20', format: 'esm', logLevel: 'warning', outfile: out,
    loader: { '.wasm': 'binary' }, external: ['esbuild'],
    plugins: [{
      name: 'strip-trace-hooks',
      setup(b) {
        b.onLoad({ filter: /[\\/]src[\\/].*\.ts$/ }, (args) => ({
          contents: readFileSync(args.path, 'utf8').replace(/^\s*[\w.]+\.dmaTrace\?\.[^\n]*;\s*$/gm, ''),
          loader: 'ts',
        }));
      },
    }],
  });
  return out;
}

if (process.argv[2] === 'child') {
  await child(process.argv[3] as Mode);
} else {
  const self = fileURLToPath(import.meta.url);
  const noHooks = await buildWithoutHooks(self);
  const run = (mode: Mode): number =>
    Number(execFileSync(process.execPath, ['--expose-gc', mode === 'no hooks' ? noHooks : self, 'child', mode], { encoding: 'utf8' }).trim());
  const MODES: readonly Mode[] = ['no hooks', 'off', 'events', 'perfetto'];
  const ROUNDS = 3;
  const median = (xs: number[]): number => xs.sort((a, b) => a - b)[xs.length >> 1] ?? NaN;
  const samples: number[][] = MODES.map(() => []);
  for (let k = 0; k < ROUNDS; k++) MODES.forEach((mode, i) => samples[i]?.push(run(mode)));
  const [base, off, events, perfetto] = samples.map(median) as [number, number, number, number];
  const name = `map+unmap ${LEN} B, arm64 TO_DEVICE`;
  const rows: Row[] = [
    { suite: SUITE, name: `${name}, no trace hooks`, value: base, unit: 'ns/pair' },
    { suite: SUITE, name: `${name}, tracing off`, value: off, unit: 'ns/pair', ratio: off / base, baseline: 'of no hooks', goal: 'within noise' },
    { suite: SUITE, name: `${name}, dma events on`, value: events, unit: 'ns/pair', ratio: events / base, baseline: 'of no hooks' },
    { suite: SUITE, name: `${name}, Perfetto recorder`, value: perfetto, unit: 'ns/pair', ratio: perfetto / base, baseline: 'of no hooks', goal: '<= 3x' },
  ];
  report(rows);
}
