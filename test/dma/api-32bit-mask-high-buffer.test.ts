// Rule: the DMA mask feeds dma_capable() (include/linux/dma-direct.h). A 32-bit device handed a
// buffer above 4 GiB cannot reach it. With swiotlb active, dma_direct_map_phys() bounces
// (swiotlb_map(), kernel/dma/swiotlb.c). With no swiotlb to bounce through (`swiotlb=noforce`),
// dma_direct_map_phys() (kernel/dma/direct.h) reports it once with
//   dev_WARN_ONCE(dev, 1, "DMA addr %pad+%zu overflow (mask %llx, bus limit %llx).\n", ...)
// and returns DMA_MAPPING_ERROR, which dma_mapping_error() (include/linux/dma-mapping.h) turns
// into -ENOMEM. dev_WARN_ONCE (include/linux/dev_printk.h) is WARN_ONCE with the
// "<driver> <device>: " prefix; its once-flag is static to the call site, not per device.
// Memory from the low zones (GFP_DMA kmalloc, GFP_DMA32 pages) maps fine.
import { describe, expect, test } from 'vitest';
import {
  createMachine, DMA_BIT_MASK, DMA_FROM_DEVICE, DMA_MAPPING_ERROR, DMA_TO_DEVICE, dma_map_page,
  dma_map_single, dma_mapping_error, dma_set_mask, dma_unmap_page, dma_unmap_single, ENOMEM,
  GFP_DMA, GFP_DMA32, GFP_KERNEL,
} from '../../src/index.js';
import type { Machine } from '../../src/machine.js';
import { countLines, pattern } from '../support/api-helpers.js';
import { warning } from '../support/warn.js';

const FOUR_GIB = 2 ** 32;

function overflowLine(driver: string, name: string, addr: number, size: number): string {
  return `${driver} ${name}: DMA addr 0x${addr.toString(16).padStart(16, '0')}+${size} overflow (mask ffffffff, bus limit 0).`;
}

/** `swiotlb=noforce`: swiotlb_init_remap() allocates no pool, so is_swiotlb_active() is false. */
async function setup(): Promise<Machine> {
  const m = await createMachine({ seed: 9, cmdline: 'swiotlb=noforce' });
  expect(m.swiotlb).toBeNull();
  return m;
}

