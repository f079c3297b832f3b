// mm/dmapool.c against a reference model: a LIFO stack of free blocks, and pages carved at
// c * boundary + j * size (the closed form of pool_initialise_page()'s loop). Random pools and
// random alloc/free sequences must hand out exactly the blocks the model predicts, never two
// live blocks that overlap, each aligned and inside one boundary, with dma and vaddr at the same
// offset of their page; each free must leave the model's {next, dma} link in the block, and a
// clean destroy must give every page back.
import fc from 'fast-check';
import { beforeAll, describe, expect, test } from 'vitest';
import type { Device } from '../../src/dma/device.js';
import { dma_pool_alloc, dma_pool_create, dma_pool_destroy, dma_pool_free, type DmaPool } from '../../src/dma/dmapool.js';
import { createMachine, type Machine } from '../../src/machine.js';
import { GFP_KERNEL, ZONE_DMA, ZONE_DMA32, ZONE_NORMAL } from '../../src/mm/gfp.js';
import { PAGE_SIZE } from '../../src/mm/memory.js';

interface Block {
  readonly vaddr: number;
  readonly dma: number;
}

interface Live extends Block {
  readonly pageVaddr: number;
  readonly pageDma: number;
}

interface Params {
  readonly size: number;
  readonly align: number;
  readonly boundary: number;
  readonly coherent: boolean;
}

type Op = { readonly kind: 'alloc' } | { readonly kind: 'free'; readonly pick: number };

const paramsArb: fc.Arbitrary<Params> = fc.record({
  size: fc.oneof(
    { weight: 6, arbitrary: fc.integer({ min: 1, max: 300 }) },
    { weight: 3, arbitrary: fc.integer({ min: 301, max: 2100 }) },
    { weight: 1, arbitrary: fc.integer({ min: 3000, max: 9000 }) },
  ),
  align: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 9 }).map((e) => 2 ** e)),
  boundary: fc.oneof(fc.constant(0), fc.integer({ min: 4, max: 14 }).map((e) => 2 ** e)),
  coherent: fc.boolean(),
});
const opsArb: fc.Arbitrary<Op[]> = fc.array(
  fc.oneof(
    { weight: 3, arbitrary: fc.constant({ kind: 'alloc' as const }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('free' as const), pick: fc.nat() }) },
  ),
  { maxLength: 80 },
);

/** The pool's geometry by KERNEL.md §5.2, or null where dma_pool_create must return NULL. */
function geometry(p: Params): { size: number; allocation: number; boundary: number } | null {
  const align = p.align === 0 ? 1 : p.align;
  const size = Math.ceil(Math.max(p.size, 16) / align) * align;
  const allocation = Math.max(size, PAGE_SIZE);
  if (p.boundary !== 0 && p.boundary < size) return null;
  return { size, allocation, boundary: p.boundary === 0 ? allocation : Math.min(p.boundary, allocation) };
}

/** Block offsets of a page: j blocks of `size` in each boundary chunk, lowest first. */
function offsets(g: { size: number; allocation: number; boundary: number }): number[] {
  const out: number[] = [];
  for (let c = 0; c < Math.floor(g.allocation / g.boundary); c++) {
    for (let j = 0; j < Math.floor(g.boundary / g.size); j++) out.push(c * g.boundary + j * g.size);
  }
  return out;
}

function u64(bytes: Uint8Array, at: number): number {
  const v = new DataView(bytes.buffer, bytes.byteOffset + at, 8);
  return v.getUint32(0, true) + v.getUint32(4, true) * 2 ** 32;
}

let m: Machine;
let devs: { nc: Device; coh: Device };

beforeAll(async () => {
  m = await createMachine();
  devs = { nc: m.createDevice({ name: 'dmapool-nc' }), coh: m.createDevice({ name: 'dmapool-coh', coherent: true }) };
});

function freePages(): number {
  return m.pages.nrFree(ZONE_DMA) + m.pages.nrFree(ZONE_DMA32) + m.pages.nrFree(ZONE_NORMAL);
}

/** The model: blocks free in LIFO order (top last), live blocks, and pages seen so far. */
class Model {
  readonly free: Block[] = [];
  readonly live: Live[] = [];
  readonly pages = new Map<number, number>();

