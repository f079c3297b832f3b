// dma_map_resource() of RAM. "dma-mapping: move the dma_map_resource() RAM check into dma-debug"
// (J. Chang, lore 20260513072209.1486986-1-jianpeng.chang.cn@windriver.com, applied by
// M. Szyprowski and queued for stable, so in mainline for 7.1): kernel/dma/mapping.c
// dma_map_resource() no longer refuses RAM under CONFIG_DMA_API_DEBUG; it is
// dma_map_phys(..., attrs | DMA_ATTR_MMIO). kernel/dma/debug.c debug_dma_map_phys() reports
// err_printk(dev, entry, "dma_map_resource called for RAM address %pa\n") when pfn_valid(pfn)
// && !PageReserved(pfn_to_page(pfn)), and records the entry as for any mapping, so the
// later dma_unmap_resource() matches it.
import { expect, test } from 'vitest';
import { createMachine } from '../../src/machine.js';
import { dma_map_resource, dma_unmap_resource, DMA_MAPPING_ERROR, DMA_TO_DEVICE, GFP_DMA, GFP_KERNEL } from '../../src/index.js';
import { DMA_API, warnings } from '../support/debug-helpers.js';

test('with DMA_API_DEBUG: RAM is mapped, and dma-debug reports it once per error budget', async () => {
  const m = await createMachine({ config: { DMA_API_DEBUG: true } });
  const dev = m.createDevice({ name: '0000:02:00.0', driver: 'r0' });
  const ram = m.virt_to_phys(m.kmalloc(64, GFP_KERNEL | GFP_DMA));
  const h = dma_map_resource(dev, ram, 64, DMA_TO_DEVICE);
  expect(h).not.toBe(DMA_MAPPING_ERROR);
  expect(m.dmesg()).toContain(`DMA-API: r0 0000:02:00.0: dma_map_resource called for RAM address 0x${ram.toString(16).padStart(16, '0')}`);
  expect(m.debugfs.read(`${DMA_API}/error_count`)).toBe('1\n');
  dma_unmap_resource(dev, h, 64, DMA_TO_DEVICE);
  expect(warnings(m.dmesg())).toHaveLength(1); // the entry existed: the unmap found it
});

test('MMIO (not RAM) and memblock-reserved RAM (PageReserved) are not reported', async () => {
  const m = await createMachine({ config: { DMA_API_DEBUG: true } });
  const dev = m.createDevice({ name: '0000:02:00.0', driver: 'r0' });
  expect(m.isRam(0x1000_0000, 4096)).toBe(false); // a BAR below 4 GiB
  expect(dma_map_resource(dev, 0x1000_0000, 4096, DMA_TO_DEVICE)).not.toBe(DMA_MAPPING_ERROR);
  const reserved = m.memblock.reserved[0]!.base;
  expect(dma_map_resource(dev, reserved, 64, DMA_TO_DEVICE)).not.toBe(DMA_MAPPING_ERROR);
  expect(m.debugfs.read(`${DMA_API}/error_count`)).toBe('0\n');
});

test('without DMA_API_DEBUG the same call maps it as MMIO, silently', async () => {
  const m = await createMachine();
  const dev = m.createDevice({ name: 'r1' });
  const ram = m.virt_to_phys(m.kmalloc(64, GFP_KERNEL | GFP_DMA));
  expect(dma_map_resource(dev, ram, 64, DMA_TO_DEVICE)).toBe(ram);
  expect(m.dmesg().some((l) => l.includes('RAM address'))).toBe(false);
});
