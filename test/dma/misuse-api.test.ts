// Misuse of the DMA mapping API that the kernel tolerates behaves as the kernel does: a
// DMA_MAPPING_ERROR (or 0, or NULL), a WARN in the log, or the cache maintenance the kernel would
// really do, and never a corrupted machine (API.md "Errors"). Each test cites the kernel code it
// follows; none has CONFIG_DMA_API_DEBUG, so dma-debug reports nothing.
import { describe, expect, test } from 'vitest';
import { createMachine, type Machine, type Stats } from '../../src/machine.js';
import type { Device, DeviceOptions } from '../../src/dma/device.js';
import {
  DMA_BIT_MASK, DMA_FROM_DEVICE, DMA_MAPPING_ERROR, DMA_TO_DEVICE, EIO, ENOMEM,
} from '../../src/include/dma-mapping.js';
import {
  dma_alloc_coherent, dma_alloc_noncoherent, dma_alloc_pages, dma_free_coherent, dma_map_sg,
  dma_map_single, dma_mapping_error, dma_set_mask, dma_set_mask_and_coherent, dma_sync_single_for_cpu,
  dma_sync_single_for_device, dma_unmap_single,
} from '../../src/dma/mapping.js';
import { __GFP_COMP, GFP_DMA, GFP_DMA32, GFP_KERNEL, ZONE_DMA, ZONE_DMA32, ZONE_NORMAL } from '../../src/mm/gfp.js';
import { PAGE_SIZE } from '../../src/mm/memory.js';
import { type Scatterlist, sg_init_table, sg_set_page } from '../../src/dma/scatterlist.js';
import { delta } from '../support/api-helpers.js';
import { warning } from '../support/warn.js';

const LINE = 64;

/** A device as a driver's probe leaves it (64-bit masks: the default machine has RAM above 4 GiB). */
function probe(m: Machine, opts: DeviceOptions): Device {
  const dev = m.createDevice(opts);
  expect(dma_set_mask_and_coherent(dev, DMA_BIT_MASK(64))).toBe(0);
  return dev;
}

/** A fresh page of RAM (never written: RAM reads 0) and its addresses. */
function page(m: Machine): { va: number; phys: number } {
  const p = m.alloc_pages(GFP_KERNEL, 0);
  if (p === null) throw new Error('no page');
  return { va: m.page_address(p), phys: m.page_to_phys(p) };
}

function freePages(m: Machine): number {
  return m.pages.nrFree(ZONE_DMA) + m.pages.nrFree(ZONE_DMA32) + m.pages.nrFree(ZONE_NORMAL);
}

function fill(n: number, byte: number): Uint8Array {
  return new Uint8Array(n).fill(byte);
}

/** The lines a WARN in `fn` adds (printk.ts __warn without registers): banner, text, site, end. */
function warnLines(fn: string, text?: string): string[] {
  return ['------------[ cut here ]------------', ...(text === undefined ? [] : [text]), warning(fn)];
}

/** The log lines added by `fn`, without the `---[ end trace ... ]---` trailer. */
function logOf(m: Machine, fn: () => void): string[] {
  const n = m.dmesg().length;
  fn();
  return m.dmesg().slice(n).filter((l) => !l.startsWith('---[ end trace'));
}

const arm64 = (): Promise<Machine> => createMachine({ arch: 'arm64' });
const x86 = (): Promise<Machine> => createMachine({ arch: 'x86_64' });

