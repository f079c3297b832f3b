// Rule: before the CPU reads a streaming buffer the device wrote, ownership must go back to the
// CPU with dma_sync_single_for_cpu() (or dma_unmap_single()). On arm64 that is
// arch_sync_dma_for_cpu() -> dcache_inval_poc (arch/arm64/mm/dma-mapping.c), called from
// dma_direct_sync_single_for_cpu() (kernel/dma/direct.h). Without it, a line the CPU cached
// earlier (a driver peeking at the previous packet) keeps the old bytes.
import { describe, expect, test } from 'vitest';
import {
  createMachine, DMA_FROM_DEVICE, dma_map_single, dma_mapping_error, dma_sync_single_for_cpu,
  dma_sync_single_for_device, dma_unmap_single, GFP_KERNEL,
} from '../../src/index.js';
import { pattern, probe64 } from '../support/api-helpers.js';

const LEN = 1024;

/**
 * An RX ring slot reused for two packets. The first is received correctly and read by the CPU
 * (its lines are now cached), the buffer goes back to the device, the device writes the second.
 * Returns what the CPU reads of the second packet.
 */
async function reuse(syncForCpu: boolean): Promise<{ got: Uint8Array; afterUnmap: Uint8Array; pkt1: Uint8Array; pkt2: Uint8Array }> {
  const m = await createMachine({ seed: 7 });
  const dev = probe64(m, { name: '0000:01:00.0', driver: 'mynic' });
  const buf = m.kmalloc(LEN, GFP_KERNEL);
  const h = dma_map_single(dev, buf, LEN, DMA_FROM_DEVICE);
  expect(dma_mapping_error(dev, h)).toBe(0);

  const pkt1 = pattern(LEN, 1);
  const pkt2 = pattern(LEN, 2);
  dev.dmaWrite(h, pkt1);
  dma_sync_single_for_cpu(dev, h, LEN, DMA_FROM_DEVICE);
  expect(m.cpu.read(buf, LEN)).toEqual(pkt1); // the driver peeks: the lines are now cached
  expect(m.cache.lineState(m.virt_to_phys(buf))).toBe('clean');

  dma_sync_single_for_device(dev, h, LEN, DMA_FROM_DEVICE); // arm64 cleans; the lines stay valid
  expect(m.cache.lineState(m.virt_to_phys(buf))).toBe('clean');
  dev.dmaWrite(h, pkt2);
  if (syncForCpu) dma_sync_single_for_cpu(dev, h, LEN, DMA_FROM_DEVICE);
  const got = m.cpu.read(buf, LEN);
  dma_unmap_single(dev, h, LEN, DMA_FROM_DEVICE);
  const afterUnmap = m.cpu.read(buf, LEN);
  return { got, afterUnmap, pkt1, pkt2 };
}

describe('DMA_FROM_DEVICE buffer reused without dma_sync_single_for_cpu (non-coherent arm64)', () => {
  test('bug: the CPU reads the previous packet from its cached lines', async () => {
    const { got, afterUnmap, pkt1, pkt2 } = await reuse(false);
    expect(got).toEqual(pkt1);
    expect(got).not.toEqual(pkt2);
    // The data was in RAM all along: the unmap's invalidate finally drops the stale lines.
    expect(afterUnmap).toEqual(pkt2);
  });

  test('fix: dma_sync_single_for_cpu() invalidates, the CPU reads the device\'s data', async () => {
    const { got, afterUnmap, pkt2 } = await reuse(true);
    expect(got).toEqual(pkt2);
    expect(afterUnmap).toEqual(pkt2);
  });
});
