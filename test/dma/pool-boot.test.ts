// Rule: kernel/dma/pool.c dma_atomic_pool_init() (postcore_initcall) sizes the atomic pools at
// 128 KiB per GiB of RAM (totalram_pages() / (SZ_1G / SZ_128K) pages), at most
// MAX_ORDER_NR_PAGES and at least SZ_128K, unless coherent_pool= (early_coherent_pool(),
// memparse()) says otherwise; __dma_atomic_pool_init() then creates the GFP_KERNEL pool, the
// GFP_KERNEL|GFP_DMA pool (has_managed_dma()) and the GFP_KERNEL|GFP_DMA32 pool
// (CONFIG_ZONE_DMA32), in that order, each announced with
//   pr_info("DMA: preallocated %zu KiB %pGg pool for atomic allocations\n", ...)
// where the size is gen_pool_size(): atomic_pool_expand() allocates a whole get_order() block.
// dma_atomic_pool_debugfs_init() publishes /sys/kernel/debug/dma_pools/pool_size_{dma,dma32,kernel}.
// The pools exist with CONFIG_DMA_COHERENT_POOL: on arm64 (DMA_DIRECT_REMAP), not on x86_64.
import { describe, expect, test } from 'vitest';
import { createMachine } from '../../src/index.js';

const POOLS = '/sys/kernel/debug/dma_pools';

function poolLines(log: readonly string[]): string[] {
  return log.filter((l) => l.startsWith('DMA: ') && l.includes('pool for atomic'));
}

describe('dma_atomic_pool_init()', () => {
  test('arm64 with 128 MiB: three 128 KiB pools, kernel then DMA then DMA32, after dma-debug and before the IOMMU', async () => {
    const m = await createMachine({ seed: 1, config: { DMA_API_DEBUG: true } });
    const log = m.dmesg();
    expect(poolLines(log)).toEqual([
      'DMA: preallocated 128 KiB GFP_KERNEL pool for atomic allocations',
      'DMA: preallocated 128 KiB GFP_KERNEL|GFP_DMA pool for atomic allocations',
      'DMA: preallocated 128 KiB GFP_KERNEL|GFP_DMA32 pool for atomic allocations',
    ]);
    // core_initcall(dma_debug_init) < postcore_initcall(dma_atomic_pool_init)
    const debugLine = log.findIndex((l) => l.startsWith('DMA-API: preallocated'));
    expect(debugLine).toBeGreaterThanOrEqual(0);
    expect(log.indexOf(poolLines(log)[0] as string)).toBeGreaterThan(debugLine);
    for (const f of ['pool_size_dma', 'pool_size_dma32', 'pool_size_kernel']) expect(m.debugfs.read(`${POOLS}/${f}`)).toBe('131072\n');
  });

  test('coherent_pool= sizes every pool (memparse suffixes)', async () => {
    const m = await createMachine({ seed: 1, cmdline: 'coherent_pool=1M' });
    expect(poolLines(m.dmesg())).toEqual([
      'DMA: preallocated 1024 KiB GFP_KERNEL pool for atomic allocations',
      'DMA: preallocated 1024 KiB GFP_KERNEL|GFP_DMA pool for atomic allocations',
      'DMA: preallocated 1024 KiB GFP_KERNEL|GFP_DMA32 pool for atomic allocations',
    ]);
    expect(m.debugfs.read(`${POOLS}/pool_size_kernel`)).toBe('1048576\n');
  });

  test('a size that is not a power of two of pages gets the whole get_order() block', async () => {
    const m = await createMachine({ seed: 1, cmdline: 'coherent_pool=96K' });
    expect(poolLines(m.dmesg())[0]).toBe('DMA: preallocated 128 KiB GFP_KERNEL pool for atomic allocations');
  });

  test('RAM beyond 1 GiB grows the default: 128 KiB per GiB of managed pages, rounded up to an order', async () => {
    // 1.5 GiB: totalram_pages() is a little under 393216, so 47 pages (188 KiB), an order-6 block.
    const m = await createMachine({ seed: 1, ram: [{ base: 0x4000_0000, size: 1536 << 20 }] });
    expect(poolLines(m.dmesg())[0]).toBe('DMA: preallocated 256 KiB GFP_KERNEL pool for atomic allocations');
  });

  test('x86_64 (no DMA_DIRECT_REMAP): no pools, no dma_pools directory', async () => {
    const m = await createMachine({ seed: 1, arch: 'x86_64' });
    expect(poolLines(m.dmesg())).toEqual([]);
    expect(m.atomicPools).toBeNull();
    expect(() => m.debugfs.read(`${POOLS}/pool_size_kernel`)).toThrow();
  });
});