describe('unmapping and syncing what was never mapped (dma-direct keeps no record)', () => {
  // kernel/dma/direct.h dma_direct_unmap_phys(): phys = dma_to_phys(addr), then
  // dma_direct_sync_single_for_cpu() -> arch_sync_dma_for_cpu(phys, size, dir), which on arm64
  // (arch/arm64/mm/dma-mapping.c) returns for DMA_TO_DEVICE and otherwise runs
  // dcache_inval_poc(start, start + size) (arch/arm64/mm/cache.S): DC CIVAC on a partial line at
  // either end, DC IVAC on every whole line. Nothing checks that the address was ever mapped.

  test('arm64, DMA_FROM_DEVICE: whole lines are invalidated and the CPU\'s dirty data is lost', async () => {
    const m = await arm64();
    const dev = probe(m, { name: '0000:01:00.0', driver: 'nic' });
    const { va, phys } = page(m);
    m.cpu.write(va, fill(256, 0xab));
    expect(m.cache.lineState(phys)).toBe('dirty');
    let d!: Stats;
    const log = logOf(m, () => { d = delta(m, () => dma_unmap_single(dev, phys, 256, DMA_FROM_DEVICE)); });
    expect(log).toEqual([]);
    expect(d.dirtyLinesDiscarded).toBe(4);
    expect(d.cacheLinesInvalidated).toBe(4);
    expect(d.dirtyLinesWrittenBack).toBe(0);
    for (let off = 0; off < 256; off += LINE) expect(m.cache.lineState(phys + off)).toBe('invalid');
    expect(m.cpu.read(va, 256)).toEqual(fill(256, 0)); // RAM's old bytes: the CPU's writes are gone
  });

  test('arm64, unaligned range: the partial end lines are cleaned first (CIVAC), the middle ones lost', async () => {
    const m = await arm64();
    const dev = probe(m, { name: '0000:01:00.0', driver: 'nic' });
    const { va, phys } = page(m);
    m.cpu.write(va, fill(256, 0xcd));
    // [16, 216): line 0 and line 3 are partial (DC CIVAC keeps their bytes), lines 1 and 2 whole (DC IVAC).
    const d = delta(m, () => dma_unmap_single(dev, phys + 16, 200, DMA_FROM_DEVICE));
    expect(d.dirtyLinesDiscarded).toBe(2);
    expect(d.dirtyLinesWrittenBack).toBe(2);
    expect(d.cacheLinesInvalidated).toBe(4);
    const got = m.cpu.read(va, 256);
    expect(got.subarray(0, 64)).toEqual(fill(64, 0xcd));
    expect(got.subarray(64, 192)).toEqual(fill(128, 0));
    expect(got.subarray(192, 256)).toEqual(fill(64, 0xcd));
  });

  test('arm64, DMA_TO_DEVICE: arch_sync_dma_for_cpu() does nothing, the dirty lines stay', async () => {
    const m = await arm64();
    const dev = probe(m, { name: '0000:01:00.0', driver: 'nic' });
    const { va, phys } = page(m);
    m.cpu.write(va, fill(256, 0xab));
    const d = delta(m, () => dma_unmap_single(dev, phys, 256, DMA_TO_DEVICE));
    expect(d.cacheMaintenanceOps).toBe(0);
    expect(m.cache.lineState(phys)).toBe('dirty');
    expect(m.cpu.read(va, 256)).toEqual(fill(256, 0xab));
  });

  test('x86_64 (coherent): unmapping what was never mapped touches nothing', async () => {
    // dma_direct_sync_single_for_cpu() only calls the arch hook for a non-coherent device.
    const m = await x86();
    const dev = probe(m, { name: '0000:01:00.0', driver: 'nic' });
    const { va, phys } = page(m);
    m.cpu.write(va, fill(256, 0xab));
    let d!: Stats;
    const log = logOf(m, () => { d = delta(m, () => dma_unmap_single(dev, phys, 256, DMA_FROM_DEVICE)); });
    expect(log).toEqual([]);
    expect(d.cacheMaintenanceOps).toBe(0);
    expect(m.cpu.read(va, 256)).toEqual(fill(256, 0xab));
  });

  test('unmapping with a smaller size than mapped: only that much is invalidated, the rest reads stale', async () => {
    // The size goes straight to arch_sync_dma_for_cpu() (kernel/dma/direct.h); only dma-debug
    // would compare it with the mapping's.
    const m = await arm64();
    const dev = probe(m, { name: '0000:01:00.0', driver: 'nic' });
    const { va } = page(m);
    m.cpu.write(va, fill(1024, 0x11));
    const addr = dma_map_single(dev, va, 1024, DMA_FROM_DEVICE); // cleans: RAM 0x11, lines clean and resident
    expect(addr).not.toBe(DMA_MAPPING_ERROR);
    dev.dmaFill(addr, 1024, 0x22);
    const log = logOf(m, () => dma_unmap_single(dev, addr, 64, DMA_FROM_DEVICE));
    expect(log).toEqual([]);
    const got = m.cpu.read(va, 1024);
    expect(got.subarray(0, 64)).toEqual(fill(64, 0x22));
    expect(got.subarray(64)).toEqual(fill(960, 0x11)); // stale clean lines the CPU still hits
  });

  test('unmapping with a larger size than mapped: the neighbour\'s dirty lines are invalidated', async () => {
    const m = await arm64();
    const dev = probe(m, { name: '0000:01:00.0', driver: 'nic' });
    const { va, phys } = page(m);
    const addr = dma_map_single(dev, va, 1024, DMA_FROM_DEVICE);
    expect(addr).toBe(phys);
    m.cpu.write(va + 1024, fill(1024, 0x33)); // the CPU's own data right after the buffer
    dev.dmaFill(addr, 1024, 0x22);
    const d = delta(m, () => dma_unmap_single(dev, addr, 2048, DMA_FROM_DEVICE));
    expect(d.dirtyLinesDiscarded).toBe(16);
    expect(m.cpu.read(va, 1024)).toEqual(fill(1024, 0x22));
    expect(m.cpu.read(va + 1024, 1024)).toEqual(fill(1024, 0)); // lost: RAM never saw 0x33
  });

  test('syncing a range no mapping covers: the range is cleaned / invalidated anyway', async () => {
    // kernel/dma/direct.h dma_direct_sync_single_for_device() / _for_cpu(): dma_to_phys(), then
    // the arch hooks; no lookup of the mapping.
    const m = await arm64();
    const dev = probe(m, { name: '0000:01:00.0', driver: 'nic' });
    const { va, phys } = page(m);
    m.cpu.write(va, fill(128, 0x44));
    const log = logOf(m, () => {
      dma_sync_single_for_device(dev, phys, 128, DMA_TO_DEVICE);
      expect(m.cache.lineState(phys)).toBe('clean');
      expect(dev.dmaRead(phys, 128)).toEqual(fill(128, 0x44));
      dev.dmaFill(phys, 128, 0x55);
      expect(m.cpu.read(va, 128)).toEqual(fill(128, 0x44)); // stale until the sync for the CPU
      dma_sync_single_for_cpu(dev, phys, 128, DMA_FROM_DEVICE);
    });
    expect(log).toEqual([]);
    expect(m.cpu.read(va, 128)).toEqual(fill(128, 0x55));
  });
});

