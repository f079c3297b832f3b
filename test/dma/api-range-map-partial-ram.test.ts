// A device whose dma_range_map window leaves part of RAM without a bus address (the default
// machine: 64 MiB at 0x40000000 and 64 MiB at 0x100000000; the window covers the first bank).
// translate_phys_to_dma() / translate_dma_to_phys() return all ones for an address no window
// holds, and the kernel compares that u64 as it is (read in kernel/dma/direct.c, v6.18-era
// mainline and the v7.1-rc1 tree Diangang/linux @c8cd5cba; kernel/dma/mapping.c):
// - dma_direct_get_required_mask(): fls64(~0) = 64, so the required mask is all ones;
// - dma_direct_supported(): mask >= phys_to_dma_unencrypted(dev, min_mask), which is ~0: a
//   mask below 32 bits is not supported;
// - __dma_addressing_limited(): also true when !dma_direct_all_ram_mapped(dev)
//   (check_ram_in_range_map() over walk_system_ram_range()), and dma_max_mapping_size() then
//   gives swiotlb's limit;
// - dma_direct_optimal_gfp_mask(): *phys_limit = dma_to_phys(dev, mask) is ~0, above every zone
//   limit, so no zone flag is chosen.
import { describe, expect, test } from 'vitest';
import {
  createMachine, DMA_BIT_MASK, dma_addressing_limited, dma_get_required_mask, dma_max_mapping_size,
  dma_set_coherent_mask, dma_set_mask,
} from '../../src/index.js';
import { dma_direct_optimal_gfp_mask } from '../../src/dma/direct.js';
import { __GFP_DMA, __GFP_DMA32 } from '../../src/mm/gfp.js';

const MiB = 1 << 20;

async function rig() {
  const m = await createMachine({ cmdline: 'swiotlb=1024' });
  const dev = m.createDevice({ name: 'win0', dmaRangeMap: [{ cpu_start: 0x4000_0000, dma_start: 0, size: 64 * MiB }] });
  return { m, dev };
}

describe('dma_range_map that misses part of RAM', () => {
  test('dma_get_required_mask(): the top page has no bus address, so all 64 bits', async () => {
    const { dev } = await rig();
    expect(dma_get_required_mask(dev)).toBe(DMA_BIT_MASK(64));
  });

  test('dma_direct_supported(): a 24-bit mask is refused (min_mask has no bus address)', async () => {
    const { dev } = await rig();
    expect(dma_set_mask(dev, DMA_BIT_MASK(24))).not.toBe(0);
    expect(dma_set_mask(dev, DMA_BIT_MASK(32))).toBe(0);
  });

  test('addressing limited even with a 64-bit mask, so dma_max_mapping_size() is swiotlb\'s', async () => {
    const { dev } = await rig();
    expect(dma_set_mask(dev, DMA_BIT_MASK(64))).toBe(0);
    expect(dma_addressing_limited(dev)).toBe(true);
    expect(dma_max_mapping_size(dev)).toBe(256 * 1024);
  });

  test('a window over all of RAM is not limited', async () => {
    const m = await createMachine({ cmdline: 'swiotlb=1024' });
    const dev = m.createDevice({ name: 'win1', dmaRangeMap: [{ cpu_start: 0x4000_0000, dma_start: 0, size: 0x1_0400_0000 - 0x4000_0000 }] });
    expect(dma_set_mask(dev, DMA_BIT_MASK(64))).toBe(0);
    expect(dma_addressing_limited(dev)).toBe(false);
  });

  test('dma_direct_optimal_gfp_mask(): a coherent mask whose top has no CPU address picks no zone', async () => {
    const { dev } = await rig();
    expect(dma_set_coherent_mask(dev, DMA_BIT_MASK(32))).toBe(0);
    expect(dma_direct_optimal_gfp_mask(dev) & (__GFP_DMA | __GFP_DMA32)).toBe(0);
  });
});