  constructor(readonly g: { size: number; allocation: number; boundary: number }, readonly align: number) {}

  alloc(pool: DmaPool): void {
    const got = dma_pool_alloc(pool, GFP_KERNEL);
    if (got === null) throw new Error('dma_pool_alloc returned NULL');
    const want = this.free.pop();
    if (want !== undefined) expect(got).toEqual(want);
    else this.newPage(got);
    const pageVaddr = this.pageOf(got.vaddr);
    this.live.push({ ...got, pageVaddr, pageDma: this.pages.get(pageVaddr) as number });
  }

  /** The stack was empty: `got` must be offset 0 of a page never seen, whose other blocks go on top. */
  private newPage(got: Block): void {
    expect(this.pages.has(got.vaddr)).toBe(false);
    expect(got.vaddr % PAGE_SIZE).toBe(0);
    expect(got.dma % PAGE_SIZE).toBe(0);
    this.pages.set(got.vaddr, got.dma);
    for (const o of offsets(this.g).slice(1).reverse()) this.free.push({ vaddr: got.vaddr + o, dma: got.dma + o });
  }

  private pageOf(vaddr: number): number {
    for (const v of this.pages.keys()) if (vaddr >= v && vaddr < v + this.g.allocation) return v;
    throw new Error(`0x${vaddr.toString(16)} is in no page`);
  }

  release(pool: DmaPool, pick: number): void {
    const [b] = this.live.splice(pick % this.live.length, 1);
    if (b === undefined) return;
    const top = this.free.at(-1);
    dma_pool_free(pool, b.vaddr, b.dma);
    this.free.push({ vaddr: b.vaddr, dma: b.dma });
    const bytes = m.cpu.read(b.vaddr, 16);
    expect([u64(bytes, 0), u64(bytes, 8)]).toEqual([top?.vaddr ?? 0, b.dma]);
  }

  check(pool: DmaPool): void {
    const { size, boundary } = this.g;
    const sorted = [...this.live].sort((a, b) => a.vaddr - b.vaddr);
    sorted.forEach((b, i) => {
      const off = b.vaddr - b.pageVaddr;
      expect(b.dma - b.pageDma).toBe(off);
      expect(off % this.align).toBe(0);
      if (this.align <= PAGE_SIZE) expect(b.dma % this.align).toBe(0);
      expect(Math.floor(off / boundary)).toBe(Math.floor((off + size - 1) / boundary));
      expect(off + size).toBeLessThanOrEqual(this.g.allocation);
      const next = sorted[i + 1];
      if (next !== undefined) expect(b.vaddr + size).toBeLessThanOrEqual(next.vaddr);
    });
    expect(pool.nr_active).toBe(this.live.length);
    expect(pool.nr_pages).toBe(this.pages.size);
    expect(pool.nr_blocks).toBe(this.pages.size * offsets(this.g).length);
  }
}

describe('dmapool against the LIFO model', () => {
  test('random pools and alloc/free sequences', () => {
    fc.assert(
      fc.property(paramsArb, opsArb, (p, ops) => {
        const dev = p.coherent ? devs.coh : devs.nc;
        const before = freePages();
        const g = geometry(p);
        const pool = dma_pool_create('prop', dev, p.size, p.align, p.boundary);
        if (g === null) {
          expect(pool).toBeNull();
          return;
        }
        if (pool === null) throw new Error(`dma_pool_create(${p.size}, ${p.align}, ${p.boundary}) returned NULL`);
        expect({ size: pool.size, allocation: pool.allocation, boundary: pool.boundary }).toEqual(g);
        const model = new Model(g, p.align === 0 ? 1 : p.align);
        for (const op of ops) {
          if (op.kind === 'alloc') model.alloc(pool);
          else model.release(pool, op.pick);
          model.check(pool);
        }
        while (model.live.length > 0) model.release(pool, 0);
        dma_pool_destroy(pool);
        expect(freePages()).toBe(before);
      }),
      { seed: 42, numRuns: 100 },
    );
    expect(m.dmesg().some((l) => l.includes('busy'))).toBe(false);
  });
});