describe('freeing coherent memory with the wrong size (mm/page_alloc.c reports, nothing is corrupted)', () => {
  // dma_free_coherent() -> dma_direct_free() -> __dma_direct_free_pages() -> __free_pages(page,
  // get_order(size)): the order comes from the size the driver passes.

  test('a larger size: free_pages_prepare() finds a bad tail page and frees nothing', async () => {
    // mm/page_alloc.c free_pages_prepare(): for order > 0 each page + i is checked with
    // free_page_is_bad(); the buddy after our order-0 block is free (PageBuddy: "nonzero
    // mapcount"), so bad_page() reports it and the free is abandoned.
    const m = await x86();
    const dev = probe(m, { name: '0000:02:00.0', driver: 'gpu' });
    const before = freePages(m);
    const buf = dma_alloc_coherent(dev, PAGE_SIZE, GFP_KERNEL);
    expect(buf).not.toBeNull();
    if (buf === null) return;
    const allocated = freePages(m);
    expect(allocated).toBe(before - 1);
    const log = logOf(m, () => dma_free_coherent(dev, 2 * PAGE_SIZE, buf.cpu_addr, buf.dma_handle));
    expect(log.some((l) => l.startsWith('BUG: Bad page state in process'))).toBe(true);
    expect(log).toContain('page dumped because: nonzero mapcount');
    expect(freePages(m)).toBe(allocated);
    expect(m.pages.isAllocated(buf.dma_handle / PAGE_SIZE)).toBe(true);
  });

  test('a smaller size: __free_pages() frees the first page, the rest of a non-compound block leaks silently', async () => {
    // mm/page_alloc.c ___free_pages(): put_page_testzero() drops the head's only reference, so
    // __free_frozen_pages(page, 0) frees page 0; free_pages_prepare() with order 0 checks no tail
    // and the VM_BUG_ON_PAGE(compound && ...) there is for compound pages (__GFP_COMP), which
    // dma_alloc_attrs() refuses. Page 1 keeps refcount 0 outside the buddy lists: a silent leak.
    const m = await x86();
    const dev = probe(m, { name: '0000:02:00.0', driver: 'gpu' });
    const buf = dma_alloc_coherent(dev, 2 * PAGE_SIZE, GFP_KERNEL);
    expect(buf).not.toBeNull();
    if (buf === null) return;
    const allocated = freePages(m);
    const pfn = buf.dma_handle / PAGE_SIZE;
    const log = logOf(m, () => dma_free_coherent(dev, PAGE_SIZE, buf.cpu_addr, buf.dma_handle));
    expect(log).toEqual([]);
    expect(freePages(m)).toBe(allocated + 1);
    expect(m.pages.isAllocated(pfn)).toBe(false);
  });
});

