// Rule: kernel/dma/direct.c dma_direct_alloc(): on a non-coherent device with
// DMA_DIRECT_REMAP, a request that may not block (dma_direct_use_pool():
// !gfpflags_allow_blocking(gfp)) comes from the atomic pools (dma_direct_alloc_from_pool(): gfp
// plus dma_direct_optimal_gfp_mask(), checked by dma_coherent_ok()), not from the page allocator;
// dma_direct_free() gives it back (dma_free_from_pool()). kernel/dma/pool.c
// dma_alloc_from_pool() tries the pools dma_guess_pool() offers (GFP_DMA32's, GFP_DMA's or
// GFP_KERNEL's first, then the lower ones) and, when none fits,
//   WARN(1, "Failed to get suitable pool for %s\n", dev_name(dev))
// and NULL; __dma_alloc_from_pool() zeroes the buffer and, when the pool has less than
// atomic_pool_size left, schedule_work()s atomic_pool_work_fn(), which doubles the pool
// (atomic_pool_resize() / atomic_pool_expand()). mm/dmapool.c pool_alloc_page() allocates with
// dma_alloc_coherent(dev, ..., mem_flags), so dma_pool_alloc(GFP_ATOMIC) goes the same way.
import { describe, expect, test } from 'vitest';
import {
  createMachine, dma_alloc_coherent, dma_free_coherent, dma_pool_alloc, dma_pool_create, GFP_ATOMIC,
  GFP_KERNEL, GFP_NOWAIT,
} from '../../src/index.js';
import { probe64 } from '../support/api-helpers.js';
import { warning } from '../support/warn.js';
import { freePages, onlyPoolGrowth, POOLS } from '../support/pool-helpers.js';


describe('non-blocking coherent allocations on a non-coherent arm64 device', () => {
  test('GFP_ATOMIC and GFP_NOWAIT come from the pools: the page allocator is not touched, the buffer is zeroed', async () => {
    const m = await createMachine({ seed: 5 });
    const dev = probe64(m, { name: '0000:01:00.0', driver: 'nic' });
    let a: ReturnType<typeof dma_alloc_coherent> = null;
    onlyPoolGrowth(m, () => {
      a = dma_alloc_coherent(dev, 3000, GFP_ATOMIC);
      expect(dma_alloc_coherent(dev, 4096, GFP_NOWAIT)).not.toBeNull();
    });
    expect(a).not.toBeNull();
    expect(m.cpu.read(a!.cpu_addr, 3000).every((x) => x === 0)).toBe(true);
    // A 64-bit coherent mask: dma_direct_optimal_gfp_mask() adds nothing, so the GFP_KERNEL
    // pool, whose memory is ZONE_NORMAL's (above 4 GiB here).
    expect(a!.dma_handle).toBeGreaterThanOrEqual(2 ** 32);
    // Freed into the pool: no page goes back to the allocator, the pool's mapping stays.
    onlyPoolGrowth(m, () => dma_free_coherent(dev, 3000, a!.cpu_addr, a!.dma_handle));
    expect(m.vm.areaOf(a!.cpu_addr)).not.toBeNull();
  });

  test('a blocking request (GFP_KERNEL) and a coherent device still use the page allocator', async () => {
    const m = await createMachine({ seed: 5 });
    const dev = probe64(m, { name: '0000:01:00.0', driver: 'nic' });
    const coh = probe64(m, { name: '0000:02:00.0', driver: 'coh', coherent: true });
    let before = freePages(m);
    expect(dma_alloc_coherent(dev, 4096, GFP_KERNEL)).not.toBeNull();
    expect(freePages(m)).not.toEqual(before);
    before = freePages(m);
    expect(dma_alloc_coherent(coh, 4096, GFP_ATOMIC)).not.toBeNull();
    expect(freePages(m)).not.toEqual(before);
  });

  test('a 32-bit coherent mask adds GFP_DMA: the buffer comes from the GFP_DMA pool, below 4 GiB', async () => {
    const m = await createMachine({ seed: 5 });
    const dev = m.createDevice({ name: '0000:03:00.0', driver: 'old' }); // coherent mask 32 bits
    const buf = dma_alloc_coherent(dev, 4096, GFP_ATOMIC);
    expect(buf).not.toBeNull();
    expect(buf!.dma_handle).toBeLessThan(2 ** 32);
  });

  test('a request no pool can hold: NULL and WARN(1) from dma_alloc_from_pool(), every time', async () => {
    const m = await createMachine({ seed: 5 });
    const dev = probe64(m, { name: '0000:01:00.0', driver: 'nic' });
    const n = m.dmesg().length;
    expect(dma_alloc_coherent(dev, 256 << 10, GFP_ATOMIC)).toBeNull();
    expect(dma_alloc_coherent(dev, 256 << 10, GFP_ATOMIC)).toBeNull();
    const report = [
      '------------[ cut here ]------------',
      'Failed to get suitable pool for 0000:01:00.0',
      warning('dma_alloc_from_pool', 'kernel/dma/pool.c:291'),
      '---[ end trace 0000000000000000 ]---',
    ];
    expect(m.dmesg().slice(n)).toEqual([...report, ...report]);
  });

  test('below atomic_pool_size free, the worker doubles the pool', async () => {
    const m = await createMachine({ seed: 5 });
    const dev = probe64(m, { name: '0000:01:00.0', driver: 'nic' });
    expect(m.debugfs.read(`${POOLS}/pool_size_kernel`)).toBe('131072\n');
    const before = freePages(m);
    // Any allocation leaves the 128 KiB pool with less than 128 KiB: atomic_pool_work is queued.
    const a = dma_alloc_coherent(dev, 64 << 10, GFP_ATOMIC);
    m.udelay(1);
    expect(m.debugfs.read(`${POOLS}/pool_size_kernel`)).toBe('262144\n');
    // atomic_pool_expand(pool, gen_pool_size(pool)): one order-5 block from ZONE_NORMAL.
    expect(freePages(m)).toEqual([before[0], (before[1] as number) - 32]);
    // The other pools had all of theirs free, so only the kernel pool grew.
    expect(m.debugfs.read(`${POOLS}/pool_size_dma`)).toBe('131072\n');
    // Now 64 + 128 KiB are free: a 128 KiB request fits (in the new chunk).
    expect(dma_alloc_coherent(dev, 128 << 10, GFP_ATOMIC)).not.toBeNull();
    expect(a).not.toBeNull();
  });

  test('dma_pool_alloc(GFP_ATOMIC) takes its page from the atomic pools too', async () => {
    const m = await createMachine({ seed: 5 });
    const dev = probe64(m, { name: '0000:01:00.0', driver: 'nic' });
    const pool = dma_pool_create('rx', dev, 64, 64, 0);
    let blk: ReturnType<typeof dma_pool_alloc> = null;
    onlyPoolGrowth(m, () => { blk = dma_pool_alloc(pool!, GFP_ATOMIC); });
    expect(blk).not.toBeNull();
    expect(m.atomicPools!.dma_free_from_pool(blk!.vaddr - (blk!.vaddr % 4096), 4096)).toBe(true);
  });
});
