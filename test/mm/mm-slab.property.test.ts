// mm/slub.c against a reference model: the set of live allocations. Random kmalloc/kfree
// sequences must never hand out overlapping memory, must align every object to the minimum
// alignment (and power-of-two sizes to their size), never give less than asked, keep GFP_DMA
// objects in ZONE_DMA, and let every byte of a live object be found with objectAt().
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { __GFP_NOWARN, __GFP_RECLAIMABLE, GFP_ATOMIC, GFP_DMA, GFP_KERNEL, ZONE_DMA, ZONE_DMA32, ZONE_NORMAL } from '../../src/mm/gfp.js';
import { Memblock } from '../../src/mm/memblock.js';
import { __pa, PAGE_SIZE } from '../../src/mm/memory.js';
import { PageAllocator } from '../../src/mm/page_alloc.js';
import { Slab } from '../../src/mm/slab.js';
import { KernelLog } from '../../src/lib/printk.js';

const GFPS = [GFP_KERNEL, GFP_KERNEL | GFP_DMA, GFP_ATOMIC | __GFP_NOWARN, GFP_KERNEL | __GFP_RECLAIMABLE] as const;

interface Live {
  readonly ptr: number;
  readonly size: number;
  readonly gfp: number;
}

type Op = { readonly kind: 'alloc'; readonly size: number; readonly gfp: number } | { readonly kind: 'free'; readonly pick: number };

const sizeArb = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 1, max: 300 }) },
  { weight: 3, arbitrary: fc.integer({ min: 1, max: 8192 }) },
  { weight: 1, arbitrary: fc.integer({ min: 8193, max: 70_000 }) },
  { weight: 1, arbitrary: fc.constantFrom(8, 64, 128, 512, 4096, 16384) },
);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('alloc' as const), size: sizeArb, gfp: fc.constantFrom(...GFPS) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('free' as const), pick: fc.nat() }) },
);

/** 6 MiB in three zones of 2 MiB, so that ZONE_DMA runs out and allocations fail too. */
function setup(minalign: number): { slab: Slab; pa: PageAllocator } {
  const base = 0x8_0000;
  const mb = new Memblock([{ base: base * PAGE_SIZE, size: 0x600 * PAGE_SIZE }]);
  const zones = [
    { id: ZONE_DMA, startPfn: base, endPfn: base + 0x200 },
    { id: ZONE_DMA32, startPfn: base + 0x200, endPfn: base + 0x400 },
    { id: ZONE_NORMAL, startPfn: base + 0x400, endPfn: base + 0x600 },
  ];
  const log = new KernelLog();
  const pa = new PageAllocator({ zones, log, freeRanges: mb.freeRanges() });
  return { slab: new Slab({ pages: pa, log, minalign }), pa };
}

function isPowerOfTwo(x: number): boolean {
  return (x & (x - 1)) === 0;
}

function checkObject(slab: Slab, pa: PageAllocator, o: Live, minalign: number): void {
  expect(o.ptr % minalign).toBe(0);
  if (isPowerOfTwo(o.size)) expect(o.ptr % o.size).toBe(0);
  expect(slab.ksize(o.ptr)).toBeGreaterThanOrEqual(o.size);
  expect(slab.objectAt(o.ptr + o.size - 1)?.start).toBe(o.ptr);
  if (o.gfp & GFP_DMA) {
    expect(pa.zoneOf(Math.floor(__pa(o.ptr) / PAGE_SIZE))).toBe(ZONE_DMA);
    expect(pa.zoneOf(Math.floor(__pa(o.ptr + o.size - 1) / PAGE_SIZE))).toBe(ZONE_DMA);
  }
}

/** A new object, as [ptr, ptr + ksize), overlaps no live one. */
function checkDisjoint(slab: Slab, live: readonly Live[], o: Live): void {
  const end = o.ptr + slab.ksize(o.ptr);
  for (const l of live) {
    const overlaps = o.ptr < l.ptr + slab.ksize(l.ptr) && l.ptr < end;
    if (overlaps) expect.fail(`${o.ptr.toString(16)}+${o.size} overlaps ${l.ptr.toString(16)}+${l.size}`);
  }
}

function run(minalign: number, ops: readonly Op[]): void {
  const { slab, pa } = setup(minalign);
  const live: Live[] = [];
  for (const op of ops) {
    if (op.kind === 'alloc') {
      const ptr = slab.kmalloc(op.size, op.gfp);
      if (ptr === 0) continue;
      const o = { ptr, size: op.size, gfp: op.gfp };
      checkObject(slab, pa, o, minalign);
      checkDisjoint(slab, live, o);
      live.push(o);
    } else if (live.length > 0) {
      const [o] = live.splice(op.pick % live.length, 1);
      slab.kfree((o as Live).ptr);
      expect(slab.objectAt((o as Live).ptr)).toBeNull();
    }
    expect(slab.liveObjects).toBe(live.length);
  }
}

describe('kmalloc against a set of live allocations', () => {
  for (const minalign of [8, 64, 128]) {
    it(`keeps objects disjoint, aligned, large enough and zoned (minalign ${minalign})`, () => {
      fc.assert(fc.property(fc.array(opArb, { maxLength: 300 }), (ops) => run(minalign, ops)), { seed: 42, numRuns: 100 });
    });
  }
});
