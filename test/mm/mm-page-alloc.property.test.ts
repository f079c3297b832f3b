// mm/page_alloc.c against a reference model: a bitmap of free pages. Random allocation and free
// sequences must keep blocks disjoint, aligned and inside the zones their gfp allows; the buddy
// allocator must fail exactly when no allowed zone holds an aligned free run of the order (full
// merging guarantees it would find one), serve from the highest zone that does, and end fully
// merged once everything is freed.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { __GFP_NOWARN, GFP_ATOMIC, GFP_DMA, GFP_DMA32, GFP_KERNEL, gfp_zone, ZONE_DMA, ZONE_DMA32, ZONE_NORMAL, type ZoneId } from '../../src/mm/gfp.js';
import { Memblock } from '../../src/mm/memblock.js';
import { PAGE_SIZE } from '../../src/mm/memory.js';
import { MAX_PAGE_ORDER, PageAllocator, type ZoneSpec } from '../../src/mm/page_alloc.js';
import { KernelLog } from '../../src/lib/printk.js';

const ZONES: readonly ZoneSpec[] = [
  { id: ZONE_DMA, startPfn: 0x000, endPfn: 0x300 },
  { id: ZONE_DMA32, startPfn: 0x300, endPfn: 0x900 },
  { id: ZONE_NORMAL, startPfn: 0x900, endPfn: 0x1000 },
];
const GFPS = [GFP_KERNEL, GFP_ATOMIC | __GFP_NOWARN, GFP_KERNEL | GFP_DMA32, GFP_KERNEL | GFP_DMA] as const;

interface Block {
  readonly pfn: number;
  readonly order: number;
  readonly gfp: number;
}

type Op = { readonly kind: 'alloc'; readonly gfp: number; readonly order: number } | { readonly kind: 'free'; readonly pick: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('alloc' as const), gfp: fc.constantFrom(...GFPS), order: fc.nat({ max: MAX_PAGE_ORDER }) }),
  fc.record({ kind: fc.constant('free' as const), pick: fc.nat() }),
);

/** RAM with holes and reservations, so zones have odd starts and ends inside free ranges. */
function boot(): { pa: PageAllocator; free: Uint8Array } {
  const mb = new Memblock([
    { base: 0, size: 0x700 * PAGE_SIZE },
    { base: 0x780 * PAGE_SIZE, size: 0x880 * PAGE_SIZE },
  ]);
  mb.reserve(0, 0x13 * PAGE_SIZE);
  mb.reserve(0x9f0 * PAGE_SIZE, 0x25 * PAGE_SIZE);
  const free = new Uint8Array(0x1000);
  for (const r of mb.freeRanges()) free.fill(1, r.base / PAGE_SIZE, (r.base + r.size) / PAGE_SIZE);
  return { pa: new PageAllocator({ zones: ZONES, log: new KernelLog(), freeRanges: mb.freeRanges() }), free };
}

function zoneSpec(id: number): ZoneSpec {
  return ZONES.find((z) => z.id === id) as ZoneSpec;
}

/** Does the zone hold 2^order free pages starting at an order-aligned pfn? */
function hasAlignedRun(free: Uint8Array, zone: ZoneSpec, order: number): boolean {
  const n = 2 ** order;
  for (let pfn = Math.ceil(zone.startPfn / n) * n; pfn + n <= zone.endPfn; pfn += n) {
    if (free.subarray(pfn, pfn + n).every((b) => b === 1)) return true;
  }
  return false;
}

/** The zonelist's first zone that the model says can serve the order, or -1. */
function expectedZone(free: Uint8Array, gfp: number, order: number): number {
  for (let id = gfp_zone(gfp); id >= ZONE_DMA; id--) if (hasAlignedRun(free, zoneSpec(id), order)) return id;
  return -1;
}

function totalFree(pa: PageAllocator): number {
  return pa.nrFree(ZONE_DMA) + pa.nrFree(ZONE_DMA32) + pa.nrFree(ZONE_NORMAL);
}

function freeBlocks(pa: PageAllocator): string[] {
  const out: string[] = [];
  for (const z of [ZONE_DMA, ZONE_DMA32, ZONE_NORMAL] as ZoneId[]) {
    for (let o = 0; o <= MAX_PAGE_ORDER; o++) for (const pfn of pa.freeList(z, o)) out.push(`${z}:${pfn}/${o}`);
  }
  return out.sort();
}

function checkAlloc(pa: PageAllocator, free: Uint8Array, live: Block[], gfp: number, order: number): void {
  const want = expectedZone(free, gfp, order);
  const pfn = pa.alloc_pages(gfp, order);
  if (want === -1) {
    expect(pfn).toBe(-1);
    return;
  }
  const n = 2 ** order;
  expect(pfn % n).toBe(0);
  expect(pa.zoneOf(pfn)).toBe(want);
  expect(pa.zoneOf(pfn + n - 1)).toBe(want);
  expect(free.subarray(pfn, pfn + n).every((b) => b === 1)).toBe(true);
  free.fill(0, pfn, pfn + n);
  live.push({ pfn, order, gfp });
}

function checkFree(pa: PageAllocator, free: Uint8Array, live: Block[], pick: number): void {
  const [block] = live.splice(pick % live.length, 1);
  if (block === undefined) return;
  pa.free_pages(block.pfn, block.order);
  free.fill(1, block.pfn, block.pfn + 2 ** block.order);
}

describe('buddy allocator against a free-page bitmap', () => {
  it('keeps blocks disjoint, aligned and zoned, and fails only when no aligned run is free', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 150 }), (ops) => {
        const { pa, free } = boot();
        const initialFree = totalFree(pa);
        const initialBlocks = freeBlocks(pa);
        const live: Block[] = [];
        for (const op of ops) {
          if (op.kind === 'alloc') checkAlloc(pa, free, live, op.gfp, op.order);
          else checkFree(pa, free, live, op.pick);
          const used = live.reduce((n, b) => n + 2 ** b.order, 0);
          expect(totalFree(pa) + used).toBe(pa.totalPages);
          for (const b of live) expect(pa.allocatedOrder(b.pfn)).toBe(b.order);
        }
        while (live.length > 0) checkFree(pa, free, live, 0);
        expect(totalFree(pa)).toBe(initialFree);
        expect(freeBlocks(pa)).toEqual(initialBlocks);
      }),
      { seed: 42, numRuns: 100 },
    );
  });
});
