// Rule: ioremap() maps a device's registers and the readl()/writel() family reaches the device;
// ioremap() of RAM is refused with the arch's WARN and NULL (arch/arm64/mm/ioremap.c
// ioremap_prot(): WARN_ON(pfn_is_map_memory()); arch/x86/mm/ioremap.c __ioremap_caller():
// "ioremap on RAM"); an access no device claims, of a size the registers do not answer, or
// misaligned is a typed error naming the accessor and the address, and no register changes.
import { expect, test } from 'vitest';
import { createMachine } from '../../src/index.js';
import { MEMCPY_ID } from '../../src/devices/index.js';
import { expectDmaSimError } from '../support/helpers.js';
import { MEMCPY_REG, memcpyRig, MMIO_BASE } from '../support/device-helpers.js';
import { warning } from '../support/warn.js';

test('readl and writel reach the registers; readq reads a 64-bit one', async () => {
  const { m, regs } = await memcpyRig();
  expect(m.cpu.readl(regs + MEMCPY_REG.ID)).toBe(MEMCPY_ID);
  m.cpu.writeq(regs + MEMCPY_REG.DESC_BASE, 0x1_2345_6780);
  expect(m.cpu.readl(regs + MEMCPY_REG.DESC_BASE + 4)).toBe(1);
  expect(m.cpu.readq_relaxed(regs + MEMCPY_REG.DESC_BASE)).toBe(0x1_2345_6780);
  expect(regs % 4096).toBe(0);
  expect(m.ioremap(MMIO_BASE + 0x20, 4) % 4096).toBe(0x20); // the offset in the page is kept
});

test('ioremap of RAM: NULL and the WARN on arm64 and x86_64', async () => {
  for (const arch of ['arm64', 'x86_64'] as const) {
    const m = await createMachine({ arch, seed: 1 });
    const ram = m.virt_to_phys(m.kmalloc(64, 0));
    expect(m.ioremap(ram, 64)).toBe(0);
    expect(m.dmesg()).toContain(warning(arch === 'arm64' ? 'ioremap_prot' : '__ioremap_caller'));
    if (arch === 'x86_64') expect(m.dmesg()).toContain(`ioremap on RAM at 0x${ram.toString(16).padStart(16, '0')} - 0x${(ram + 63).toString(16).padStart(16, '0')}`);
    expect(m.ioremap(0x1000_0000, 0)).toBe(0);
  }
});

test('unclaimed, unsupported-size and misaligned register accesses throw and change nothing', async () => {
  const { m, regs } = await memcpyRig();
  const stray = m.ioremap(0x2000_0000, 4096);
  expect(expectDmaSimError('cpu.readl', () => m.cpu.readl(stray)).message).toMatch(/claimed by no device/);
  expectDmaSimError('cpu.writeb', () => m.cpu.writeb(regs + MEMCPY_REG.INT_MASK, 1));
  expectDmaSimError('cpu.writel', () => m.cpu.writel(regs + MEMCPY_REG.INT_MASK + 2, 1));
  expectDmaSimError('cpu.writel', () => m.cpu.writel(regs + MEMCPY_REG.INT_MASK, -1));
  expect(m.cpu.readl(regs + MEMCPY_REG.INT_MASK)).toBe(0);
  m.iounmap(regs);
  expectDmaSimError('cpu.readl', () => m.cpu.readl(regs));
  expectDmaSimError('ioremap', () => m.ioremap(-1, 4));
});

test('a window may not overlap RAM or another device', async () => {
  const { m } = await memcpyRig();
  const { MemcpyEngine } = await import('../../src/devices/index.js');
  expectDmaSimError('createDevice', () => m.createDevice({ name: 'dma1', model: new MemcpyEngine({ mmioBase: MMIO_BASE }) }));
  expectDmaSimError('createDevice', () => m.createDevice({ name: 'dma2', model: new MemcpyEngine({ mmioBase: 0x4000_0000 }) }));
});
