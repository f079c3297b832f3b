// Rule: the boot log comes out in the order init/main.c start_kernel() runs things:
//  - setup_arch() calls parse_early_param() (do_early_param(): every early_param() handler, and
//    "Malformed early option '%s'" for one that fails): arm64 after setup_machine_fdt()'s
//    "Machine model:", x86_64 before dmi_setup()'s "DMI:"; both before the zone report.
//    So `swiotlb=N,0` (kernel/dma/swiotlb.c setup_io_tlb_npages() -> swiotlb_adjust_nareas(0),
//    "Zero is treated as 1") prints "area num 1." there, and swiotlb_init_remap() prints none.
//  - start_kernel() then prints "Kernel command line:", runs parse_args() with
//    unknown_bootoption() (__setup() handlers through obsolete_checksetup(); a parameter with a
//    '.' is an unused module parameter and is dropped; bootloader identifiers BOOT_IMAGE= and
//    kexec too) and print_unknown_bootoptions(): argv_init[1..] (no value) then envp_init[2..]
//    (name=value, a repeated name replacing the earlier one; envp_init[0..1] are HOME=/ and
//    TERM=linux).
//  - x86_64 announces swiotlb in pci_iommu_init(), a rootfs_initcall: "PCI-DMA: Using software
//    bounce buffering for IO (SWIOTLB)" and swiotlb_print_info()'s "mapped" line come after the
//    subsys_initcall iommu_subsys_init() lines. arm64 prints "mapped" from mem_init().
import { describe, expect, test } from 'vitest';
import { createMachine } from '../../src/index.js';

const CMDLINE = 'swiotlb=1024,0 foo.bar=1 baz iommu.strict=1 qux=2 BOOT_IMAGE=/vmlinuz kexec qux=3 TERM=vt100 zap';

/** The index of the first line that is, or starts with, each of `lines`. */
function order(log: readonly string[], lines: readonly string[]): number[] {
  return lines.map((l) => log.findIndex((x) => x === l || x.startsWith(l)));
}

/** Every one of `lines` is in the log, in this order; returns their indexes. */
function expectInOrder(log: readonly string[], lines: readonly string[]): number[] {
  const at = order(log, lines);
  expect(at.every((i) => i >= 0), JSON.stringify(at)).toBe(true);
  expect([...at].sort((a, b) => a - b)).toEqual(at);
  return at;
}

describe('start_kernel() order', () => {
  test('arm64: Machine model, early params, zones, command line, unknown parameters, swiotlb, initcalls', async () => {
    const m = await createMachine({ seed: 1, cmdline: CMDLINE });
    const log = m.dmesg();
    expectInOrder(log, [
      'Linux version ',
      'Machine model: ',
      'software IO TLB: area num 1.',
      'Zone ranges:',
      `Kernel command line: ${CMDLINE}`,
      'Unknown kernel command line parameters "baz zap qux=3", will be passed to user space.',
      'software IO TLB: mapped ',
      'DMA: preallocated 128 KiB GFP_KERNEL pool',
      'iommu: Default domain type: ',
    ]);
    expect(log.filter((l) => l.startsWith('software IO TLB: area num'))).toHaveLength(1);
  });

  test('x86_64: early params before DMI; PCI-DMA and "mapped" after the iommu subsys lines', async () => {
    const m = await createMachine({ seed: 1, arch: 'x86_64', cmdline: 'swiotlb=1024,0 iommu.strict=1' });
    const at = expectInOrder(m.dmesg(), [
      'Linux version ',
      'software IO TLB: area num 1.',
      'DMI: ',
      'Zone ranges:',
      'Kernel command line: ',
      'iommu: Default domain type: ',
      'iommu: DMA domain TLB invalidation policy: strict mode (set via kernel command line)',
      'PCI-DMA: Using software bounce buffering for IO (SWIOTLB)',
      'software IO TLB: mapped ',
    ]);
    expect(at[8]).toBe(at[7]! + 1);
  });

  test('a malformed early option is reported while early params are parsed, before the zones', async () => {
    const m = await createMachine({ seed: 1, cmdline: 'iommu.strict=maybe' });
    expectInOrder(m.dmesg(), ['Linux version ', "Malformed early option 'iommu.strict'", 'Zone ranges:', 'Kernel command line: ']);
  });

  test('only dotted and bootloader parameters: nothing is reported as unknown', async () => {
    const m = await createMachine({ seed: 1, cmdline: 'nvme.io_timeout=30 8250.nr_uarts=1 BOOT_IMAGE=/boot/vmlinuz-7.1 kexec' });
    expect(m.dmesg().some((l) => l.startsWith('Unknown kernel command line parameters'))).toBe(false);
  });
});