describe('zero-length mappings', () => {
  test('arm64: a zero-length map still cleans the line holding the address', async () => {
    // kernel/dma/direct.h dma_direct_map_phys() has no size check; arch_sync_dma_for_device()
    // runs dcache_clean_poc(start, start + 0), and dcache_by_line_op (arch/arm64/include/asm/
    // assembler.h) issues its first DC CVAC before comparing with the end.
    const m = await arm64();
    const dev = probe(m, { name: '0000:01:00.0', driver: 'nic' });
    const { va, phys } = page(m);
    m.cpu.write(va, fill(2 * LINE, 0x77));
    let addr = 0;
    let d!: Stats;
    const log = logOf(m, () => { d = delta(m, () => { addr = dma_map_single(dev, va + 8, 0, DMA_TO_DEVICE); }); });
    expect(log).toEqual([]);
    expect(addr).toBe(phys + 8);
    expect(dma_mapping_error(dev, addr)).toBe(0);
    expect(d.cacheMaintenanceOps).toBe(1);
    expect(d.cacheLinesCleaned).toBe(1);
    expect(d.barriers).toBe(1);
    expect(m.cache.lineState(phys)).toBe('clean');
    expect(m.cache.lineState(phys + LINE)).toBe('dirty');
    expect(dev.dmaRead(phys, LINE)).toEqual(fill(LINE, 0x77));
  });

  test('arm64: a zero-length DMA_FROM_DEVICE unmap at a line boundary invalidates that line', async () => {
    // dcache_inval_poc (arch/arm64/mm/cache.S): with start == end aligned neither edge is
    // partial, and the loop's DC IVAC runs once before the bound is tested.
    const m = await arm64();
    const dev = probe(m, { name: '0000:01:00.0', driver: 'nic' });
    const { va, phys } = page(m);
    m.cpu.write(va, fill(2 * LINE, 0x78));
    const d = delta(m, () => dma_unmap_single(dev, phys + LINE, 0, DMA_FROM_DEVICE));
    expect(d.dirtyLinesDiscarded).toBe(1);
    expect(m.cache.lineState(phys)).toBe('dirty');
    expect(m.cache.lineState(phys + LINE)).toBe('invalid');
    expect(m.cpu.read(va + LINE, LINE)).toEqual(fill(LINE, 0));
  });

  test('dma_map_sg with nents 0: dma-direct returns 0, which __dma_map_sg_attrs() WARNs about, and 0 comes back', async () => {
    // kernel/dma/direct.c dma_direct_map_sg() returns nents (0) without a flush; kernel/dma/
    // mapping.c __dma_map_sg_attrs(): `else if (WARN_ON_ONCE(ents != -EINVAL && ents != -ENOMEM
    // && ents != -EIO && ents != -EREMOTEIO)) return -EIO;` and dma_map_sg_attrs() turns that into 0.
    const m = await arm64();
    const dev = probe(m, { name: '0000:01:00.0', driver: 'nic' });
    const p = m.alloc_pages(GFP_KERNEL, 0);
    if (p === null) throw new Error('no page');
    const sgl = sg_init_table(1);
    sg_set_page(sgl[0] as Scatterlist, p, PAGE_SIZE, 0);
    let n = -1;
    let d!: Stats;
    const log = logOf(m, () => { d = delta(m, () => { n = dma_map_sg(dev, sgl, 0, DMA_TO_DEVICE); }); });
    expect(n).toBe(0);
    expect(log).toEqual(warnLines('__dma_map_sg_attrs'));
    expect(d.cacheMaintenanceOps).toBe(0);
    expect(d.barriers).toBe(0);
    expect(d.dmaOps).toBe(0);
    // WARN_ON_ONCE: the second time is silent.
    expect(logOf(m, () => { n = dma_map_sg(dev, sgl, 0, DMA_FROM_DEVICE); })).toEqual([]);
    expect(n).toBe(0);
  });
});

