// Input no kernel could receive throws a DmaSimError naming the function and the argument, and
// leaves the machine exactly as it was.
import { describe, expect, test } from 'vitest';
import { createMachine, type Machine } from '../../src/machine.js';
import { DmaSimError } from '../../src/lib/errors.js';
import { SMALL_BUF, smallMachine } from '../support/helpers.js';

/** Runs `f`, expects a DmaSimError mentioning `fn` and `arg`, and checks nothing changed. */
function refused(m: Machine, f: () => unknown, fn: string, arg: string): void {
  const stats = m.stats();
  const log = m.dmesg();
  const ram = Buffer.from(m.u8.slice(m.layout.ramStart, m.layout.ramStart + m.layout.ramSpan));
  let err: unknown;
  try { f(); } catch (e) { err = e; }
  expect(err).toBeInstanceOf(DmaSimError);
  expect((err as Error).message).toContain(fn);
  expect((err as Error).message).toContain(arg);
  expect(m.stats()).toEqual(stats);
  expect(m.dmesg()).toEqual(log);
  // Buffer.equals, not toEqual: a deep comparison of 2 MiB byte by byte takes seconds.
  expect(ram.equals(m.u8.slice(m.layout.ramStart, m.layout.ramStart + m.layout.ramSpan))).toBe(true);
}

async function rejectsOptions(opts: Parameters<typeof createMachine>[0], arg: string): Promise<void> {
  const err = await createMachine(opts).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(DmaSimError);
  expect((err as Error).message).toContain('createMachine');
  expect((err as Error).message).toContain(arg);
}

describe('machine accessors', () => {
  test('a size that is not a non-negative integer', async () => {
    const m = await smallMachine();
    const va = m.phys_to_virt(SMALL_BUF);
    refused(m, () => m.cpu.read(va, Number.NaN), 'cpu.read', 'len');
    refused(m, () => m.cpu.fill(va, -1, 0), 'cpu.fill', 'len');
    refused(m, () => m.kmalloc(1.5, 0), 'kmalloc', 'size');
    refused(m, () => m.cache.clean(SMALL_BUF, Infinity), 'cache.clean', 'len');
  });

  test('an address in no bank or mapping', async () => {
    const m = await smallMachine();
    refused(m, () => m.phys_to_virt(0x1000), 'phys_to_virt', 'phys');
    refused(m, () => m.cpu.read(m.phys_to_virt(SMALL_BUF) + (4 << 20), 4), 'cpu.read', 'ptr');
    refused(m, () => m.cpu.writel(12345, 1), 'cpu.writel', 'ptr');
    refused(m, () => m.cache.invalidate(0x10, 64), 'cache.invalidate', 'phys');
    refused(m, () => m.virt_to_phys(-4), 'virt_to_phys', 'ptr');
  });

  test('a range that runs past the end of RAM', async () => {
    const m = await smallMachine();
    const end = 0x8000_0000 + (2 << 20);
    refused(m, () => m.cache.cleanInvalidate(end - 64, 128), 'cache.cleanInvalidate', 'phys');
    refused(m, () => m.cpu.write(m.phys_to_virt(end - 2), [1, 2, 3, 4]), 'cpu.write', 'ptr');
    const dev = m.createDevice({ name: 'd' });
    expect(() => dev.dmaRead(end - 2, 4)).toThrow(/reaches no RAM/);
  });

  test('a byte value out of range', async () => {
    const m = await smallMachine();
    refused(m, () => m.cpu.writeb(m.phys_to_virt(SMALL_BUF), 256), 'cpu.writeb', 'value');
    refused(m, () => m.cpu.fill(m.phys_to_virt(SMALL_BUF), 4, -1), 'cpu.fill', 'byte');
  });
});

describe('createMachine options', () => {
  test('a cache geometry that is not a power of two', async () => {
    await rejectsOptions({ cache: { size: 3000 } }, 'cache.size');
    await rejectsOptions({ cache: { ways: 3 } }, 'cache.ways');
    await rejectsOptions({ cache: { lineSize: 48 } }, 'cache.lineSize');
    await rejectsOptions({ cache: { ways: 64 } }, 'cache.ways');
  });

  test('overlapping RAM banks', async () => {
    await rejectsOptions({ ram: [{ base: 0x4000_0000, size: 16 << 20 }, { base: 0x4080_0000, size: 16 << 20 }] }, 'ram');
  });

  test('a bank that is not page-aligned, empty or missing', async () => {
    await rejectsOptions({ ram: [{ base: 0x4000_0100, size: 16 << 20 }] }, 'ram[0]');
    await rejectsOptions({ ram: [{ base: 0x4000_0000, size: 0 }] }, 'ram[0].size');
    await rejectsOptions({ ram: [] }, 'ram');
  });

  test('a machine too large for 32-bit WASM memory', async () => {
    await rejectsOptions({ ram: [{ base: 0x4000_0000, size: 2 ** 31 }, { base: 0x1_0000_0000, size: 2 ** 31 }] }, 'ram');
  });

  test('an unknown arch, config option, seed or load', async () => {
    await rejectsOptions({ arch: 'mips' as 'arm64' }, 'arch');
    await rejectsOptions({ config: { DMA_API_DEBUGG: true } as object }, 'config.DMA_API_DEBUGG');
    await rejectsOptions({ seed: -1 }, 'seed');
    await rejectsOptions({ load: { evictionPressure: 2 } }, 'load.evictionPressure');
  });
});
