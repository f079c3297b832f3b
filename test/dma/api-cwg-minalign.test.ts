// arch/arm64/mm/dma-mapping.c arch_setup_dma_ops() (a mainline translation claiming
// SOURCE-COMMIT d482bb50, file id 67262577535, and older mainline copies): WARN_TAINT(!coherent
// && cls > ARCH_DMA_MINALIGN, TAINT_CPU_OUT_OF_SPEC, "%s %s: ARCH_DMA_MINALIGN smaller than
// CTR_EL0.CWG (%d < %d)", dev_driver_string(dev), dev_name(dev), ARCH_DMA_MINALIGN, cls), with
// cls = cache_line_size_of_cpu() and ARCH_DMA_MINALIGN = 128 (arch/arm64/include/asm/cache.h).
// Not once: every non-coherent device set up on such a CPU warns.
import { describe, expect, test } from 'vitest';
import { createMachine } from '../../src/index.js';
import { TAINT_CPU_OUT_OF_SPEC } from '../../src/lib/printk.js';

describe('ARCH_DMA_MINALIGN smaller than CTR_EL0.CWG', () => {
  test('a 256-byte line: each non-coherent device warns and the kernel is tainted S', async () => {
    const m = await createMachine({ cache: { size: 1 << 20, ways: 8, lineSize: 256 } });
    expect(m.log.tainted).toBe(0);
    m.createDevice({ name: 'fe000000.dma', driver: 'pl330' });
    m.createDevice({ name: 'fe100000.dma', driver: 'pl330' });
    const msgs = m.dmesg().filter((l) => l.includes('CTR_EL0.CWG'));
    expect(msgs).toEqual([
      'pl330 fe000000.dma: ARCH_DMA_MINALIGN smaller than CTR_EL0.CWG (128 < 256)',
      'pl330 fe100000.dma: ARCH_DMA_MINALIGN smaller than CTR_EL0.CWG (128 < 256)',
    ]);
    expect(m.log.tainted).toBe(1 << TAINT_CPU_OUT_OF_SPEC);
  });

  test('a coherent device, or a 128-byte line, says nothing', async () => {
    const big = await createMachine({ cache: { size: 1 << 20, ways: 8, lineSize: 256 } });
    big.createDevice({ name: 'coh0', coherent: true });
    const fits = await createMachine({ cache: { size: 1 << 20, ways: 8, lineSize: 128 } });
    fits.createDevice({ name: 'nc0' });
    for (const m of [big, fits]) {
      expect(m.dmesg().some((l) => l.includes('CTR_EL0.CWG'))).toBe(false);
      expect(m.log.tainted).toBe(0);
    }
  });
});
