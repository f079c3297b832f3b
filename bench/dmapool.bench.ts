// mm/dmapool.c: dma_pool_alloc and dma_pool_free timed separately in batches of 1024 on a warm
// pool (non-coherent: the free's link is an uncached store; coherent: a cached one), against an
// empty JS->WASM call measured in the same run; then mm/dmapool_test.c's parameter sets, printed
// as the module prints them (NR_TESTS rounds of "allocate every block, then free them in order").

import { DMA_BIT_MASK } from '../src/dma-mapping.js';
import type { Device } from '../src/device.js';
import { dma_pool_alloc, dma_pool_create, dma_pool_destroy, dma_pool_free, type DmaPool } from '../src/dmapool.js';
import { createMachine } from '../src/machine.js';
import { dma_set_mask_and_coherent } from '../src/mapping.js';
import { GFP_KERNEL } from '../src/mm/gfp.js';
import { PAGE_SIZE } from '../src/mm/memory.js';
import { measure, report, type Row } from './util.js';

const m = await createMachine();

/** dmapool_checks(): a dma-direct device with 64-bit masks. */
function testDevice(name: string, coherent: boolean): Device {
  const dev = m.createDevice({ name, coherent });
  if (dma_set_mask_and_coherent(dev, DMA_BIT_MASK(64)) !== 0) throw new Error(`${name}: mask failed`);
  return dev;
}

function createPool(dev: Device, size: number, align: number, boundary: number): DmaPool {
  const pool = dma_pool_create('test pool', dev, size, align, boundary);
  if (pool === null) throw new Error(`dma_pool_create(${size}, ${align}, ${boundary}) returned NULL`);
  return pool;
}

/** Blocks held between the timed halves of a batch (typed arrays: no boxing in the loops). */
class Held {
  readonly vaddr: Float64Array;
  readonly dma: Float64Array;
  count = 0;

  constructor(readonly pool: DmaPool, n: number) {
    this.vaddr = new Float64Array(n);
    this.dma = new Float64Array(n);
  }

  allocAll(): void {
    const { pool, vaddr, dma } = this;
    for (let i = 0; i < vaddr.length; i++) {
      const b = dma_pool_alloc(pool, GFP_KERNEL);
      if (b === null) throw new Error('dma_pool_alloc returned NULL');
      vaddr[i] = b.vaddr;
      dma[i] = b.dma;
    }
    this.count = vaddr.length;
  }

  freeAll(): void {
    const { pool, vaddr, dma } = this;
    for (let i = 0; i < this.count; i++) dma_pool_free(pool, vaddr[i] as number, dma[i] as number);
    this.count = 0;
  }
}

const BATCH = 1024;
const CALLS = 20_000;
const rows: Row[] = [];
const calls = await measure([{ name: 'noop', ops: CALLS, fn: () => { for (let i = 0; i < CALLS; i++) m.core.noop(); } }]);
const callNs = calls.get('noop') ?? NaN;
rows.push({ suite: 'dmapool', name: 'empty JS->WASM call', value: callNs, unit: 'ns/call' });

for (const coherent of [false, true]) {
  const held = new Held(createPool(testDevice(coherent ? 'dmapool-coh' : 'dmapool-test', coherent), 64, 64, 0), BATCH);
  held.allocAll(); // warm: the pool owns every page the batches need
  held.freeAll();
  const r = await measure([
    { name: 'alloc', ops: BATCH, fn: () => { held.allocAll(); }, beforeEach: () => { held.freeAll(); } },
    { name: 'free', ops: BATCH, fn: () => { held.freeAll(); }, beforeEach: () => { held.freeAll(); held.allocAll(); } },
  ]);
  held.freeAll();
  dma_pool_destroy(held.pool);
  const kind = coherent ? 'coherent, cached link' : 'non-coherent, uncached link';
  for (const [name, ns] of r) {
    rows.push({ suite: 'dmapool', name: `dma_pool_${name} 64 B (${kind})`, value: ns, unit: 'ns/op', ratio: ns / callNs, baseline: 'empty calls', goal: '<= 10 ns' });
  }
}

// mm/dmapool_test.c
const NR_TESTS = 100;
const PARMS = [[16, 16, 0], [64, 64, 0], [256, 256, 0], [1024, 1024, 0], [4096, 4096, 0], [68, 32, 4096]] as const;
/** The kernel's time after the stack rework, µs for NR_TESTS rounds [KERNEL.md §5.8, S10]. */
const KERNEL_US: Readonly<Record<number, number>> = { 16: 24997, 64: 26584, 256: 33542, 1024: 9022, 4096: 6045 };
const dev = testDevice('dmapool-test-run', false);
for (const [size, align, boundary] of PARMS) {
  const blocks = Math.min(Math.max((PAGE_SIZE / size | 0) * 512, 1024), 8192);
  const held = new Held(createPool(dev, size, align, boundary), blocks);
  const start = process.hrtime.bigint();
  for (let i = 0; i < NR_TESTS; i++) {
    held.allocAll();
    held.freeAll();
  }
  const us = Number((process.hrtime.bigint() - start) / 1000n);
  dma_pool_destroy(held.pool);
  process.stdout.write(`dmapool test: size:${String(size).padEnd(4)} align:${String(align).padEnd(4)} blocks:${String(blocks).padEnd(4)} time:${us}\n`);
  const kernel = KERNEL_US[size];
  rows.push({
    suite: 'dmapool', name: `dmapool_test ${size}/${align}/${boundary} x${NR_TESTS}`, value: (us * 1000) / (blocks * NR_TESTS), unit: 'ns/pair',
    ...(kernel === undefined ? {} : { ratio: us / kernel, baseline: 'of the kernel (S10, other hardware)' }),
  });
}
report(rows);
