// Rule: dma_alloc_coherent() memory needs no sync. On a non-coherent arm64 device
// dma_direct_alloc() (kernel/dma/direct.c) cleans the pages once (arch_dma_prep_coherent,
// arch/arm64/mm/dma-mapping.c) and remaps them uncached (DMA_DIRECT_REMAP, pgprot_dmacoherent):
// every CPU access bypasses the cache, so CPU stores are visible to the device at once and
// device stores to the CPU, with no cache maintenance per access.
import { expect, test } from 'vitest';
import {
  createMachine, dma_alloc_coherent, dma_free_coherent, GFP_KERNEL,
} from '../../src/index.js';
import { delta, pattern } from '../support/api-helpers.js';

const SIZE = 4096;

test('a coherent buffer on non-coherent arm64 exchanges data both ways without any sync', async () => {
  const m = await createMachine({ seed: 11 });
  const dev = m.createDevice({ name: '0000:03:00.0', driver: 'mydev' });
  expect(dev.dma_coherent).toBe(false);
  const buf = dma_alloc_coherent(dev, SIZE, GFP_KERNEL);
  expect(buf).not.toBeNull();
  const { cpu_addr, dma_handle } = buf!;
  // Zeroed, as dma_alloc_coherent() returns it.
  expect(m.cpu.read(cpu_addr, SIZE)).toEqual(new Uint8Array(SIZE));
  expect(dev.dmaRead(dma_handle, SIZE)).toEqual(new Uint8Array(SIZE));

  const d = delta(m, () => {
    for (let round = 0; round < 8; round++) {
      // CPU -> device: a mailbox command.
      const cmd = pattern(256, 2 * round + 1);
      m.cpu.write(cpu_addr + round * 256, cmd);
      expect(dev.dmaRead(dma_handle + round * 256, 256)).toEqual(cmd);
      m.cpu.writel(cpu_addr + SIZE - 4, 0x1000 + round);
      expect(dev.dmaRead(dma_handle + SIZE - 4, 4)).toEqual(new Uint8Array([round, 0x10, 0, 0]));
      // device -> CPU: a completion record.
      const done = pattern(128, 2 * round + 2);
      dev.dmaWrite(dma_handle + 2048 + round * 128, done);
      expect(m.cpu.read(cpu_addr + 2048 + round * 128, 128)).toEqual(done);
      dev.dmaWrite(dma_handle + SIZE - 8, [round, 0, 0, 0xee]);
      expect(m.cpu.readl(cpu_addr + SIZE - 8)).toBe((0xee << 24 | round) >>> 0);
    }
  });
  expect(d.cacheMaintenanceOps).toBe(0);
  expect(d.barriers).toBe(0);
  expect(d.cacheHits + d.cacheMisses).toBe(0); // uncached: the CPU never touched the cache
  expect(d.uncachedBytes).toBeGreaterThan(0);
  // The linear alias of the pages holds no line at all (prep_coherent cleaned it, nothing refilled it).
  expect(m.cache.lineState(dma_handle)).not.toBe('dirty');
  dma_free_coherent(dev, SIZE, cpu_addr, dma_handle);
});

test('cacheMaintenanceOps does not grow with the number of accesses', async () => {
  const m = await createMachine({ seed: 12 });
  const dev = m.createDevice({ name: 'mbox', coherent: false });
  const { cpu_addr, dma_handle } = dma_alloc_coherent(dev, SIZE, GFP_KERNEL)!;
  const afterAlloc = m.stats().cacheMaintenanceOps;
  for (let i = 0; i < 1000; i++) {
    m.cpu.writel(cpu_addr + (i % 1024) * 4, i);
    expect(dev.dmaRead(dma_handle + (i % 1024) * 4, 4)[0]).toBe(i & 0xff);
  }
  expect(m.stats().cacheMaintenanceOps).toBe(afterAlloc);
});
