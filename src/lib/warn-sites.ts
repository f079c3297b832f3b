// Where each WARN and BUG that dmasim reproduces sits in the kernel: the file and line that
// __FILE__/__LINE__ give the bug table, and the function that %pS names (the one the code ends up
// in after inlining, as real reports show: dma_direct_map_phys()'s WARN reports dma_map_phys).
// Every WARN_ON/WARN/WARN_ONCE/BUG_ON call site of dmasim takes its Site from this one table;
// a WARN_ONCE's "once" flag belongs to its Site, as the kernel's __warned flag belongs to its
// call site.
//
// Lines. dmasim follows Linux 7.1, but no unmodified 7.1 tree could be read for this table, so a
// line is given only where a source shows it, and `null` where none does; kernel/panic.c __warn()
// then prints its no-file form, "WARNING: at <func>+0x0/0x0, ...", as a kernel built without
// CONFIG_DEBUG_BUGVERBOSE does, rather than an invented number. The sources:
//   [F] kernel/dma/direct.h of Diangang/linux @f879e4e0, a fork of v7.1-rc1.
//   [R] a WARN report printed in 6.19's format (so from a v6.19 or later kernel whose exact
//       version the report does not give): the line and the function it names.

import type { Site } from './printk.js';

const site = (file: string, line: number | null, fn: string): Site => ({ file, line, fn });

const DIRECT_H = 'kernel/dma/direct.h';
const MAPPING_C = 'kernel/dma/mapping.c';
const DEBUG_C = 'kernel/dma/debug.c';
const SWIOTLB_C = 'kernel/dma/swiotlb.c';
const POOL_C = 'kernel/dma/pool.c';
const DMA_IOMMU_C = 'drivers/iommu/dma-iommu.c';
const IOVA_C = 'drivers/iommu/iova.c';
const IO_PGTABLE_ARM_C = 'drivers/iommu/io-pgtable-arm.c';
const VMALLOC_C = 'mm/vmalloc.c';
const SLUB_C = 'mm/slub.c';

/** BUG_ON(!valid_dma_direction(dir)) in each kernel/dma/mapping.c entry point that has one. */
const directionBug = (fn: string): Site => site(MAPPING_C, null, fn);

