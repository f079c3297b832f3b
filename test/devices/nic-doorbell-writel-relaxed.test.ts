// Rule: arm64 writel() is __iowmb() then the store (arch/arm64/include/asm/io.h), so descriptor
// stores to coherent memory are visible to the device before the doorbell; writel_relaxed() has
// no barrier. Under load.storeReordering a doorbell rung with writel_relaxed() lets the NIC fetch
// a descriptor whose OWN store is still in the store buffer, and the frame is not sent; writel()
// never loses one.
import { expect, test } from 'vitest';
import { NIC_DESC, NIC_DESC_OWN, NIC_DESC_SIZE, NIC_REG } from '../../src/devices/index.js';
import { nicRig } from '../support/nic-model-helpers.js';

/** Queues one 64-byte frame per round, rings the doorbell, waits 20 us; returns frames sent. */
async function transmit(seed: number, relaxed: boolean): Promise<number> {
  const { m, nic, regs, ring } = await nicRig({ seed, load: { storeReordering: 0.5 } }, 'tx');
  const rounds = 6;
  for (let i = 0; i < rounds; i++) {
    const d = ring.cpu + i * NIC_DESC_SIZE;
    m.cpu.writel(d + NIC_DESC.LEN, 64);
    m.cpu.dma_wmb();
    m.cpu.writel(d + NIC_DESC.STATUS, NIC_DESC_OWN);
    if (relaxed) m.cpu.writel_relaxed(regs + NIC_REG.TX_TAIL, i + 1);
    else m.cpu.writel(regs + NIC_REG.TX_TAIL, i + 1);
    m.udelay(20);
  }
  return nic.sent.length;
}

test('writel_relaxed doorbells lose a frame on some seed; writel never does', async () => {
  let lost = 0;
  for (let seed = 1; seed <= 8; seed++) {
    lost += 6 - (await transmit(seed, true));
    expect(await transmit(seed, false)).toBe(6);
  }
  expect(lost).toBeGreaterThan(0);
});
