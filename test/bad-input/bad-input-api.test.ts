// Input no kernel could receive, handed to the DMA mapping API, throws a DmaSimError naming the
// function and the argument and leaves the machine exactly as it was (API.md "Errors"). DMA_NONE
// is different: a C caller can pass it, and the kernel BUG()s (kernel/dma/mapping.c BUG_ON
// (!valid_dma_direction(dir))).
import { describe, expect, test } from 'vitest';
import { createMachine, type Machine } from '../../src/machine.js';
import type { Device } from '../../src/dma/device.js';
import { DmaSimError, KernelBug } from '../../src/lib/errors.js';
import {
  DMA_BIDIRECTIONAL, DMA_BIT_MASK, DMA_FROM_DEVICE, DMA_NONE, DMA_TO_DEVICE, type DmaDirection,
} from '../../src/include/dma-mapping.js';
import {
  dma_alloc_attrs, dma_alloc_coherent, dma_alloc_noncoherent, dma_alloc_pages, dma_free_attrs,
  dma_get_cache_alignment, dma_get_mask, dma_map_page, dma_map_phys, dma_map_resource, dma_map_sg,
  dma_map_single, dma_mapping_error, dma_max_mapping_size, dma_need_sync, dma_set_coherent_mask,
  dma_set_mask, dma_set_mask_and_coherent, dma_sync_sg_for_cpu, dma_sync_sg_for_device,
  dma_sync_single_for_cpu, dma_sync_single_for_device, dma_sync_single_range_for_cpu, dma_unmap_phys,
  dma_unmap_sg, dma_unmap_single,
} from '../../src/dma/mapping.js';
import { GFP_KERNEL, ZONE_DMA, ZONE_DMA32, ZONE_NORMAL } from '../../src/mm/gfp.js';
import { PAGE_OFFSET, PAGE_SIZE, pfnToPage, type Page } from '../../src/mm/memory.js';
import { Scatterlist, sg_init_table, sg_set_page } from '../../src/dma/scatterlist.js';

const RAM_BASE = 0x8000_0000;
const RAM_SIZE = 2 << 20;
const RAM_END = RAM_BASE + RAM_SIZE;

interface Rig {
  m: Machine;
  dev: Device;
  /** A 4 KiB page of RAM, its linear-map address and physical address, with dirty lines in the cache. */
  page: Page;
  va: number;
  phys: number;
  /** A scatterlist of two entries over that page. */
  sgl: Scatterlist[];
}

/** One 2 MiB bank (a RAM snapshot stays cheap), a non-coherent arm64 device, a dirty buffer. */
async function rig(): Promise<Rig> {
  const m = await createMachine({ arch: 'arm64', ram: [{ base: RAM_BASE, size: RAM_SIZE }], cache: { size: 16384, ways: 4 } });
  const dev = m.createDevice({ name: '0000:00:01.0', driver: 'badnic' });
  const page = m.alloc_pages(GFP_KERNEL, 0);
  if (page === null) throw new Error('no page');
  const va = m.page_address(page);
  m.cpu.fill(va, PAGE_SIZE, 0x5a); // dirty lines: any cache maintenance would show in RAM and stats
  const sgl = sg_init_table(2);
  sg_set_page(sgl[0] as Scatterlist, page, 512, 0);
  sg_set_page(sgl[1] as Scatterlist, page, 512, 1024);
  return { m, dev, page, va, phys: m.page_to_phys(page), sgl };
}

function freePages(m: Machine): number {
  return m.pages.nrFree(ZONE_DMA) + m.pages.nrFree(ZONE_DMA32) + m.pages.nrFree(ZONE_NORMAL);
}

function ramSnapshot(m: Machine): Buffer {
  return Buffer.from(m.u8.slice(m.layout.ramStart, m.layout.ramStart + m.layout.ramSpan));
}

