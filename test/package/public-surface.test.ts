// The package root exports exactly the names README documents (API.md's contract), each by name:
// no `export *` can leak an internal helper into the published surface again.
import { readFileSync } from 'node:fs';
import { expect, test } from 'vitest';
import * as api from '../../src/index.js';
import * as internal from '../../src/internal.js';

const PUBLIC = [
  // the machine and its parts
  'createMachine', 'Machine', 'Device', 'Cpu', 'Scatterlist', 'DmaPool', 'DmaDataCheck', 'compileCore', 'NULL',
  // errors
  'DmaSimError', 'DmaSimRangeError', 'DmaSimTypeError', 'DmaFaultError', 'KernelBug', 'DmaCoreFault', 'DebugfsError',
  // include/linux/dma-mapping.h, dma-direction.h, errno
  'DMA_BIDIRECTIONAL', 'DMA_TO_DEVICE', 'DMA_FROM_DEVICE', 'DMA_NONE', 'DMA_MAPPING_ERROR', 'DMA_BIT_MASK',
  'DMA_ATTR_WEAK_ORDERING', 'DMA_ATTR_WRITE_COMBINE', 'DMA_ATTR_NO_KERNEL_MAPPING', 'DMA_ATTR_SKIP_CPU_SYNC',
  'DMA_ATTR_FORCE_CONTIGUOUS', 'DMA_ATTR_ALLOC_SINGLE_PAGES', 'DMA_ATTR_NO_WARN', 'DMA_ATTR_PRIVILEGED',
  'DMA_ATTR_MMIO', 'DMA_ATTR_DEBUGGING_IGNORE_CACHELINES', 'DMA_ATTR_REQUIRE_COHERENT', 'DMA_ATTR_CC_SHARED',
  'EIO', 'ENOMEM', 'EINVAL', 'EOPNOTSUPP', 'EREMOTEIO',
  // gfp.h and the page size
  'GFP_KERNEL', 'GFP_ATOMIC', 'GFP_NOWAIT', 'GFP_DMA', 'GFP_DMA32',
  '__GFP_DMA', '__GFP_DMA32', '__GFP_HIGHMEM', '__GFP_ZERO', '__GFP_NOWARN', '__GFP_NORETRY', '__GFP_COMP',
  'PAGE_SIZE', 'PAGE_SHIFT',
  // masks and limits
  'dma_supported', 'dma_set_mask', 'dma_set_coherent_mask', 'dma_set_mask_and_coherent', 'dma_coerce_mask_and_coherent',
  'dma_get_mask', 'dma_get_required_mask', 'dma_addressing_limited', 'dma_need_sync', 'dma_max_mapping_size',
  'dma_opt_mapping_size', 'dma_get_max_seg_size', 'dma_get_seg_boundary', 'dma_get_min_align_mask', 'dma_get_cache_alignment',
  // streaming mappings
  'dma_map_phys', 'dma_unmap_phys', 'dma_map_page', 'dma_unmap_page', 'dma_map_single', 'dma_unmap_single',
  'dma_map_resource', 'dma_unmap_resource', 'dma_mapping_error',
  'dma_map_sg', 'dma_unmap_sg', 'dma_map_sgtable', 'dma_unmap_sgtable',
  'sg_init_table', 'sg_alloc_table', 'sg_set_buf', 'sg_set_page', 'sg_dma_address', 'sg_dma_len', 'sg_phys',
  // syncs
  'dma_sync_single_for_cpu', 'dma_sync_single_for_device', 'dma_sync_single_range_for_cpu', 'dma_sync_single_range_for_device',
  'dma_sync_sg_for_cpu', 'dma_sync_sg_for_device', 'dma_sync_sgtable_for_cpu', 'dma_sync_sgtable_for_device',
  // allocations and pools
  'dma_alloc_attrs', 'dma_alloc_coherent', 'dma_free_attrs', 'dma_free_coherent',
  'dma_alloc_pages', 'dma_free_pages', 'dma_alloc_noncoherent', 'dma_free_noncoherent',
  'dma_pool_create', 'dma_pool_alloc', 'dma_pool_zalloc', 'dma_pool_free', 'dma_pool_destroy', 'dma_pools_show',
  // interrupts: include/linux/irqreturn.h, include/linux/interrupt.h
  'IRQ_NONE', 'IRQ_HANDLED', 'IRQ_WAKE_THREAD', 'IRQF_SHARED',
];

test('src/index.ts exports exactly the public list', () => {
  expect(Object.keys(api).sort()).toEqual([...PUBLIC].sort());
});

test('README names every public export', () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  expect(PUBLIC.filter((name) => !readme.includes(`\`${name}\``) && !readme.includes(`${name}(`))).toEqual([]);
});

test('src/index.ts names what it exports (no export *)', () => {
  const source = readFileSync(new URL('../../src/index.ts', import.meta.url), 'utf8');
  expect(source).not.toMatch(/export\s*\*/);
});

test('internals stay reachable for tests through src/internal.ts only', () => {
  for (const name of ['checkDir', 'x016', 'resolveOptions']) {
    expect(name in api).toBe(false);
    expect(typeof (internal as Record<string, unknown>)[name]).toBe('function');
  }
});
