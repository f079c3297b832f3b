// dmasim: the public surface (API.md), every name explicit: what README documents and nothing
// else. Kernel names keep the kernel's spelling; what is ours is camelCase. The workloads are a
// separate entry point (dmasim/workloads, src/workloads/index.ts), and tests reach internals
// through src/internal.ts.

export { createMachine, Machine } from './machine.js';
export type { CacheOps, LineState } from './machine.js';
export type { MachineOptions, CacheOptions, LoadOptions } from './options.js';
export type { KernelConfig } from './include/kconfig.js';
export type { Stats } from './engine/port.js';
export type { TraceEvent, TraceEventJson } from './check/timeline.js';
export { Device } from './dma/device.js';
export type { DeviceOptions, DeviceIommuOptions, BusDmaRegion } from './dma/device.js';
export { Cpu } from './hw/cpu.js';
export type { TimerEvent } from './hw/time.js';
export { IRQ_NONE, IRQ_HANDLED, IRQ_WAKE_THREAD, IRQF_SHARED } from './hw/irq.js';
export type { IrqHandler } from './hw/irq.js';
export type { MmioWindow } from './hw/mmio.js';
export type { ModelHost, AttachableModel } from './hw/model.js';
export { DmaSimError, DmaSimRangeError, DmaSimTypeError, DmaFaultError, KernelBug, DmaCoreFault } from './lib/errors.js';
export { compileCore } from './engine/core.js';
export type { CoreSource } from './engine/core.js';
export {
  __GFP_DMA, __GFP_HIGHMEM, __GFP_DMA32, __GFP_ZERO, __GFP_NOWARN, __GFP_NORETRY, __GFP_COMP,
  GFP_KERNEL, GFP_ATOMIC, GFP_NOWAIT, GFP_DMA, GFP_DMA32,
} from './mm/gfp.js';
export { PAGE_SIZE, PAGE_SHIFT, type Page } from './mm/memory.js';
export type { Section } from './mm/kimage.js';

export {
  DMA_BIDIRECTIONAL, DMA_TO_DEVICE, DMA_FROM_DEVICE, DMA_NONE, type DmaDirection,
  DMA_ATTR_WEAK_ORDERING, DMA_ATTR_WRITE_COMBINE, DMA_ATTR_NO_KERNEL_MAPPING, DMA_ATTR_SKIP_CPU_SYNC,
  DMA_ATTR_FORCE_CONTIGUOUS, DMA_ATTR_ALLOC_SINGLE_PAGES, DMA_ATTR_NO_WARN, DMA_ATTR_PRIVILEGED,
  DMA_ATTR_MMIO, DMA_ATTR_DEBUGGING_IGNORE_CACHELINES, DMA_ATTR_REQUIRE_COHERENT, DMA_ATTR_CC_SHARED,
  DMA_MAPPING_ERROR, DMA_BIT_MASK, EIO, ENOMEM, EINVAL, EOPNOTSUPP, EREMOTEIO,
} from './include/dma-mapping.js';
export {
  dma_supported, dma_set_mask, dma_set_coherent_mask, dma_set_mask_and_coherent, dma_coerce_mask_and_coherent,
  dma_get_mask, dma_get_required_mask, dma_addressing_limited,
  dma_map_phys, dma_unmap_phys, dma_map_page, dma_unmap_page, dma_map_single, dma_unmap_single,
  dma_map_resource, dma_unmap_resource, dma_mapping_error,
  dma_map_sg, dma_unmap_sg, dma_map_sgtable, dma_unmap_sgtable,
  dma_sync_single_for_cpu, dma_sync_single_for_device, dma_sync_single_range_for_cpu, dma_sync_single_range_for_device,
  dma_sync_sg_for_cpu, dma_sync_sg_for_device, dma_sync_sgtable_for_cpu, dma_sync_sgtable_for_device,
  dma_need_sync, dma_max_mapping_size, dma_opt_mapping_size, dma_get_max_seg_size, dma_get_seg_boundary,
  dma_get_min_align_mask, dma_get_cache_alignment,
  dma_alloc_attrs, dma_alloc_coherent, dma_free_attrs, dma_free_coherent,
  dma_alloc_pages, dma_free_pages, dma_alloc_noncoherent, dma_free_noncoherent,
} from './dma/mapping.js';
export { Scatterlist, sg_init_table, sg_alloc_table, sg_set_buf, sg_set_page, sg_dma_address, sg_dma_len, sg_phys } from './dma/scatterlist.js';
export type { SgTable } from './dma/scatterlist.js';
export type { DmaMapOps } from './dma/map-ops.js';
export { dma_pool_create, dma_pool_alloc, dma_pool_zalloc, dma_pool_free, dma_pool_destroy, dma_pools_show, DmaPool } from './dma/dmapool.js';
export type { DmaPoolOptions } from './dma/dmapool.js';
export { DebugfsError } from './lib/debugfs.js';
export { DmaDataCheck } from './check/dma-data-check.js';
export type { DataCheckKind, DataCheckMapping, DataCheckAccess, DataCheckReport } from './check/dma-data-check.js';
export type { CostParams, Cost } from './arch/cost.js';

/** NULL, as the pointer-returning calls (kmalloc, vmalloc) return it. */
export const NULL = 0;
