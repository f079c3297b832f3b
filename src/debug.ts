// The CONFIG_DMA_API_DEBUG hook layer (include/linux/dma-debug.h). dma-mapping calls these at
// the points kernel/dma/mapping.c calls debug_dma_*(); with DMA_API_DEBUG off the machine has
// no hooks at all (m.dmaDebug is null), so the hot path pays one null test and no call.

import type { Device } from './device.js';
import type { DmaDirection } from './dma-mapping.js';
import type { Scatterlist } from './scatterlist.js';

export interface DmaDebugHooks {
  map_single(dev: Device, ptr: number, size: number): void;
  map_phys(dev: Device, phys: number, size: number, dir: DmaDirection, addr: number, attrs: number): void;
  unmap_phys(dev: Device, addr: number, size: number, dir: DmaDirection): void;
  mapping_error(dev: Device, addr: number): void;
  map_sg(dev: Device, sgl: Scatterlist[], nents: number, mapped: number, dir: DmaDirection, attrs: number): void;
  unmap_sg(dev: Device, sgl: Scatterlist[], nelems: number, dir: DmaDirection): void;
  alloc_coherent(dev: Device, size: number, handle: number, virt: number, attrs: number): void;
  free_coherent(dev: Device, size: number, virt: number, handle: number): void;
  alloc_pages(dev: Device, phys: number, size: number, dir: DmaDirection, handle: number): void;
  free_pages(dev: Device, phys: number, size: number, dir: DmaDirection, handle: number): void;
  sync_single_for_cpu(dev: Device, addr: number, size: number, dir: DmaDirection): void;
  sync_single_for_device(dev: Device, addr: number, size: number, dir: DmaDirection): void;
  sync_sg_for_cpu(dev: Device, sgl: Scatterlist[], nelems: number, dir: DmaDirection): void;
  sync_sg_for_device(dev: Device, sgl: Scatterlist[], nelems: number, dir: DmaDirection): void;
}