describe('a 32-bit device and a buffer above 4 GiB (no swiotlb: swiotlb=noforce)', () => {
  test('the map fails with DMA_MAPPING_ERROR / -ENOMEM and WARNs once for two failing maps', async () => {
    const m = await setup();
    const dev = m.createDevice({ name: '0000:01:00.0', driver: 'mynic' });
    expect(dma_set_mask(dev, DMA_BIT_MASK(32))).toBe(0);
    const buf = m.kmalloc(1500, GFP_KERNEL);
    const phys = m.virt_to_phys(buf);
    expect(phys).toBeGreaterThanOrEqual(FOUR_GIB); // GFP_KERNEL: ZONE_NORMAL, the high bank

    const h1 = dma_map_single(dev, buf, 1500, DMA_TO_DEVICE);
    expect(h1).toBe(DMA_MAPPING_ERROR);
    expect(dma_mapping_error(dev, h1)).toBe(-ENOMEM);
    const line = overflowLine('mynic', '0000:01:00.0', phys, 1500);
    expect(countLines(m, line)).toBe(1);
    expect(m.dmesg()).toContain(warning('dma_map_phys', 'kernel/dma/direct.h:129'));

    const buf2 = m.kmalloc(4096, GFP_KERNEL);
    const h2 = dma_map_single(dev, buf2, 4096, DMA_FROM_DEVICE);
    expect(dma_mapping_error(dev, h2)).toBe(-ENOMEM);
    expect(countLines(m, line)).toBe(1);
    expect(m.dmesg().filter((l) => l.includes(' overflow (mask '))).toHaveLength(1); // WARN_ONCE
    expect(m.dmesg().filter((l) => l === '------------[ cut here ]------------')).toHaveLength(1);
  });

  test('the once-flag belongs to the call site: a second device failing the same way prints nothing', async () => {
    const m = await setup();
    const a = m.createDevice({ name: '0000:01:00.0', driver: 'mynic' });
    const b = m.createDevice({ name: '0000:01:00.1', driver: 'mynic' });
    const buf = m.kmalloc(1500, GFP_KERNEL);
    expect(dma_mapping_error(a, dma_map_single(a, buf, 1500, DMA_TO_DEVICE))).toBe(-ENOMEM);
    expect(dma_mapping_error(b, dma_map_single(b, buf, 1500, DMA_TO_DEVICE))).toBe(-ENOMEM);
    // WARN_ONCE's __already_done is one static per call site (include/linux/once_lite.h).
    expect(m.dmesg().filter((l) => l.includes(' overflow (mask '))).toHaveLength(1);
  });

  test('GFP_DMA kmalloc and GFP_DMA32 pages lie below 4 GiB and map correctly', async () => {
    const m = await setup();
    const dev = m.createDevice({ name: '0000:01:00.0', driver: 'mynic' });
    expect(dma_set_mask(dev, DMA_BIT_MASK(32))).toBe(0);

    const buf = m.kmalloc(1500, GFP_DMA);
    expect(m.virt_to_phys(buf)).toBeLessThan(FOUR_GIB);
    m.cpu.write(buf, pattern(1500, 1));
    const h = dma_map_single(dev, buf, 1500, DMA_TO_DEVICE);
    expect(dma_mapping_error(dev, h)).toBe(0);
    expect(h).toBe(m.virt_to_phys(buf));
    expect(dev.dmaRead(h, 1500)).toEqual(pattern(1500, 1));
    dma_unmap_single(dev, h, 1500, DMA_TO_DEVICE);

    const page = m.alloc_pages(GFP_DMA32, 0);
    expect(page).not.toBeNull();
    expect(m.page_to_phys(page!)).toBeLessThan(FOUR_GIB);
    const ph = dma_map_page(dev, page!, 0, 4096, DMA_FROM_DEVICE);
    expect(dma_mapping_error(dev, ph)).toBe(0);
    dev.dmaWrite(ph, pattern(4096, 2));
    dma_unmap_page(dev, ph, 4096, DMA_FROM_DEVICE);
    expect(m.cpu.read(m.page_address(page!), 4096)).toEqual(pattern(4096, 2));
    expect(m.dmesg().some((l) => l.includes(' overflow (mask '))).toBe(false);
  });
});

describe('the same 32-bit device with the default swiotlb pool', () => {
  test('the high buffer is bounced below 4 GiB, in both directions, with no warning', async () => {
    const m = await createMachine({ seed: 9 });
    expect(m.swiotlb).not.toBeNull();
    const dev = m.createDevice({ name: '0000:01:00.0', driver: 'mynic' });
    expect(dma_set_mask(dev, DMA_BIT_MASK(32))).toBe(0);
    const buf = m.kmalloc(4096, GFP_KERNEL);
    expect(m.virt_to_phys(buf)).toBeGreaterThanOrEqual(FOUR_GIB);

    m.cpu.write(buf, pattern(4096, 3));
    const tx = dma_map_single(dev, buf, 4096, DMA_TO_DEVICE);
    expect(dma_mapping_error(dev, tx)).toBe(0);
    expect(tx + 4096 - 1).toBeLessThan(FOUR_GIB);
    expect(dev.dmaRead(tx, 4096)).toEqual(pattern(4096, 3));
    dma_unmap_single(dev, tx, 4096, DMA_TO_DEVICE);

    const rx = dma_map_single(dev, buf, 4096, DMA_FROM_DEVICE);
    expect(dma_mapping_error(dev, rx)).toBe(0);
    expect(rx + 4096 - 1).toBeLessThan(FOUR_GIB);
    dev.dmaWrite(rx, pattern(4096, 4));
    dma_unmap_single(dev, rx, 4096, DMA_FROM_DEVICE);
    expect(m.cpu.read(buf, 4096)).toEqual(pattern(4096, 4));
    expect(m.stats().bounceBytes).toBeGreaterThanOrEqual(2 * 4096);
    expect(m.dmesg().some((l) => l.includes(' overflow (mask '))).toBe(false);
  });
});