describe('WARN and fail', () => {
  test('a device whose dma_mask pointer is NULL: WARN_ON_ONCE and DMA_MAPPING_ERROR', async () => {
    // kernel/dma/mapping.c dma_map_phys(): `if (WARN_ON_ONCE(!dev->dma_mask)) return
    // DMA_MAPPING_ERROR;` __dma_map_sg_attrs(): the same WARN, returning 0; dma_set_mask():
    // -EIO without a WARN.
    const m = await arm64();
    const dev = m.createDevice({ name: 'platform-dev', driver: 'legacy', dmaMask: null });
    const { va, phys } = page(m);
    m.cpu.write(va, fill(LINE, 0x99));
    let addr = 0;
    let d!: Stats;
    const log = logOf(m, () => { d = delta(m, () => { addr = dma_map_single(dev, va, LINE, DMA_TO_DEVICE); }); });
    expect(addr).toBe(DMA_MAPPING_ERROR);
    expect(dma_mapping_error(dev, addr)).toBe(-ENOMEM);
    expect(log).toEqual(warnLines('dma_map_phys'));
    expect(d.cacheMaintenanceOps).toBe(0);
    expect(m.cache.lineState(phys)).toBe('dirty');
    expect(logOf(m, () => { addr = dma_map_single(dev, va, LINE, DMA_TO_DEVICE); })).toEqual([]);
    expect(addr).toBe(DMA_MAPPING_ERROR);

    const p = m.alloc_pages(GFP_KERNEL, 0);
    if (p === null) throw new Error('no page');
    const sgl = sg_init_table(1);
    sg_set_page(sgl[0] as Scatterlist, p, 512, 0);
    let n = -1;
    expect(logOf(m, () => { n = dma_map_sg(dev, sgl, 1, DMA_TO_DEVICE); })).toEqual(warnLines('__dma_map_sg_attrs'));
    expect(n).toBe(0);
    expect(logOf(m, () => { expect(dma_set_mask(dev, DMA_BIT_MASK(64))).toBe(-EIO); })).toEqual([]);
  });

  test('WARN_ON_ONCE fires once per call site, not once per device', async () => {
    // include/asm-generic/bug.h WARN_ON_ONCE: one static __warned flag per call site, shared by
    // every device; dev_WARN_ONCE likewise. A second device hitting the same site is silent.
    const m = await arm64();
    const a = m.createDevice({ name: 'platform-a', driver: 'legacy', dmaMask: null });
    const b = m.createDevice({ name: 'platform-b', driver: 'legacy', dmaMask: null });
    const { va } = page(m);
    expect(logOf(m, () => dma_map_single(a, va, LINE, DMA_TO_DEVICE))).toEqual(warnLines('dma_map_phys'));
    expect(logOf(m, () => dma_map_single(b, va, LINE, DMA_TO_DEVICE))).toEqual([]);
    const v = m.vmalloc(PAGE_SIZE);
    const c = probe(m, { name: '0000:03:00.0', driver: 'nic' });
    const e = probe(m, { name: '0000:04:00.0', driver: 'nic' });
    expect(logOf(m, () => dma_map_single(c, v, LINE, DMA_TO_DEVICE)).length).toBe(3);
    expect(logOf(m, () => dma_map_single(e, v, LINE, DMA_TO_DEVICE))).toEqual([]);
  });

  test('dma_alloc_coherent with __GFP_COMP: WARN_ON_ONCE and NULL', async () => {
    // kernel/dma/mapping.c dma_alloc_attrs(): `if (WARN_ON_ONCE(flag & __GFP_COMP)) return NULL;`
    const m = await arm64();
    const dev = probe(m, { name: '0000:02:00.0', driver: 'gpu' });
    const free = freePages(m);
    let buf: unknown = 0;
    let d!: Stats;
    const log = logOf(m, () => { d = delta(m, () => { buf = dma_alloc_coherent(dev, 2 * PAGE_SIZE, GFP_KERNEL | __GFP_COMP); }); });
    expect(buf).toBeNull();
    expect(log).toEqual(warnLines('dma_alloc_attrs'));
    expect(freePages(m)).toBe(free);
    expect(d.cacheMaintenanceOps).toBe(0);
  });

  test('dma_alloc_pages with GFP_DMA: WARN_ON_ONCE and NULL (dma_alloc_attrs would strip it)', async () => {
    // kernel/dma/mapping.c __dma_alloc_pages(): `if (WARN_ON_ONCE(gfp & (__GFP_DMA | __GFP_DMA32 |
    // __GFP_HIGHMEM))) return NULL;`
    const m = await arm64();
    const dev = probe(m, { name: '0000:02:00.0', driver: 'gpu' });
    const free = freePages(m);
    let r: unknown = 0;
    const log = logOf(m, () => { r = dma_alloc_pages(dev, PAGE_SIZE, DMA_FROM_DEVICE, GFP_DMA); });
    expect(r).toBeNull();
    expect(log).toEqual(warnLines('__dma_alloc_pages'));
    // The same site again (via dma_alloc_noncoherent, GFP_DMA32): silent, still NULL.
    expect(logOf(m, () => { r = dma_alloc_noncoherent(dev, PAGE_SIZE, DMA_FROM_DEVICE, GFP_DMA32); })).toEqual([]);
    expect(r).toBeNull();
    expect(freePages(m)).toBe(free);
  });

  test('dma_alloc_pages: the zone-flag and __GFP_COMP checks are separate WARN_ON_ONCE sites', async () => {
    // kernel/dma/mapping.c __dma_alloc_pages() has three WARN_ON_ONCE()s (no coherent mask, zone
    // flags, __GFP_COMP), each with its own __warned flag.
    const m = await arm64();
    const dev = probe(m, { name: '0000:02:00.0', driver: 'gpu' });
    expect(logOf(m, () => dma_alloc_pages(dev, PAGE_SIZE, DMA_FROM_DEVICE, GFP_DMA))).toEqual(warnLines('__dma_alloc_pages'));
    expect(logOf(m, () => dma_alloc_pages(dev, PAGE_SIZE, DMA_FROM_DEVICE, GFP_KERNEL | __GFP_COMP))).toEqual(warnLines('__dma_alloc_pages'));
  });

  test('vmalloc memory to dma_map_single: "rejecting DMA map of vmalloc memory" and DMA_MAPPING_ERROR', async () => {
    // include/linux/dma-mapping.h dma_map_single_attrs(): `if (dev_WARN_ONCE(dev,
    // is_vmalloc_addr(ptr), "rejecting DMA map of vmalloc memory\n")) return DMA_MAPPING_ERROR;`
    const m = await arm64();
    const dev = probe(m, { name: '0000:01:00.0', driver: 'nic' });
    const v = m.vmalloc(PAGE_SIZE);
    m.cpu.write(v, fill(LINE, 0x12));
    let addr = 0;
    let d!: Stats;
    const log = logOf(m, () => { d = delta(m, () => { addr = dma_map_single(dev, v, LINE, DMA_TO_DEVICE); }); });
    expect(addr).toBe(DMA_MAPPING_ERROR);
    expect(log).toEqual(warnLines('dma_map_single_attrs', 'nic 0000:01:00.0: rejecting DMA map of vmalloc memory'));
    expect(d.cacheMaintenanceOps).toBe(0);
    expect(d.dmaOps).toBe(0);
    // An on-stack buffer is vmalloc memory too (CONFIG_VMAP_STACK); dev_WARN_ONCE stays quiet now.
    expect(logOf(m, () => { addr = dma_map_single(dev, m.stackAlloc(64), 64, DMA_FROM_DEVICE); })).toEqual([]);
    expect(addr).toBe(DMA_MAPPING_ERROR);
  });

  test('dma_free_coherent(dev, size, NULL, 0) does nothing', async () => {
    // kernel/dma/mapping.c dma_free_attrs(): `if (!cpu_addr) return;` before any free.
    for (const m of [await arm64(), await x86()]) {
      const dev = probe(m, { name: '0000:02:00.0', driver: 'gpu' });
      const stats = m.stats();
      const free = freePages(m);
      const log = logOf(m, () => dma_free_coherent(dev, PAGE_SIZE, 0, 0));
      expect(log).toEqual([]);
      expect(m.stats()).toEqual(stats);
      expect(freePages(m)).toBe(free);
    }
  });
});
