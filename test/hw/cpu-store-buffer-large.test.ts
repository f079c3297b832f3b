// The store buffer (load.storeReordering) holds uncached stores of any size: the memset of a
// 256 KiB coherent remap that dma_alloc_coherent() does on a non-coherent arm64 device
// (kernel/dma/direct.c dma_direct_alloc: memset(ret, 0, size) through the uncached alias)
// reaches RAM whole when the buffer drains, and touches nothing else (issue 13, item 1).
import { describe, expect, test } from 'vitest';
import {
  createMachine, dma_alloc_coherent, dma_free_coherent, dma_pool_create, dma_pool_destroy, dma_pool_free, dma_pool_zalloc, GFP_KERNEL,
} from '../../src/index.js';
import { pattern, probe64, sameBytes } from '../support/api-helpers.js';

describe('the store buffer with stores larger than the engine scratch area', () => {
  test('a 256 KiB uncached fill and write commit whole; cached traffic afterwards stays right', async () => {
    const m = await createMachine({ load: { storeReordering: 0.5 }, seed: 7 });
    const dev = probe64(m, { name: '0000:01:00.0' });
    const buf = dma_alloc_coherent(dev, 256 * 1024, GFP_KERNEL)!;
    expect(buf).not.toBeNull();
    m.cpu.fill(buf.cpu_addr, 256 * 1024, 0xa5);
    const big = pattern(200 * 1024, 9);
    m.cpu.write(buf.cpu_addr + 1000, big);
    dev.dmaRead(buf.dma_handle, 16); // a device look: some stores commit, others wait
    m.cpu.wmb();
    const seen = dev.dmaRead(buf.dma_handle, 256 * 1024);
    expect(seen.subarray(0, 1000).every((b) => b === 0xa5)).toBe(true);
    expect(sameBytes(seen.subarray(1000, 1000 + big.length), big)).toBe(true);
    expect(seen.subarray(1000 + big.length).every((b) => b === 0xa5)).toBe(true);
    // Twice the cache's size of cached stores: every slot is filled, evicted and written back.
    const cached = [0, 1].map(() => m.page_address(m.alloc_pages(GFP_KERNEL, 8)!));
    const bytes = cached.map((_, i) => pattern(1 << 20, 3 + i));
    cached.forEach((p, i) => m.cpu.write(p, bytes[i]!));
    cached.forEach((p, i) => expect(sameBytes(m.cpu.read(p, 1 << 20), bytes[i]!)).toBe(true));
    expect(sameBytes(m.cpu.read(buf.cpu_addr + 1000, big.length), big)).toBe(true);
    dma_free_coherent(dev, 256 * 1024, buf.cpu_addr, buf.dma_handle);
  });

  test('a dma_pool block over 64 KiB is zeroed through the store buffer whole (mm/dmapool.c dma_pool_zalloc)', async () => {
    const m = await createMachine({ load: { storeReordering: 0.5 }, seed: 3 });
    const dev = probe64(m, { name: '0000:01:00.0' });
    const pool = dma_pool_create('big', dev, 128 * 1024, 64, 0)!;
    const block = dma_pool_zalloc(pool, GFP_KERNEL)!;
    m.cpu.wmb();
    expect(dev.dmaRead(block.dma, 128 * 1024).every((b) => b === 0)).toBe(true);
    const cached = m.page_address(m.alloc_pages(GFP_KERNEL, 8)!);
    const bytes = pattern(1 << 20, 5);
    m.cpu.write(cached, bytes);
    expect(sameBytes(m.cpu.read(cached, 1 << 20), bytes)).toBe(true);
    dma_pool_free(pool, block.vaddr, block.dma);
    dma_pool_destroy(pool);
  });
});
