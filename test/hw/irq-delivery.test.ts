// Rule: a device's interrupt runs the handler at the next interleaving point, unless the line is
// disabled (disable_irq(): counted, left pending, resent by enable_irq(), kernel/irq/chip.c
// handle_fasteoi_irq() and kernel/irq/resend.c check_irq_resend()) or the CPU has interrupts
// masked (local_irq_save() until local_irq_restore()). request_irq() and free_irq() return what
// kernel/irq/manage.c returns.
import { expect, test } from 'vitest';
import { IRQ_HANDLED, IRQF_SHARED } from '../../src/index.js';
import { MEMCPY_STATUS_DONE } from '../../src/devices/index.js';
import { MEMCPY_REG, memcpyDesc, memcpyRig, memcpyRing, type EngineRig } from '../support/device-helpers.js';

/** Starts one 64-byte copy that interrupts on completion. */
function oneCopy(rig: EngineRig): void {
  const ring = memcpyRing(rig, 4);
  const buf = rig.m.kmalloc(128, 0);
  const phys = rig.m.virt_to_phys(buf);
  memcpyDesc(rig.m, ring, 0, phys, phys + 64, 64);
  rig.m.cpu.writel(rig.regs + MEMCPY_REG.INT_MASK, MEMCPY_STATUS_DONE);
  rig.m.cpu.writel(rig.regs + MEMCPY_REG.TAIL, 1);
}

function ack(rig: EngineRig): number {
  rig.m.cpu.writel(rig.regs + MEMCPY_REG.STATUS, MEMCPY_STATUS_DONE);
  return IRQ_HANDLED;
}

test('the handler runs at the first interleaving point after the device completes', async () => {
  const rig = await memcpyRig();
  const seen: [number, unknown][] = [];
  expect(rig.m.request_irq(rig.engine.irq, (irq, id) => { seen.push([irq, id]); return ack(rig); }, 'dmasim-memcpy', rig.dev)).toBe(0);
  oneCopy(rig);
  expect(seen).toEqual([]);
  rig.m.udelay(10);
  expect(seen).toEqual([[rig.engine.irq, rig.dev]]);
});

test('disable_irq holds the interrupt; enable_irq resends it; local_irq_save defers it', async () => {
  const rig = await memcpyRig();
  let n = 0;
  rig.m.request_irq(rig.engine.irq, () => { n++; return ack(rig); }, 'dmasim-memcpy', rig.dev);
  rig.m.disable_irq(rig.engine.irq);
  oneCopy(rig);
  rig.m.udelay(10);
  expect(n).toBe(0);
  const flags = rig.m.local_irq_save();
  rig.m.enable_irq(rig.engine.irq);
  rig.m.udelay(10);
  expect(n).toBe(0);
  rig.m.local_irq_restore(flags);
  rig.m.cpu.mb();
  expect(n).toBe(1);
  // counted when it arrived while disabled, and again when it was handled
  expect(rig.m.debugfs.read('/proc/interrupts')).toContain(`${String(rig.engine.irq).padStart(3)}:          2 `);
});

test('request_irq: -EINVAL for a line nobody has, -EBUSY unless both share; free_irq WARNs for a free line', async () => {
  const rig = await memcpyRig();
  const { m } = rig;
  const irq = rig.engine.irq;
  expect(m.request_irq(999, () => IRQ_HANDLED, 'x', 1)).toBe(-22);
  expect(m.request_irq(irq, null as never, 'x', 1)).toBe(-22);
  expect(m.request_irq(irq, () => IRQ_HANDLED, 'a', 1)).toBe(0);
  expect(m.request_irq(irq, () => IRQ_HANDLED, 'b', 2, IRQF_SHARED)).toBe(-16);
  expect(m.free_irq(irq, 1)).toBe('a');
  expect(m.request_irq(irq, () => IRQ_HANDLED, 'a', 1, IRQF_SHARED)).toBe(0);
  expect(m.request_irq(irq, () => IRQ_HANDLED, 'b', 2, IRQF_SHARED)).toBe(0);
  expect(m.free_irq(irq, 3)).toBe(null);
  expect(m.dmesg()).toContain(`Trying to free already-free IRQ ${irq}`);
  m.enable_irq(irq);
  expect(m.dmesg()).toContain(`Unbalanced enable for IRQ ${irq}`);
});

test('a handler that throws is reported with the IRQ and the device; the machine keeps running', async () => {
  const rig = await memcpyRig();
  rig.m.request_irq(rig.engine.irq, () => { ack(rig); throw new Error('oops'); }, 'dmasim-memcpy', rig.dev);
  oneCopy(rig);
  rig.m.udelay(10);
  expect(rig.m.eventErrors.map((e) => e.name)).toEqual([`irq ${rig.engine.irq} (dmasim-memcpy, dma0)`]);
  expect(rig.m.dmesg().some((l) => l.includes(`irq ${rig.engine.irq}`) && l.includes('oops'))).toBe(true);
  expect(rig.m.cpu.readl(rig.regs + MEMCPY_REG.COMPLETED)).toBe(1);
});
