// dmapool_test: mm/dmapool_test.c, the module that times the dma_pool allocator. For each of its
// parameter sets it creates a pool on a fake "dmapool-test" device (dma-direct, 64-bit masks) and
// runs NR_TESTS rounds of "allocate every block, then free them all in the same order", printing
// one line per set with the total time in µs.
//
// That time is wall time, as in the kernel (ktime_get() around the rounds): dmasim's dma_pool
// runs for real on the host, so its speed is the host's and is not a cost-model figure. Progress
// callbacks run between rounds, outside the timed intervals.

import type { Device } from '../dma/device.js';
import { DMA_BIT_MASK, ENOMEM } from '../include/dma-mapping.js';
import { dma_pool_alloc, dma_pool_create, dma_pool_destroy, dma_pool_free, type DmaPool } from '../dma/dmapool.js';
import type { Machine } from '../machine.js';
import { dma_set_mask_and_coherent } from '../dma/mapping.js';
import { GFP_KERNEL } from '../mm/gfp.js';
import { PAGE_SIZE } from '../mm/memory.js';
import { KERN_WARNING } from '../lib/printk.js';
import { checkDmapoolTestOptions, checkMachine } from './options.js';

/** NR_TESTS */
export const DMAPOOL_TEST_ITERATIONS = 100;

/** struct dmapool_parms */
export interface DmapoolParms {
  readonly size: number;
  readonly align: number;
  readonly boundary: number;
}

/** pool_parms[] */
export const DMAPOOL_TEST_PARMS: readonly DmapoolParms[] = [
  { size: 16, align: 16, boundary: 0 },
  { size: 64, align: 64, boundary: 0 },
  { size: 256, align: 256, boundary: 0 },
  { size: 1024, align: 1024, boundary: 0 },
  { size: 4096, align: 4096, boundary: 0 },
  { size: 68, align: 32, boundary: 4096 },
];

export interface DmapoolTestOptions {
  /** Rounds per parameter set (NR_TESTS, default 100). */
  iterations?: number;
  /** Called after each round with the part of the run done, 0..1. */
  onProgress?(fraction: number): void;
}

export interface DmapoolTestSetResult extends DmapoolParms {
  blocks: number;
  /** Wall time of all the rounds, µs, truncated as ktime_us_delta() truncates. */
  timeUs: number;
  /** Wall ns per dma_pool_alloc + dma_pool_free pair. */
  nsPerPair: number;
}

export interface DmapoolTestResult {
  /** The module's printk lines (also in m.dmesg()). */
  lines: string[];
  results: DmapoolTestSetResult[];
  /** Why module init failed (what insmod would report), or null. */
  error: string | null;
}

/** nr_blocks(): clamp((PAGE_SIZE / size) * 512, 1024, 8192). */
export function nr_blocks(size: number): number {
  return Math.min(Math.max(Math.trunc(PAGE_SIZE / size) * 512, 1024), 8192);
}

/** printk() without a level is MESSAGE_LOGLEVEL_DEFAULT, KERN_WARNING. */
function printk(m: Machine, text: string): void {
  m.log.printk(KERN_WARNING, text);
}

/**
 * An array of struct dma_pool_pair: the blocks of one round, allocated all, then freed all in
 * order. Typed arrays, so the timed loops box nothing.
 */
export class DmaPoolPairs {
  readonly v: Float64Array;
  readonly dma: Float64Array;
  /** Blocks currently allocated, p[0..count). */
  count = 0;

  constructor(readonly pool: DmaPool, blocks: number) {
    this.v = new Float64Array(blocks);
    this.dma = new Float64Array(blocks);
  }

  /** Allocates every block (none may be held); false when the pool ran dry, holding what it got. */
  allocAll(): boolean {
    const { pool, v, dma } = this;
    for (let i = 0; i < v.length; i++) {
      const b = dma_pool_alloc(pool, GFP_KERNEL);
      if (b === null) {
        this.count = i;
        return false;
      }
      v[i] = b.vaddr;
      dma[i] = b.dma;
    }
    this.count = v.length;
    return true;
  }

  /** Frees what is held, in allocation order. */
  freeAll(): void {
    const { pool, v, dma } = this;
    for (let i = 0; i < this.count; i++) dma_pool_free(pool, v[i] as number, dma[i] as number);
    this.count = 0;
  }
}

/** The module's line: "dmapool test: size:%-4zu align:%-4zu blocks:%-4d time:%llu". */
function line(r: DmapoolTestSetResult): string {
  return `dmapool test: size:${String(r.size).padEnd(4)} align:${String(r.align).padEnd(4)} blocks:${String(r.blocks).padEnd(4)} time:${r.timeUs}`;
}

/** dmapool_test_alloc(): one round; -ENOMEM (everything freed again) if the pool ran dry. */
function dmapoolTestAlloc(p: DmaPoolPairs): number {
  const ok = p.allocAll();
  p.freeAll();
  return ok ? 0 : -ENOMEM;
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => { setTimeout(resolve, 0); });
}

/** dmapool_test_block(): one parameter set. Null when the pool could not be made or ran dry. */
function dmapoolTestBlock(m: Machine, dev: Device, parms: DmapoolParms, iterations: number, progress: (round: number) => void): DmapoolTestSetResult | null {
  const blocks = nr_blocks(parms.size);
  const pool = dma_pool_create('test pool', dev, parms.size, parms.align, parms.boundary);
  if (pool === null) return null;
  const p = new DmaPoolPairs(pool, blocks);
  let elapsedMs = 0;
  try {
    for (let i = 0; i < iterations; i++) {
      const t0 = performance.now();
      const ret = dmapoolTestAlloc(p);
      elapsedMs += performance.now() - t0;
      if (ret !== 0) return null;
      progress(i + 1);
    }
  } finally {
    dma_pool_destroy(pool);
  }
  const r = { ...parms, blocks, timeUs: Math.trunc(elapsedMs * 1000), nsPerPair: (elapsedMs * 1e6) / (blocks * iterations) };
  printk(m, line(r));
  return r;
}

/**
 * dmapool_checks(), the module's init, on machine `m`: registers the test device, sets its
 * masks, then times every parameter set, stopping at the first that fails.
 */
export async function runDmapoolTest(m: Machine, opts: DmapoolTestOptions = {}): Promise<DmapoolTestResult> {
  checkMachine('runDmapoolTest', m);
  const { iterations, onProgress } = checkDmapoolTestOptions('runDmapoolTest', opts, DMAPOOL_TEST_ITERATIONS);
  const dev = m.createDevice({ name: 'dmapool-test' });
  const ret = dma_set_mask_and_coherent(dev, DMA_BIT_MASK(64));
  if (ret !== 0) {
    const text = `dmapool_checks: mask failed:${ret}`;
    printk(m, text);
    return { lines: [text], results: [], error: text };
  }
  const results: DmapoolTestSetResult[] = [];
  const total = DMAPOOL_TEST_PARMS.length * iterations;
  for (const [k, parms] of DMAPOOL_TEST_PARMS.entries()) {
    const r = dmapoolTestBlock(m, dev, parms, iterations, (round) => onProgress?.((k * iterations + round) / total));
    if (r === null) return { lines: results.map(line), results, error: 'could not insert module dmapool_test: Cannot allocate memory' };
    results.push(r);
    await yieldToEventLoop();
  }
  return { lines: results.map(line), results, error: null };
}

