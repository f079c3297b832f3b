// Rule: /proc/interrupts prints as kernel/irq/proc.c show_interrupts() does on a GICv3 with one
// CPU: a header of prec + 8 spaces and "CPU%-8d", then per line with a handler or a count
// "%*d:", " %10u" per CPU, the chip name "%8s", the hwirq "%*lu", "Level"/"Edge" "%-8s", and the
// handlers' names joined by ", ".
import { expect, test } from 'vitest';
import { IRQ_HANDLED } from '../../src/index.js';
import { memcpyRig } from '../support/device-helpers.js';

test('/proc/interrupts lists requested lines with their counts', async () => {
  const rig = await memcpyRig();
  const { m } = rig;
  expect(m.debugfs.read('/proc/interrupts')).toBe(`${' '.repeat(11)}CPU0       \n`);
  m.request_irq(rig.engine.irq, () => IRQ_HANDLED, 'dmasim-memcpy', rig.dev);
  const irq = String(rig.engine.irq).padStart(3);
  const hwirq = String(rig.engine.irq - 16 + 32).padStart(3);
  expect(m.debugfs.read('/proc/interrupts')).toBe(`${' '.repeat(11)}CPU0       \n${irq}:          0     GICv3 ${hwirq} Level     dmasim-memcpy\n`);
});