export const WARN_SITES = {
  // kernel/dma/direct.h dma_direct_map_phys(): dev_WARN_ONCE(dev, 1, "DMA addr %pad+%zu overflow ...")
  // [F] line 129. A static inline: mapping.c's dma_map_phys() and direct.c's dma_direct_map_sg()
  // each hold a copy, with its own once flag ([R] names dma_map_phys).
  directMapOverflow: site(DIRECT_H, 129, 'dma_map_phys'),
  directMapSgOverflow: site(DIRECT_H, 129, 'dma_direct_map_sg'),

  // kernel/dma/mapping.c
  mapPhysDirection: directionBug('dma_map_phys'),
  unmapPhysDirection: directionBug('dma_unmap_phys'),
  mapSgDirection: directionBug('__dma_map_sg_attrs'),
  unmapSgDirection: directionBug('dma_unmap_sg_attrs'),
  syncSingleForCpuDirection: directionBug('__dma_sync_single_for_cpu'),
  syncSingleForDeviceDirection: directionBug('__dma_sync_single_for_device'),
  syncSgForCpuDirection: directionBug('__dma_sync_sg_for_cpu'),
  syncSgForDeviceDirection: directionBug('__dma_sync_sg_for_device'),
  mapPhysNoMask: site(MAPPING_C, null, 'dma_map_phys'),
  mapSgNoMask: site(MAPPING_C, null, '__dma_map_sg_attrs'),
  mapSgErrno: site(MAPPING_C, null, '__dma_map_sg_attrs'),
  allocNoMask: site(MAPPING_C, null, 'dma_alloc_attrs'),
  allocComp: site(MAPPING_C, null, 'dma_alloc_attrs'),
  allocPagesNoMask: site(MAPPING_C, null, '__dma_alloc_pages'),
  allocPagesZone: site(MAPPING_C, null, '__dma_alloc_pages'),
  allocPagesComp: site(MAPPING_C, null, '__dma_alloc_pages'),
  // include/linux/dma-mapping.h dma_map_single_attrs(): dev_WARN_ONCE(... is_vmalloc_addr(ptr) ...)
  mapSingleVmalloc: site('include/linux/dma-mapping.h', null, 'dma_map_single_attrs'),

  // kernel/dma/pool.c dma_alloc_from_pool(): WARN(1, "Failed to get suitable pool for %s\n", ...)
  // [R] line 291 (the torvalds/linux copy @56ea38e4 that pool.ts follows, of unknown date, has
  // it at line 279: the report's kernel is a later one).
  allocFromPool: site(POOL_C, 291, 'dma_alloc_from_pool'),

  // kernel/dma/swiotlb.c
  swiotlbSearchNoSlots: site(SWIOTLB_C, null, 'swiotlb_search_pool_area'),
  swiotlbMapAlign: site(SWIOTLB_C, null, 'swiotlb_tbl_map_single'),
  swiotlbMapOverflow: site(SWIOTLB_C, null, 'swiotlb_map'),
  swiotlbBounceOverflow: site(SWIOTLB_C, null, 'swiotlb_bounce'),

  // kernel/dma/debug.c: every err_printk() is a WARN(1, ...) of its own line. Static checkers
  // that the compiler inlines are named by their caller, as reports show.
  // [R] active_cacheline_inc_overlap()'s WARN_ONCE reports as add_dma_entry, line 467.
  debugOverlap: site(DEBUG_C, 467, 'add_dma_entry'),
  debugEexist: site(DEBUG_C, null, 'add_dma_entry'),
  debugUnmapInvalid: site(DEBUG_C, null, 'check_unmap'),
  debugUnmapNotAllocated: site(DEBUG_C, null, 'check_unmap'),
  debugUnmapSize: site(DEBUG_C, null, 'check_unmap'),
  debugUnmapType: site(DEBUG_C, null, 'check_unmap'),
  debugUnmapCpuAddr: site(DEBUG_C, null, 'check_unmap'),
  debugUnmapSgCount: site(DEBUG_C, null, 'check_unmap'),
  debugUnmapDirection: site(DEBUG_C, null, 'check_unmap'),
  debugUnmapNotChecked: site(DEBUG_C, null, 'check_unmap'),
  debugStack: site(DEBUG_C, null, 'check_for_stack'),
  debugIllegalArea: site(DEBUG_C, null, 'check_for_illegal_area'),
  // [R] check_sync()'s "tries to sync DMA memory it has not allocated", line 1106.
  debugSyncNotAllocated: site(DEBUG_C, 1106, 'check_sync'),
  debugSyncRange: site(DEBUG_C, null, 'check_sync'),
  debugSyncDirection: site(DEBUG_C, null, 'check_sync'),
  debugSyncReadOnly: site(DEBUG_C, null, 'check_sync'),
  debugSyncWriteOnly: site(DEBUG_C, null, 'check_sync'),
  debugSyncSgCount: site(DEBUG_C, null, 'check_sync'),
  // [R] check_sg_segment() reports as debug_dma_map_sg; "longer than", line 1201.
  debugSgSegmentLength: site(DEBUG_C, 1201, 'debug_dma_map_sg'),
  debugSgSegmentBoundary: site(DEBUG_C, null, 'debug_dma_map_sg'),
  debugMapSingleInvalid: site(DEBUG_C, null, 'debug_dma_map_single'),
  debugMapSingleVmalloc: site(DEBUG_C, null, 'debug_dma_map_single'),
  debugMapResourceRam: site(DEBUG_C, null, 'debug_dma_map_phys'),
  // [R] the unbind leak report, line 881.
  debugDeviceChange: site(DEBUG_C, 881, 'dma_debug_device_change'),

  // drivers/iommu
  iommuMapAlign: site(DMA_IOMMU_C, null, '__iommu_dma_map'),
  iommuUnmapSize: site(DMA_IOMMU_C, null, '__iommu_dma_unmap'),
  iommuUnmapPhys: site(DMA_IOMMU_C, null, 'iommu_dma_unmap_phys'),
  iovaInsert: site(IOVA_C, null, 'iova_insert_rbtree'),
  iovaReserve: site(IOVA_C, null, 'reserve_iova'),
  iovaMagazineFree: site(IOVA_C, null, 'iova_magazine_free_pfns'),
  iovaGranule: site(IOVA_C, null, 'init_iova_domain'),
  lpaeMapPages: site(IO_PGTABLE_ARM_C, null, 'arm_lpae_map_pages'),
  lpaeInitPte: site(IO_PGTABLE_ARM_C, null, 'arm_lpae_init_pte'),
  lpaeUnmapPartial: site(IO_PGTABLE_ARM_C, null, '__arm_lpae_unmap'),
  lpaeUnmapEmpty: site(IO_PGTABLE_ARM_C, null, '__arm_lpae_unmap'),

  // mm/
  vmallocZero: site(VMALLOC_C, null, '__vmalloc_node_range_noprof'),
  // [R] "Trying to vunmap() nonexistent vm area", line 3470.
  vunmap: site(VMALLOC_C, 3470, 'vunmap'),
  vfree: site(VMALLOC_C, null, 'vfree'),
  removeVmArea: site(VMALLOC_C, null, 'remove_vm_area'),
  pageAllocMaxOrder: site('mm/page_alloc.c', null, '__alloc_frozen_pages_noprof'),
  // VM_BUG_ON_PAGE()s met by __free_pages(): put_page_testzero() (include/linux/mm.h),
  // free_pages_prepare()'s compound order, and PF_POISONED_CHECK (include/linux/page-flags.h).
  freePageRefcountBug: site('include/linux/mm.h', null, '__free_pages'),
  freePageOrderBug: site('mm/page_alloc.c', null, '__free_pages'),
  pagePoisonedBug: site('include/linux/page-flags.h', null, '__free_pages'),
  slubFreeLargeKmalloc: site(SLUB_C, null, 'free_large_kmalloc'),
  slubObjectErr: site(SLUB_C, null, 'object_err'),
  slubSlabErr: site(SLUB_C, null, '__slab_err'),

  // kernel/irq/manage.c
  freeIrqTwice: site('kernel/irq/manage.c', null, '__free_irq'),
  enableIrqUnbalanced: site('kernel/irq/manage.c', null, '__enable_irq'),

  // arch/
  arm64IoremapRam: site('arch/arm64/mm/ioremap.c', null, 'ioremap_prot'),
  x86IoremapRam: site('arch/x86/mm/ioremap.c', null, '__ioremap_caller'),
  arm64CwgTaint: site('arch/arm64/mm/dma-mapping.c', null, 'arch_setup_dma_ops'),
} as const;
