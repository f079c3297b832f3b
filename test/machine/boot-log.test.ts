// Boot prints the zone layout as mm/mm_init.c free_area_init() does, per arch:
// arm64 puts the first 4 GiB in ZONE_DMA (arch/arm64/mm/init.c), x86_64 has ZONE_DMA below
// 16 MiB and ZONE_DMA32 below 4 GiB (arch/x86/mm/init.c).
import { expect, test } from 'vitest';
import { createMachine } from '../../src/machine.js';

test('arm64 default machine: ZONE_DMA below 4 GiB, DMA32 empty, Normal above', async () => {
  const m = await createMachine();
  const log = m.dmesg();
  expect(log).toContain('Zone ranges:');
  expect(log).toContain('  DMA      [mem 0x0000000040000000-0x00000000ffffffff]');
  expect(log).toContain('  DMA32    empty');
  expect(log).toContain('  Normal   [mem 0x0000000100000000-0x0000000103ffffff]');
  expect(log).toContain('  node   0: [mem 0x0000000040000000-0x0000000043ffffff]');
});

test('x86_64 machine with RAM from 0: DMA below 16 MiB, DMA32 below 4 GiB', async () => {
  const m = await createMachine({ arch: 'x86_64', ram: [{ base: 0, size: 32 << 20 }, { base: 0x1_0000_0000, size: 16 << 20 }] });
  const log = m.dmesg();
  expect(log).toContain('  DMA      [mem 0x0000000000000000-0x0000000000ffffff]');
  expect(log).toContain('  DMA32    [mem 0x0000000001000000-0x00000000ffffffff]');
  expect(log).toContain('  Normal   [mem 0x0000000100000000-0x0000000100ffffff]');
});
