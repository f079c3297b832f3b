// Bug: the driver never calls dma_mapping_error(). dma-debug reports it at the unmap everywhere
// ("device driver failed to check map error"); where the mapping really fails (a 512 KiB buffer
// is more than one swiotlb mapping can bounce), the device is handed DMA_MAPPING_ERROR and the
// access faults.
import { dma_set_mask_and_coherent, DMA_BIT_MASK, dma_map_single, dma_unmap_single, DMA_TO_DEVICE, GFP_KERNEL } from 'dmasim';

const ORDER = 7; // 128 pages: 512 KiB
const SIZE = 4096 << ORDER;

export default async function driver(m) {
  const dev = m.createDevice({ name: '0000:01:00.0', driver: 'maperr' });
  if (dma_set_mask_and_coherent(dev, DMA_BIT_MASK(64))) throw new Error('no usable DMA mask');
  const page = m.alloc_pages(GFP_KERNEL, ORDER);
  if (page === null) throw new Error('no memory');
  const buf = m.page_address(page);
  m.cpu.fill(buf, SIZE, 0x5a);
  const h = dma_map_single(dev, buf, SIZE, DMA_TO_DEVICE); // BUG: no dma_mapping_error(dev, h)
  const seen = dev.dmaRead(h, 64);
  if (seen[0] !== 0x5a) throw new Error(`the device read 0x${seen[0].toString(16)}`);
  dma_unmap_single(dev, h, SIZE, DMA_TO_DEVICE);
  m.__free_pages(page, ORDER);
  m.unbind(dev);
}
