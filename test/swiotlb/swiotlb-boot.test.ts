// Boot-time sizing and placement of the swiotlb pool, checked line by line against the kernel:
//   kernel/dma/swiotlb.c   setup_io_tlb_npages()   `swiotlb=<nslabs>[,<nareas>][,force|noforce]`,
//                                                  nslabs = ALIGN(simple_strtoul(), IO_TLB_SEGSIZE)
//                          swiotlb_adjust_nareas() pr_info("area num %d.\n"), and
//                                                  pr_info("SWIOTLB bounce buffer size roundup to %luMB")
//                          swiotlb_adjust_size()   returns early when default_nslabs != 32768, else
//                                                  pr_info("SWIOTLB bounce buffer size adjusted to %luMB")
//                          swiotlb_memblock_alloc() memblock_alloc_low(); on failure
//                                                  pr_warn("%s: Failed to allocate %zu bytes tlb structure\n")
//                          swiotlb_init_remap()    halves nslabs until the pool fits, then
//                                                  pr_info("SWIOTLB bounce buffer size adjusted %lu -> %lu slabs")
//                          swiotlb_print_info()    pr_info("mapped [mem %pa-%pa] (%luMB)\n") (end exclusive)
//                          swiotlb_create_debugfs_files() the directory always, the files only with slabs
//   arch/arm64/mm/init.c   arch_mm_preinit(): swiotlb = max_pfn > PFN_DOWN(arm64_dma_phys_limit);
//                          otherwise swiotlb_adjust_size(min(swiotlb_size_or_default(),
//                          DIV_ROUND_UP(memblock_phys_mem_size(), 1024))) and swiotlb = true
//   arch/arm64/include/asm/processor.h  ARCH_LOW_ADDRESS_LIMIT (arm64_dma_phys_limit - 1)
//   include/linux/memblock.h memblock_alloc_low() = memblock_alloc_try_nid(..., MEMBLOCK_LOW_LIMIT,
//                          ARCH_LOW_ADDRESS_LIMIT, ...); mm/memblock.c searches top-down below `end`
//   arch/x86/kernel/pci-dma.c pci_swiotlb_detect(): only when max_possible_pfn > MAX_DMA32_PFN;
//                          pci_iommu_init() prints "PCI-DMA: Using software bounce buffering for IO
//                          (SWIOTLB)" then swiotlb_print_info()
// All messages carry pr_fmt "software IO TLB: ".
import { describe, expect, it } from 'vitest';
import { DebugfsError } from '../../src/lib/debugfs.js';
import { createMachine, type Machine } from '../../src/machine.js';

const P = 'software IO TLB: ';
const FOUR_GIB = 2 ** 32;

function swiotlbLines(m: Machine): string[] {
  return m.dmesg().filter((l) => l.startsWith(P) || l.startsWith('PCI-DMA: '));
}

function hex(x: number): string {
  return `0x${x.toString(16).padStart(16, '0')}`;
}

