// Rule: a driver's probe that fails part way gives back what it had taken, in reverse order
// (drivers/base/dd.c really_probe(): devres_release_all() on a probe error, which is how a
// devm_* driver unwinds; a hand-written goto ladder does the same). Here the dmasim_nic probe
// fails at its last step, request_irq() (-EBUSY: another handler holds the line), after it has
// ioremap()ped the registers, allocated both rings and their buffers and, when recycling,
// mapped every buffer: dma-debug then holds no entry of the device, every debug entry is free
// again, and no WARN was printed. Freed in the right order, the pool's blocks go before
// dma_pool_destroy(), which would otherwise complain that blocks are still busy.
import { expect, test } from 'vitest';
import { createMachine, IRQ_HANDLED } from '../../src/index.js';
import { DmaSimRangeError } from '../../src/lib/errors.js';
import { DmasimNic } from '../../src/workloads/nic-driver.js';
import { NIC_DEFAULTS, type NicOptions, type NicReport } from '../../src/workloads/nic.js';

const NUM_FREE = '/sys/kernel/debug/dma-api/num_free_entries';

for (const descriptors of ['coherent', 'pool'] as const) {
  test(`a probe failing at request_irq releases rings, buffers and mappings (${descriptors} descriptors)`, async () => {
    const m = await createMachine({ arch: 'arm64', seed: 3, config: { DMA_API_DEBUG: true } });
    const o: NicOptions = { ...NIC_DEFAULTS, mode: 'recycle', descriptors, ringSize: 16, packets: 1 };
    const drv = new DmasimNic(m, o, {} as NicReport);
    expect(m.request_irq(drv.nic.irq, () => IRQ_HANDLED, 'blocker', 'blocker')).toBe(0);
    const free = m.debugfs.read(NUM_FREE);
    const log = m.dmesg().length;
    expect(() => drv.probe()).toThrow(DmaSimRangeError);
    expect(() => drv.probe()).toThrow(/request_irq failed/);
    expect(m.debugfs.read(NUM_FREE)).toBe(free);
    expect(m.debugfs.read('/sys/kernel/debug/dma-api/dump')).not.toContain(drv.dev.name);
    expect(m.dmesg().slice(log).join('\n')).not.toMatch(/WARNING|BUG|busy/);
    // With the line free, the same driver probes: nothing of the failed attempt is in its way.
    m.free_irq(drv.nic.irq, 'blocker');
    drv.probe();
    expect(m.debugfs.read('/proc/interrupts')).toMatch(/ dmasim_nic\n$/);
  });
}
