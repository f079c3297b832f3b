// Rule: kernel/dma/mapping.c calls the dma-debug hooks around every back end, so
// CONFIG_DMA_API_DEBUG checks IOMMU mappings as it checks direct ones (kernel/dma/debug.c):
// a wrong unmap size, an sg unmap with the mapped count instead of nents, and leaks at unbind.
import { expect, test } from 'vitest';
import {
  DMA_TO_DEVICE, dma_map_sg, dma_map_single, dma_mapping_error, dma_unmap_sg, dma_unmap_single, GFP_KERNEL,
  sg_init_table, sg_set_buf,
} from '../../src/index.js';
import { iommuMachine } from '../support/iommu-helpers.js';

const debug = { config: { DMA_API_DEBUG: true }, cmdline: 'dma_debug_entries=1024' };

test('a wrong unmap size on an IOVA is reported, with the IOVA', async () => {
  const { m, dev } = await iommuMachine(debug);
  const buf = m.kmalloc(4096, GFP_KERNEL);
  const h = dma_map_single(dev, buf, 4096, DMA_TO_DEVICE);
  dma_mapping_error(dev, h);
  dma_unmap_single(dev, h, 2048, DMA_TO_DEVICE);
  expect(m.dmesg().some((l) => l.includes(`DMA-API: mlx5_core nic0: device driver frees DMA memory with different size [device address=0x${h.toString(16).padStart(16, '0')}] [map size=4096 bytes] [unmap size=2048 bytes]`))).toBe(true);
});

test('unmapping a merged sg list with the mapped count instead of nents is reported', async () => {
  const { m, dev } = await iommuMachine(debug);
  const sgl = sg_init_table(32);
  for (const s of sgl) sg_set_buf(s, m.kmalloc(4096, GFP_KERNEL), 4096);
  const mapped = dma_map_sg(dev, sgl, 32, DMA_TO_DEVICE);
  expect(mapped).toBe(2);
  dma_unmap_sg(dev, sgl, mapped, DMA_TO_DEVICE);
  expect(m.dmesg().some((l) => l.includes('device driver frees DMA sg list with different entry count [map count=32] [unmap count=2]'))).toBe(true);
});

test('a mapping still live at unbind is a leak (a PCI device: dma-debug watches the PCI bus)', async () => {
  const { m, dev } = await iommuMachine(debug, { name: '0000:03:00.0' });
  const h = dma_map_single(dev, m.kmalloc(4096, GFP_KERNEL), 4096, DMA_TO_DEVICE);
  dma_mapping_error(dev, h);
  m.unbind(dev);
  expect(m.dmesg().some((l) => l.includes('DMA-API: ') && l.includes('device driver has pending DMA allocations while released from device [count=1]'))).toBe(true);
});