/** Runs `f`, expects a DmaSimError mentioning `fn` and `arg`, and checks nothing changed. */
function refused(m: Machine, f: () => unknown, fn: string, arg: string): void {
  const stats = m.stats();
  const log = m.dmesg();
  const free = freePages(m);
  const ram = ramSnapshot(m);
  let err: unknown;
  try { f(); } catch (e) { err = e; }
  expect(err, `${fn} must refuse its ${arg}`).toBeInstanceOf(DmaSimError);
  expect((err as Error).message).toContain(`${fn}:`);
  expect((err as Error).message).toContain(arg);
  expect(m.stats()).toEqual(stats);
  expect(m.dmesg()).toEqual(log);
  expect(freePages(m)).toBe(free);
  // Buffer.equals, not toEqual: a deep comparison of 2 MiB byte by byte takes seconds.
  expect(ramSnapshot(m).equals(ram)).toBe(true);
}

/** Values a C caller could never pass as a dma_data_direction. */
const BAD_DIRS: unknown[] = [7, -1, 1.5, '1', 4, Number.NaN, null];

describe('bad input to the DMA mapping API', () => {
  test('a size that is NaN, negative or fractional', async () => {
    const { m, dev, va, phys, page } = await rig();
    refused(m, () => dma_map_single(dev, va, Number.NaN, DMA_TO_DEVICE), 'dma_map_single', 'size');
    refused(m, () => dma_map_single(dev, va, -64, DMA_TO_DEVICE), 'dma_map_single', 'size');
    refused(m, () => dma_map_phys(dev, phys, 1.5, DMA_TO_DEVICE), 'dma_map_phys', 'size');
    refused(m, () => dma_map_page(dev, page, 0, Infinity, DMA_TO_DEVICE), 'dma_map_page', 'size');
    refused(m, () => dma_unmap_phys(dev, phys, Number.NaN, DMA_FROM_DEVICE), 'dma_unmap_phys', 'size');
    refused(m, () => dma_sync_single_for_cpu(dev, phys, -1, DMA_FROM_DEVICE), 'dma_sync_single_for_cpu', 'size');
    refused(m, () => dma_sync_single_for_device(dev, phys, 0.5, DMA_TO_DEVICE), 'dma_sync_single_for_device', 'size');
    refused(m, () => dma_alloc_attrs(dev, Number.NaN, GFP_KERNEL), 'dma_alloc_attrs', 'size');
    refused(m, () => dma_alloc_pages(dev, -4096, DMA_BIDIRECTIONAL, GFP_KERNEL), 'dma_alloc_pages', 'size');
    refused(m, () => dma_free_attrs(dev, 4096.5, va, phys), 'dma_free_attrs', 'size');
  });

  test('a direction outside 0..3 (7, -1, 1.5, "1", ...)', async () => {
    const { m, dev, va, phys, sgl } = await rig();
    for (const d of BAD_DIRS) {
      const dir = d as DmaDirection;
      refused(m, () => dma_map_single(dev, va, 64, dir), 'dma_map_single', 'dir');
      refused(m, () => dma_map_phys(dev, phys, 64, dir), 'dma_map_phys', 'dir');
      refused(m, () => dma_unmap_phys(dev, phys, 64, dir), 'dma_unmap_phys', 'dir');
      refused(m, () => dma_map_sg(dev, sgl, 2, dir), 'dma_map_sg', 'dir');
      refused(m, () => dma_unmap_sg(dev, sgl, 2, dir), 'dma_unmap_sg', 'dir');
      refused(m, () => dma_sync_single_for_cpu(dev, phys, 64, dir), 'dma_sync_single_for_cpu', 'dir');
      refused(m, () => dma_sync_sg_for_device(dev, sgl, 2, dir), 'dma_sync_sg_for_device', 'dir');
      refused(m, () => dma_alloc_pages(dev, 4096, dir, GFP_KERNEL), 'dma_alloc_pages', 'dir');
    }
  });

  test('a dev that is not a struct device from m.createDevice()', async () => {
    const { m, dev, va, phys, sgl } = await rig();
    // Looks like a device to a careless check: same fields, but not a Device.
    const fakes: unknown[] = [{}, null, undefined, { ...dev }, { machine: m, name: 'x', dma_mask: 0xffffffffn }];
    for (const fake of fakes) {
      const d = fake as Device;
      refused(m, () => dma_map_single(d, va, 64, DMA_TO_DEVICE), 'dma_map_single', 'dev');
      refused(m, () => dma_map_phys(d, phys, 64, DMA_TO_DEVICE), 'dma_map_phys', 'dev');
      refused(m, () => dma_unmap_phys(d, phys, 64, DMA_FROM_DEVICE), 'dma_unmap_phys', 'dev');
      refused(m, () => dma_map_sg(d, sgl, 2, DMA_TO_DEVICE), 'dma_map_sg', 'dev');
      refused(m, () => dma_unmap_sg(d, sgl, 2, DMA_FROM_DEVICE), 'dma_unmap_sg', 'dev');
      refused(m, () => dma_sync_single_for_device(d, phys, 64, DMA_TO_DEVICE), 'dma_sync_single_for_device', 'dev');
      refused(m, () => dma_sync_sg_for_cpu(d, sgl, 2, DMA_FROM_DEVICE), 'dma_sync_sg_for_cpu', 'dev');
      refused(m, () => dma_set_mask(d, DMA_BIT_MASK(64)), 'dma_set_mask', 'dev');
      refused(m, () => dma_get_mask(d), 'dma_get_mask', 'dev');
      refused(m, () => dma_alloc_attrs(d, 4096, GFP_KERNEL), 'dma_alloc_attrs', 'dev');
      refused(m, () => dma_free_attrs(d, 4096, va, phys), 'dma_free_attrs', 'dev');
      refused(m, () => dma_alloc_pages(d, 4096, DMA_TO_DEVICE, GFP_KERNEL), 'dma_alloc_pages', 'dev');
      refused(m, () => dma_mapping_error(d, phys), 'dma_mapping_error', 'dev');
      refused(m, () => dma_need_sync(d, phys), 'dma_need_sync', 'dev');
      refused(m, () => dma_max_mapping_size(d), 'dma_max_mapping_size', 'dev');
    }
  });

  test('an address in no bank (dma_map_single, dma_map_phys, dma_map_page)', async () => {
    const { m, dev } = await rig();
    refused(m, () => dma_map_single(dev, 0x1234, 64, DMA_TO_DEVICE), 'dma_map_single', 'ptr');
    refused(m, () => dma_map_single(dev, 0, 64, DMA_TO_DEVICE), 'dma_map_single', 'ptr');
    refused(m, () => dma_map_single(dev, PAGE_OFFSET + 0x1000, 64, DMA_TO_DEVICE), 'dma_map_single', 'ptr');
    refused(m, () => dma_map_single(dev, PAGE_OFFSET + RAM_END + PAGE_SIZE, 64, DMA_FROM_DEVICE), 'dma_map_single', 'ptr');
    refused(m, () => dma_map_phys(dev, 0x1000, 64, DMA_TO_DEVICE), 'dma_map_phys', 'phys');
    refused(m, () => dma_map_phys(dev, RAM_END, 64, DMA_FROM_DEVICE), 'dma_map_phys', 'phys');
    refused(m, () => dma_map_phys(dev, -64, 64, DMA_TO_DEVICE), 'dma_map_phys', 'phys');
    refused(m, () => dma_map_phys(dev, 2 ** 53, 64, DMA_TO_DEVICE), 'dma_map_phys', 'phys');
    refused(m, () => dma_map_page(dev, pfnToPage(0x10), 0, 64, DMA_TO_DEVICE), 'dma_map_page', 'page');
  });

  test('a range that runs past the end of RAM', async () => {
    const { m, dev, sgl } = await rig();
    const lastPage = pfnToPage(RAM_END / PAGE_SIZE - 1);
    refused(m, () => dma_map_phys(dev, RAM_END - 64, 128, DMA_TO_DEVICE), 'dma_map_phys', 'phys');
    refused(m, () => dma_map_single(dev, PAGE_OFFSET + RAM_END - 64, 65, DMA_TO_DEVICE), 'dma_map_single', 'ptr');
    refused(m, () => dma_map_page(dev, lastPage, 0, 2 * PAGE_SIZE, DMA_FROM_DEVICE), 'dma_map_page', 'page');
    refused(m, () => dma_map_page(dev, lastPage, PAGE_SIZE, 1, DMA_FROM_DEVICE), 'dma_map_page', 'page');
    sg_set_page(sgl[1] as Scatterlist, lastPage, 2 * PAGE_SIZE, 0);
    refused(m, () => dma_map_sg(dev, sgl, 2, DMA_TO_DEVICE), 'dma_map_sg', 'sgl[1]');
    refused(m, () => dma_sync_sg_for_device(dev, sgl, 2, DMA_TO_DEVICE), 'dma_sync_sg_for_device', 'sgl[1]');
  });

  test('a mask that is not a bigint (0xffffffff as a number)', async () => {
    const { m, dev } = await rig();
    const before = { mask: dev.dma_mask, coherent: dev.coherent_dma_mask };
    refused(m, () => dma_set_mask(dev, 0xffffffff as unknown as bigint), 'dma_set_mask', 'mask');
    refused(m, () => dma_set_coherent_mask(dev, 0xffffffff as unknown as bigint), 'dma_set_coherent_mask', 'mask');
    refused(m, () => dma_set_mask(dev, '0xffffffff' as unknown as bigint), 'dma_set_mask', 'mask');
    refused(m, () => dma_set_mask(dev, -1n), 'dma_set_mask', 'mask');
    expect({ mask: dev.dma_mask, coherent: dev.coherent_dma_mask }).toEqual(before);
  });

  test('attrs with bits no DMA_ATTR_* has (above bit 13), or not an integer', async () => {
    const { m, dev, va, phys, sgl } = await rig();
    refused(m, () => dma_map_single(dev, va, 64, DMA_TO_DEVICE, 1 << 20), 'dma_map_single', 'attrs');
    refused(m, () => dma_map_phys(dev, phys, 64, DMA_TO_DEVICE, 1 << 14), 'dma_map_phys', 'attrs');
    refused(m, () => dma_unmap_phys(dev, phys, 64, DMA_FROM_DEVICE, 1 << 30), 'dma_unmap_phys', 'attrs');
    refused(m, () => dma_map_sg(dev, sgl, 2, DMA_TO_DEVICE, -1), 'dma_map_sg', 'attrs');
    refused(m, () => dma_unmap_sg(dev, sgl, 2, DMA_FROM_DEVICE, 1 << 31), 'dma_unmap_sg', 'attrs');
    refused(m, () => dma_alloc_attrs(dev, 4096, GFP_KERNEL, 1 << 15), 'dma_alloc_attrs', 'attrs');
    refused(m, () => dma_map_single(dev, va, 64, DMA_TO_DEVICE, 0.5), 'dma_map_single', 'attrs');
    refused(m, () => dma_map_single(dev, va, 64, DMA_TO_DEVICE, '32' as unknown as number), 'dma_map_single', 'attrs');
  });

  test('attrs bit 0 or bit 3: no DMA_ATTR_* of v7.1 uses them', async () => {
    // include/linux/dma-mapping.h (v7.1): DMA_ATTR_WEAK_ORDERING is 1 << 1, WRITE_COMBINE 1 << 2,
    // NO_KERNEL_MAPPING 1 << 4 (1 << 3 was DMA_ATTR_NON_CONSISTENT, removed in 5.10), and
    // nothing is 1 << 0. They are unknown bits like 1 << 20.
    const { m, dev, va, phys } = await rig();
    refused(m, () => dma_map_single(dev, va, 64, DMA_TO_DEVICE, 1 << 0), 'dma_map_single', 'attrs');
    refused(m, () => dma_map_phys(dev, phys, 64, DMA_TO_DEVICE, 1 << 3), 'dma_map_phys', 'attrs');
  });

  test('attrs with a bit above 31 (attrs is an unsigned long: 64 bits)', async () => {
    // 2 ** 40 is DMA_ATTR-free in its low 32 bits; a 32-bit `attrs & ~mask` test cannot see bit 40.
    const { m, dev, va, sgl } = await rig();
    refused(m, () => dma_unmap_sg(dev, sgl, 2, DMA_FROM_DEVICE, 2 ** 40), 'dma_unmap_sg', 'attrs');
    refused(m, () => dma_map_single(dev, va, 64, DMA_TO_DEVICE, 2 ** 32 + (1 << 5)), 'dma_map_single', 'attrs');
  });

  test('an sg list that sg_init_table() did not make', async () => {
    const { m, dev, phys, page } = await rig();
    const plain = [{ page_link: page, offset: 0, length: 512, dma_address: 0, dma_length: 0 }] as unknown as Scatterlist[];
    refused(m, () => dma_map_sg(dev, plain, 1, DMA_TO_DEVICE), 'dma_map_sg', 'sgl');
    refused(m, () => dma_unmap_sg(dev, plain, 1, DMA_FROM_DEVICE), 'dma_unmap_sg', 'sgl');
    refused(m, () => dma_sync_sg_for_cpu(dev, plain, 1, DMA_FROM_DEVICE), 'dma_sync_sg_for_cpu', 'sgl');
    refused(m, () => dma_map_sg(dev, phys as unknown as Scatterlist[], 1, DMA_TO_DEVICE), 'dma_map_sg', 'sgl');
    refused(m, () => dma_map_sg(dev, null as unknown as Scatterlist[], 1, DMA_TO_DEVICE), 'dma_map_sg', 'sgl');
    // A list from sg_init_table() whose entry was never set (no page): it describes no RAM.
    refused(m, () => dma_map_sg(dev, sg_init_table(1), 1, DMA_TO_DEVICE), 'dma_map_sg', 'sgl[0]');
  });

  test('nents larger than the list (or not a count)', async () => {
    const { m, dev, sgl } = await rig();
    refused(m, () => dma_map_sg(dev, sgl, 3, DMA_TO_DEVICE), 'dma_map_sg', 'nents');
    refused(m, () => dma_unmap_sg(dev, sgl, 3, DMA_FROM_DEVICE), 'dma_unmap_sg', 'nents');
    refused(m, () => dma_sync_sg_for_device(dev, sgl, 100, DMA_TO_DEVICE), 'dma_sync_sg_for_device', 'nents');
    refused(m, () => dma_sync_sg_for_cpu(dev, sgl, 3, DMA_FROM_DEVICE), 'dma_sync_sg_for_cpu', 'nents');
    refused(m, () => dma_map_sg(dev, sgl, -1, DMA_TO_DEVICE), 'dma_map_sg', 'nents');
    refused(m, () => dma_map_sg(dev, sgl, 1.5, DMA_TO_DEVICE), 'dma_map_sg', 'nents');
    refused(m, () => dma_map_sg(dev, sgl, '2' as unknown as number, DMA_TO_DEVICE), 'dma_map_sg', 'nents');
  });

  test('gfp that is not an integer', async () => {
    const { m, dev } = await rig();
    refused(m, () => dma_alloc_coherent(dev, 4096, 1.5), 'dma_alloc_coherent', 'gfp');
    refused(m, () => dma_alloc_attrs(dev, 4096, Number.NaN), 'dma_alloc_attrs', 'gfp');
    refused(m, () => dma_alloc_attrs(dev, 4096, -1), 'dma_alloc_attrs', 'gfp');
    refused(m, () => dma_alloc_pages(dev, 4096, DMA_FROM_DEVICE, '0' as unknown as number), 'dma_alloc_pages', 'gfp');
    refused(m, () => dma_alloc_pages(dev, 4096, DMA_FROM_DEVICE, 2 ** 40), 'dma_alloc_pages', 'gfp');
  });

  test('a wrapper names the function the driver called, not the one it wraps', async () => {
    // dma_unmap_single, dma_alloc_coherent, ... are what the driver called; a message naming the
    // inner dma_unmap_phys / dma_alloc_attrs sends the reader to a call that is not in their code.
    const { m, dev, phys, va } = await rig();
    refused(m, () => dma_unmap_single(dev, phys, Number.NaN, DMA_FROM_DEVICE), 'dma_unmap_single', 'size');
    refused(m, () => dma_unmap_single({} as Device, phys, 64, DMA_FROM_DEVICE), 'dma_unmap_single', 'dev');
    refused(m, () => dma_alloc_coherent(dev, -1, GFP_KERNEL), 'dma_alloc_coherent', 'size');
    refused(m, () => dma_set_mask_and_coherent(dev, 0xffffffff as unknown as bigint), 'dma_set_mask_and_coherent', 'mask');
    refused(m, () => dma_sync_single_range_for_cpu(dev, phys, 0, 64, 7 as DmaDirection), 'dma_sync_single_range_for_cpu', 'dir');
    refused(m, () => dma_map_resource(dev, phys, -1, DMA_TO_DEVICE), 'dma_map_resource', 'size');
    refused(m, () => dma_alloc_noncoherent(dev, Number.NaN, DMA_FROM_DEVICE, GFP_KERNEL), 'dma_alloc_noncoherent', 'size');
    refused(m, () => dma_alloc_noncoherent(dev, 4096, DMA_FROM_DEVICE, 2 ** 40), 'dma_alloc_noncoherent', 'gfp');
    expect(va).toBeGreaterThan(0);
  });

  test('dma_get_cache_alignment() of something that is not a Machine or Device', async () => {
    const { m } = await rig();
    // Its optional argument picks the machine; a plain object is neither, and must not read as
    // `undefined` alignment.
    refused(m, () => dma_get_cache_alignment({} as Machine), 'dma_get_cache_alignment', '');
  });
});

