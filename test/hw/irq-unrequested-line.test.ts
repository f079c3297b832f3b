// Rule: an interrupt on a line nobody has requested is counted and left pending, masked at the
// chip (kernel/irq/chip.c handle_fasteoi_irq(): !desc->action -> IRQS_PENDING, mask_irq()); it
// shows in /proc/interrupts and is delivered once a handler is requested (irq_startup() resends
// it). Nothing else in the machine changes.
import { expect, test } from 'vitest';
import { IRQ_HANDLED } from '../../src/index.js';
import { MEMCPY_STATUS_DONE } from '../../src/devices/index.js';
import { MEMCPY_REG, memcpyDesc, memcpyRig, memcpyRing } from '../support/device-helpers.js';

test('raised with no handler: counted once, pending, delivered after request_irq', async () => {
  const rig = await memcpyRig();
  const { m, regs, engine } = rig;
  const ring = memcpyRing(rig, 4);
  const buf = m.virt_to_phys(m.kmalloc(128, 0));
  memcpyDesc(m, ring, 0, buf, buf + 64, 64);
  m.cpu.writel(regs + MEMCPY_REG.INT_MASK, MEMCPY_STATUS_DONE);
  m.cpu.writel(regs + MEMCPY_REG.TAIL, 1);
  m.udelay(10);
  const line = `${String(engine.irq).padStart(3)}:          1     GICv3`;
  expect(m.debugfs.read('/proc/interrupts')).toContain(line);
  let handled = 0;
  m.request_irq(engine.irq, () => { handled++; m.cpu.writel(regs + MEMCPY_REG.STATUS, MEMCPY_STATUS_DONE); return IRQ_HANDLED; }, 'late', null);
  m.cpu.mb();
  expect(handled).toBe(1);
  expect(m.debugfs.read('/proc/interrupts')).toContain(`${String(engine.irq).padStart(3)}:          2     GICv3`);
});
