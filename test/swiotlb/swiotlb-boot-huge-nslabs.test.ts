// swiotlb=<nslabs> of 2^20 slabs and more (issue 13, item 2). The kernel sizes the pool in
// unsigned long (kernel/dma/swiotlb.c swiotlb_memblock_alloc(): bytes = PAGE_ALIGN(nslabs <<
// IO_TLB_SHIFT)) and swiotlb_init_remap() halves nslabs, whole segments at a time, until the
// pool fits: a 2 GiB request on a machine with 64 MiB below 4 GiB ends as the 32 MiB pool,
// inside RAM, and with `force` a correct driver's data is bounced.
import { describe, expect, test } from 'vitest';
import { createMachine, DMA_TO_DEVICE, dma_map_single, dma_unmap_single, GFP_KERNEL, type Machine } from '../../src/index.js';
import { pattern, probe64 } from '../support/api-helpers.js';

const P = 'software IO TLB: ';

function swiotlbLines(m: Machine): string[] {
  return m.dmesg().filter((l) => l.startsWith(P));
}

describe('swiotlb= with more slabs than 32-bit arithmetic holds', () => {
  test('swiotlb=1048576,force: halved from 2 GiB until it fits, the banner in MB, the pool in RAM, data bounced', async () => {
    const m = await createMachine({ cmdline: 'swiotlb=1048576,force' });
    const failed = [31, 30, 29, 28, 27, 26].map((s) => `${P}swiotlb_memblock_alloc: Failed to allocate ${2 ** s} bytes tlb structure`);
    expect(swiotlbLines(m)).toEqual([
      `${P}area num 1.`,
      ...failed,
      `${P}SWIOTLB bounce buffer size adjusted 1048576 -> 16384 slabs`,
      `${P}mapped [mem 0x0000000042000000-0x0000000044000000] (32MB)`,
    ]);
    expect(m.isRam(m.swiotlb!.start, m.swiotlb!.end - m.swiotlb!.start)).toBe(true);
    const dev = probe64(m, { name: '0000:01:00.0' });
    const buf = m.kmalloc(4096, GFP_KERNEL);
    const bytes = pattern(4096, 1);
    m.cpu.write(buf, bytes);
    const h = dma_map_single(dev, buf, 4096, DMA_TO_DEVICE);
    expect(h >= m.swiotlb!.start && h < m.swiotlb!.end).toBe(true);
    expect(dev.dmaRead(h, 4096)).toEqual(bytes);
    dma_unmap_single(dev, h, 4096, DMA_TO_DEVICE);
  });

  test('swiotlb=0x7fffffff boots with the 32 MiB pool, sized without a 2^31-entry slot table', async () => {
    const m = await createMachine({ cmdline: 'swiotlb=0x7fffffff,force' });
    expect(m.swiotlb?.nslabs).toBe(16384);
    expect(swiotlbLines(m)).toContain(`${P}SWIOTLB bounce buffer size adjusted 2147483648 -> 16384 slabs`);
  });

  test('swiotlb=99999999999999999999: simple_strtoul() keeps the low 64 bits; the pool still ends at 32 MiB', async () => {
    const m = await createMachine({ cmdline: 'swiotlb=99999999999999999999,force' });
    expect(m.swiotlb?.nslabs).toBe(16384);
    expect(swiotlbLines(m).at(-1)).toBe(`${P}mapped [mem 0x0000000042000000-0x0000000044000000] (32MB)`);
  });
});