describe('DMA_NONE is a kernel BUG, not bad input', () => {
  /**
   * The call throws KernelBug, the log gains exactly report_bug()'s lines for a BUG_ON in the
   * kernel function `fn` (lib/bug.c: "cut here", then the BUG line, here without file and line:
   * see src/lib/warn-sites.ts), and nothing else changed.
   */
  function bugs(m: Machine, fn: string, f: () => unknown): void {
    const stats = m.stats();
    const log = m.dmesg();
    const free = freePages(m);
    const ram = ramSnapshot(m);
    let err: unknown;
    try { f(); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(KernelBug);
    expect(err).not.toBeInstanceOf(DmaSimError);
    expect(m.dmesg()).toEqual([...log, '------------[ cut here ]------------', `Kernel BUG at ${fn}+0x0/0x0 [verbose debug info unavailable]`]);
    expect(m.stats()).toEqual(stats);
    expect(freePages(m)).toBe(free);
    expect(ramSnapshot(m).equals(ram)).toBe(true);
  }

  test('dma_map_single(dev, buf, 64, DMA_NONE)', async () => {
    const { m, dev, va } = await rig();
    bugs(m, 'dma_map_phys', () => dma_map_single(dev, va, 64, DMA_NONE));
  });

  test('DMA_NONE to unmap, sg map and unmap, and syncs on a non-coherent device', async () => {
    const { m, dev, phys, sgl } = await rig();
    bugs(m, 'dma_map_phys', () => dma_map_phys(dev, phys, 64, DMA_NONE));
    bugs(m, 'dma_unmap_phys', () => dma_unmap_phys(dev, phys, 64, DMA_NONE));
    bugs(m, '__dma_map_sg_attrs', () => dma_map_sg(dev, sgl, 2, DMA_NONE));
    bugs(m, 'dma_unmap_sg_attrs', () => dma_unmap_sg(dev, sgl, 2, DMA_NONE));
    bugs(m, '__dma_sync_single_for_cpu', () => dma_sync_single_for_cpu(dev, phys, 64, DMA_NONE));
    bugs(m, '__dma_sync_sg_for_device', () => dma_sync_sg_for_device(dev, sgl, 2, DMA_NONE));
  });
});
