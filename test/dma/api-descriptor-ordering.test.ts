// Rule (the article, and Documentation/core-api/dma-api-howto.rst "Consistent DMA mappings"):
// coherent memory does not stop the CPU from reordering stores. A driver that writes a
// descriptor's address word and then its VALID word must put a write barrier between them
// (wmb()/dma_wmb(), arch/arm64/include/asm/barrier.h: dma_wmb is dmb(oshst)), or the device may
// see VALID before the address. dmasim's store buffer (load.storeReordering) makes the window
// real for uncached (dma_alloc_coherent, kernel/dma/direct.c remap) memory.
import { describe, expect, test } from 'vitest';
import { createMachine, dma_alloc_coherent, GFP_KERNEL } from '../../src/index.js';
import { delta } from '../support/api-helpers.js';

const VALID = 0x8000_0001;
const ROUNDS = 200;

/**
 * ROUNDS descriptors through one ring slot. The device polls (reads word0 and word1 together)
 * until it sees VALID, checks word0, then writes back word1 = 0 (done). Returns how often it
 * saw VALID next to a stale address.
 */
async function ring(barrier: boolean): Promise<{ stale: number; cpuBarriers: number }> {
  const m = await createMachine({ seed: 77, load: { storeReordering: 0.5 } });
  const dev = m.createDevice({ name: '0000:07:00.0', driver: 'ringdrv' });
  const ring = dma_alloc_coherent(dev, 4096, GFP_KERNEL);
  expect(ring).not.toBeNull();
  const { cpu_addr: desc, dma_handle } = ring!;
  let stale = 0;
  const d = delta(m, () => {
    for (let i = 0; i < ROUNDS; i++) {
      const addr = 0x1000_0000 + i * 0x800; // the buffer this descriptor points at
      m.cpu.writel(desc, addr); // desc->word0 = address;
      if (barrier) m.cpu.dma_wmb(); // dma_wmb();
      m.cpu.writel(desc + 4, VALID); // desc->word1 = DESC_VALID;
      for (let poll = 0; poll < 64; poll++) {
        const w = new DataView(dev.dmaRead(dma_handle, 8).buffer);
        if (w.getUint32(4, true) !== VALID) continue;
        if (w.getUint32(0, true) !== addr) stale++;
        break;
      }
      dev.dmaWrite(dma_handle + 4, [0, 0, 0, 0]); // the device hands the slot back
      expect(m.cpu.readl(desc + 4)).toBe(0);
    }
  });
  return { stale, cpuBarriers: d.cpuBarriers };
}

describe('descriptor word0 / word1 in dma_alloc_coherent memory with a store buffer', () => {
  test('bug: without a barrier the device sees VALID with a stale address at least once', async () => {
    const { stale, cpuBarriers } = await ring(false);
    expect(cpuBarriers).toBe(0);
    expect(stale).toBeGreaterThan(0);
  });

  test('fix: dma_wmb() between the two stores: never', async () => {
    const { stale, cpuBarriers } = await ring(true);
    expect(cpuBarriers).toBe(ROUNDS);
    expect(stale).toBe(0);
  });
});
