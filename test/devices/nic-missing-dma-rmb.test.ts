// Rule: a driver must order the load of a descriptor's status before the loads of the fields the
// device wrote before it (Documentation/memory-barriers.txt, "dma_rmb()": "read the status, then
// dma_rmb(), then read the data"). Under load.loadReordering a load may be satisfied early, with
// the bytes as they were at the last read barrier: without dma_rmb() the driver sees DONE with
// the buffer size it wrote, not the received length; with dma_rmb() it never does.
import { expect, test } from 'vitest';
import { NIC_DESC, NIC_DESC_OWN, NIC_DESC_SIZE, NIC_REG } from '../../src/devices/index.js';
import { BUF, nicRig, RING } from '../support/nic-model-helpers.js';

const FRAME = 64;
const FRAMES = RING - 1;

/** Receives FRAMES frames by polling; returns the lengths the driver read. */
async function receive(seed: number, withDmaRmb: boolean): Promise<number[]> {
  const { m, nic, regs, ring } = await nicRig({ seed, load: { loadReordering: 0.5 } }, 'rx');
  for (let i = 0; i < FRAMES; i++) m.cpu.writel(ring.cpu + i * NIC_DESC_SIZE + NIC_DESC.STATUS, NIC_DESC_OWN);
  m.cpu.writel(regs + NIC_REG.RX_TAIL, FRAMES);
  nic.startTraffic(FRAMES, FRAME);
  const lens: number[] = [];
  for (let i = 0; i < FRAMES; i++) {
    const d = ring.cpu + i * NIC_DESC_SIZE;
    while (m.cpu.readl(d + NIC_DESC.STATUS) & NIC_DESC_OWN) m.ndelay(50);
    if (withDmaRmb) m.cpu.dma_rmb();
    lens.push(m.cpu.readl(d + NIC_DESC.LEN));
  }
  return lens;
}

test('without dma_rmb() a stale length is read on some seed; with it, never', async () => {
  let stale = 0;
  for (let seed = 1; seed <= 8; seed++) {
    const buggy = await receive(seed, false);
    stale += buggy.filter((l) => l === BUF).length;
    expect(buggy.every((l) => l === FRAME || l === BUF)).toBe(true);
    expect(await receive(seed, true)).toEqual(Array(FRAMES).fill(FRAME));
  }
  expect(stale).toBeGreaterThan(0);
});

test('the same seed reads the same stale lengths', async () => {
  expect(await receive(3, false)).toEqual(await receive(3, false));
});
