// mm/dmapool.c: dma_pool_alloc and dma_pool_free timed separately in batches of 1024 on a warm
// pool (non-coherent: the free's link is an uncached store; coherent: a cached one), against an
// empty JS->WASM call measured in the same run; then mm/dmapool_test.c's parameter sets through
// the dmapool-test workload, printed as the module prints them.

import { DMA_BIT_MASK } from '../src/include/dma-mapping.js';
import { dma_pool_create, dma_pool_destroy } from '../src/dma/dmapool.js';
import { createMachine } from '../src/machine.js';
import { dma_set_mask_and_coherent } from '../src/dma/mapping.js';
import { DMAPOOL_TEST_ITERATIONS, DmaPoolPairs, runDmapoolTest } from '../src/workloads/dmapool-test.js';
import { measure, report, type Row } from './util.js';

const m = await createMachine();

/** A warm pool of 64-byte blocks on a dma-direct device with 64-bit masks, as dmapool_checks() sets up. */
function pairs(name: string, coherent: boolean, n: number): DmaPoolPairs {
  const dev = m.createDevice({ name, coherent });
  if (dma_set_mask_and_coherent(dev, DMA_BIT_MASK(64)) !== 0) throw new Error(`${name}: mask failed`);
  const pool = dma_pool_create('test pool', dev, 64, 64, 0);
  if (pool === null) throw new Error('dma_pool_create(64, 64, 0) returned NULL');
  const p = new DmaPoolPairs(pool, n);
  allocAll(p); // warm: the pool owns every page the batches need
  p.freeAll();
  return p;
}

function allocAll(p: DmaPoolPairs): void {
  if (!p.allocAll()) throw new Error('dma_pool_alloc returned NULL');
}

const BATCH = 1024;
const CALLS = 20_000;
const rows: Row[] = [];
const calls = await measure([{ name: 'noop', ops: CALLS, fn: () => { for (let i = 0; i < CALLS; i++) m.core.noop(); } }]);
const callNs = calls.get('noop') ?? NaN;
rows.push({ suite: 'dmapool', name: 'empty JS->WASM call', value: callNs, unit: 'ns/call' });

for (const coherent of [false, true]) {
  const held = pairs(coherent ? 'dmapool-coh' : 'dmapool-bench', coherent, BATCH);
  const r = await measure([
    { name: 'alloc', ops: BATCH, fn: () => { allocAll(held); }, beforeEach: () => { held.freeAll(); } },
    { name: 'free', ops: BATCH, fn: () => { held.freeAll(); }, beforeEach: () => { held.freeAll(); allocAll(held); } },
  ]);
  held.freeAll();
  dma_pool_destroy(held.pool);
  const kind = coherent ? 'coherent, cached link' : 'non-coherent, uncached link';
  for (const [name, ns] of r) {
    rows.push({ suite: 'dmapool', name: `dma_pool_${name} 64 B (${kind})`, value: ns, unit: 'ns/op', ratio: ns / callNs, baseline: 'empty calls', goal: '<= 3x' });
  }
}

/** The kernel's time after the stack rework, µs for NR_TESTS rounds [KERNEL.md §5.8, S10]. */
const KERNEL_US: Readonly<Record<number, number>> = { 16: 24997, 64: 26584, 256: 33542, 1024: 9022, 4096: 6045 };
const test = await runDmapoolTest(m);
if (test.error !== null) throw new Error(test.error);
for (const line of test.lines) process.stdout.write(`${line}\n`);
for (const r of test.results) {
  const kernel = KERNEL_US[r.size];
  rows.push({
    suite: 'dmapool', name: `dmapool_test ${r.size}/${r.align}/${r.boundary} x${DMAPOOL_TEST_ITERATIONS}`, value: r.nsPerPair, unit: 'ns/pair',
    ...(kernel === undefined ? {} : { ratio: r.timeUs / kernel, baseline: 'of the kernel (S10, other hardware)' }),
  });
}
report(rows);