describe('swiotlb at boot', () => {
  it('default arm64 (RAM above 4 GiB): 64 MiB does not fit below 4 GiB, the pool is halved to 32 MiB', async () => {
    const m = await createMachine();
    // The low bank is 64 MiB with the kernel image at its base: 64 MiB cannot be found there.
    expect(swiotlbLines(m)).toEqual([
      `${P}area num 1.`,
      `${P}swiotlb_memblock_alloc: Failed to allocate 67108864 bytes tlb structure`,
      `${P}SWIOTLB bounce buffer size adjusted 32768 -> 16384 slabs`,
      `${P}mapped [mem 0x0000000042000000-0x0000000044000000] (32MB)`,
    ]);
  });

  it('default arm64: the pool is placed top-down in the low bank, below 4 GiB', async () => {
    const m = await createMachine();
    const s = m.swiotlb;
    expect(s).not.toBeNull();
    expect(s?.nslabs).toBe(16384);
    expect(s?.nareas).toBe(1);
    expect(s?.start).toBe(0x4200_0000);
    expect(s?.end).toBe(0x4400_0000); // the top of the 64 MiB bank at 1 GiB
    expect((s?.end ?? Infinity) <= FOUR_GIB).toBe(true);
    expect(s?.forceBounce).toBe(false);
    expect(m.debugfs.read('/sys/kernel/debug/swiotlb/io_tlb_nslabs')).toBe('16384\n');
  });

  it('arm64 with all RAM below 4 GiB: shrunk to 1 MiB per GiB for kmalloc bouncing', async () => {
    const m = await createMachine({ ram: [{ base: 0x4000_0000, size: 1 << 30 }] });
    const lines = swiotlbLines(m);
    // swiotlb_adjust_size() runs in arch_mm_preinit() before swiotlb_init() sets the areas.
    expect(lines.slice(0, 2)).toEqual([`${P}SWIOTLB bounce buffer size adjusted to 1MB`, `${P}area num 1.`]);
    expect(lines).toHaveLength(3);
    expect(m.swiotlb?.nslabs).toBe(512);

    // 768 MiB: 768 KiB = 384 slabs, printed as size >> 20 = "0MB"; swiotlb_init_remap() then
    // sets one area and round_up_default_nslabs() makes it a power of two: 512 slabs.
    const m2 = await createMachine({ ram: [{ base: 0x4000_0000, size: 768 << 20 }] });
    expect(swiotlbLines(m2).slice(0, 3)).toEqual([
      `${P}SWIOTLB bounce buffer size adjusted to 0MB`,
      `${P}area num 1.`,
      `${P}SWIOTLB bounce buffer size roundup to 1MB`,
    ]);
    expect(m2.swiotlb?.nslabs).toBe(512);
  });

  it('arm64 with all RAM below 4 GiB: memblock_alloc_low() stops below ARCH_LOW_ADDRESS_LIMIT = arm64_dma_phys_limit - 1', async () => {
    // arm64_dma_phys_limit is the end of DRAM (0x8000_0000); the top-down search keeps
    // base + size <= 0x7fff_ffff, so the page-aligned pool ends one page below the top of RAM.
    const m = await createMachine({ ram: [{ base: 0x4000_0000, size: 1 << 30 }] });
    expect(swiotlbLines(m)[2]).toBe(`${P}mapped [mem ${hex(0x7feff000)}-${hex(0x7ffff000)}] (1MB)`);
    expect(m.swiotlb?.start).toBe(0x7feff000);
  });

  it('arm64 low RAM with swiotlb=32768: swiotlb_adjust_size() only compares the value with the default, so it still shrinks', async () => {
    const m = await createMachine({ ram: [{ base: 0x4000_0000, size: 1 << 30 }], cmdline: 'swiotlb=32768' });
    expect(swiotlbLines(m)[0]).toBe(`${P}SWIOTLB bounce buffer size adjusted to 1MB`);
    expect(m.swiotlb?.nslabs).toBe(512);
  });

  it('x86_64 with RAM only below 4 GiB: no pool, an empty debugfs directory', async () => {
    const m = await createMachine({ arch: 'x86_64', ram: [{ base: 0x4000_0000, size: 64 << 20 }] });
    expect(m.swiotlb).toBeNull();
    expect(swiotlbLines(m)).toEqual([]);
    expect(m.debugfs.list('/sys/kernel/debug/swiotlb')).toEqual([]);
    expect(() => m.debugfs.read('/sys/kernel/debug/swiotlb/io_tlb_nslabs')).toThrow(DebugfsError);
  });

  it('x86_64 with RAM above 4 GiB: pci_iommu_init() announces SWIOTLB before the mapped line', async () => {
    const m = await createMachine({ arch: 'x86_64' });
    expect(m.swiotlb).not.toBeNull();
    const lines = swiotlbLines(m);
    const mapped = lines.findIndex((l) => l.startsWith(`${P}mapped [mem `));
    expect(mapped).toBeGreaterThan(0);
    expect(lines[mapped - 1]).toBe('PCI-DMA: Using software bounce buffering for IO (SWIOTLB)');
  });

  it('swiotlb=noforce: swiotlb_force_disable, no pool even where RAM is above 4 GiB', async () => {
    const m = await createMachine({ cmdline: 'swiotlb=noforce' });
    expect(m.swiotlb).toBeNull();
    expect(swiotlbLines(m)).toEqual([]);
    expect(m.debugfs.list('/sys/kernel/debug/swiotlb')).toEqual([]);
  });

  it('swiotlb=3000,3: nslabs ALIGNed to 3072, 3 areas rounded to 4, then nslabs rounded to a power of two', async () => {
    const m = await createMachine({ cmdline: 'swiotlb=3000,3' });
    // 3072 >= 128 * 4 and is not a power of two: round_up_default_nslabs() -> 4096 (8 MiB).
    expect(swiotlbLines(m)).toEqual([
      `${P}area num 4.`,
      `${P}SWIOTLB bounce buffer size roundup to 8MB`,
      `${P}mapped [mem 0x0000000043800000-0x0000000044000000] (8MB)`,
    ]);
    expect(m.swiotlb?.nslabs).toBe(4096);
    expect(m.swiotlb?.nareas).toBe(4);
    expect(m.swiotlb?.areaNslabs).toBe(1024);
  });

  it('swiotlb=512,2 and swiotlb=256,force', async () => {
    const m = await createMachine({ cmdline: 'swiotlb=512,2' });
    expect(swiotlbLines(m)).toEqual([`${P}area num 2.`, `${P}mapped [mem 0x0000000043f00000-0x0000000044000000] (1MB)`]);
    expect(m.swiotlb?.nareas).toBe(2);

    const f = await createMachine({ cmdline: 'swiotlb=256,force' });
    expect(f.swiotlb?.nslabs).toBe(256);
    expect(f.swiotlb?.forceBounce).toBe(true);
  });

  it('a parameter that does not parse (swiotlb=abc) is ignored: the default sizing applies', async () => {
    const m = await createMachine({ cmdline: 'swiotlb=abc' });
    const d = await createMachine();
    expect(swiotlbLines(m)).toEqual(swiotlbLines(d));
    expect(m.swiotlb?.nslabs).toBe(16384);
    expect(m.swiotlb?.forceBounce).toBe(false);
  });
});
