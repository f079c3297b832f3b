// check_unmap() of kernel/dma/debug.c: every message, in the kernel's order and format, with its
// quirks ("failed to check map error" has no space before "[" and no newline; "different CPU
// address" prints 0x0x), best-fit lookup returning NULL on ambiguity, and the entry freed even
// when errors were reported.
import { describe, expect, test } from 'vitest';
import {
  DMA_BIDIRECTIONAL, DMA_FROM_DEVICE, DMA_MAPPING_ERROR, DMA_TO_DEVICE, GFP_KERNEL,
  dma_alloc_coherent, dma_free_coherent, dma_map_sg, dma_map_single, dma_mapping_error, dma_unmap_sg, dma_unmap_single,
  sg_init_table, sg_set_buf,
} from '../../src/index.js';
import { allErrors, DMA_API, expectWarn, rig, SINGLE_FRAMES, warnings, x016 } from '../support/debug-helpers.js';
import { warning } from '../support/warn.js';

const P = 'DMA-API: mynic 0000:01:00.0';

describe('check_unmap', () => {
  test('unmapping an address never mapped: "has not allocated", with no entry to show', async () => {
    const { dev, log } = await rig();
    dma_unmap_single(dev, 0x1_0000_4000, 64, DMA_TO_DEVICE);
    expectWarn(log(), P, `device driver tries to free DMA memory it has not allocated [device address=0x${x016(0x1_0000_4000)}] [size=64 bytes]`, warning('check_unmap'));
  });

  test('unmapping DMA_MAPPING_ERROR: "tries to free an invalid DMA memory address"', async () => {
    const { dev, log } = await rig();
    dma_unmap_single(dev, DMA_MAPPING_ERROR, 64, DMA_TO_DEVICE);
    expectWarn(log(), P, 'device driver tries to free an invalid DMA memory address', warning('check_unmap'));
  });

  test('different size, then the mapping is gone even so', async () => {
    const { m, dev, dbg, log } = await rig();
    const buf = m.kmalloc(2048, GFP_KERNEL);
    const h = dma_map_single(dev, buf, 2048, DMA_TO_DEVICE);
    expect(dma_mapping_error(dev, h)).toBe(0);
    dma_unmap_single(dev, h, 1024, DMA_TO_DEVICE);
    expectWarn(log(), P, `device driver frees DMA memory with different size [device address=0x${x016(h)}] [map size=2048 bytes] [unmap size=1024 bytes]`, warning('check_unmap'), SINGLE_FRAMES);
    expect(dbg.liveEntries).toBe(0);
  });

  test('wrong function: a coherent allocation unmapped as a single mapping', async () => {
    const { m, dev, log } = await rig({}, { coherent: true });
    const c = dma_alloc_coherent(dev, 4096, GFP_KERNEL);
    expect(c).not.toBeNull();
    dma_unmap_single(dev, c!.dma_handle, 4096, DMA_BIDIRECTIONAL);
    expectWarn(log(), P, `device driver frees DMA memory with wrong function [device address=0x${x016(c!.dma_handle)}] [size=4096 bytes] [mapped as coherent] [unmapped as phy]`,
      warning('check_unmap'), ['debug_dma_alloc_coherent', 'dma_alloc_attrs', 'dma_alloc_coherent']);
    expect(m.dmesg()).not.toContain('DMA-API: Mapped at: ');
  });

  test('different CPU address: "0x0x" and no newline, as the kernel prints them', async () => {
    const { m, dev, log } = await rig({}, { coherent: true });
    const c = dma_alloc_coherent(dev, 8192, GFP_KERNEL)!;
    const paddr = m.virt_to_phys(c.cpu_addr);
    dma_free_coherent(dev, 8192, c.cpu_addr + 4096, c.dma_handle);
    expectWarn(log(), P,
      `device driver frees DMA memory with different CPU address [device address=0x${x016(c.dma_handle)}] [size=8192 bytes] [cpu alloc address=0x0x${x016(paddr)}] [cpu free address=0x0x${x016(paddr + 4096)}]`,
      warning('check_unmap'), ['debug_dma_alloc_coherent', 'dma_alloc_attrs', 'dma_alloc_coherent']);
  });

  test('sg list unmapped with a different entry count', async () => {
    const { m, dev, log } = await rig();
    allErrors(m);
    const sgl = sg_init_table(3);
    for (const sg of sgl) sg_set_buf(sg, m.kmalloc(4096, GFP_KERNEL), 4096);
    expect(dma_map_sg(dev, sgl, 3, DMA_TO_DEVICE)).toBe(3);
    dma_unmap_sg(dev, sgl, 2, DMA_TO_DEVICE);
    expectWarn(log(), P, 'device driver frees DMA sg list with different entry count [map count=3] [unmap count=2]', warning('check_unmap'),
      ['debug_dma_map_sg', '__dma_map_sg_attrs', 'dma_map_sg_attrs', 'dma_map_sg']);
    expect(warnings(log())).toHaveLength(2);
  });

  test('different direction', async () => {
    const { m, dev, log } = await rig();
    const buf = m.kmalloc(512, GFP_KERNEL);
    const h = dma_map_single(dev, buf, 512, DMA_FROM_DEVICE);
    dma_mapping_error(dev, h);
    dma_unmap_single(dev, h, 512, DMA_TO_DEVICE);
    expectWarn(log(), P, `device driver frees DMA memory with different direction [device address=0x${x016(h)}] [size=512 bytes] [mapped with DMA_FROM_DEVICE] [unmapped with DMA_TO_DEVICE]`, warning('check_unmap'), SINGLE_FRAMES);
  });

  test('failed to check map error: no space before "[", no newline', async () => {
    const { m, dev, log } = await rig();
    const buf = m.kmalloc(512, GFP_KERNEL);
    const h = dma_map_single(dev, buf, 512, DMA_TO_DEVICE);
    dma_unmap_single(dev, h, 512, DMA_TO_DEVICE);
    expectWarn(log(), P, `device driver failed to check map error[device address=0x${x016(h)}] [size=512 bytes] [mapped as phy]`, warning('check_unmap'), SINGLE_FRAMES);
    expect(m.debugfs.read(`${DMA_API}/error_count`)).toBe('1\n');
  });

  test('the errors of one unmap come in the kernel\'s order, and the entry is freed', async () => {
    const { m, dev, dbg, log } = await rig();
    allErrors(m);
    const buf = m.kmalloc(512, GFP_KERNEL);
    const h = dma_map_single(dev, buf, 512, DMA_FROM_DEVICE);
    dma_unmap_single(dev, h, 256, DMA_TO_DEVICE);
    expect(warnings(log())).toEqual([
      `${P}: device driver frees DMA memory with different size [device address=0x${x016(h)}] [map size=512 bytes] [unmap size=256 bytes]`,
      `${P}: device driver frees DMA memory with different direction [device address=0x${x016(h)}] [size=256 bytes] [mapped with DMA_FROM_DEVICE] [unmapped with DMA_TO_DEVICE]`,
      `${P}: device driver failed to check map error[device address=0x${x016(h)}] [size=256 bytes] [mapped as phy]`,
    ]);
    expect(dbg.liveEntries).toBe(0);
  });

  test('best fit: two imperfect matches for one address give NULL, i.e. "has not allocated"', async () => {
    const { m, dev, dbg, log } = await rig();
    const buf = m.kmalloc(512, GFP_KERNEL);
    const a = dma_map_single(dev, buf, 100, DMA_TO_DEVICE);
    const b = dma_map_single(dev, buf, 200, DMA_TO_DEVICE);
    expect(a).toBe(b);
    dma_unmap_single(dev, a, 300, DMA_TO_DEVICE);
    expectWarn(log(), P, `device driver tries to free DMA memory it has not allocated [device address=0x${x016(a)}] [size=300 bytes]`, warning('check_unmap'));
    expect(dbg.liveEntries).toBe(2);
  });

  test('mapping an address twice marks the first mapping checked (debug_dma_map_phys calls dma_mapping_error)', async () => {
    const { m, dev, log } = await rig();
    allErrors(m);
    const buf = m.kmalloc(512, GFP_KERNEL);
    const a = dma_map_single(dev, buf, 100, DMA_TO_DEVICE);
    dma_map_single(dev, buf, 200, DMA_TO_DEVICE);
    dma_unmap_single(dev, a, 100, DMA_TO_DEVICE); // perfect fit, checked by the second map
    expect(warnings(log())).toEqual([]);
    dma_unmap_single(dev, a, 200, DMA_TO_DEVICE);
    expect(warnings(log())).toEqual([`${P}: device driver failed to check map error[device address=0x${x016(a)}] [size=200 bytes] [mapped as phy]`]);
  });
});
