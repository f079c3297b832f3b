// Under CONFIG_DMA_API_DEBUG, dma_map_resource() refuses RAM (kernel/dma/mapping.c:
// WARN_ON_ONCE(pfn_valid(PHYS_PFN(phys_addr)))): RAM is mapped with dma_map_page(), resources
// are MMIO. Without debug the same call maps it as MMIO.
import { expect, test } from 'vitest';
import { createMachine } from '../../src/machine.js';
import { dma_map_resource, DMA_MAPPING_ERROR, DMA_TO_DEVICE, GFP_DMA, GFP_KERNEL } from '../../src/index.js';

test('dma_map_resource() of RAM is a WARN and DMA_MAPPING_ERROR only with DMA_API_DEBUG', async () => {
  const dbg = await createMachine({ config: { DMA_API_DEBUG: true } });
  const d1 = dbg.createDevice({ name: 'r0' });
  const ram = dbg.virt_to_phys(dbg.kmalloc(64, GFP_KERNEL | GFP_DMA));
  expect(dma_map_resource(d1, ram, 64, DMA_TO_DEVICE)).toBe(DMA_MAPPING_ERROR);
  expect(dbg.dmesg()).toContain('WARNING: CPU: 0 PID: 1 at kernel/dma/mapping.c dma_map_resource');

  const plain = await createMachine();
  const d2 = plain.createDevice({ name: 'r1' });
  const ram2 = plain.virt_to_phys(plain.kmalloc(64, GFP_KERNEL | GFP_DMA));
  expect(dma_map_resource(d2, ram2, 64, DMA_TO_DEVICE)).toBe(ram2);
});
