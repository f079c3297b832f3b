// Rule: the NIC model's ITR register throttles its interrupt as e1000's ITR does: the line goes
// up at once for the first cause, then no sooner than ITR ns after the last time it went up; a
// cause that comes sooner is delivered when the interval ends, not lost. ITR 0: every cause at once.
import { expect, test } from 'vitest';
import { NIC_DESC, NIC_DESC_OWN, NIC_DESC_SIZE, NIC_INT_TX, NIC_REG } from '../../src/devices/index.js';
import { IRQ_HANDLED } from '../../src/index.js';
import { nicRig, RING } from '../support/nic-model-helpers.js';

/**
 * Sends RING - 1 frames (HEAD == TAIL is empty), one doorbell a microsecond, acknowledging each
 * interrupt; returns when each came (ns), the frames sent and the causes left unacknowledged.
 */
async function interruptTimes(itrNs: number): Promise<{ times: number[]; sent: number; left: number; itr: number }> {
  const { m, nic, regs, ring } = await nicRig({ seed: 1 }, 'tx');
  const times: number[] = [];
  m.request_irq(nic.irq, () => {
    times.push(m.now());
    m.cpu.writel(regs + NIC_REG.INT_STATUS, m.cpu.readl(regs + NIC_REG.INT_STATUS));
    return IRQ_HANDLED;
  }, 'eth0', nic);
  m.cpu.writel(regs + NIC_REG.ITR, itrNs);
  m.cpu.writel(regs + NIC_REG.INT_MASK, NIC_INT_TX);
  for (let i = 0; i < RING - 1; i++) {
    const d = ring.cpu + i * NIC_DESC_SIZE;
    m.cpu.writel(d + NIC_DESC.LEN, 64);
    m.cpu.dma_wmb();
    m.cpu.writel(d + NIC_DESC.STATUS, NIC_DESC_OWN);
    m.cpu.writel(regs + NIC_REG.TX_TAIL, i + 1);
    m.udelay(1);
  }
  m.udelay(20);
  return { times, sent: nic.sent.length, left: m.cpu.readl(regs + NIC_REG.INT_STATUS), itr: m.cpu.readl(regs + NIC_REG.ITR) };
}

test('no throttling: one interrupt per frame sent', async () => {
  const { times, sent, left } = await interruptTimes(0);
  expect(sent).toBe(RING - 1);
  expect(left).toBe(0);
  expect(times).toHaveLength(RING - 1);
});

test('ITR 4000 ns: interrupts at least 4 us apart, the last cause still delivered', async () => {
  const { times, sent, left, itr } = await interruptTimes(4000);
  expect(itr).toBe(4000);
  expect(sent).toBe(RING - 1);
  expect(left).toBe(0);
  expect(times.length).toBeGreaterThan(0);
  expect(times.length).toBeLessThan(RING - 1);
  for (let i = 1; i < times.length; i++) expect((times[i] as number) - (times[i - 1] as number)).toBeGreaterThanOrEqual(4000);
});
